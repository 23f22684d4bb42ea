//! Synthetic listings in the real pages' structure, for benchmarks and the scale scenario:
//! real-sized entries (authors with user objects, ~1.5 kB abstracts, AI summaries and
//! keywords) and real-sized cards (each rendered twice, desktop and mobile), so that a
//! 50-paper page weighs about what the real one does (~1.5 MB, ~0.46 MB of it JSON).
#![allow(dead_code)]

use serde_json::{json, Value};

const WORDS: &[&str] = &[
    "language",
    "models",
    "diffusion",
    "agents",
    "reasoning",
    "vision",
    "robot",
    "policy",
    "benchmark",
    "scaling",
    "training",
    "inference",
    "memory",
    "retrieval",
    "video",
    "audio",
    "transformer",
    "attention",
    "sparse",
    "efficient",
    "reinforcement",
    "learning",
    "data",
    "synthetic",
    "alignment",
    "multimodal",
    "graph",
    "protein",
    "search",
    "planning",
];

/// A deterministic stream of words.
fn words(seed: usize, n: usize) -> String {
    (0..n)
        .map(|i| WORDS[(seed * 7919 + i * 104729) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn paper_id(i: usize) -> String {
    format!(
        "{:02}{:02}.{:05}",
        20 + (i / 1_200_000) % 10,
        1 + (i / 100_000) % 12,
        i % 100_000
    )
}

/// One entry, as the page's JSON and the API carry it.
pub fn entry(i: usize, upvotes: i64) -> Value {
    let authors: Vec<Value> = (0..12)
        .map(|a| {
            json!({
                "_id": format!("{i:08x}{a:04x}aabbccdd"),
                "name": format!("Author {} {}", a, words(i + a, 1)),
                "hidden": false,
                "user": {
                    "_id": format!("{a:08x}0011223344"),
                    "avatarUrl": format!("https://cdn-avatars.huggingface.co/v1/production/uploads/{a:08x}/avatar.png"),
                    "isPro": false,
                    "fullname": format!("Author {a}"),
                    "user": format!("author{a}"),
                    "type": "user"
                },
                "status": "claimed_verified",
                "statusLastChangedAt": "2026-10-06T08:45:05.557Z"
            })
        })
        .collect();
    let title = format!("{}: {}", words(i, 3), words(i + 1, 8));
    let summary = words(i + 2, 220);
    json!({
        "paper": {
            "id": paper_id(i),
            "authors": authors,
            "publishedAt": "2026-10-04T00:00:00.000Z",
            "submittedOnDailyAt": "2026-10-06T08:00:00.000Z",
            "title": title,
            "summary": summary,
            "upvotes": upvotes,
            "discussionId": format!("{i:024x}"),
            "githubRepo": format!("https://github.com/example/repo-{i}"),
            "githubRepoAddedBy": "auto",
            "ai_summary": words(i + 3, 30),
            "ai_keywords": (0..10).map(|k| words(i + k, 2)).collect::<Vec<_>>(),
            "ai_summary_model": "Qwen/Qwen2.5-Coder-32B-Instruct",
            "githubStars": (i as i64 * 37) % 90_000,
            "organization": {"_id": "org", "name": "example-lab", "fullname": "Example Lab"}
        },
        "publishedAt": "2026-10-04T00:00:00.000Z",
        "title": title,
        "summary": summary,
        "thumbnail": format!("https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{}.png", paper_id(i)),
        "numComments": i % 7,
        "submittedBy": {"_id": "u1", "fullname": "Submitter", "name": "submitter", "type": "user"},
        "isAuthorParticipating": false
    })
}

/// `n` entries starting at paper `first`, upvotes falling with rank.
pub fn entries(first: usize, n: usize) -> Vec<Value> {
    (0..n)
        .map(|k| entry(first + k, 500 - (k as i64 * 7) % 480))
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One copy of a card, with the weight of the real markup (classes, SVG icons).
fn card_copy(e: &Value, mobile: bool) -> String {
    let p = &e["paper"];
    let id = p["id"].as_str().unwrap();
    let icon = format!("<svg class=\"text-xs text-gray-500\" viewBox=\"0 0 12 12\"><path fill=\"currentColor\" d=\"{}\"></path></svg>", "M5.19 2.67a.94.94 0 0 1 1.62 0l3.31 5.72a.94.94 0 0 1-.82 1.4H2.7a.94.94 0 0 1-.82-1.4l3.31-5.7v-.02Z ".repeat(40));
    format!(
        "<div class=\"{}\"><a href=\"/papers/{id}\" class=\"block h-full w-56 cursor-pointer overflow-hidden bg-white dark:border-gray-800\"><img src=\"{}\" alt=\"\"/></a> <div class=\"flex min-w-0 flex-1 flex-col justify-center p-6\"><h3 class=\"mb-1.5 text-xl font-semibold text-gray-900 hover:underline dark:text-white\"><a href=\"/papers/{id}\" class=\"line-clamp-2 cursor-pointer text-balance\">{}</a></h3> <div class=\"mb-2\"><p class=\"line-clamp-2 text-sm text-gray-500 dark:text-gray-400\">{}</p></div></div> <div class=\"flex w-40 flex-col items-stretch justify-center gap-2 p-4\"><div role=\"checkbox\" class=\"shadow-alternate group flex h-9 cursor-pointer select-none items-center gap-2 rounded-lg border\">{icon} Upvote <div class=\"font-semibold text-orange-500\">{}</div></div> <a href=\"{}\" class=\"btn flex h-9 w-full items-center justify-center gap-1 text-sm\">{icon}<span>GitHub</span> <span>{}</span></a></div></div>",
        if mobile { "flex flex-col md:hidden" } else { "hidden h-40 md:flex" },
        escape(e["thumbnail"].as_str().unwrap()),
        escape(p["title"].as_str().unwrap()),
        escape(p["summary"].as_str().unwrap()),
        p["upvotes"],
        escape(p["githubRepo"].as_str().unwrap()),
        p["githubStars"],
    )
}

/// A whole trending page holding `entries`, in the real structure.
pub fn page(entries: &[Value]) -> String {
    let props =
        json!({"canSubmit": false, "dailyPapers": entries, "query": {}, "isTrending": true});
    let mut html = String::with_capacity(1_600_000);
    html.push_str("<!doctype html>\n<html class=\"\"><head><meta charset=\"utf-8\"/><title>Trending Papers - Hugging Face</title>");
    html.push_str(&format!("<style>{}</style>", ".x{color:red}".repeat(4000)));
    html.push_str("</head><body><main><section><h1>Get trending papers in your email inbox once a day!</h1></section>");
    html.push_str(&format!(
        "<div class=\"SVELTE_HYDRATER contents\" data-target=\"DailyPapers\" data-props=\"{}\">",
        escape(&props.to_string())
    ));
    html.push_str("<section class=\"container relative mb-20 mt-8\"><div class=\"relative grid grid-cols-1 gap-5\">");
    for e in entries {
        html.push_str("<article class=\"relative overflow-hidden rounded-xl border\">");
        html.push_str(&card_copy(e, false));
        html.push_str(&card_copy(e, true));
        html.push_str("</article>");
    }
    html.push_str("</div></section></div></main></body></html>\n");
    html
}

/// The papers on the listing of day `day` when every paper stays `stay` days: a sliding
/// window of `per_day` papers, a share of them new each day.
pub fn day_entries(day: usize, per_day: usize, stay: usize) -> Vec<Value> {
    let first = day * per_day / stay;
    let mut list = entries(first, per_day);
    // Vary the order from day to day, deterministically.
    list.rotate_left(day % per_day);
    list
}
