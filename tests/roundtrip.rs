//! Property: any list of paper records, written into a page (or an API answer) in the real
//! structure, comes back unchanged through parse -> store -> export.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paper_digest::model::Paper;
use paper_digest::parse::{parse_api, parse_page};
use paper_digest::store::{PaperFilter, Store};
use proptest::prelude::*;

/// Text as it is after normalisation: words of any script (and markup characters),
/// single spaces, nothing leading or trailing.
fn text(max_words: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        "[a-zA-Z0-9äöüßéñ数据字<>&\"'/;:=()\\-.,!?]{1,12}",
        1..max_words,
    )
    .prop_map(|words| words.join(" "))
}

fn url() -> impl Strategy<Value = String> {
    "[a-z]{1,10}/[a-z0-9-]{1,12}".prop_map(|p| format!("https://github.com/{p}"))
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..2_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

prop_compose! {
    fn paper()(
        n in 0u32..100_000,
        title in text(12),
        abstract_text in text(40),
        authors in prop::collection::vec(text(3), 0..6),
        published_at in prop::option::of(time()),
        submitted_at in prop::option::of(time()),
        upvotes in 0i64..100_000,
        comments in prop::option::of(0i64..1000),
        github_repo in prop::option::of(url()),
        github_stars in prop::option::of(0i64..500_000),
        project_page in prop::option::of(url()),
        ai_summary in prop::option::of(text(20)),
        ai_keywords in prop::collection::vec(text(3), 0..5),
        organization in prop::option::of(text(3)),
    ) -> Paper {
        Paper {
            id: format!("2612.{n:05}"),
            title, abstract_text, authors, published_at, submitted_at, upvotes, comments,
            github_repo, github_stars, project_page, ai_summary, ai_keywords, organization,
            thumbnail: Some(format!("https://cdn.example.org/{n}.png")),
        }
    }
}

fn papers() -> impl Strategy<Value = Vec<Paper>> {
    prop::collection::vec(paper(), 1..15).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|p| seen.insert(p.id.clone()));
        v
    })
}

/// An entry in the structure of the real pages and API.
fn entry(p: &Paper) -> serde_json::Value {
    let mut paper = serde_json::json!({
        "id": p.id,
        "authors": p.authors.iter().map(|a| serde_json::json!({"_id": "x", "name": a, "hidden": false})).collect::<Vec<_>>(),
        "title": p.title,
        "summary": p.abstract_text,
        "upvotes": p.upvotes,
        "discussionId": "d",
        "ai_keywords": p.ai_keywords,
    });
    let obj = paper.as_object_mut().unwrap();
    let time =
        |t: &Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    if let Some(t) = time(&p.published_at) {
        obj.insert("publishedAt".into(), t.into());
    }
    if let Some(t) = time(&p.submitted_at) {
        obj.insert("submittedOnDailyAt".into(), t.into());
    }
    if let Some(g) = &p.github_repo {
        obj.insert("githubRepo".into(), g.clone().into());
    }
    if let Some(s) = p.github_stars {
        obj.insert("githubStars".into(), s.into());
    }
    if let Some(u) = &p.project_page {
        obj.insert("projectPage".into(), u.clone().into());
    }
    if let Some(a) = &p.ai_summary {
        obj.insert("ai_summary".into(), a.clone().into());
    }
    if let Some(o) = &p.organization {
        obj.insert(
            "organization".into(),
            serde_json::json!({"name": "org", "fullname": o}),
        );
    }
    let mut e = serde_json::json!({"paper": paper, "title": p.title, "summary": p.abstract_text, "numComments": p.comments, "thumbnail": p.thumbnail, "unknownField": [1, 2]});
    if p.comments.is_none() {
        e.as_object_mut().unwrap().remove("numComments");
    }
    e
}

fn page(papers: &[Paper]) -> String {
    let props = serde_json::json!({"dailyPapers": papers.iter().map(entry).collect::<Vec<_>>(), "isTrending": true});
    let escaped = props
        .to_string()
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<html><body><div class=\"SVELTE_HYDRATER contents\" data-target=\"DailyPapers\" data-props=\"{escaped}\"></div></body></html>")
}

fn through_the_store(listing: &paper_digest::model::Listing) -> Vec<Paper> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("p.db")).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let tx = store.begin().unwrap();
    store
        .record_listing(day, "trending", "test", listing, Utc::now())
        .unwrap();
    tx.commit().unwrap();
    let records = store
        .paper_list(&PaperFilter {
            since: Some(day),
            until: Some(day),
            ..Default::default()
        })
        .unwrap();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.rank, i as i64 + 1);
    }
    records.into_iter().map(|r| r.paper).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn records_survive_page_parse_store_export(papers in papers()) {
        let listing = parse_page(&page(&papers)).unwrap();
        prop_assert_eq!(&listing.papers, &papers);
        prop_assert_eq!(through_the_store(&listing), papers);
    }

    #[test]
    fn records_survive_api_parse_store_export(papers in papers()) {
        let json = serde_json::Value::Array(papers.iter().map(entry).collect()).to_string();
        let listing = parse_api(&json).unwrap();
        prop_assert_eq!(&listing.papers, &papers);
        prop_assert_eq!(through_the_store(&listing), papers);
    }

    #[test]
    fn the_parsers_never_panic_on_arbitrary_text(s in "\\PC{0,400}") {
        let _ = parse_page(&s);
        let _ = parse_api(&s);
        let wrapped = format!("<div data-target=\"DailyPapers\" data-props=\"{s}\"></div>");
        let _ = parse_page(&wrapped);
    }
}
