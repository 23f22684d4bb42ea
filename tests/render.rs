//! Snapshots of the rendered digest (subject, text part, HTML part) for a fixed fixture,
//! and the rendering rules that hold for any input.

mod common;

use chrono::{NaiveDate, Utc};
use paper_digest::config::SummaryKind;
use paper_digest::parse::parse_page;
use paper_digest::relevance::Scored;
use paper_digest::render::{DigestView, Renderer, Style};
use paper_digest::select::Selection;
use paper_digest::store::{PaperFilter, PaperRecord, Store};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The fixture's papers as the store returns them on their first day, all new.
fn records(fixture: &str, on: &str) -> Selection {
    Selection {
        new: stored(fixture, on).into_iter().map(Scored::plain).collect(),
        climbing: Vec::new(),
    }
}

fn stored(fixture: &str, on: &str) -> Vec<PaperRecord> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let listing = parse_page(&common::fixture_text(fixture)).unwrap();
    store
        .record_listing(day(on), "trending", "fixture", &listing, Utc::now())
        .unwrap();
    store
        .paper_list(&PaperFilter {
            since: Some(day(on)),
            until: Some(day(on)),
            ..Default::default()
        })
        .unwrap()
}

fn style() -> Style {
    Style {
        summary: SummaryKind::Abstract,
        max_authors: 3,
    }
}

#[test]
fn the_default_templates_render_the_fixture_as_snapshotted() {
    let papers = records("trending-small.html", "2026-12-01");
    let view = DigestView::new(day("2026-12-01"), "ann@example.org", &papers, style());
    let rendered = Renderer::new(None).unwrap().render(&view).unwrap();
    insta::with_settings!({filters => vec![(r"digest \d+\.\d+\.\d+", "digest [version]")]}, {
        insta::assert_snapshot!("subject", rendered.subject);
        insta::assert_snapshot!("text", rendered.text);
        insta::assert_snapshot!("html", rendered.html);
    });
}

#[test]
fn the_ai_summary_replaces_the_abstract_when_configured() {
    let papers = records("trending-small.html", "2026-12-01");
    let style = Style {
        summary: SummaryKind::AiSummary,
        max_authors: 2,
    };
    let view = DigestView::new(day("2026-12-01"), "ann@example.org", &papers, style);
    let r = Renderer::new(None).unwrap().render(&view).unwrap();
    assert!(r.text.contains("A video model that also makes sound."));
    assert!(!r.text.contains("We study how video diffusion behaves"));
    // Papers without an AI summary keep their abstract.
    assert!(r.text.contains("We study how memory wall behaves"));
    assert!(r.text.contains("Author 1A, Author 1B et al."));
}

#[test]
fn the_text_part_wraps_and_the_empty_digest_says_so() {
    let papers = records("trending-small.html", "2026-12-01");
    let view = DigestView::new(day("2026-12-01"), "ann@example.org", &papers, style());
    let r = Renderer::new(None).unwrap().render(&view).unwrap();
    for line in r.text.lines().filter(|l| !l.contains("https://")) {
        assert!(
            line.chars().count() <= 72,
            "long line in the text part: {line}"
        );
    }
    let empty = DigestView::new(
        day("2026-12-04"),
        "ann@example.org",
        &Selection::default(),
        style(),
    );
    let r = Renderer::new(None).unwrap().render(&empty).unwrap();
    assert_eq!(r.subject, "Trending papers, 4 Dec 2026: nothing new");
    assert!(r.text.contains("Nothing new today"));
    assert!(r.html.contains("Nothing new today"));
}
