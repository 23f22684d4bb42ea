//! Parser tests on the repo's fixtures and on the real captures (DIGEST_REAL_FIXTURES).

mod common;

use common::{fixture_text, real_fixture};
use paper_digest::exit::{exit_code, ExitCode};
use paper_digest::model::ParsePath;
use paper_digest::parse::{parse_api, parse_page};

#[test]
fn trending_fixture_yields_every_paper_in_order_with_its_fields() {
    let listing = parse_page(&fixture_text("trending-small.html")).unwrap();
    assert_eq!(listing.path, ParsePath::EmbeddedJson);
    let ids: Vec<&str> = listing.papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "2612.00001",
            "2612.00002",
            "2612.00003",
            "2612.00004",
            "2612.00005"
        ]
    );

    let first = &listing.papers[0];
    assert_eq!(first.title, "Video Diffusion: A Study of Paper 1");
    assert_eq!(first.upvotes, 117);
    assert_eq!(first.comments, Some(1));
    assert_eq!(
        first.github_repo.as_deref(),
        Some("https://github.com/example/video-diffusion")
    );
    assert_eq!(first.github_stars, Some(62246));
    assert_eq!(
        first.project_page.as_deref(),
        Some("https://example.org/video")
    );
    assert_eq!(
        first.ai_summary.as_deref(),
        Some("A video model that also makes sound.")
    );
    assert_eq!(first.ai_keywords, ["video diffusion", "audio"]);
    assert_eq!(first.organization.as_deref(), Some("Example Lab"));
    assert_eq!(
        first.authors,
        ["Author 1A", "Author 1B", "Author 1C", "Author 1D"]
    );
    assert_eq!(
        first.published_at.unwrap().to_rfc3339(),
        "2026-11-28T12:54:06+00:00"
    );
    assert_eq!(
        first.submitted_at.unwrap().to_rfc3339(),
        "2026-12-01T08:00:00+00:00"
    );
    assert_eq!(first.hf_url(), "https://huggingface.co/papers/2612.00001");
    assert_eq!(first.pdf_url(), "https://arxiv.org/pdf/2612.00001");
    assert!(first.thumbnail.as_deref().unwrap().starts_with("https://"));

    // The version suffix is stripped and hard newlines in titles are normalised.
    assert_eq!(
        listing.papers[1].title,
        "The Other Half of the Memory Wall: Serving MoEs from SSD"
    );
    // Entities and non-ASCII come through decoded, exactly once.
    assert_eq!(
        listing.papers[2].title,
        "Ünïcödé & <Entities>: “Quotes” and 'Apostrophes' in Agents — 数据"
    );
    assert_eq!(
        listing.papers[2].authors,
        ["Zoë Ångström", "李 雷", "José Núñez"]
    );
    // Optional fields that are absent stay absent.
    let fourth = &listing.papers[3];
    assert_eq!(fourth.github_repo, None);
    assert_eq!(fourth.github_stars, None);
    assert_eq!(fourth.submitted_at, None);
    assert!(fourth.ai_keywords.is_empty());
}

#[test]
fn cards_only_page_yields_the_same_papers_through_the_fallback() {
    let json = parse_page(&fixture_text("trending-small.html")).unwrap();
    let cards = parse_page(&fixture_text("cards-only.html")).unwrap();
    assert_eq!(cards.path, ParsePath::Cards);
    let pick = |l: &paper_digest::model::Listing| -> Vec<(String, String, i64, Option<String>)> {
        l.papers
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    p.title.clone(),
                    p.upvotes,
                    p.github_repo.clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        pick(&json),
        pick(&cards),
        "each card is rendered twice but read once"
    );
    assert_eq!(
        cards.papers[0].github_stars,
        Some(62200),
        "the card shows 62.2k"
    );
    // The card's text is the AI summary when there is one, else the abstract.
    assert_eq!(
        cards.papers[0].abstract_text,
        "A video model that also makes sound."
    );
    assert!(cards.papers[1]
        .abstract_text
        .starts_with("We study how memory wall"));
}

#[test]
fn daily_page_and_api_answers_parse() {
    let daily = parse_page(&fixture_text("daily-2026-12-01.html")).unwrap();
    assert_eq!(daily.papers.len(), 3);
    let api = parse_api(&fixture_text("api-2026-12-01.json")).unwrap();
    assert_eq!(api.path, ParsePath::Api);
    let ids: Vec<&str> = api.papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["2612.00041", "2612.00042", "2612.00043"]);
    assert!(
        parse_api("[]").unwrap().papers.is_empty(),
        "an empty page is a valid answer"
    );
}

#[test]
fn entries_missing_id_or_title_are_skipped_and_the_rest_kept() {
    let listing = parse_page(&fixture_text("missing-fields.html")).unwrap();
    let ids: Vec<&str> = listing.papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["2612.00011", "2612.00013", "2612.00015"]);
}

#[test]
fn broken_pages_are_page_shape_errors() {
    for name in [
        "no-data.html",
        "truncated-json.html",
        "wrong-shape.html",
        "empty-listing.html",
    ] {
        let err = parse_page(&fixture_text(name)).unwrap_err();
        assert_eq!(exit_code(&err), ExitCode::PageShape, "{name}: {err:#}");
        assert!(
            format!("{err:#}").contains("page changed shape"),
            "{name}: {err:#}"
        );
    }
    let err = parse_api("{\"error\": \"rate limited\"}").unwrap_err();
    assert_eq!(exit_code(&err), ExitCode::PageShape);
    assert!(parse_page("").is_err());
    assert!(parse_page("<html><body>maintenance</body></html>").is_err());
}

#[test]
fn hostile_links_are_dropped_at_parse_time() {
    let listing = parse_page(&fixture_text("hostile.html")).unwrap();
    let p = &listing.papers[0];
    assert_eq!(p.github_repo, None, "javascript: link");
    assert_eq!(p.project_page, None, "data: link");
    assert!(!p.title.contains('\r') && !p.title.contains('\n'));
}

// ---------------------------------------------------------------- the real captures

/// The embedded JSON of a real page, read independently of the parser under test:
/// html5ever decodes the attribute, serde_json reads it as untyped values.
fn embedded_entries(page: &str) -> Vec<serde_json::Value> {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(r#"div[data-target="DailyPapers"]"#).unwrap();
    let props = doc
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("data-props")
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(props).unwrap();
    v["dailyPapers"].as_array().unwrap().clone()
}

fn ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn real_trending_page_all_50_papers_match_the_embedded_json() {
    let page = real_fixture("trending-2026-10-07.html");
    let listing = parse_page(&page).unwrap();
    let entries = embedded_entries(&page);
    assert_eq!(entries.len(), 50);
    assert_eq!(listing.papers.len(), 50);
    for (i, (p, e)) in listing.papers.iter().zip(&entries).enumerate() {
        let ep = &e["paper"];
        assert_eq!(p.id, ep["id"].as_str().unwrap(), "id at {i}");
        assert_eq!(p.title, ws(ep["title"].as_str().unwrap()), "title at {i}");
        assert_eq!(
            p.abstract_text,
            ws(ep["summary"].as_str().unwrap()),
            "abstract at {i}"
        );
        let authors: Vec<String> = ep["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| ws(a["name"].as_str().unwrap()))
            .collect();
        assert_eq!(p.authors, authors, "authors at {i}");
        assert_eq!(p.upvotes, ep["upvotes"].as_i64().unwrap(), "upvotes at {i}");
        assert_eq!(p.github_stars, ep["githubStars"].as_i64(), "stars at {i}");
        assert_eq!(p.comments, e["numComments"].as_i64(), "comments at {i}");
    }
    assert_eq!(listing.papers[0].id, "2610.05608");
    assert_eq!(listing.papers[49].id, "2606.03748");
}

#[test]
fn real_trending_page_without_its_json_gives_the_same_50_papers_from_the_cards() {
    let page = real_fixture("trending-2026-10-07.html");
    let at = page.find(r#"data-target="DailyPapers""#).unwrap();
    let start = at + page[at..].find("data-props=\"").unwrap();
    let end = start
        + "data-props=\"".len()
        + page[start + "data-props=\"".len()..].find('"').unwrap()
        + 1;
    let stripped = format!("{}{}", &page[..start], &page[end..]);
    assert!(!stripped[at - 100..at + 200].contains("data-props"));

    let json = parse_page(&page).unwrap();
    let cards = parse_page(&stripped).unwrap();
    assert_eq!(cards.path, ParsePath::Cards);
    let pairs = |l: &paper_digest::model::Listing| -> Vec<(String, String)> {
        l.papers
            .iter()
            .map(|p| (p.id.clone(), p.title.clone()))
            .collect()
    };
    assert_eq!(pairs(&cards), pairs(&json));
    let upvotes: Vec<i64> = cards.papers.iter().map(|p| p.upvotes).collect();
    let expected: Vec<i64> = json.papers.iter().map(|p| p.upvotes).collect();
    assert_eq!(upvotes, expected);
}

#[test]
fn real_api_answer_parses_all_37_papers() {
    let text = real_fixture("api-daily-papers-2026-05-08.json");
    let listing = parse_api(&text).unwrap();
    let raw: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(listing.papers.len(), 37);
    for (p, e) in listing.papers.iter().zip(&raw) {
        assert_eq!(p.id, e["paper"]["id"].as_str().unwrap());
        assert_eq!(p.title, ws(e["paper"]["title"].as_str().unwrap()));
        assert_eq!(p.upvotes, e["paper"]["upvotes"].as_i64().unwrap());
        assert_eq!(
            p.ai_summary.as_deref().map(ws),
            e["paper"]["ai_summary"].as_str().map(ws)
        );
        assert_eq!(
            p.organization.is_some(),
            e["paper"]["organization"].is_object() || e["organization"].is_object()
        );
    }
}
