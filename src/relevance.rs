//! Relevance: a reader's profile applied to papers. Keywords and phrases match whole words,
//! case-insensitively, in the title, abstract and AI keywords; papers that pass are scored
//! with BM25 plus their popularity, and the matched words can be highlighted. Pure.
//!
//! The score (README.md, "Interests"):
//!
//! ```text
//! score = BM25(include terms; title counted twice + abstract)   k1 = 1.2, b = 0.75
//!       + 0.5 * ln(1 + upvotes)
//!       + 0.1 * max(0, places climbed since the previous listing)
//! ```
//!
//! IDF comes from the papers being ranked (the day's candidates).

use std::collections::HashMap;

use serde::Serialize;

use crate::store::PaperRecord;

const K1: f64 = 1.2;
const B: f64 = 0.75;
const UPVOTE_WEIGHT: f64 = 0.5;
const CLIMB_WEIGHT: f64 = 0.1;

/// A keyword or phrase, as the words it must match in sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    pub text: String,
    words: Vec<String>,
}

impl Phrase {
    pub fn new(text: &str) -> Option<Phrase> {
        let words: Vec<String> = words(text).into_iter().map(|w| w.word).collect();
        (!words.is_empty()).then(|| Phrase {
            text: words.join(" "),
            words,
        })
    }

    /// Where the phrase stands in `text` (byte ranges, whole words only).
    pub fn find_in(&self, text: &str) -> Vec<(usize, usize)> {
        let ws = words(text);
        let n = self.words.len();
        if ws.len() < n {
            return Vec::new();
        }
        (0..=ws.len() - n)
            .filter(|&i| (0..n).all(|j| ws[i + j].word == self.words[j]))
            .map(|i| (ws[i].start, ws[i + n - 1].end))
            .collect()
    }

    fn is_in(&self, text: &str) -> bool {
        !self.find_in(text).is_empty()
    }
}

/// A reader's interests. Empty lists and absent thresholds do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub include: Vec<Phrase>,
    pub exclude: Vec<Phrase>,
    /// Author names, matched whole and case-insensitively.
    pub authors: Vec<String>,
    /// Organisation names, matched whole and case-insensitively.
    pub organizations: Vec<String>,
    pub min_upvotes: Option<i64>,
    pub min_stars: Option<i64>,
    pub max_papers: Option<usize>,
}

/// A paper chosen for a reader, with why.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    #[serde(flatten)]
    pub record: PaperRecord,
    /// The relevance score; absent without a profile (listing order).
    pub score: Option<f64>,
    /// The include keywords, authors and organisations it matched.
    pub matched: Vec<String>,
    /// The include phrases, for highlighting.
    #[serde(skip)]
    pub highlight: Vec<Phrase>,
}

impl Scored {
    pub fn plain(record: PaperRecord) -> Scored {
        Scored {
            record,
            score: None,
            matched: Vec::new(),
            highlight: Vec::new(),
        }
    }
}

/// Filter and order `papers` (given in listing order) for a profile: without one, all of
/// them in listing order; with one, those that pass, best score first, at most `max_papers`.
pub fn select(profile: Option<&Profile>, papers: Vec<PaperRecord>) -> Vec<Scored> {
    let Some(profile) = profile else {
        return papers.into_iter().map(Scored::plain).collect();
    };
    let mut chosen: Vec<Scored> = papers
        .into_iter()
        .filter_map(|r| judge(profile, r))
        .collect();
    let docs: Vec<Vec<String>> = chosen.iter().map(|s| document(&s.record)).collect();
    let terms: Vec<String> = {
        let mut t: Vec<String> = profile
            .include
            .iter()
            .flat_map(|p| p.words.clone())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    let bm25 = bm25(&terms, &docs);
    for (s, text_score) in chosen.iter_mut().zip(bm25) {
        let r = &s.record;
        let climbed = r.rank_change.unwrap_or(0).max(0) as f64;
        s.score = Some(
            text_score
                + UPVOTE_WEIGHT * (1.0 + r.paper.upvotes.max(0) as f64).ln()
                + CLIMB_WEIGHT * climbed,
        );
    }
    // Best first; ties keep the listing's order (the sort is stable).
    chosen.sort_by(|a, b| b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)));
    if let Some(max) = profile.max_papers {
        chosen.truncate(max);
    }
    chosen
}

/// Does the paper pass the profile, and on what?
fn judge(profile: &Profile, record: PaperRecord) -> Option<Scored> {
    let p = &record.paper;
    let fields = [
        p.title.as_str(),
        p.abstract_text.as_str(),
        &p.ai_keywords.join(" | "),
    ];
    let in_fields = |phrase: &Phrase| fields.iter().any(|f| phrase.is_in(f));
    if profile.exclude.iter().any(in_fields) {
        return None;
    }
    if profile.min_upvotes.is_some_and(|min| p.upvotes < min) {
        return None;
    }
    if profile
        .min_stars
        .is_some_and(|min| p.github_stars.unwrap_or(0) < min)
    {
        return None;
    }
    let mut matched: Vec<String> = Vec::new();
    let highlight: Vec<Phrase> = profile
        .include
        .iter()
        .filter(|ph| in_fields(ph))
        .cloned()
        .collect();
    matched.extend(highlight.iter().map(|ph| ph.text.clone()));
    for author in &profile.authors {
        if p.authors.iter().any(|a| same_name(a, author)) {
            matched.push(author.clone());
        }
    }
    for org in &profile.organizations {
        if p.organization.as_deref().is_some_and(|o| same_name(o, org)) {
            matched.push(org.clone());
        }
    }
    let wants_something = !profile.include.is_empty()
        || !profile.authors.is_empty()
        || !profile.organizations.is_empty();
    if wants_something && matched.is_empty() {
        return None;
    }
    Some(Scored {
        record,
        score: None,
        matched,
        highlight,
    })
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| words(s).into_iter().map(|w| w.word).collect::<Vec<_>>();
    norm(a) == norm(b)
}

/// The words BM25 sees: the title twice (a field boost), then the abstract.
fn document(r: &PaperRecord) -> Vec<String> {
    let title: Vec<String> = words(&r.paper.title).into_iter().map(|w| w.word).collect();
    let mut doc = title.clone();
    doc.extend(title);
    doc.extend(words(&r.paper.abstract_text).into_iter().map(|w| w.word));
    doc
}

/// Okapi BM25 of each document against the query terms.
fn bm25(terms: &[String], docs: &[Vec<String>]) -> Vec<f64> {
    if docs.is_empty() || terms.is_empty() {
        return vec![0.0; docs.len()];
    }
    let n = docs.len() as f64;
    let avgdl = docs.iter().map(|d| d.len()).sum::<usize>() as f64 / n;
    let counts: Vec<HashMap<&str, usize>> = docs
        .iter()
        .map(|d| {
            let mut c = HashMap::new();
            for w in d {
                *c.entry(w.as_str()).or_insert(0) += 1;
            }
            c
        })
        .collect();
    let idf: Vec<f64> = terms
        .iter()
        .map(|t| {
            let df = counts.iter().filter(|c| c.contains_key(t.as_str())).count() as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    docs.iter()
        .zip(&counts)
        .map(|(doc, c)| {
            let len_norm = 1.0 - B + B * doc.len() as f64 / avgdl.max(1.0);
            terms
                .iter()
                .zip(&idf)
                .map(|(t, idf)| {
                    let f = *c.get(t.as_str()).unwrap_or(&0) as f64;
                    idf * f * (K1 + 1.0) / (f + K1 * len_norm)
                })
                .sum()
        })
        .collect()
}

/// A word of a text: a run of letters and digits, lowercased, with its byte range.
struct Word {
    word: String,
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word {
                    word: text[s..i].to_lowercase(),
                    start: s,
                    end: i,
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            word: text[s..].to_lowercase(),
            start: s,
            end: text.len(),
        });
    }
    out
}

/// Split `text` into runs, each marked if a phrase covers it.
pub fn highlight(text: &str, phrases: &[Phrase]) -> Vec<(String, bool)> {
    let mut spans: Vec<(usize, usize)> = phrases.iter().flat_map(|p| p.find_in(text)).collect();
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in merged {
        if s > at {
            out.push((text[at..s].to_string(), false));
        }
        out.push((text[s..e].to_string(), true));
        at = e;
    }
    if at < text.len() || out.is_empty() {
        out.push((text[at..].to_string(), false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(s: &str) -> Phrase {
        Phrase::new(s).unwrap()
    }

    #[test]
    fn phrases_match_whole_words_case_insensitively() {
        let p = phrase("Video Generation");
        assert_eq!(p.find_in("Fast video  generation, now"), vec![(5, 22)]);
        assert!(p.is_in("VIDEO-GENERATION models"));
        assert!(!p.is_in("videogeneration"));
        assert!(
            !phrase("RL").is_in("world models"),
            "no match inside a word"
        );
        assert!(phrase("rl").is_in("Offline RL at scale"));
        assert!(Phrase::new("  ,, ").is_none());
    }

    #[test]
    fn highlight_marks_matched_runs_only() {
        let h = highlight("Diffusion for video diffusion", &[phrase("diffusion")]);
        let marked: Vec<&str> = h
            .iter()
            .filter(|(_, m)| *m)
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(marked, ["Diffusion", "diffusion"]);
        let joined: String = h.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(joined, "Diffusion for video diffusion");
        assert_eq!(
            highlight("nothing", &[phrase("x")]),
            vec![("nothing".to_string(), false)]
        );
    }

    #[test]
    fn bm25_prefers_more_and_rarer_matches() {
        let doc = |s: &str| words(s).into_iter().map(|w| w.word).collect::<Vec<_>>();
        let docs = vec![
            doc("robots robots robots learn"),
            doc("robots learn"),
            doc("language models learn"),
        ];
        let s = bm25(&["robots".into()], &docs);
        assert!(s[0] > s[1] && s[1] > s[2] && s[2] == 0.0, "{s:?}");
    }
}
