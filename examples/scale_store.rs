//! The scale scenario's data: builds a store holding `--days` daily listings of `--per-day`
//! papers (each paper staying about `--stay` days), or writes one day's listing page.
//!
//!   cargo run --release --example scale_store -- --db 10y.db --days 3650
//!   cargo run --release --example scale_store -- --page day.html --day 3650
//!
//! Used by scripts/bench_scale.sh; see BENCHMARKS.md.

#[path = "../benches/support/synth.rs"]
mod synth;

use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use paper_digest::parse::parse_api;
use paper_digest::store::Store;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let per_day: usize = arg(&args, "--per-day").map_or(50, |v| v.parse().unwrap());
    let stay: usize = arg(&args, "--stay").map_or(4, |v| v.parse().unwrap());
    let start = NaiveDate::from_ymd_opt(2016, 12, 1).unwrap();
    if let Some(page) = arg(&args, "--page") {
        let day: usize = arg(&args, "--day").expect("--day N").parse().unwrap();
        std::fs::write(&page, synth::page(&synth::day_entries(day, per_day, stay))).unwrap();
        println!("{}", start.checked_add_days(Days::new(day as u64)).unwrap());
        return;
    }
    let db = arg(&args, "--db").expect("--db PATH or --page PATH");
    let days: usize = arg(&args, "--days").map_or(3650, |v| v.parse().unwrap());
    let store = Store::open(std::path::Path::new(&db)).unwrap();
    let began = Instant::now();
    for d in 0..days {
        let json = serde_json::Value::Array(synth::day_entries(d, per_day, stay)).to_string();
        let listing = parse_api(&json).unwrap();
        let day = start.checked_add_days(Days::new(d as u64)).unwrap();
        let tx = store.begin().unwrap();
        store
            .record_listing(day, "trending", "scale", &listing, Utc::now())
            .unwrap();
        tx.commit().unwrap();
        if d % 365 == 364 {
            eprintln!("{} years in {:.1?}", (d + 1) / 365, began.elapsed());
        }
    }
    eprintln!(
        "{} days, {} papers, in {:.1?}",
        days,
        store.paper_count().unwrap(),
        began.elapsed()
    );
}
