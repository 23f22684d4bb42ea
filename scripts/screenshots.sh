#!/usr/bin/env bash
# Writes screenshots of the digest email, as a person would see it, at phone and desktop
# widths, in light and dark mode: screenshots/*.png (not committed).
# Usage: scripts/screenshots.sh [LISTING.html]   (default: fixtures/hf/trending-small.html)
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-fixtures/hf/trending-small.html}
out=screenshots
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --quiet
DIGEST_DB="$work/digest.db" ./target/debug/digest --dry-run --date 2026-12-01 \
  --input "$input" --output "$work/digest.html" >/dev/null
for width in 375 1024; do
  for scheme in light dark; do
    # Frame the email at the width (headless Chromium has a minimum window width).
    cat >"$work/frame.html" <<HTML
<!DOCTYPE html><html><body style="margin:0">
<iframe src="digest.html" style="width:${width}px;height:1300px;border:0;display:block"></iframe>
</body></html>
HTML
    flags=()
    [ "$scheme" = dark ] && flags+=(--blink-settings=preferredColorScheme=0)
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
      --hide-scrollbars --user-data-dir="$work/profile" --window-size="$((width < 500 ? 500 : width)),1300" \
      "${flags[@]}" --screenshot="$out/digest-$width-$scheme.png" "file://$work/frame.html" 2>/dev/null
    echo "$out/digest-$width-$scheme.png"
  done
done
