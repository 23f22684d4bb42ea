//! The pipeline's stages under criterion: parse a real-size page (the capture in
//! ../shared/fixtures/hf when present, and a generated one of the same structure and size),
//! parse the API JSON, store one day into a store that holds a year, select, and render a
//! 50-paper digest. Run: `cargo bench --bench pipeline`. Figures: BENCHMARKS.md.

#[path = "support/synth.rs"]
mod synth;

use std::hint::black_box;
use std::path::PathBuf;

use chrono::{Days, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use paper_digest::config::{Recipient, SummaryKind, TrendsConfig};
use paper_digest::parse::{parse_api, parse_page};
use paper_digest::relevance::{Phrase, Profile, Scored};
use paper_digest::render::{DigestView, Renderer, Style};
use paper_digest::select::{self, Selection};
use paper_digest::store::{PaperFilter, Store};

fn real_capture(name: &str) -> Option<String> {
    let dir = std::env::var_os("DIGEST_REAL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/fixtures/hf"
            ))
        });
    std::fs::read_to_string(dir.join(name)).ok()
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let generated = synth::page(&synth::entries(0, 50));
    group.throughput(Throughput::Bytes(generated.len() as u64));
    group.bench_function("page/generated-50", |b| {
        b.iter(|| parse_page(black_box(&generated)).unwrap())
    });
    if let Some(real) = real_capture("trending-2026-10-07.html") {
        group.throughput(Throughput::Bytes(real.len() as u64));
        group.bench_function("page/real-capture-50", |b| {
            b.iter(|| parse_page(black_box(&real)).unwrap())
        });
        // The fallback: the same page without its JSON, read from the cards (DOM path).
        let at = real.find("data-target=\"DailyPapers\"").unwrap();
        let start = at + real[at..].find("data-props=\"").unwrap();
        let end = start + 12 + real[start + 12..].find('"').unwrap() + 1;
        let cards_only = format!("{}{}", &real[..start], &real[end..]);
        group.bench_function("page/real-capture-cards-fallback", |b| {
            b.iter(|| parse_page(black_box(&cards_only)).unwrap())
        });
    }
    let api = serde_json::Value::Array(synth::entries(0, 100)).to_string();
    group.throughput(Throughput::Bytes(api.len() as u64));
    group.bench_function("api/generated-100", |b| {
        b.iter(|| parse_api(black_box(&api)).unwrap())
    });
    if let Some(real) = real_capture("api-daily-papers-2026-05-08.json") {
        group.throughput(Throughput::Bytes(real.len() as u64));
        group.bench_function("api/real-capture-37", |b| {
            b.iter(|| parse_api(black_box(&real)).unwrap())
        });
    }
    group.finish();
}

const START: NaiveDate = match NaiveDate::from_ymd_opt(2025, 12, 1) {
    Some(d) => d,
    None => panic!(),
};

fn day(n: usize) -> NaiveDate {
    START.checked_add_days(Days::new(n as u64)).unwrap()
}

/// A store holding a year of daily listings (365 x 50 sightings, papers staying ~4 days).
fn year_store(dir: &std::path::Path) -> Store {
    let store = Store::open(&dir.join("year.db")).unwrap();
    for d in 0..365 {
        let listing =
            parse_api(&serde_json::Value::Array(synth::day_entries(d, 50, 4)).to_string()).unwrap();
        let tx = store.begin().unwrap();
        store
            .record_listing(day(d), "trending", "bench", &listing, Utc::now())
            .unwrap();
        tx.commit().unwrap();
    }
    store
}

fn storing_and_selecting(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = year_store(dir.path());
    let next =
        parse_api(&serde_json::Value::Array(synth::day_entries(365, 50, 4)).to_string()).unwrap();
    let mut group = c.benchmark_group("store");
    group.bench_function("record-day-into-a-year", |b| {
        b.iter(|| {
            // Rolled back each time, so every iteration meets the same year-old store.
            let _tx = store.begin().unwrap();
            store
                .record_listing(day(365), "trending", "bench", black_box(&next), Utc::now())
                .unwrap()
        })
    });
    group.finish();

    let tx = store.begin().unwrap();
    store
        .record_listing(day(365), "trending", "bench", &next, Utc::now())
        .unwrap();
    tx.commit().unwrap();
    let plain = Recipient {
        mailbox: "ann@example.org".parse().unwrap(),
        profile: None,
    };
    let profiled = Recipient {
        mailbox: "bob@example.org".parse().unwrap(),
        profile: Some(Profile {
            include: ["diffusion", "language models", "robot"]
                .iter()
                .map(|p| Phrase::new(p).unwrap())
                .collect(),
            exclude: vec![Phrase::new("survey").unwrap()],
            min_upvotes: Some(10),
            max_papers: Some(20),
            ..Profile::default()
        }),
    };
    let trends = TrendsConfig {
        climbing: true,
        climb_places: 5,
        climb_upvotes: 50,
    };
    let mut group = c.benchmark_group("select");
    group.bench_function("reader-in-a-year", |b| {
        b.iter(|| select::for_reader(&store, black_box(&plain), day(365), 7, trends).unwrap())
    });
    group.bench_function("profiled-reader-in-a-year", |b| {
        b.iter(|| select::for_reader(&store, black_box(&profiled), day(365), 7, trends).unwrap())
    });
    group.finish();

    let papers = store
        .paper_list(&PaperFilter {
            since: Some(day(365)),
            until: Some(day(365)),
            ..PaperFilter::default()
        })
        .unwrap();
    assert_eq!(papers.len(), 50);
    let selection = Selection {
        new: papers.into_iter().map(Scored::plain).collect(),
        climbing: Vec::new(),
    };
    let renderer = Renderer::new(None).unwrap();
    let style = Style {
        summary: SummaryKind::Abstract,
        max_authors: 3,
    };
    let mut group = c.benchmark_group("render");
    group.bench_function("digest-50-papers", |b| {
        b.iter(|| {
            let view = DigestView::new(day(365), "ann@example.org", black_box(&selection), style);
            renderer.render(&view).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = parsing, storing_and_selecting
}
criterion_main!(benches);
