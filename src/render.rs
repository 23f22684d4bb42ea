//! Render: turns the papers chosen for one reader into a subject, a text body and an HTML
//! body, with tera templates embedded in the binary (a user's template dir overrides them).
//! Pure: data in, text out.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;
use tera::{Context, Tera};

use crate::config::SummaryKind;
use crate::exit::{fail, Class};
use crate::parse::{http_url, normalize_ws};
use crate::relevance::{highlight, Phrase, Scored};
use crate::select::Selection;
use crate::store::Trend;

pub const SUBJECT: &str = "subject.txt";
pub const TEXT: &str = "digest.txt";
pub const HTML: &str = "digest.html";

/// The default templates, by name.
const DEFAULTS: &[(&str, &str)] = &[
    (SUBJECT, include_str!("../templates/subject.txt")),
    (TEXT, include_str!("../templates/digest.txt")),
    (HTML, include_str!("../templates/digest.html")),
];

/// A rendered digest, before it becomes a MIME message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// One line: CR, LF and runs of whitespace are folded to single spaces.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// How papers are shown.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub summary: SummaryKind,
    pub max_authors: usize,
}

/// What the templates see for one digest.
#[derive(Debug, Serialize)]
pub struct DigestView {
    /// e.g. `4 Dec 2026`
    pub date: String,
    /// e.g. `2026-12-04`
    pub day: String,
    /// How many new papers.
    pub count: usize,
    pub recipient: String,
    /// The "New" section: papers never mailed to this reader.
    pub papers: Vec<PaperView>,
    /// The "Climbing" section: papers mailed before that rose since.
    pub climbing: Vec<PaperView>,
    pub climbing_count: usize,
    /// The non-empty sections in order ("New", then "Climbing"), for templates that show both
    /// the same way.
    pub sections: Vec<SectionView>,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SectionView {
    /// `new` or `climbing`
    pub key: &'static str,
    pub title: &'static str,
    pub papers: Vec<PaperView>,
}

/// What the templates see for one paper. Every URL is http(s) or absent.
#[derive(Debug, Serialize)]
pub struct PaperView {
    pub rank: i64,
    pub id: String,
    pub title: String,
    pub hf_url: String,
    pub arxiv_url: String,
    pub pdf_url: String,
    /// The first few authors, then "et al."
    pub authors: String,
    pub summary: String,
    pub upvotes: i64,
    pub comments: Option<i64>,
    pub github_url: Option<String>,
    /// `owner/repo`
    pub github_name: Option<String>,
    /// e.g. `62.2k`
    pub github_stars: Option<String>,
    pub project_page: Option<String>,
    pub organization: Option<String>,
    pub days_on_list: i64,
    pub first_seen: String,
    /// The title and summary HTML-escaped, with the reader's keywords in `<mark>`: for
    /// `| safe` in HTML templates.
    pub title_html: String,
    pub summary_html: String,
    /// The title and summary with the reader's keywords marked `*like this*`.
    pub title_marked: String,
    pub summary_marked: String,
    /// Since the previous listing: `new`, `up`, `down` or `same`, and a label for people
    /// (`new`, `▲ 3`, `▼ 2`, `=`).
    pub trend: Trend,
    pub trend_label: String,
    pub upvotes_gained: Option<i64>,
    pub stars_gained: Option<i64>,
    /// For a climbing paper: how it moved since it was mailed (e.g. `up 7 places, +40 upvotes`).
    pub since_mailed: Option<String>,
    /// The relevance score (with a profile) and what the paper matched.
    pub score: Option<String>,
    pub matched: Vec<String>,
}

impl DigestView {
    pub fn new(day: NaiveDate, recipient: &str, selection: &Selection, style: Style) -> DigestView {
        let views = |list: &[Scored]| -> Vec<PaperView> {
            list.iter().map(|p| PaperView::new(p, style)).collect()
        };
        let sections = [
            ("new", "New", &selection.new),
            ("climbing", "Climbing", &selection.climbing),
        ]
        .into_iter()
        .filter(|(_, _, list)| !list.is_empty())
        .map(|(key, title, list)| SectionView {
            key,
            title,
            papers: views(list),
        })
        .collect();
        DigestView {
            date: day.format("%-d %b %Y").to_string(),
            day: day.format("%Y-%m-%d").to_string(),
            count: selection.new.len(),
            recipient: recipient.to_string(),
            papers: views(&selection.new),
            climbing: views(&selection.climbing),
            climbing_count: selection.climbing.len(),
            sections,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

impl PaperView {
    fn new(scored: &Scored, style: Style) -> PaperView {
        let r = &scored.record;
        let p = &r.paper;
        let summary = match style.summary {
            SummaryKind::AiSummary => p
                .ai_summary
                .clone()
                .unwrap_or_else(|| p.abstract_text.clone()),
            SummaryKind::Abstract => p.abstract_text.clone(),
        };
        let github_url = p.github_repo.clone().and_then(http_url);
        let title = normalize_ws(&p.title);
        // Abstracts are stored normalised (the parser is the store's only writer).
        let marks = &scored.highlight;
        PaperView {
            rank: r.rank,
            id: p.id.clone(),
            title_html: marked_html(&title, marks),
            summary_html: marked_html(&summary, marks),
            title_marked: marked_text(&title, marks),
            summary_marked: marked_text(&summary, marks),
            title,
            hf_url: p.hf_url(),
            arxiv_url: p.arxiv_url(),
            pdf_url: p.pdf_url(),
            authors: short_authors(&p.authors, style.max_authors),
            summary,
            upvotes: p.upvotes,
            comments: p.comments,
            github_name: github_url.as_deref().map(repo_name),
            github_url,
            github_stars: p.github_stars.map(abbreviate),
            project_page: p.project_page.clone().and_then(http_url),
            organization: p.organization.clone(),
            days_on_list: r.days_on_list,
            first_seen: r.first_seen.format("%Y-%m-%d").to_string(),
            trend: r.trend,
            trend_label: match (r.trend, r.rank_change) {
                (Trend::Up, Some(n)) => format!("\u{25b2} {n}"),
                (Trend::Down, Some(n)) => format!("\u{25bc} {}", -n),
                (Trend::Same, _) => "=".to_string(),
                _ => "new".to_string(),
            },
            upvotes_gained: r.upvotes_gained,
            stars_gained: r.stars_gained,
            since_mailed: r.mailed.map(|m| {
                let mut parts = Vec::new();
                if let Some(before) = m.rank {
                    match before - r.rank {
                        n if n > 0 => {
                            parts.push(format!("up {n} places (#{before} to #{})", r.rank))
                        }
                        n if n < 0 => parts.push(format!("down {} places", -n)),
                        _ => {}
                    }
                }
                let gained = p.upvotes - m.upvotes;
                if gained != 0 {
                    parts.push(format!("{gained:+} upvotes"));
                }
                parts.join(", ")
            }),
            score: scored.score.map(|s| format!("{s:.2}")),
            matched: scored.matched.clone(),
        }
    }
}

/// HTML-escaped text with the phrases in `<mark>`.
fn marked_html(text: &str, phrases: &[Phrase]) -> String {
    highlight(text, phrases)
        .into_iter()
        .map(|(run, marked)| {
            let escaped = escape_html(&run);
            if marked {
                format!("<mark style=\"background-color:#fef08a; color:#18181b; padding:0 1px;\">{escaped}</mark>")
            } else {
                escaped
            }
        })
        .collect()
}

/// Text made safe for HTML (text and attribute values).
pub(crate) fn escape_html(text: &str) -> String {
    let mut buf = Vec::with_capacity(text.len() + 16);
    tera::escape_html(text, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("escaping keeps UTF-8")
}

/// Plain text with the phrases marked `*like this*`.
fn marked_text(text: &str, phrases: &[Phrase]) -> String {
    highlight(text, phrases)
        .into_iter()
        .map(|(run, marked)| if marked { format!("*{run}*") } else { run })
        .collect()
}

fn short_authors(authors: &[String], max: usize) -> String {
    if authors.len() <= max {
        authors.join(", ")
    } else {
        format!("{} et al.", authors[..max].join(", "))
    }
}

fn repo_name(url: &str) -> String {
    let path = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("github.com/")
        .trim_end_matches('/');
    path.to_string()
}

/// Break `text` into lines of at most `width` characters where it has spaces.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width + 1);
    let mut line_len = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if line_len > 0 && line_len + 1 + len > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += len;
    }
    out
}

/// 950 -> "950", 62246 -> "62.2k", 1500000 -> "1.5M".
pub fn abbreviate(n: i64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

/// The templates in use: the embedded defaults, each replaced by a same-named file in the
/// user's template directory when there is one.
pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    pub fn new(templates_dir: Option<&Path>) -> Result<Renderer> {
        let mut tera = Tera::new();
        tera.autoescape_on([".html"]);
        tera.register_filter(
            "wrap",
            |text: &str, kwargs: tera::Kwargs, _: &tera::State| {
                let width = kwargs.get::<i64>("width")?.unwrap_or(72).max(20) as usize;
                Ok::<_, tera::Error>(wrap(text, width))
            },
        );
        for (name, default) in DEFAULTS {
            let custom = templates_dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let (source, origin) = match &custom {
                Some(path) => (
                    std::fs::read_to_string(path).map_err(|e| {
                        fail(
                            Class::Config,
                            format!("cannot read template {}: {e}", path.display()),
                        )
                    })?,
                    path.display().to_string(),
                ),
                None => (default.to_string(), format!("built-in {name}")),
            };
            tera.add_raw_template(name, &source).map_err(|e| {
                fail(
                    Class::Config,
                    format!("template {origin} is invalid: {}", one_line(&e)),
                )
            })?;
        }
        Ok(Renderer { tera })
    }

    pub fn render(&self, view: &DigestView) -> Result<Rendered> {
        let context = Context::from_serialize(view).map_err(|e| {
            fail(
                Class::Config,
                format!("cannot build the template context: {e}"),
            )
        })?;
        let render = |name: &str| {
            self.tera.render(name, &context).map_err(|e| {
                fail(
                    Class::Config,
                    format!("template {name} failed to render: {}", one_line(&e)),
                )
            })
        };
        Ok(Rendered {
            subject: normalize_ws(&render(SUBJECT)?),
            text: render(TEXT)?,
            html: render(HTML)?,
        })
    }
}

/// Tera reports span several lines (with source excerpts); keep them on one.
fn one_line(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.split('\n')
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_lists_are_shortened() {
        let a: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        assert_eq!(short_authors(&a, 3), "A, B, C et al.");
        assert_eq!(short_authors(&a[..2], 3), "A, B");
    }

    #[test]
    fn wrap_breaks_at_spaces_within_width() {
        let w = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(w, "aaa bbb\nccc ddd");
        assert!(wrap(&"word ".repeat(100), 72)
            .lines()
            .all(|l| l.len() <= 72));
    }

    #[test]
    fn counts_are_abbreviated() {
        assert_eq!(abbreviate(950), "950");
        assert_eq!(abbreviate(62_246), "62.2k");
        assert_eq!(abbreviate(1_500_000), "1.5M");
    }
}
