//! Trends across days and each reader's interests: five days of listings fetched with
//! --date, sections computed by hand, profiles, and several readers in one run.

mod common;

use common::{fixture, HttpServer, Sandbox, SmtpOptions, SmtpServer};
use mail_parser::MessageParser;
use serde_json::{json, Value};

const DAYS: [&str; 5] = [
    "2026-12-01",
    "2026-12-02",
    "2026-12-03",
    "2026-12-04",
    "2026-12-05",
];

fn day_server(day: &str) -> HttpServer {
    HttpServer::page("/p", fixture(&format!("trending-{day}.html")))
}

/// (id, rank, trend, rank_change, upvotes_gained, stars_gained) of each paper on a day.
fn trends(sb: &Sandbox, day: &str) -> Vec<Value> {
    sb.export(&["--date", day])
        .iter()
        .map(|p| {
            json!([
                p["id"],
                p["rank"],
                p["trend"],
                p["rank_change"],
                p["upvotes_gained"],
                p["stars_gained"]
            ])
        })
        .collect()
}

#[test]
fn trend_fields_over_five_days_come_out_as_computed_by_hand() {
    let sb = Sandbox::new();
    for day in DAYS {
        let http = day_server(day);
        sb.ok(&["fetch", "--url", &http.url("/p"), "--date", day]);
    }
    // Day 1: everything is new.
    assert_eq!(
        trends(&sb, "2026-12-01"),
        vec![
            json!(["2612.00101", 1, "new", null, null, null]),
            json!(["2612.00102", 2, "new", null, null, null]),
            json!(["2612.00103", 3, "new", null, null, null]),
            json!(["2612.00104", 4, "new", null, null, null]),
        ]
    );
    // Day 2: 101 holds (+10 up, +10 stars), 103 climbs 3->2, 102 falls 2->3, 105 enters.
    assert_eq!(
        trends(&sb, "2026-12-02"),
        vec![
            json!(["2612.00101", 1, "same", 0, 10, 10]),
            json!(["2612.00103", 2, "up", 1, 15, 20]),
            json!(["2612.00102", 3, "down", -1, 1, 0]),
            json!(["2612.00105", 4, "new", null, null, null]),
        ]
    );
    // Day 3: 103 to the top, 106 enters, 105 holds at 4 (no repo: no stars), 102 falls 3->5.
    assert_eq!(
        trends(&sb, "2026-12-03"),
        vec![
            json!(["2612.00103", 1, "up", 1, 25, 30]),
            json!(["2612.00101", 2, "down", -1, 2, 1]),
            json!(["2612.00106", 3, "new", null, null, null]),
            json!(["2612.00105", 4, "same", 0, 15, null]),
            json!(["2612.00102", 5, "down", -2, 1, 1]),
        ]
    );
    // Day 4: 105 jumps 4->1 with +60; 102 has left the listing.
    assert_eq!(
        trends(&sb, "2026-12-04"),
        vec![
            json!(["2612.00105", 1, "up", 3, 60, null]),
            json!(["2612.00103", 2, "down", -1, 5, 10]),
            json!(["2612.00106", 3, "same", 0, 7, 2]),
            json!(["2612.00101", 4, "down", -2, 1, 1]),
        ]
    );
    // Day 5: 107 enters at 2; 101 has left.
    assert_eq!(
        trends(&sb, "2026-12-05"),
        vec![
            json!(["2612.00105", 1, "same", 0, 5, null]),
            json!(["2612.00107", 2, "new", null, null, null]),
            json!(["2612.00106", 3, "same", 0, 1, 0]),
            json!(["2612.00103", 4, "down", -2, 1, 1]),
        ]
    );
    // The whole-store export carries the same fields for each paper's last day.
    let all = sb.export(&[]);
    let p102 = all.iter().find(|p| p["id"] == "2612.00102").unwrap();
    assert_eq!(
        (p102["last_seen"].clone(), p102["trend"].clone()),
        (json!("2026-12-03"), json!("down"))
    );
    assert_eq!(p102["previous_rank"], 3);
}

fn text_part(raw: &[u8]) -> (String, String, String) {
    let msg = MessageParser::default().parse(raw).unwrap();
    (
        msg.subject().unwrap().to_string(),
        msg.body_text(0).unwrap().into_owned(),
        msg.body_html(0).unwrap().into_owned(),
    )
}

/// The arXiv ids of the papers a text part lists, in order, per section.
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("  Paper:   https://huggingface.co/papers/"))
        .map(String::from)
        .collect()
}

#[test]
fn new_and_climbing_sections_over_five_days_come_out_as_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let mut sb = Sandbox::new();
    sb.smtp(&smtp).mail("digest@example.org", "ann@example.org");
    sb.write_config("[trends]\nclimb_places = 2\nclimb_upvotes = 25\n");
    for day in DAYS {
        let http = day_server(day);
        sb.ok(&["--url", &http.url("/p"), "--date", day]);
    }
    let got: Vec<(String, String, String)> = smtp.messages().iter().map(|m| text_part(m)).collect();
    let subjects: Vec<&str> = got.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Trending papers, 1 Dec 2026: 4 new",
            "Trending papers, 2 Dec 2026: 1 new",
            "Trending papers, 3 Dec 2026: 1 new, 1 climbing",
            "Trending papers, 4 Dec 2026: 0 new, 1 climbing",
            "Trending papers, 5 Dec 2026: 1 new",
        ]
    );
    let ids: Vec<Vec<String>> = got.iter().map(|(_, t, _)| listed(t)).collect();
    assert_eq!(
        ids[0],
        ["2612.00101", "2612.00102", "2612.00103", "2612.00104"]
    );
    // Day 2: 103 rose one place and 15 upvotes since mailed (r3, 30): below both thresholds.
    assert_eq!(ids[1], ["2612.00105"]);
    // Day 3: 106 is new; 103 rose from #3 to #1 (+40 upvotes) since it was mailed.
    assert_eq!(ids[2], ["2612.00106", "2612.00103"]);
    let day3 = &got[2].1;
    assert!(day3.find("== New ==").unwrap() < day3.find("2612.00106").unwrap());
    assert!(day3.find("== Climbing ==").unwrap() < day3.find("#1  Language Models").unwrap());
    assert!(
        day3.contains("Climbing: up 2 places (#3 to #1), +40 upvotes since you got it"),
        "{day3}"
    );
    assert!(got[2].2.contains(">Climbing</h2>") && got[2].2.contains(">New</h2>"));
    // Day 4: nothing new; 105 rose from #4 (15 upvotes) to #1 (90).
    assert_eq!(ids[3], ["2612.00105"]);
    assert!(got[3]
        .1
        .contains("Climbing: up 3 places (#4 to #1), +75 upvotes since you got it"));
    // Day 5: 107 is new; nobody climbed enough since they were last mailed (103 was re-mailed
    // on day 3 at #1, so its fall to #4 is no climb).
    assert_eq!(ids[4], ["2612.00107"]);
    // A paper appears at most once per digest.
    for list in &ids {
        let mut unique = list.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), list.len());
    }
}

#[test]
fn the_climbing_section_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), SmtpOptions::default());
    let mut sb = Sandbox::new();
    sb.smtp(&smtp).mail("digest@example.org", "ann@example.org");
    sb.write_config("[trends]\nclimbing = false\nclimb_places = 1\nclimb_upvotes = 1\n");
    for day in &DAYS[..4] {
        let http = day_server(day);
        sb.ok(&["--url", &http.url("/p"), "--date", day]);
    }
    let subjects: Vec<String> = smtp.messages().iter().map(|m| text_part(m).0).collect();
    assert_eq!(subjects.len(), 3, "day 4 had nothing new: {subjects:?}");
    assert!(
        subjects.iter().all(|s| !s.contains("climbing")),
        "{subjects:?}"
    );
}

const PROFILES: &str = r#"
[mail]
from = "digest@example.org"

[[recipient]]
address = "robo@example.org"
name = "Robo Reader"
[recipient.profile]
include = ["robot", "diffusion"]
exclude = ["survey"]
min_upvotes = 10
max_papers = 3

[[recipient]]
address = "bio@example.org"
[recipient.profile]
organizations = ["bio lab"]

[[recipient]]
address = "stars@example.org"
[recipient.profile]
min_stars = 1000
"#;

#[test]
fn a_profile_includes_excludes_thresholds_caps_ranks_and_highlights() {
    let mut scene = common::Scene::new("profiles.html", SmtpOptions::default());
    scene.sb.unset("DIGEST_TO").unset("DIGEST_FROM");
    scene.sb.write_config(PROFILES);
    let (sb, smtp) = (&scene.sb, &scene.smtp);
    sb.ok(&["--date", "2026-12-04", "--to", "robo@example.org"]);
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 1, "--to mails only that reader");
    let (subject, text, html) = text_part(&msgs[0]);
    assert_eq!(subject, "Trending papers, 4 Dec 2026: 3 new");
    // 203 is a survey (excluded), 201 and 206 match nothing; 204 matches both words and
    // comes first although the listing has it at #4.
    assert_eq!(listed(&text), ["2612.00204", "2612.00205", "2612.00202"]);
    assert!(
        text.contains("#4  *Diffusion* Policies for *Robot* Manipulation"),
        "{text}"
    );
    assert!(text.contains("Matches: robot, diffusion"));
    assert!(
        html.contains(">Diffusion</mark> Policies for <mark"),
        "{html}"
    );
    assert!(html.contains(">Robot</mark> Manipulation</a>"));
    assert!(!html.contains("Survey"));

    // export --for shows the same choice, with scores, best first.
    let picks = sb.export(&["--for", "robo@example.org", "--date", "2026-12-04"]);
    let ids: Vec<&str> = picks.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["2612.00204", "2612.00205", "2612.00202"]);
    let scores: Vec<f64> = picks.iter().map(|p| p["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert_eq!(picks[0]["matched"], json!(["robot", "diffusion"]));
    let r = sb.run(&["export", "--for", "nobody@example.org"]);
    r.assert_code(3);

    // A dry run previews one reader's digest without mailing anyone.
    let dry = sb.ok(&[
        "--dry-run",
        "--date",
        "2026-12-04",
        "--to",
        "bio@example.org",
    ]);
    assert!(dry.stdout.contains("To: bio@example.org"));
    assert_eq!(listed(&dry.stdout), ["2612.00206"]);
}

#[test]
fn three_readers_with_different_profiles_get_their_own_digests_over_one_connection() {
    let mut scene = common::Scene::new("profiles.html", SmtpOptions::default());
    scene.sb.unset("DIGEST_TO").unset("DIGEST_FROM");
    scene.sb.write_config(PROFILES);
    let (sb, smtp) = (&scene.sb, &scene.smtp);
    sb.ok(&["--date", "2026-12-04"]);
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 3);
    let mut by_reader: Vec<(String, Vec<String>)> = msgs
        .iter()
        .map(|raw| {
            let msg = MessageParser::default().parse(raw).unwrap();
            let to = msg
                .to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string();
            (to, listed(&msg.body_text(0).unwrap()))
        })
        .collect();
    by_reader.sort();
    assert_eq!(
        by_reader,
        vec![
            (
                "bio@example.org".to_string(),
                vec!["2612.00206".to_string()]
            ),
            (
                "robo@example.org".to_string(),
                vec![
                    "2612.00204".into(),
                    "2612.00205".into(),
                    "2612.00202".into()
                ]
            ),
            (
                "stars@example.org".to_string(),
                vec!["2612.00205".to_string()]
            ),
        ]
    );
    assert_eq!(
        smtp.delivering_sessions(),
        1,
        "one SMTP connection for all three"
    );
    let names: Vec<Option<String>> = msgs
        .iter()
        .map(|raw| {
            let msg = MessageParser::default().parse(raw).unwrap();
            msg.to().unwrap().first().unwrap().name().map(String::from)
        })
        .collect();
    assert!(
        names.contains(&Some("Robo Reader".to_string())),
        "the reader's name is used: {names:?}"
    );
    // Each reader's ledger is their own: the next day's run sends nobody anything again.
    sb.ok(&["--date", "2026-12-05"]);
    assert_eq!(smtp.messages().len(), 3);
}
