//! The daily run as a process: a loopback HTTP server serves the listing, a real SMTP server
//! (aiosmtpd) receives the digests, and what it received is parsed as a mail client would.

mod common;

use std::collections::HashSet;

use common::{fixture, HttpServer, Reply, Sandbox, SmtpOptions, SmtpServer};
use mail_parser::MessageParser;

const TRENDING: &str = "/papers/trending";
const PASSWORD: &str = "s3cret-app-password";

/// A parsed message, with what the tests look at.
struct Received {
    raw: String,
    subject: String,
    from: String,
    to: Vec<String>,
    text: String,
    html: String,
    message_id: String,
}

fn received(server: &SmtpServer) -> Vec<Received> {
    server.messages().iter().map(|raw| parse(raw)).collect()
}

fn parse(raw: &[u8]) -> Received {
    let text = String::from_utf8(raw.to_vec()).expect("the message is 7-bit/UTF-8");
    assert!(text.is_ascii(), "the message is encoded to 7-bit ASCII");
    for line in text.split("\r\n").flat_map(|l| l.split('\n')) {
        assert!(
            line.len() <= 998,
            "a line exceeds the SMTP limit: {} octets",
            line.len()
        );
    }
    let msg = MessageParser::default()
        .parse(raw)
        .expect("a MIME parser reads it");
    let content_type = msg
        .header_raw("Content-Type")
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    assert_eq!(msg.text_body_count(), 1, "one text part");
    assert_eq!(msg.html_body_count(), 1, "one HTML part");
    let text_at = text.find("Content-Type: text/plain").expect("text part");
    let html_at = text.find("Content-Type: text/html").expect("HTML part");
    assert!(text_at < html_at, "text part first, then HTML");
    for header in ["Date", "Message-ID", "List-Id", "From", "To", "Subject"] {
        assert!(msg.header_raw(header).is_some(), "{header} header missing");
    }
    Received {
        subject: msg.subject().unwrap().to_string(),
        from: msg
            .from()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string(),
        to: msg
            .to()
            .unwrap()
            .iter()
            .map(|a| a.address().unwrap().to_string())
            .collect(),
        text: msg.body_text(0).unwrap().into_owned(),
        html: msg.body_html(0).unwrap().into_owned(),
        message_id: msg.message_id().unwrap().to_string(),
        raw: text,
    }
}

/// The arXiv ids whose HF links a part carries, each counted.
fn linked_ids(body: &str) -> Vec<String> {
    body.match_indices("https://huggingface.co/papers/")
        .map(|(i, m)| {
            body[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
        })
        .filter(|id| !id.is_empty())
        .collect()
}

fn serve_day(fixture_name: &str) -> HttpServer {
    HttpServer::page(TRENDING, fixture(fixture_name))
}

/// The listing `fixture`, an SMTP server with `opts`, and a sandbox pointed at both that
/// mails `to` from "Paper Digest <digest@example.org>".
fn reader_scene(fixture: &str, to: &str, opts: SmtpOptions) -> common::Scene {
    let mut scene = common::Scene::new(fixture, opts);
    scene.sb.mail("Paper Digest <digest@example.org>", to);
    scene
}

fn reader_sandbox(server: &SmtpServer, http: &HttpServer, to: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.smtp(server)
        .mail("Paper Digest <digest@example.org>", to)
        .set("DIGEST_SOURCE_URL", http.url(TRENDING));
    sb
}

fn ledger_count(sb: &Sandbox, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(sb.db()).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn starttls_with_auth_delivers_one_well_formed_digest() {
    let mut scene = reader_scene(
        "trending-small.html",
        "Ann Reader <ann@example.org>",
        SmtpOptions {
            security: "starttls",
            auth: Some(("digest@example.org".into(), PASSWORD.into())),
            ..Default::default()
        },
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.set("DIGEST_SMTP_USERNAME", "digest@example.org")
        .set("DIGEST_SMTP_PASSWORD", PASSWORD);
    let run = sb.ok(&["--date", "2026-12-01"]);
    assert_eq!(run.stdout, "", "silent on success");
    assert_eq!(run.stderr, "", "silent on success");

    let msgs = received(smtp);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.subject, "Trending papers, 1 Dec 2026: 5 new");
    assert_eq!(m.from, "digest@example.org");
    assert_eq!(m.to, ["ann@example.org"]);
    assert!(m
        .raw
        .contains("List-Id: Trending papers digest <trending-papers.example.org>"));
    assert!(
        smtp.log_text().contains("tls=True"),
        "the session was upgraded with STARTTLS"
    );
    assert!(smtp.log_text().contains("ok=True"), "AUTH was used");

    // Every paper exactly once in each part, with its links.
    let expected = [
        "2612.00001",
        "2612.00002",
        "2612.00003",
        "2612.00004",
        "2612.00005",
    ];
    for (part, body) in [("text", &m.text), ("html", &m.html)] {
        let ids: HashSet<String> = linked_ids(body).into_iter().collect();
        assert_eq!(
            ids,
            expected.iter().map(|s| s.to_string()).collect(),
            "{part} part"
        );
        for id in expected {
            assert!(
                body.contains(&format!("https://arxiv.org/abs/{id}")),
                "{part}: arXiv link for {id}"
            );
            assert!(
                body.contains(&format!("https://arxiv.org/pdf/{id}")),
                "{part}: PDF link for {id}"
            );
        }
        assert!(
            body.contains("https://github.com/example/video-diffusion"),
            "{part}: GitHub link"
        );
        assert!(body.contains("62.2k"), "{part}: stars");
        assert!(
            body.contains("https://example.org/video"),
            "{part}: project page"
        );
        assert!(
            body.contains("Author 1A, Author 1B, Author 1C et al."),
            "{part}: authors shortened"
        );
    }
    assert_eq!(
        m.text
            .matches("#1  Video Diffusion: A Study of Paper 1")
            .count(),
        1
    );
    assert_eq!(
        m.html
            .matches(">Video Diffusion: A Study of Paper 1</a>")
            .count(),
        1
    );
    assert!(
        m.html.contains("Ünïcödé &amp; &lt;Entities&gt;"),
        "escaped in HTML, decoded once"
    );
    assert!(
        m.text.contains("Ünïcödé & <Entities>"),
        "plain in the text part"
    );
    assert!(!m.html.contains("<script"), "no scripts");

    // The ledger holds the digest under the Message-ID the server received.
    let conn = rusqlite::Connection::open(sb.db()).unwrap();
    let (recipient, message_id, papers): (String, String, i64) = conn
        .query_row(
            "SELECT recipient, message_id, papers FROM digests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(recipient, "ann@example.org");
    assert_eq!(message_id.trim_matches(['<', '>']), m.message_id);
    assert_eq!(papers, 5);
}

#[test]
fn implicit_tls_with_auth_delivers() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions {
            security: "tls",
            auth: Some(("me".into(), PASSWORD.into())),
            ..Default::default()
        },
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.set("DIGEST_SMTP_USERNAME", "me")
        .set("DIGEST_SMTP_PASSWORD", PASSWORD);
    sb.ok(&["--date", "2026-12-01"]);
    let msgs = received(smtp);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].subject, "Trending papers, 1 Dec 2026: 5 new");
}

#[test]
fn a_wrong_password_fails_clearly_marks_nothing_and_the_next_run_delivers() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions {
            security: "starttls",
            auth: Some(("me".into(), PASSWORD.into())),
            ..Default::default()
        },
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.set("DIGEST_SMTP_USERNAME", "me")
        .set("DIGEST_SMTP_PASSWORD", "wrong-password");
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    let line = r.error_line();
    assert!(line.contains("authentication failed"), "{line}");
    assert!(line.contains("\"me\""), "names the user: {line}");
    assert!(!r.stderr.contains("wrong-password") && !r.stdout.contains("wrong-password"));
    assert!(received(smtp).is_empty());
    assert_eq!(
        ledger_count(sb, "SELECT COUNT(*) FROM digests"),
        0,
        "nothing marked"
    );

    sb.set("DIGEST_SMTP_PASSWORD", PASSWORD);
    sb.ok(&["--date", "2026-12-01"]);
    let msgs = received(smtp);
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        linked_ids(&msgs[0].text).len(),
        5,
        "all five papers arrive on the retry"
    );
}

#[test]
fn server_down_exits_7_and_the_next_run_catches_up_everything_missed() {
    let dir = tempfile::tempdir().unwrap();
    // Learn a port, then stop the server: nothing listens there.
    let down_port = {
        let s = SmtpServer::start(&dir.path().join("gone"), SmtpOptions::default());
        s.port
    };
    let day1 = serve_day("trending-2026-12-01.html");
    let mut sb = Sandbox::new();
    sb.mail("digest@example.org", "ann@example.org")
        .set("DIGEST_SMTP_HOST", "127.0.0.1")
        .set("DIGEST_SMTP_PORT", down_port)
        .set("DIGEST_SMTP_SECURITY", "none")
        .set("DIGEST_SOURCE_URL", day1.url(TRENDING));
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    assert!(
        r.error_line().contains("connection refused"),
        "{}",
        r.stderr
    );
    assert_eq!(ledger_count(&sb, "SELECT COUNT(*) FROM digests"), 0);

    // Next day, server up: day 1's papers (104 left the listing) and day 2's new one arrive.
    let smtp = SmtpServer::start(&dir.path().join("up"), SmtpOptions::default());
    let day2 = serve_day("trending-2026-12-02.html");
    sb.smtp(&smtp).set("DIGEST_SOURCE_URL", day2.url(TRENDING));
    sb.ok(&["--date", "2026-12-02"]);
    let msgs = received(&smtp);
    assert_eq!(msgs.len(), 1);
    let mut ids = linked_ids(&msgs[0].text);
    ids.sort();
    assert_eq!(
        ids,
        [
            "2612.00101",
            "2612.00102",
            "2612.00103",
            "2612.00104",
            "2612.00105"
        ]
    );
    assert_eq!(msgs[0].subject, "Trending papers, 2 Dec 2026: 5 new");
}

#[test]
fn one_digest_a_day_then_only_new_papers_and_dry_runs_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let day1 = serve_day("trending-2026-12-01.html");
    let day2 = serve_day("trending-2026-12-02.html");
    let mut sb = reader_sandbox(&smtp, &day1, "ann@example.org");

    // A dry run first: prints, sends nothing, records nothing.
    let dry = sb.ok(&["--dry-run", "--date", "2026-12-01"]);
    assert!(
        dry.stdout
            .contains("Subject: Trending papers, 1 Dec 2026: 4 new"),
        "{}",
        dry.stdout
    );
    assert!(received(&smtp).is_empty());
    assert_eq!(
        ledger_count(&sb, "SELECT COUNT(*) FROM sightings"),
        0,
        "a dry run leaves the store as it was"
    );

    sb.ok(&["--date", "2026-12-01"]);
    sb.ok(&["--date", "2026-12-01"]);
    assert_eq!(
        received(&smtp).len(),
        1,
        "two runs on one day send one digest"
    );

    // A dry run between the days shows what the next day will send, and changes nothing.
    sb.set("DIGEST_SOURCE_URL", day2.url(TRENDING));
    let dry = sb.ok(&["--dry-run", "--date", "2026-12-02"]);
    assert!(
        dry.stdout
            .contains("Subject: Trending papers, 2 Dec 2026: 1 new"),
        "{}",
        dry.stdout
    );
    sb.ok(&["--dry-run", "--date", "2026-12-02"]);

    sb.ok(&["--date", "2026-12-02"]);
    let msgs = received(&smtp);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].subject, "Trending papers, 2 Dec 2026: 1 new");
    assert_eq!(linked_ids(&msgs[1].text), ["2612.00105"]);
    // The dry run printed exactly the text part that was later sent.
    let dry_text = dry.stdout.split_once("\n\n").unwrap().1;
    assert_eq!(
        dry_text.replace("\r\n", "\n").trim_end(),
        msgs[1].text.replace("\r\n", "\n").trim_end()
    );
}

#[test]
fn two_readers_get_one_digest_each_over_one_connection() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org, Bob <bob@example.org>",
        SmtpOptions::default(),
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.ok(&["--date", "2026-12-01"]);
    let msgs = received(smtp);
    assert_eq!(msgs.len(), 2);
    let mut to: Vec<String> = msgs.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ann@example.org", "bob@example.org"]);
    for m in &msgs {
        assert_eq!(linked_ids(&m.text).len(), 5);
    }
    assert_ne!(msgs[0].message_id, msgs[1].message_id);
    assert_eq!(
        smtp.delivering_sessions(),
        1,
        "one SMTP connection for both"
    );
}

#[test]
fn a_rejected_recipient_does_not_block_or_duplicate_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            reject: vec!["bob@example.org".into()],
            ..Default::default()
        },
    );
    let http = serve_day("trending-small.html");
    let sb = reader_sandbox(
        &smtp,
        &http,
        "ann@example.org, bob@example.org, cat@example.org",
    );
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    let line = r.error_line();
    assert!(line.contains("1 of 3 digests not delivered"), "{line}");
    assert!(
        line.contains("rejected recipient bob@example.org"),
        "{line}"
    );
    let mut to: Vec<String> = received(&smtp).iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ann@example.org", "cat@example.org"]);
    assert_eq!(ledger_count(&sb, "SELECT COUNT(*) FROM digests"), 2);
    assert_eq!(
        ledger_count(
            &sb,
            "SELECT COUNT(*) FROM deliveries WHERE recipient = 'bob@example.org'"
        ),
        0
    );
}

#[test]
fn missing_smtp_settings_fail_before_fetching() {
    let http = serve_day("trending-small.html");
    let mut sb = Sandbox::new();
    let config = sb.write_config("[mail]\nfrom = \"digest@example.org\"\n");
    sb.set("DIGEST_SOURCE_URL", http.url(TRENDING));
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(3);
    let line = r.error_line();
    assert!(
        line.contains("mail.to (DIGEST_TO)") && line.contains("smtp.host (DIGEST_SMTP_HOST)"),
        "{line}"
    );
    assert!(!line.contains("mail.from"), "from is set: {line}");
    assert!(
        line.contains(&config.display().to_string()),
        "names the file it read: {line}"
    );
    assert_eq!(http.total_hits(), 0, "nothing fetched");
    assert!(!sb.db().exists(), "nothing stored");
}

#[test]
fn bad_configuration_is_a_clear_config_error() {
    let http = serve_day("trending-small.html");
    let mut sb = Sandbox::new();
    sb.set("DIGEST_SOURCE_URL", http.url(TRENDING));
    sb.write_config("[smtp]\nhots = \"smtp.example.org\"\n");
    let r = sb.run(&["--dry-run"]);
    r.assert_code(3);
    assert!(
        r.error_line().contains("unknown field `hots`"),
        "{}",
        r.stderr
    );

    sb.write_config("[mail]\nto = [\"not an address\"]\n");
    let r = sb.run(&["--dry-run"]);
    r.assert_code(3);
    assert!(
        r.error_line()
            .contains("mail.to: \"not an address\" is not a valid email address"),
        "{}",
        r.stderr
    );

    sb.write_config("");
    sb.set("DIGEST_SMTP_SECURITY", "carrier-pigeon");
    let r = sb.run(&["--dry-run"]);
    r.assert_code(3);
    assert!(
        r.error_line().contains("DIGEST_SMTP_SECURITY"),
        "{}",
        r.stderr
    );
    assert_eq!(http.total_hits(), 0);
}

#[test]
fn a_template_that_fails_is_named_and_nothing_is_sent_or_marked() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions::default(),
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    let templates = sb.path("templates");
    std::fs::create_dir_all(&templates).unwrap();
    sb.set("DIGEST_TEMPLATES_DIR", templates.display());

    std::fs::write(
        templates.join("digest.txt"),
        "line one\n{% for p in papers %}\n{{ p.title }\n{% endfor %}\n",
    )
    .unwrap();
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(3);
    let line = r.error_line();
    assert!(
        line.contains("digest.txt") && line.contains("invalid"),
        "{line}"
    );
    assert!(line.contains("3:"), "names the line: {line}");

    std::fs::write(
        templates.join("digest.txt"),
        "{{ count }}\n{{ no_such_variable.field }}\n",
    )
    .unwrap();
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(3);
    assert!(
        r.error_line()
            .contains("template digest.txt failed to render"),
        "{}",
        r.stderr
    );
    assert!(received(smtp).is_empty());
    assert_eq!(ledger_count(sb, "SELECT COUNT(*) FROM digests"), 0);

    // A user template that works replaces the built-in one.
    std::fs::write(
        templates.join("subject.txt"),
        "{{ count }} papers for {{ recipient }}",
    )
    .unwrap();
    std::fs::remove_file(templates.join("digest.txt")).unwrap();
    sb.ok(&["--date", "2026-12-01"]);
    assert_eq!(received(smtp)[0].subject, "5 papers for ann@example.org");
}

#[test]
fn page_text_cannot_inject_markup_links_or_headers() {
    let mut scene = reader_scene("hostile.html", "ann@example.org", SmtpOptions::default());
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    let templates = sb.path("templates");
    std::fs::create_dir_all(&templates).unwrap();
    // A subject that carries a page title, to try header injection through it.
    std::fs::write(templates.join("subject.txt"), "{{ papers[0].title }}").unwrap();
    sb.set("DIGEST_TEMPLATES_DIR", templates.display());
    sb.ok(&["--date", "2026-12-01"]);
    let m = &received(smtp)[0];
    let msg = MessageParser::default().parse(m.raw.as_bytes()).unwrap();
    assert!(msg.header_raw("Bcc").is_none(), "no Bcc header injected");
    assert!(msg.header_raw("X-Injected").is_none(), "no header injected");
    assert!(
        m.subject.contains("Bcc: victim@example.org"),
        "CR/LF became a space: {}",
        m.subject
    );
    // Read the HTML part as a browser would: only our own elements, no event handlers,
    // no links but http(s); the hostile markup is there only as visible text.
    let doc = scraper::Html::parse_document(&m.html);
    let all = scraper::Selector::parse("*").unwrap();
    for el in doc.select(&all) {
        let name = el.value().name();
        assert!(
            !["script", "img", "iframe", "object", "b", "i"].contains(&name),
            "element <{name}> injected"
        );
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "event handler {attr} on <{name}>");
            if attr == "href" || attr == "src" {
                assert!(
                    value.starts_with("https://") || value.starts_with("http://"),
                    "{attr}={value:?} on <{name}>"
                );
            }
        }
    }
    // The one <style> is the template's own dark-mode block in <head>; none from the page.
    let styles: Vec<_> = doc
        .select(&scraper::Selector::parse("style").unwrap())
        .collect();
    assert_eq!(styles.len(), 1, "only the template's <style>");
    assert_eq!(
        styles[0]
            .parent()
            .and_then(scraper::ElementRef::wrap)
            .unwrap()
            .value()
            .name(),
        "head"
    );
    assert!(!styles[0].inner_html().contains("display:none"));
    let visible: String = doc.root_element().text().collect();
    assert!(
        visible.contains("<script>alert('x')</script>"),
        "hostile title shown as text"
    );
    assert!(
        visible.contains("<img src=x onerror=alert(1)>"),
        "hostile abstract shown as text"
    );
    assert!(m.html.contains("&lt;script&gt;"), "shown as text, escaped");
    // In the text part, every labelled link is http(s); the hostile repo and project links
    // were dropped, so neither paper has a GitHub or Project line.
    for line in m.text.lines() {
        if let Some((label, value)) = line.trim().split_once(':') {
            if ["Paper", "arXiv", "PDF", "GitHub", "Project"].contains(&label) {
                assert!(value.trim().starts_with("https://"), "{line}");
            }
        }
    }
    assert!(
        !m.text.contains("GitHub:") && !m.text.contains("Project:"),
        "{}",
        m.text
    );
    for href in m.html.split("href=\"").skip(1) {
        assert!(
            href.starts_with("https://") || href.starts_with("http://"),
            "link: {}",
            &href[..40.min(href.len())]
        );
    }
}

#[test]
fn dry_run_output_and_output_files() {
    let http = serve_day("trending-small.html");
    let mut sb = Sandbox::new();
    sb.set("DIGEST_SOURCE_URL", http.url(TRENDING));
    // No SMTP, no readers configured: a preview for a placeholder reader.
    let r = sb.ok(&["--dry-run", "--date", "2026-12-01"]);
    let (headers, text) = r.stdout.split_once("\n\n").unwrap();
    assert!(headers.contains("To: reader@example.invalid"));
    assert!(headers.contains("Subject: Trending papers, 1 Dec 2026: 5 new"));
    assert!(headers.contains("Content-Type: multipart/alternative"));
    assert!(text.starts_with("Trending papers on Hugging Face, 1 Dec 2026"));
    assert!(!r.stdout.contains("<html"), "the HTML part is not printed");

    let eml = sb.path("preview.eml");
    sb.ok(&[
        "--dry-run",
        "--date",
        "2026-12-01",
        "--output",
        eml.to_str().unwrap(),
    ]);
    let m = parse(&std::fs::read(&eml).unwrap());
    assert_eq!(
        linked_ids(&m.html).len(),
        5,
        "each paper linked once by HF link in HTML"
    );

    let html = sb.path("preview.html");
    sb.ok(&[
        "--dry-run",
        "--date",
        "2026-12-01",
        "--output",
        html.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("Trending papers, 1 Dec 2026"));
    assert!(sb.export(&[]).is_empty(), "dry runs store nothing");
}

#[test]
fn nothing_new_sends_nothing_unless_send_empty() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions::default(),
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.ok(&["--date", "2026-12-01"]);
    sb.ok(&["--date", "2026-12-02"]).assert_code(0);
    assert_eq!(received(smtp).len(), 1, "all five were delivered yesterday");
    sb.set("DIGEST_SEND_EMPTY", "true");
    sb.ok(&["--date", "2026-12-03"]);
    let msgs = received(smtp);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].subject, "Trending papers, 3 Dec 2026: nothing new");
    assert!(msgs[1].text.contains("Nothing new today"));
}

#[test]
fn file_and_sendmail_transports_hand_over_the_message() {
    let http = serve_day("trending-small.html");
    let mut sb = Sandbox::new();
    let out = sb.path("outbox");
    sb.mail("digest@example.org", "ann@example.org")
        .set("DIGEST_SOURCE_URL", http.url(TRENDING))
        .set("DIGEST_TRANSPORT", "file")
        .set("DIGEST_OUTPUT_DIR", out.display());
    sb.ok(&["--date", "2026-12-01"]);
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let m = parse(&std::fs::read(files[0].path()).unwrap());
    assert_eq!(m.to, ["ann@example.org"]);

    // sendmail: a stand-in MTA that files what it is handed, with its arguments.
    let mut sb = Sandbox::new();
    let spool = sb.path("spool.eml");
    let script = sb.path("sendmail");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {0}.args\ncat > {0}\n",
            spool.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.write_config(&format!(
        "[mail]\ntransport = \"sendmail\"\nsendmail_command = \"{}\"\n",
        script.display()
    ));
    sb.mail("digest@example.org", "ann@example.org")
        .set("DIGEST_SOURCE_URL", http.url(TRENDING));
    sb.ok(&["--date", "2026-12-01"]);
    let m = parse(&std::fs::read(&spool).unwrap());
    assert_eq!(linked_ids(&m.text).len(), 5);
    let args = std::fs::read_to_string(sb.path("spool.eml.args")).unwrap();
    assert!(args.contains("ann@example.org"), "{args}");
    assert_eq!(
        ledger_count(
            &sb,
            "SELECT COUNT(*) FROM digests WHERE transport = 'sendmail'"
        ),
        1
    );
}

#[test]
fn a_source_failure_on_a_real_run_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let http = HttpServer::start(vec![(TRENDING, vec![Reply::ok(fixture("no-data.html"))])]);
    let sb = reader_sandbox(&smtp, &http, "ann@example.org");
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(5);
    assert!(r.error_line().contains("page changed shape"));
    assert!(
        received(&smtp).is_empty(),
        "never an empty or partial digest"
    );
}

#[test]
fn an_unverifiable_certificate_is_refused() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions {
            security: "starttls",
            ..Default::default()
        },
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    sb.unset("DIGEST_SMTP_CA_FILE"); // the test CA is not trusted
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    let line = r.error_line();
    assert!(
        line.contains("TLS with 127.0.0.1") && line.contains("(STARTTLS)"),
        "{line}"
    );
    assert!(line.contains("certificate"), "says why: {line}");
    assert!(received(smtp).is_empty());
    assert_eq!(ledger_count(sb, "SELECT COUNT(*) FROM digests"), 0);
}

#[test]
fn a_message_rejected_at_data_is_named_and_not_marked() {
    let dir = tempfile::tempdir().unwrap();
    let mut smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let http = serve_day("trending-small.html");
    let mut sb = reader_sandbox(&smtp, &http, "ann@example.org");
    drop(smtp);
    smtp = SmtpServer::start_with_args(
        &dir.path().join("strict"),
        SmtpOptions::default(),
        &["--reject-data"],
    );
    sb.smtp(&smtp);
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    assert!(
        r.error_line()
            .contains("rejected the message for ann@example.org"),
        "{}",
        r.stderr
    );
    assert!(r.error_line().contains("554"), "{}", r.stderr);
    assert_eq!(ledger_count(&sb, "SELECT COUNT(*) FROM digests"), 0);
}

#[test]
fn temporary_failures_are_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(
        dir.path(),
        SmtpOptions {
            tempfail: 2,
            ..Default::default()
        },
    );
    let http = serve_day("trending-small.html");
    let mut sb = reader_sandbox(&smtp, &http, "ann@example.org");
    sb.set("DIGEST_SMTP_BACKOFF", "100ms");
    sb.ok(&["--date", "2026-12-01"]);
    assert_eq!(received(&smtp).len(), 1);
    assert_eq!(smtp.log_text().matches("result=451").count(), 2);

    // Retries run out: a clear error, nothing marked; the next run delivers.
    let smtp = SmtpServer::start(
        &dir.path().join("busy"),
        SmtpOptions {
            tempfail: 10,
            ..Default::default()
        },
    );
    let mut sb = reader_sandbox(&smtp, &http, "ann@example.org");
    sb.set("DIGEST_SMTP_BACKOFF", "50ms")
        .set("DIGEST_SMTP_RETRIES", 2);
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(7);
    assert!(r.error_line().contains("451"), "{}", r.stderr);
    assert_eq!(smtp.log_text().matches("result=451").count(), 3);
    assert_eq!(ledger_count(&sb, "SELECT COUNT(*) FROM digests"), 0);
}

#[test]
fn the_password_can_come_from_a_file_and_run_is_the_default_command() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org",
        SmtpOptions {
            security: "tls",
            auth: Some(("me".into(), PASSWORD.into())),
            ..Default::default()
        },
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    let pw = sb.path("password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    sb.set("DIGEST_SMTP_USERNAME", "me")
        .set("DIGEST_SMTP_PASSWORD_FILE", pw.display());
    let dry = sb.ok(&["run", "--dry-run", "--date", "2026-12-01"]);
    assert!(dry
        .stdout
        .contains("Subject: Trending papers, 1 Dec 2026: 5 new"));
    sb.ok(&["run", "--date", "2026-12-01"]);
    assert_eq!(received(smtp).len(), 1);
    let verbose = sb.ok(&["-v", "--date", "2026-12-02"]);
    assert!(
        verbose.stderr.contains(
            "2026-12-02: 5 papers on the listing (0 new to the store); 0 of 0 digests sent"
        ),
        "-v prints the summary: {}",
        verbose.stderr
    );
}

#[test]
fn a_template_failing_for_a_later_reader_sends_nothing_to_anyone() {
    let mut scene = reader_scene(
        "trending-small.html",
        "ann@example.org, bob@example.org",
        SmtpOptions::default(),
    );
    let (sb, smtp) = (&mut scene.sb, &scene.smtp);
    let templates = sb.path("templates");
    std::fs::create_dir_all(&templates).unwrap();
    // Renders for ann, fails for bob: a data-dependent template error.
    std::fs::write(
        templates.join("subject.txt"),
        "{% if recipient == \"bob@example.org\" %}{{ missing.field }}{% endif %}{{ count }} new",
    )
    .unwrap();
    sb.set("DIGEST_TEMPLATES_DIR", templates.display());
    let r = sb.run(&["--date", "2026-12-01"]);
    r.assert_code(3);
    assert!(r.error_line().contains("subject.txt"), "{}", r.stderr);
    assert!(
        received(smtp).is_empty(),
        "ann's digest was not sent either"
    );
    assert_eq!(ledger_count(sb, "SELECT COUNT(*) FROM digests"), 0);
}
