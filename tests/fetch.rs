//! `digest fetch` and `digest export` as a process, against a loopback HTTP server.

mod common;

use std::time::{Duration, Instant};

use common::{fixture, HttpServer, Reply, Sandbox};

const TRENDING: &str = "/papers/trending";

fn fetch(sb: &Sandbox, url: &str, date: &str) -> common::Run {
    sb.run(&["fetch", "--url", url, "--date", date])
}

fn count(sb: &Sandbox, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(sb.db()).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn fetch_stores_the_listing_and_export_returns_it() {
    let server = HttpServer::page(TRENDING, fixture("trending-small.html"));
    let sb = Sandbox::new();
    fetch(&sb, &server.url(TRENDING), "2026-12-01").assert_code(0);
    let papers = sb.export(&[]);
    assert_eq!(papers.len(), 5);
    let first = &papers[0];
    assert_eq!(first["id"], "2612.00001");
    assert_eq!(first["rank"], 1);
    assert_eq!(first["upvotes"], 117);
    assert_eq!(first["github_stars"], 62246);
    assert_eq!(first["first_seen"], "2026-12-01");
    assert_eq!(first["last_seen"], "2026-12-01");
    assert_eq!(first["days_on_list"], 1);
    assert_eq!(first["best_rank"], 1);
    assert_eq!(first["hf_url"], "https://huggingface.co/papers/2612.00001");
    assert_eq!(first["arxiv_url"], "https://arxiv.org/abs/2612.00001");
    assert_eq!(first["pdf_url"], "https://arxiv.org/pdf/2612.00001");
    assert_eq!(first["authors"][0], "Author 1A");
    assert_eq!(first["ai_keywords"][1], "audio");
    assert_eq!(
        papers[2]["title"],
        "Ünïcödé & <Entities>: “Quotes” and 'Apostrophes' in Agents — 数据"
    );
    assert_eq!(server.hits(TRENDING), 1);
}

#[test]
fn fetching_twice_a_day_adds_nothing_and_the_next_day_adds_sightings_not_papers() {
    let server = HttpServer::page(TRENDING, fixture("trending-small.html"));
    let sb = Sandbox::new();
    let url = server.url(TRENDING);
    fetch(&sb, &url, "2026-12-01").assert_code(0);
    let once = sb.export(&[]);
    fetch(&sb, &url, "2026-12-01").assert_code(0);
    assert_eq!(
        sb.export(&[]),
        once,
        "a second fetch on the same day changes nothing"
    );
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM sightings"), 5);

    fetch(&sb, &url, "2026-12-02").assert_code(0);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM papers"), 5);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM sightings"), 10);
    let papers = sb.export(&[]);
    assert_eq!(papers.len(), 5);
    for p in &papers {
        assert_eq!(p["first_seen"], "2026-12-01");
        assert_eq!(p["last_seen"], "2026-12-02");
        assert_eq!(p["days_on_list"], 2);
    }
}

#[test]
fn five_days_of_listings_give_the_right_history_per_paper() {
    let sb = Sandbox::new();
    for day in [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
    ] {
        let server = HttpServer::page(TRENDING, fixture(&format!("trending-{day}.html")));
        fetch(&sb, &server.url(TRENDING), day).assert_code(0);
    }
    let papers = sb.export(&[]);
    let get = |id: &str| {
        papers
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    // 2612.00101: days 1-4, ranks 1,1,2,4; last day 12-04 rank 4 with 63 upvotes.
    let p = get("2612.00101");
    assert_eq!(
        (p["first_seen"].as_str(), p["last_seen"].as_str()),
        (Some("2026-12-01"), Some("2026-12-04"))
    );
    assert_eq!(p["days_on_list"], 4);
    assert_eq!(p["best_rank"], 1);
    assert_eq!(p["rank"], 4);
    assert_eq!(p["upvotes"], 63);
    // 2612.00104: only day 1.
    let p = get("2612.00104");
    assert_eq!(p["days_on_list"], 1);
    assert_eq!(p["last_seen"], "2026-12-01");
    // 2612.00107 enters on day 5 at rank 2.
    let p = get("2612.00107");
    assert_eq!(
        (p["first_seen"].as_str(), p["rank"].as_i64()),
        (Some("2026-12-05"), Some(2))
    );

    // --date: that day's listing in rank order, with that day's rank and upvotes.
    let day3 = sb.export(&["--date", "2026-12-03"]);
    let ids: Vec<&str> = day3.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "2612.00103",
            "2612.00101",
            "2612.00106",
            "2612.00105",
            "2612.00102"
        ]
    );
    assert_eq!(day3[0]["upvotes"], 70);
    assert_eq!(day3[0]["days_on_list"], 3, "as of that day");
    // --since / --until / --limit
    let since = sb.exported_ids(&["--since", "2026-12-05"]);
    assert_eq!(
        since,
        ["2612.00105", "2612.00107", "2612.00106", "2612.00103"]
    );
    let until = sb.exported_ids(&["--until", "2026-12-01"]);
    assert_eq!(
        until,
        ["2612.00101", "2612.00102", "2612.00103", "2612.00104"]
    );
    assert_eq!(sb.exported_ids(&["--limit", "2"]).len(), 2);
}

#[test]
fn ndjson_export_is_one_object_per_line_matching_json_export() {
    let server = HttpServer::page(TRENDING, fixture("trending-small.html"));
    let sb = Sandbox::new();
    fetch(&sb, &server.url(TRENDING), "2026-12-01").assert_code(0);
    let out = sb.ok(&["export", "--ndjson"]).stdout;
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, sb.export(&[]));
    assert_eq!(out.lines().count(), 5);
}

#[test]
fn export_of_an_empty_store_is_an_empty_array_and_a_missing_store_an_error() {
    let sb = Sandbox::new();
    let r = sb.run(&["export"]);
    r.assert_code(6);
    assert!(r.error_line().contains("no store at"));
    let server = HttpServer::page(TRENDING, fixture("trending-small.html"));
    fetch(&sb, &server.url(TRENDING), "2026-12-01").assert_code(0);
    assert!(sb.export(&["--date", "2020-01-01"]).is_empty());
}

#[test]
fn the_daily_source_fills_in_the_date_and_the_api_follows_pages() {
    let server = HttpServer::start(vec![
        (
            "/papers/date/2026-12-01",
            vec![Reply::ok(fixture("daily-2026-12-01.html"))],
        ),
        (
            "/api/daily_papers?date=2026-12-01&sort=trending&limit=2&p=0",
            vec![Reply::ok(fixture("api-2026-12-01-p0.json"))],
        ),
        (
            "/api/daily_papers?date=2026-12-01&sort=trending&limit=2&p=1",
            vec![Reply::ok(fixture("api-2026-12-01-p1.json"))],
        ),
    ]);
    let sb = Sandbox::new();
    sb.ok(&[
        "fetch",
        "--source",
        "daily",
        "--url",
        &server.url("/papers/date/{date}"),
        "--date",
        "2026-12-01",
    ]);
    assert_eq!(
        sb.exported_ids(&[]),
        ["2612.00031", "2612.00032", "2612.00033"]
    );

    let mut sb2 = Sandbox::new();
    sb2.write_config("[source]\nkind = \"api\"\napi_limit = 2\n");
    sb2.set("DIGEST_SOURCE_URL", server.url("/api/daily_papers"));
    sb2.ok(&["fetch", "--date", "2026-12-01"]);
    assert_eq!(
        sb2.exported_ids(&[]),
        ["2612.00041", "2612.00042", "2612.00043"]
    );
    assert_eq!(
        server.hits("/api/daily_papers?date=2026-12-01&sort=trending&limit=2&p=1"),
        1
    );
    drop(sb);
}

#[test]
fn input_files_and_stdin_work_offline() {
    let sb = Sandbox::new();
    let path = common::repo_file("fixtures/hf/trending-small.html");
    sb.ok(&[
        "fetch",
        "--input",
        path.to_str().unwrap(),
        "--date",
        "2026-12-01",
    ]);
    assert_eq!(sb.export(&[]).len(), 5);

    let sb = Sandbox::new();
    let mut child = sb
        .command(&["fetch", "--input", "-", "--date", "2026-12-01"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fixture("api-2026-12-01.json"))
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(sb.export(&[]).len(), 3);
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let server = HttpServer::start(vec![
        (
            "/429",
            vec![
                Reply::status(429).header("Retry-After", "1"),
                Reply::ok(fixture("trending-small.html")),
            ],
        ),
        (
            "/500",
            vec![
                Reply::status(500),
                Reply::status(503),
                Reply::ok(fixture("trending-small.html")),
            ],
        ),
    ]);
    let sb = Sandbox::new();
    let started = Instant::now();
    fetch(&sb, &server.url("/429"), "2026-12-01").assert_code(0);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(server.hits("/429"), 2);
    let sb = Sandbox::new();
    fetch(&sb, &server.url("/500"), "2026-12-01").assert_code(0);
    assert_eq!(server.hits("/500"), 3);
    assert_eq!(sb.export(&[]).len(), 5);
}

/// Every failure: one error line naming the URL, its exit code, and an untouched store.
fn assert_fails_cleanly(sb: &Sandbox, url: &str, code: i32, words: &str) {
    let before = sb.export(&[]);
    let r = fetch(sb, url, "2026-12-02");
    r.assert_code(code);
    let line = r.error_line();
    assert!(
        line.contains(url.split('?').next().unwrap()),
        "names the URL: {line}"
    );
    assert!(line.contains(words), "says {words:?}: {line}");
    assert_eq!(sb.export(&[]), before, "the store is unchanged");
}

#[test]
fn source_failures_exit_4_and_leave_the_store_as_it_was() {
    let server = HttpServer::start(vec![
        ("/ok", vec![Reply::ok(fixture("trending-small.html"))]),
        ("/404", vec![Reply::status(404)]),
        (
            "/always-429",
            vec![Reply::status(429).header("Retry-After", "0")],
        ),
        ("/always-500", vec![Reply::status(500)]),
        (
            "/stall",
            vec![Reply::ok(fixture("trending-small.html")).delayed(Duration::from_secs(5))],
        ),
    ]);
    let mut sb = Sandbox::new();
    fetch(&sb, &server.url("/ok"), "2026-12-01").assert_code(0);
    sb.set("DIGEST_HTTP_RETRIES", 2);
    assert_fails_cleanly(&sb, &server.url("/404"), 4, "HTTP 404");
    assert_eq!(server.hits("/404"), 1, "a 404 is not retried");
    assert_fails_cleanly(
        &sb,
        &server.url("/always-429"),
        4,
        "gave up after 3 attempts",
    );
    assert_fails_cleanly(&sb, &server.url("/always-500"), 4, "HTTP 500");
    assert_eq!(server.hits("/always-500"), 3);

    sb.set("DIGEST_HTTP_TIMEOUT", "500ms")
        .set("DIGEST_HTTP_RETRIES", 1);
    let started = Instant::now();
    assert_fails_cleanly(&sb, &server.url("/stall"), 4, "timed out");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "bounded: {:?}",
        started.elapsed()
    );

    // Nothing listens on port 1.
    assert_fails_cleanly(
        &sb,
        "http://127.0.0.1:1/papers/trending",
        4,
        "cannot connect",
    );
}

#[test]
fn pages_that_changed_shape_exit_5_and_leave_the_store_as_it_was() {
    let mut big = fixture("trending-small.html");
    big.extend(std::iter::repeat_n(b' ', 200_000));
    let mut not_utf8 = fixture("trending-small.html");
    not_utf8.extend_from_slice(&[0xff, 0xfe, 0x00]);
    let server = HttpServer::start(vec![
        ("/ok", vec![Reply::ok(fixture("trending-small.html"))]),
        ("/no-data", vec![Reply::ok(fixture("no-data.html"))]),
        (
            "/truncated",
            vec![Reply::ok(fixture("truncated-json.html"))],
        ),
        ("/wrong-shape", vec![Reply::ok(fixture("wrong-shape.html"))]),
        ("/empty", vec![Reply::ok(fixture("empty-listing.html"))]),
        ("/big", vec![Reply::ok(big)]),
        ("/binary", vec![Reply::ok(not_utf8)]),
    ]);
    let mut sb = Sandbox::new();
    fetch(&sb, &server.url("/ok"), "2026-12-01").assert_code(0);
    for path in ["/no-data", "/truncated", "/wrong-shape", "/empty"] {
        assert_fails_cleanly(&sb, &server.url(path), 5, "page changed shape");
    }
    sb.write_config("[http]\nmax_body_bytes = 100000\n");
    assert_fails_cleanly(&sb, &server.url("/big"), 5, "limit");
    assert_fails_cleanly(&sb, &server.url("/binary"), 5, "not valid UTF-8");
    assert_eq!(
        count(&sb, "SELECT COUNT(*) FROM fetches"),
        1,
        "only the good fetch was logged"
    );
}

#[test]
fn the_default_store_is_in_the_data_dir_and_private() {
    let mut sb = Sandbox::new();
    sb.unset("DIGEST_DB");
    let path = common::repo_file("fixtures/hf/trending-small.html");
    sb.ok(&["fetch", "--input", path.to_str().unwrap()]);
    let db = sb.path("data/digest/digest.db");
    assert!(db.is_file(), "store at $XDG_DATA_HOME/digest/digest.db");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // --db wins over the default
    let other = sb.path("elsewhere.db");
    sb.ok(&[
        "fetch",
        "--input",
        path.to_str().unwrap(),
        "--db",
        other.to_str().unwrap(),
    ]);
    assert!(other.is_file());
}

#[test]
fn the_user_agent_names_digest() {
    // A tiny server that echoes the request back as the page's title.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        let body = fixture("trending-small.html");
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(&body).unwrap();
        req
    });
    let sb = Sandbox::new();
    fetch(&sb, &format!("http://127.0.0.1:{port}/"), "2026-12-01").assert_code(0);
    let request = handle.join().unwrap().to_lowercase();
    assert!(
        request.contains(&format!("user-agent: digest/{}", env!("CARGO_PKG_VERSION"))),
        "{request}"
    );
    assert!(request.contains("accept-encoding: gzip"), "{request}");
}
