//! The paper record: what one paper on the listing is, whichever path it was read from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One paper as read from the listing. Field names are the export schema's (README.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    /// arXiv id without a version suffix, e.g. `2606.03748`.
    pub id: String,
    /// Title with whitespace normalised.
    pub title: String,
    /// Abstract with whitespace normalised (on the cards path: the card's text).
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// Author names, in order.
    pub authors: Vec<String>,
    /// arXiv publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// When the paper was added to Hugging Face Daily Papers.
    pub submitted_at: Option<DateTime<Utc>>,
    pub upvotes: i64,
    pub comments: Option<i64>,
    pub github_repo: Option<String>,
    pub github_stars: Option<i64>,
    pub project_page: Option<String>,
    pub ai_summary: Option<String>,
    pub ai_keywords: Vec<String>,
    pub organization: Option<String>,
    pub thumbnail: Option<String>,
}

impl Paper {
    pub fn hf_url(&self) -> String {
        format!("https://huggingface.co/papers/{}", self.id)
    }
    pub fn arxiv_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.id)
    }
    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{}", self.id)
    }
}

/// Which way the papers were read from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParsePath {
    /// The JSON in the page's `data-props` attribute.
    EmbeddedJson,
    /// The visible `<article>` cards (fallback).
    Cards,
    /// The JSON API.
    Api,
}

impl ParsePath {
    pub fn as_str(self) -> &'static str {
        match self {
            ParsePath::EmbeddedJson => "embedded_json",
            ParsePath::Cards => "cards",
            ParsePath::Api => "api",
        }
    }
}

/// The papers of one listing, in rank order (rank = position + 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub papers: Vec<Paper>,
    pub path: ParsePath,
}
