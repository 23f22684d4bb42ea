#!/usr/bin/env bash
# The scale scenario (BENCHMARKS.md): a store holding 10 years of daily listings
# (3,650 days x 50 sightings, ~45,000 papers), then, as processes of the release build:
#   - fetch and store a new day: time and peak RSS
#   - a dry run against a loopback HTTP server serving a real-size page: wall time (hyperfine)
#   - export --ndjson of everything: time and peak RSS
#   - 1,000 readers' digests over one pooled connection to a loopback SMTP sink: messages/s
# Needs: GNU time (/usr/bin/time), hyperfine, python3. Writes into a temporary directory.
# Usage: scripts/bench_scale.sh [DAYS] [READERS]      (defaults: 3650 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-3650}
readers=${2:-1000}
work=$(mktemp -d)
cleanup() { kill "${http_pid:-}" "${sink_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"

cargo build --release --quiet --example scale_store
cargo build --release --quiet
digest=target/release/digest
store=target/release/examples/scale_store

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)"
echo "== building a store of $days days"
"$store" --db "$work/store.db" --days "$days"
ls -l "$work/store.db" | awk '{printf "store size: %.0f MB\n", $5/1048576}'
next_day=$("$store" --page "$work/next.html" --day "$days")
ls -l "$work/next.html" | awk '{printf "listing page: %.2f MB (50 papers)\n", $5/1048576}'

echo "== fetch and store a new day"
cp "$work/store.db" "$work/fetch.db"
/usr/bin/time -f "fetch: %e s wall, %M KB peak RSS" \
  "$digest" fetch --db "$work/fetch.db" --input "$work/next.html" --date "$next_day"

echo "== dry run as a process, against a loopback HTTP server"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work" > "$work/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 50); do grep -q "port" "$work/http.log" && break; sleep 0.1; done
port=$(grep -o 'port [0-9]*' "$work/http.log" | awk '{print $2}')
hyperfine -N --warmup 3 --runs 30 \
  -n "dry-run, empty store" "$digest --dry-run --db $work/empty.db --url http://127.0.0.1:$port/next.html --date $next_day" \
  -n "dry-run, $days-day store" "$digest --dry-run --db $work/store.db --url http://127.0.0.1:$port/next.html --date $next_day"

echo "== export --ndjson of everything"
/usr/bin/time -f "export: %e s wall, %M KB peak RSS" \
  "$digest" export --ndjson --db "$work/store.db" > "$work/all.ndjson"
echo "exported $(wc -l < "$work/all.ndjson") papers"

echo "== $readers readers, one pooled SMTP connection, loopback sink"
python3 scripts/smtp_sink.py > "$work/sink.out" &
sink_pid=$!
for _ in $(seq 50); do grep -q READY "$work/sink.out" && break; sleep 0.1; done
sink_port=$(awk '/READY/{print $2}' "$work/sink.out")
to=$(python3 -c "print(','.join(f'reader{i}@example.org' for i in range($readers)))")
start=$(date +%s.%N)
DIGEST_DB="$work/fanout.db" DIGEST_FROM=digest@example.org DIGEST_TO="$to" \
  DIGEST_SMTP_HOST=127.0.0.1 DIGEST_SMTP_PORT="$sink_port" DIGEST_SMTP_SECURITY=none \
  /usr/bin/time -f "fan-out: %e s wall, %U s user, %M KB peak RSS" \
  "$digest" --input "$work/next.html" --date "$next_day"
end=$(date +%s.%N)
kill -TERM "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
tail -n 1 "$work/sink.out"
python3 -c "print(f'fan-out: {$readers / ($end - $start):.0f} messages/s')"
