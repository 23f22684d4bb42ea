//! Set-up and diagnostics: init (flags and a terminal), check, history, completions, man,
//! --version, and the CSV and Atom exports read back by real parsers.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{fixture, HttpServer, Sandbox, SmtpOptions, SmtpServer};

const PASSWORD: &str = "check-pw-123";

#[test]
fn init_from_flags_writes_a_private_config_that_a_run_uses() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let sb = Sandbox::new();
    let port = smtp.port.to_string();
    let args = [
        "init",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--security",
        "none",
        "--from",
        "Digest <digest@example.org>",
        "--to",
        "ann@example.org",
        "--to",
        "bob@example.org",
    ];
    let r = sb.ok(&args);
    let path = sb.path("config/digest/config.toml");
    assert!(
        r.stdout.contains(&format!("wrote {}", path.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\u{2713} SMTP connects: 127.0.0.1:"),
        "tests the connection: {}",
        r.stdout
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let layer: paper_digest::config::Layer = toml::from_str(&text).unwrap();
    assert_eq!(
        layer.mail.to.as_deref(),
        Some(&["ann@example.org".to_string(), "bob@example.org".to_string()][..])
    );

    // Without --force it will not overwrite; with it, it does.
    let again = sb.run(&args);
    again.assert_code(3);
    assert!(again.error_line().contains("exists; pass --force"));
    let mut forced = args.to_vec();
    forced.push("--force");
    sb.ok(&forced);

    // The written config is the default one a run reads.
    let http = HttpServer::page("/p", fixture("trending-small.html"));
    sb.ok(&["--url", &http.url("/p"), "--date", "2026-12-01"]);
    assert_eq!(smtp.messages().len(), 2);

    // Without a terminal and without the needed flags: a clear error.
    let sb2 = Sandbox::new();
    let r = sb2.run(&["init", "--from", "d@example.org"]);
    r.assert_code(3);
    assert!(r.error_line().contains("--smtp-host"), "{}", r.stderr);
}

#[test]
fn init_on_a_terminal_asks_with_defaults_and_keeps_the_password_private() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            security: "tls",
            auth: Some(("me@example.org".into(), PASSWORD.into())),
            ..Default::default()
        },
    );
    let mut sb = Sandbox::new();
    sb.set(
        "DIGEST_SMTP_CA_FILE",
        smtp.certs.as_ref().unwrap().ca.display(),
    );
    let port = smtp.port.to_string();
    let answers = serde_json::json!([
        "",               // source: trending
        "127.0.0.1",      // SMTP server
        "tls",            // security
        port,             // port
        "me@example.org", // user name
        "",               // From: defaults to the user name
        "",               // To: defaults to From
        PASSWORD,         // password, not echoed
    ]);
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(common::repo_file("tests/support/pty_run.py"))
        .arg(serde_json::json!([env!("CARGO_BIN_EXE_digest"), "init"]).to_string())
        .arg(answers.to_string());
    let base = sb.command(&[]);
    cmd.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "init on a terminal failed:\n{screen}");
    assert!(
        screen.contains("Source (trending, daily, api) [trending]:"),
        "{screen}"
    );
    assert!(
        screen.contains("Port [465]:"),
        "the port default follows the security: {screen}"
    );
    assert!(screen.contains("\u{2713} TLS verifies"), "{screen}");
    assert!(screen.contains("\u{2713} AUTH accepted"), "{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the password is not echoed: {screen}"
    );
    let config = std::fs::read_to_string(sb.path("config/digest/config.toml")).unwrap();
    assert!(
        config.contains("from = \"me@example.org\"")
            && config.contains("to = [\"me@example.org\"]"),
        "{config}"
    );
    assert!(
        !config.contains(PASSWORD),
        "the password is not in the config"
    );
    let pw = sb.path("config/digest/smtp-password");
    assert_eq!(
        std::fs::read_to_string(&pw).unwrap(),
        format!("{PASSWORD}\n")
    );
    assert_eq!(
        std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

fn check_lines(r: &common::Run) -> Vec<String> {
    r.stdout.lines().map(String::from).collect()
}

#[test]
fn check_says_what_works_and_what_does_not() {
    let auth = SmtpOptions::with_auth("starttls", "me", PASSWORD);
    let mut scene = common::Scene::new("trending-small.html", auth);
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    let good = sb.ok(&["check"]);
    let lines = check_lines(&good);
    let marks: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        marks,
        [
            "\u{2713} config",
            "\u{2713} templates",
            "\u{2713} store",
            "\u{2713} source",
            "\u{2713} readers",
            "\u{2713} SMTP connects",
            "\u{2713} TLS verifies",
            "\u{2713} AUTH accepted"
        ],
        "{}",
        good.stdout
    );
    assert!(
        lines[0].contains("overridden by") && lines[0].contains("DIGEST_SMTP_HOST"),
        "{}",
        lines[0]
    );
    assert!(
        lines[3].contains("5 papers, read from the embedded json"),
        "{}",
        lines[3]
    );
    assert!(smtp.messages().is_empty(), "check sends nothing");
    assert!(!good.stdout.contains(PASSWORD) && !good.stderr.contains(PASSWORD));

    sb.ok(&["check", "--send-test"]);
    assert_eq!(smtp.messages().len(), 1, "--send-test sends one test mail");

    // Each broken part: its own ✗ line with the reason, and a non-zero exit.
    sb.set("DIGEST_SMTP_PASSWORD", "nope");
    let r = sb.run(&["check"]);
    r.assert_code(7);
    assert!(
        r.stdout
            .contains("\u{2717} AUTH accepted: SMTP authentication failed for user \"me\""),
        "{}",
        r.stdout
    );

    sb.set("DIGEST_SMTP_PASSWORD", PASSWORD)
        .unset("DIGEST_SMTP_CA_FILE");
    let r = sb.run(&["check"]);
    r.assert_code(7);
    assert!(
        r.stdout
            .contains("\u{2717} TLS verifies: TLS with 127.0.0.1"),
        "{}",
        r.stdout
    );

    sb.set("DIGEST_SMTP_PORT", 1);
    let r = sb.run(&["check"]);
    assert!(
        r.stdout
            .contains("\u{2717} SMTP connects: connection refused by 127.0.0.1:1"),
        "{}",
        r.stdout
    );

    let broken = HttpServer::page("/p", fixture("no-data.html"));
    sb.set("DIGEST_SOURCE_URL", broken.url("/p"));
    let r = sb.run(&["check"]);
    r.assert_code(5);
    assert!(
        r.stdout.contains("\u{2717} source: ") && r.stdout.contains("page changed shape"),
        "{}",
        r.stdout
    );

    std::fs::write(sb.db(), b"garbage, not a database").unwrap();
    let r = sb.run(&["check"]);
    assert!(r.stdout.contains("\u{2717} store: "), "{}", r.stdout);
    r.assert_code(6);

    sb.unset("DIGEST_SMTP_HOST");
    let r = sb.run(&["check"]);
    assert!(
        r.stdout
            .contains("\u{2717} delivery: cannot deliver: missing smtp.host"),
        "{}",
        r.stdout
    );
}

#[test]
fn history_lists_the_last_runs() {
    let mut scene = common::Scene::new("trending-small.html", SmtpOptions::default());
    let sb = &mut scene.sb;
    sb.ok(&["fetch", "--date", "2026-11-30"]);
    sb.ok(&["--date", "2026-12-01"]);
    sb.ok(&["--dry-run", "--date", "2026-12-02"]);
    sb.set("DIGEST_SOURCE_URL", "http://127.0.0.1:1/")
        .set("DIGEST_HTTP_RETRIES", 0);
    sb.run(&["--date", "2026-12-02"]).assert_code(4);

    let runs: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["history", "--json"]).stdout).unwrap();
    assert_eq!(runs.len(), 3, "dry runs are not recorded");
    assert_eq!(runs[0]["command"], "run");
    assert_eq!(runs[0]["exit_code"], 4);
    assert!(runs[0]["outcome"]
        .as_str()
        .unwrap()
        .contains("source unreachable"));
    assert_eq!(runs[0]["papers"], serde_json::Value::Null);
    assert_eq!(runs[1]["day"], "2026-12-01");
    assert_eq!(runs[1]["papers"], 5);
    assert_eq!(runs[1]["new_papers"], 0);
    assert_eq!(runs[1]["sent_to"], serde_json::json!(["ann@example.org"]));
    assert_eq!(runs[1]["outcome"], "ok");
    assert_eq!(runs[2]["command"], "fetch");
    assert_eq!(runs[2]["new_papers"], 5);

    let text = sb.ok(&["history", "-n", "2"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1]
            .contains("run    2026-12-01  trending  5 papers, 0 new; mailed ann@example.org; ok"),
        "{text}"
    );
}

#[test]
fn completions_man_page_and_version() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = sb.ok(&["completions", shell]);
        assert!(
            r.stdout.len() > 500 && r.stdout.contains("digest"),
            "{shell}"
        );
        assert!(
            r.stdout.contains("export") && r.stdout.contains("dry-run"),
            "{shell} completes subcommands and flags"
        );
    }
    let man = sb.ok(&["man"]).stdout;
    assert!(man.contains(".TH digest 1"), "{}", &man[..200]);
    assert!(man.contains("dry\\-run"));
    let version = sb.ok(&["--version"]).stdout;
    let (name, rest) = version.trim().split_once(' ').unwrap();
    assert_eq!(name, "digest");
    assert!(
        rest.starts_with(&format!("{} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let commit = rest.split('(').nth(1).unwrap().trim_end_matches(')');
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{version}"
    );
}

#[test]
fn csv_export_reads_back_as_the_json_export() {
    let mut sb = Sandbox::new();
    // Two listings of different sizes on one day: not a page that changed shape here.
    sb.write_config("[source]\nshape_guard = 0\n");
    for name in ["trending-small.html", "hostile.html"] {
        let path = common::repo_file(&format!("fixtures/hf/{name}"));
        sb.ok(&[
            "fetch",
            "--input",
            path.to_str().unwrap(),
            "--date",
            "2026-12-01",
            "--db",
            sb.db().to_str().unwrap(),
        ]);
    }
    let csv_text = sb.ok(&["export", "--csv"]).stdout;
    assert!(csv_text.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    assert!(headers.iter().any(|h| h == "abstract") && headers.iter().any(|h| h == "trend"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let json = sb.export(&[]);
    assert_eq!(rows.len(), json.len());
    for (row, p) in rows.iter().zip(&json) {
        let get = |name: &str| {
            row.get(headers.iter().position(|h| h == name).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(get("id"), p["id"].as_str().unwrap());
        assert_eq!(
            get("title"),
            p["title"].as_str().unwrap(),
            "quotes, commas and markup survive"
        );
        assert_eq!(get("abstract"), p["abstract"].as_str().unwrap());
        assert_eq!(get("upvotes"), p["upvotes"].to_string());
        let authors: Vec<&str> = p["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(get("authors"), authors.join("; "));
    }
}

#[test]
fn atom_export_is_a_valid_feed_of_the_latest_days() {
    let sb = Sandbox::new();
    for day in ["2026-12-01", "2026-12-02", "2026-12-03"] {
        let path = common::repo_file(&format!("fixtures/hf/trending-{day}.html"));
        sb.ok(&["fetch", "--input", path.to_str().unwrap(), "--date", day]);
    }
    let xml = sb.ok(&["export", "--atom"]).stdout;
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).expect("a valid Atom feed");
    assert_eq!(feed.title().as_str(), "Trending papers on Hugging Face");
    assert!(!feed.id().is_empty());
    assert_eq!(feed.updated().to_rfc3339(), "2026-12-03T00:00:00+00:00");
    let titles: Vec<&str> = feed.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(
        titles,
        [
            "Trending papers, 3 Dec 2026: 1 new",
            "Trending papers, 2 Dec 2026: 1 new",
            "Trending papers, 1 Dec 2026: 4 new"
        ]
    );
    let mut ids: Vec<&str> = feed.entries().iter().map(|e| e.id()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "entry ids are unique");
    let day1 = feed.entries()[2].content().unwrap().value().unwrap();
    for id in ["2612.00101", "2612.00102", "2612.00103", "2612.00104"] {
        assert!(
            day1.contains(&format!("https://huggingface.co/papers/{id}")),
            "{day1}"
        );
    }
    let one = sb.ok(&["export", "--atom", "--date", "2026-12-02"]).stdout;
    let feed = atom_syndication::Feed::read_from(one.as_bytes()).unwrap();
    assert_eq!(feed.entries().len(), 1);
    assert!(feed.entries()[0]
        .content()
        .unwrap()
        .value()
        .unwrap()
        .contains("2612.00105"));
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let mut scene = common::Scene::new("trending-small.html", SmtpOptions::default());
    scene
        .sb
        .set("DIGEST_TO", "a@example.org, b@example.org, c@example.org");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(common::repo_file("tests/support/pty_run.py"))
        .arg(serde_json::json!([env!("CARGO_BIN_EXE_digest"), "--date", "2026-12-01"]).to_string())
        .arg("[]")
        .env_clear();
    for (k, v) in scene.sb.command(&[]).get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("sending digests: 3/3"),
        "progress on a terminal: {screen:?}"
    );
    assert!(
        screen.ends_with("\r\x1b[2K"),
        "the line is cleared at the end: {screen:?}"
    );
    assert_eq!(scene.smtp.messages().len(), 3);
    // Not on a terminal: silent, as cron wants.
    scene.sb.set("DIGEST_TO", "d@example.org, e@example.org");
    let r = scene.sb.ok(&["--date", "2026-12-01"]);
    assert_eq!(r.stderr, "");
}
