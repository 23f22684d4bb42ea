//! Faults a daily job meets: overlapping runs, broken listings, secrets in output.

mod common;

use std::time::{Duration, Instant};

use common::{fixture, HttpServer, Reply, Sandbox};

#[test]
fn an_overlapping_run_waits_then_exits_8_naming_the_other_run() {
    // The first run is slow: its listing takes 3 s to arrive, and it holds the lock meanwhile.
    let http = HttpServer::start(vec![
        (
            "/slow",
            vec![Reply::ok(fixture("trending-small.html")).delayed(Duration::from_secs(3))],
        ),
        ("/fast", vec![Reply::ok(fixture("trending-small.html"))]),
    ]);
    let mut sb = Sandbox::new();
    sb.set("DIGEST_LOCK_TIMEOUT", "500ms");
    let mut first = sb
        .command(&["fetch", "--url", &http.url("/slow"), "--date", "2026-12-01"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while http.hits("/slow") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = sb.run(&["fetch", "--url", &http.url("/fast"), "--date", "2026-12-01"]);
    second.assert_code(8);
    let line = second.error_line();
    assert!(line.contains(&format!("pid {}", first.id())), "{line}");
    assert_eq!(http.hits("/fast"), 0, "the second run fetched nothing");
    assert!(first.wait().unwrap().success());
    // With the first run done, the lock is free again.
    sb.ok(&["fetch", "--url", &http.url("/fast"), "--date", "2026-12-02"]);
}

#[test]
fn skipped_entries_are_warned_about_by_position() {
    let sb = Sandbox::new();
    let path = common::repo_file("fixtures/hf/missing-fields.html");
    let r = sb.ok(&[
        "fetch",
        "--input",
        path.to_str().unwrap(),
        "--date",
        "2026-12-01",
    ]);
    assert!(
        r.stderr.contains("skipping entry 2: missing or invalid id"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("skipping entry 4: paper 2612.00014 has no title"),
        "{}",
        r.stderr
    );
    assert_eq!(sb.export(&[]).len(), 3);
}
