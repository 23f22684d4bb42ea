//! Export: writes records as one JSON array or as NDJSON for scripts, item by item, so
//! memory stays flat however large the store is.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ExportFormat;
use crate::render::escape_html;
use crate::store::{PaperFilter, Store};

/// Writes a JSON array or NDJSON one item at a time.
pub struct RecordWriter<W: Write> {
    out: W,
    format: ExportFormat,
    first: bool,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(mut out: W, format: ExportFormat) -> Result<RecordWriter<W>> {
        if format == ExportFormat::Json {
            out.write_all(b"[")?;
        }
        Ok(RecordWriter {
            out,
            format,
            first: true,
        })
    }

    pub fn item(&mut self, record: &impl Serialize) -> Result<()> {
        if self.format == ExportFormat::Json {
            self.out
                .write_all(if self.first { b"\n" } else { b",\n" })?;
        }
        serde_json::to_writer(&mut self.out, record)?;
        if self.format == ExportFormat::Ndjson {
            self.out.write_all(b"\n")?;
        }
        self.first = false;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        if self.format == ExportFormat::Json {
            self.out
                .write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// Stream the papers `filter` selects from the store to `out`.
pub fn write(
    store: &Store,
    filter: &PaperFilter,
    format: ExportFormat,
    out: impl Write,
) -> Result<()> {
    let mut writer = RecordWriter::new(out, format)?;
    store.papers(filter, |record| writer.item(&record))?;
    writer.finish()
}

/// One CSV row: the JSON export's fields, lists joined with "; ".
#[derive(Serialize)]
struct CsvRow<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(rename = "abstract")]
    abstract_text: &'a str,
    authors: String,
    published_at: Option<String>,
    submitted_at: Option<String>,
    upvotes: i64,
    comments: Option<i64>,
    github_repo: Option<&'a str>,
    github_stars: Option<i64>,
    project_page: Option<&'a str>,
    ai_summary: Option<&'a str>,
    ai_keywords: String,
    organization: Option<&'a str>,
    thumbnail: Option<&'a str>,
    hf_url: &'a str,
    arxiv_url: &'a str,
    pdf_url: &'a str,
    first_seen: String,
    last_seen: String,
    days_on_list: i64,
    best_rank: i64,
    rank: i64,
    previous_rank: Option<i64>,
    rank_change: Option<i64>,
    upvotes_gained: Option<i64>,
    stars_gained: Option<i64>,
    trend: crate::store::Trend,
}

/// Stream the papers as CSV (RFC 4180: quoted where needed, CRLF line ends), header first.
pub fn write_csv(store: &Store, filter: &PaperFilter, out: impl Write) -> Result<()> {
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    store.papers(filter, |r| {
        let p = &r.paper;
        csv.serialize(CsvRow {
            id: &p.id,
            title: &p.title,
            abstract_text: &p.abstract_text,
            authors: p.authors.join("; "),
            published_at: p.published_at.map(|t| t.to_rfc3339()),
            submitted_at: p.submitted_at.map(|t| t.to_rfc3339()),
            upvotes: p.upvotes,
            comments: p.comments,
            github_repo: p.github_repo.as_deref(),
            github_stars: p.github_stars,
            project_page: p.project_page.as_deref(),
            ai_summary: p.ai_summary.as_deref(),
            ai_keywords: p.ai_keywords.join("; "),
            organization: p.organization.as_deref(),
            thumbnail: p.thumbnail.as_deref(),
            hf_url: &r.hf_url,
            arxiv_url: &r.arxiv_url,
            pdf_url: &r.pdf_url,
            first_seen: r.first_seen.to_string(),
            last_seen: r.last_seen.to_string(),
            days_on_list: r.days_on_list,
            best_rank: r.best_rank,
            rank: r.rank,
            previous_rank: r.previous_rank,
            rank_change: r.rank_change,
            upvotes_gained: r.upvotes_gained,
            stars_gained: r.stars_gained,
            trend: r.trend,
        })?;
        Ok(())
    })?;
    csv.flush()?;
    Ok(())
}

/// An Atom 1.0 feed with one entry per listing day (newest first): the papers that entered
/// the listing that day, as a digest would show them to a reader with no profile.
pub fn write_atom(store: &Store, days: &[chrono::NaiveDate], out: impl Write) -> Result<()> {
    use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
    let trending = "https://huggingface.co/papers/trending";
    let at = |day: chrono::NaiveDate| -> FixedDateTime {
        day.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .fixed_offset()
    };
    let mut entries = Vec::with_capacity(days.len());
    for &day in days {
        let papers: Vec<_> = store
            .paper_list(&PaperFilter {
                since: Some(day),
                until: Some(day),
                ..PaperFilter::default()
            })?
            .into_iter()
            .filter(|r| r.first_seen == day)
            .collect();
        let mut html = String::from("<ol>");
        for r in &papers {
            html.push_str(&format!(
                "<li><a href=\"{}\">{}</a> ({} upvotes){}<br>{}</li>",
                escape_html(&r.hf_url),
                escape_html(&r.paper.title),
                r.paper.upvotes,
                if r.paper.authors.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", escape_html(&r.paper.authors.join(", ")))
                },
                escape_html(&r.paper.abstract_text),
            ));
        }
        html.push_str("</ol>");
        let title = format!(
            "Trending papers, {}: {} new",
            day.format("%-d %b %Y"),
            papers.len()
        );
        entries.push(Entry {
            title: Text::plain(title),
            id: format!("urn:paper-digest:trending:{day}"),
            updated: at(day),
            links: vec![Link {
                href: trending.to_string(),
                rel: "alternate".to_string(),
                ..Link::default()
            }],
            content: Some(Content {
                value: Some(html),
                content_type: Some("html".to_string()),
                ..Content::default()
            }),
            ..Entry::default()
        });
    }
    let feed = Feed {
        title: Text::plain("Trending papers on Hugging Face"),
        id: "urn:paper-digest:trending".to_string(),
        updated: days
            .first()
            .map(|d| at(*d))
            .unwrap_or_else(|| at(chrono::NaiveDate::MIN)),
        authors: vec![Person {
            name: "digest".to_string(),
            ..Person::default()
        }],
        links: vec![Link {
            href: trending.to_string(),
            rel: "alternate".to_string(),
            ..Link::default()
        }],
        generator: Some(Generator {
            value: "digest".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            ..Generator::default()
        }),
        entries,
        ..Feed::default()
    };
    feed.write_to(out)?;
    Ok(())
}
