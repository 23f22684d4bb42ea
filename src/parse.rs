//! Parse: turns a listing page or an API answer (text) into paper records. Pure, no I/O.
//!
//! Pages carry the list as HTML-escaped JSON in the `data-props` attribute of
//! `div[data-target="DailyPapers"]`. That attribute is found with a plain scan (no DOM);
//! if the scan fails the DOM is built to read it, and if the JSON is absent or
//! unreadable the visible `<article>` cards are read instead.

use std::collections::HashSet;

use anyhow::Result;
use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::{info, warn};

use crate::exit::{fail, Class};
use crate::model::{Listing, Paper, ParsePath};

/// Parse a listing page (trending or daily): embedded JSON first, cards as fallback.
pub fn parse_page(html: &str) -> Result<Listing> {
    let json_attempt = match extract_props_fast(html) {
        Some(props) => papers_from_props(&props),
        None => Err(fail(Class::PageShape, "paper data not found by scan")),
    };
    let json_attempt = json_attempt.or_else(|fast_err| {
        tracing::debug!("fast scan did not yield papers ({fast_err:#}); reading the DOM");
        let doc = Html::parse_document(html);
        match props_from_dom(&doc) {
            Some(props) => papers_from_props(&props).map_err(|e| (Some(doc), e)),
            None => Err((
                Some(doc),
                fail(
                    Class::PageShape,
                    "no div[data-target=\"DailyPapers\"] with data-props",
                ),
            )),
        }
    });
    match json_attempt {
        Ok(papers) => {
            info!(papers = papers.len(), "parsed the page's embedded JSON");
            Ok(Listing {
                papers,
                path: ParsePath::EmbeddedJson,
            })
        }
        Err((doc, json_err)) => {
            let doc = doc.unwrap_or_else(|| Html::parse_document(html));
            let papers = papers_from_cards(&doc);
            if papers.is_empty() {
                return Err(fail(
                    Class::PageShape,
                    format!("page changed shape: no paper data ({json_err:#}) and no paper cards"),
                ));
            }
            info!(
                papers = papers.len(),
                "embedded JSON unusable ({json_err:#}); parsed the visible cards"
            );
            Ok(Listing {
                papers,
                path: ParsePath::Cards,
            })
        }
    }
}

/// Parse an answer of the daily-papers API: a bare JSON array of entries.
pub fn parse_api(json: &str) -> Result<Listing> {
    let entries: Vec<&RawValue> = serde_json::from_str(json).map_err(|e| {
        fail(
            Class::PageShape,
            format!("API answer is not a JSON array of entries: {e}"),
        )
    })?;
    Ok(Listing {
        papers: papers_from_entries(&entries),
        path: ParsePath::Api,
    })
}

/// Parse an API page that may legitimately be empty (the page after the last one).
/// Same as [`parse_api`]; zero papers is not an error here.
pub fn parse_api_page(json: &str) -> Result<Vec<Paper>> {
    parse_api(json).map(|l| l.papers)
}

#[derive(Deserialize)]
struct Props<'a> {
    #[serde(rename = "dailyPapers", borrow)]
    daily_papers: Option<Vec<&'a RawValue>>,
}

fn papers_from_props(props: &str) -> Result<Vec<Paper>> {
    let props: Props = serde_json::from_str(props).map_err(|e| {
        fail(
            Class::PageShape,
            format!("data-props is not valid JSON: {e}"),
        )
    })?;
    let entries = props
        .daily_papers
        .ok_or_else(|| fail(Class::PageShape, "data-props has no dailyPapers array"))?;
    let papers = papers_from_entries(&entries);
    if papers.is_empty() {
        return Err(fail(Class::PageShape, "dailyPapers holds no usable paper"));
    }
    Ok(papers)
}

#[derive(Deserialize)]
struct RawEntry {
    paper: Option<RawPaper>,
    #[serde(rename = "numComments")]
    num_comments: Option<i64>,
    thumbnail: Option<String>,
    organization: Option<RawOrg>,
}

#[derive(Deserialize)]
struct RawPaper {
    id: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    authors: Option<Vec<RawAuthor>>,
    #[serde(rename = "publishedAt")]
    published_at: Option<String>,
    #[serde(rename = "submittedOnDailyAt")]
    submitted_on_daily_at: Option<String>,
    upvotes: Option<i64>,
    #[serde(rename = "githubRepo")]
    github_repo: Option<String>,
    #[serde(rename = "githubStars")]
    github_stars: Option<i64>,
    #[serde(rename = "projectPage")]
    project_page: Option<String>,
    ai_summary: Option<String>,
    ai_keywords: Option<Vec<String>>,
    organization: Option<RawOrg>,
}

#[derive(Deserialize)]
struct RawAuthor {
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawOrg {
    name: Option<String>,
    fullname: Option<String>,
}

/// Entries in listing order; an entry that is malformed or lacks id or title is skipped with a warning.
fn papers_from_entries(entries: &[&RawValue]) -> Vec<Paper> {
    let mut seen = HashSet::new();
    let mut papers = Vec::with_capacity(entries.len());
    for (index, raw) in entries.iter().enumerate() {
        let position = index + 1;
        let entry: RawEntry = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                warn!("skipping entry {position}: not a paper entry ({e})");
                continue;
            }
        };
        match paper_from_entry(entry) {
            Ok(paper) => {
                if seen.insert(paper.id.clone()) {
                    papers.push(paper);
                } else {
                    warn!("skipping entry {position}: paper {} listed twice", paper.id);
                }
            }
            Err(why) => warn!("skipping entry {position}: {why}"),
        }
    }
    papers
}

fn paper_from_entry(entry: RawEntry) -> std::result::Result<Paper, String> {
    let p = entry.paper.ok_or("no paper object")?;
    let id =
        p.id.as_deref()
            .and_then(normalize_id)
            .ok_or_else(|| format!("missing or invalid id {:?}", p.id.unwrap_or_default()))?;
    let title = p
        .title
        .as_deref()
        .map(normalize_ws)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("paper {id} has no title"))?;
    let org = p.organization.or(entry.organization);
    Ok(Paper {
        id,
        title,
        abstract_text: p.summary.as_deref().map(normalize_ws).unwrap_or_default(),
        authors: p
            .authors
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| a.name.map(|n| normalize_ws(&n)))
            .filter(|n| !n.is_empty())
            .collect(),
        published_at: p.published_at.as_deref().and_then(parse_time),
        submitted_at: p.submitted_on_daily_at.as_deref().and_then(parse_time),
        upvotes: p.upvotes.unwrap_or(0),
        comments: entry.num_comments,
        github_repo: p.github_repo.and_then(http_url),
        github_stars: p.github_stars,
        project_page: p.project_page.and_then(http_url),
        ai_summary: p
            .ai_summary
            .map(|s| normalize_ws(&s))
            .filter(|s| !s.is_empty()),
        ai_keywords: p
            .ai_keywords
            .unwrap_or_default()
            .iter()
            .map(|k| normalize_ws(k))
            .filter(|k| !k.is_empty())
            .collect(),
        organization: org
            .and_then(|o| o.fullname.or(o.name))
            .map(|s| normalize_ws(&s)),
        thumbnail: entry.thumbnail.and_then(http_url),
    })
}

/// An arXiv id without its version suffix; `None` for anything that is not id-shaped
/// (ids end up in URLs, so only `[A-Za-z0-9._/-]` is allowed).
pub fn normalize_id(raw: &str) -> Option<String> {
    let id = raw.trim();
    let id = match id.rfind('v') {
        Some(v)
            if v > 0
                && v + 1 < id.len()
                && id[v + 1..].bytes().all(|b| b.is_ascii_digit())
                && id.as_bytes()[v - 1].is_ascii_digit() =>
        {
            &id[..v]
        }
        _ => id,
    };
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !id.starts_with(['/', '.']);
    valid.then(|| id.to_string())
}

/// Collapse every run of whitespace (including hard newlines) to one space, and trim.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Keep a link only if it is an absolute http(s) URL; anything else (javascript:, data:) is dropped.
pub fn http_url(s: String) -> Option<String> {
    let s = s.trim();
    let parsed = url::Url::parse(s).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

// ---------- the fast path: find data-props without building a DOM ----------

const MARKER: &str = "data-target=\"DailyPapers\"";

/// Find the tag carrying `data-target="DailyPapers"` and return its unescaped `data-props`.
fn extract_props_fast(html: &str) -> Option<String> {
    let at = html.find(MARKER)?;
    let tag_start = html[..at].rfind('<')?;
    let value = attribute_in_tag(&html[tag_start..], "data-props")?;
    unescape_attr(value)
}

/// Scan the attributes of the tag that `tag` starts with, returning the raw value of `name`.
fn attribute_in_tag<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let bytes = tag.as_bytes();
    let mut i = 1;
    // tag name
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
        i += 1;
    }
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return None;
        }
        let name_start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        let attr_name = &tag[name_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let start = i + 1;
                let len = tag[start..].bytes().position(|b| b == quote)?;
                value = &tag[start..start + len];
                i = start + len + 1;
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = &tag[start..i];
            }
        }
        if attr_name.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
}

/// Decode the character references an HTML serializer writes into attributes. Returns
/// `None` on any reference it does not know, so the caller falls back to the full parser.
fn unescape_attr(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.get(..12).unwrap_or(after).find(';')?;
        let entity = &after[..semi];
        let ch = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => {
                let num = entity.strip_prefix('#')?;
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(ch);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

// ---------- the DOM paths ----------

fn selector(s: &str) -> Selector {
    Selector::parse(s).expect("static selector is valid")
}

fn props_from_dom(doc: &Html) -> Option<String> {
    let sel = selector(r#"div[data-target="DailyPapers"]"#);
    doc.select(&sel)
        .find_map(|el| el.value().attr("data-props").map(str::to_string))
}

/// Read the visible cards. Each `<article>` renders its paper twice (desktop and mobile):
/// the first copy is read, and a paper is kept once by id.
fn papers_from_cards(doc: &Html) -> Vec<Paper> {
    let article = selector("article");
    let title_link = selector(r#"h3 > a[href^="/papers/"]"#);
    let text = selector("div.mb-2 > p");
    let upvote = selector(r#"[role="checkbox"]"#);
    let github = selector(r#"a[href^="https://github.com/"]"#);
    let mut seen = HashSet::new();
    let mut papers = Vec::new();
    for (index, card) in doc.select(&article).enumerate() {
        let position = index + 1;
        let Some(link) = card.select(&title_link).next() else {
            warn!("skipping card {position}: no title link");
            continue;
        };
        let href = link.value().attr("href").unwrap_or_default();
        let Some(id) = normalize_id(href.trim_start_matches("/papers/")) else {
            warn!("skipping card {position}: invalid paper link {href:?}");
            continue;
        };
        let title = element_text(link);
        if title.is_empty() {
            warn!("skipping card {position}: paper {id} has no title");
            continue;
        }
        if !seen.insert(id.clone()) {
            continue;
        }
        let upvotes = card
            .select(&upvote)
            .next()
            .and_then(|b| last_number(&element_text(b)))
            .unwrap_or(0);
        let github_link = card.select(&github).next();
        papers.push(Paper {
            id,
            title,
            abstract_text: card
                .select(&text)
                .next()
                .map(element_text)
                .unwrap_or_default(),
            authors: Vec::new(),
            published_at: None,
            submitted_at: None,
            upvotes,
            comments: None,
            github_repo: github_link
                .and_then(|a| a.value().attr("href"))
                .and_then(|h| http_url(h.to_string())),
            github_stars: github_link.and_then(|a| parse_abbreviated(&element_text(a))),
            project_page: None,
            ai_summary: None,
            ai_keywords: Vec::new(),
            organization: None,
            thumbnail: None,
        });
    }
    papers
}

fn element_text(el: ElementRef) -> String {
    normalize_ws(&el.text().collect::<String>())
}

fn last_number(s: &str) -> Option<i64> {
    s.split_whitespace().rev().find_map(|w| w.parse().ok())
}

/// "62.2k" -> 62200, "1.5M" -> 1500000, "131" -> 131; the last such token in the text.
pub fn parse_abbreviated(s: &str) -> Option<i64> {
    s.split_whitespace().rev().find_map(|w| {
        let (num, mult) = match w.chars().last()? {
            'k' | 'K' => (&w[..w.len() - 1], 1_000.0),
            'm' | 'M' => (&w[..w.len() - 1], 1_000_000.0),
            _ => (w, 1.0),
        };
        let value: f64 = num.replace(',', "").parse().ok()?;
        Some((value * mult).round() as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_lose_version_suffix_and_reject_junk() {
        assert_eq!(normalize_id("2606.03748v2").as_deref(), Some("2606.03748"));
        assert_eq!(normalize_id("2606.03748").as_deref(), Some("2606.03748"));
        assert_eq!(
            normalize_id("hep-th/9901001v1").as_deref(),
            Some("hep-th/9901001")
        );
        assert_eq!(normalize_id("\"><script>"), None);
        assert_eq!(normalize_id(""), None);
        assert_eq!(normalize_id("/etc/passwd"), None);
    }

    #[test]
    fn whitespace_is_normalised() {
        assert_eq!(
            normalize_ws("  A\n  title\twith\r\nbreaks "),
            "A title with breaks"
        );
    }

    #[test]
    fn only_http_links_survive() {
        assert_eq!(http_url("javascript:alert(1)".into()), None);
        assert_eq!(http_url("data:text/html,x".into()), None);
        assert_eq!(
            http_url("https://github.com/a/b".into()).as_deref(),
            Some("https://github.com/a/b")
        );
    }

    #[test]
    fn abbreviated_counts() {
        assert_eq!(parse_abbreviated("GitHub 62.2k"), Some(62_200));
        assert_eq!(parse_abbreviated("1.5M"), Some(1_500_000));
        assert_eq!(parse_abbreviated(" 131"), Some(131));
        assert_eq!(parse_abbreviated("GitHub"), None);
    }

    #[test]
    fn attribute_scan_handles_any_order_and_quotes() {
        let tag = r#"<div data-props='{"a":1}' class="x" data-target="DailyPapers">"#;
        assert_eq!(attribute_in_tag(tag, "data-props"), Some(r#"{"a":1}"#));
        let tag = r#"<div class=x data-target="DailyPapers" data-props="&quot;q&quot;">"#;
        assert_eq!(attribute_in_tag(tag, "data-props"), Some("&quot;q&quot;"));
        assert_eq!(attribute_in_tag("<div class=x>", "data-props"), None);
    }

    #[test]
    fn unescape_knows_serializer_entities_and_refuses_others() {
        assert_eq!(
            unescape_attr("&quot;a&amp;b&lt;&gt;&#39;&#x41;").as_deref(),
            Some("\"a&b<>'A")
        );
        assert_eq!(unescape_attr("&nbsp;"), None);
        assert_eq!(unescape_attr("a & b"), None);
    }
}
