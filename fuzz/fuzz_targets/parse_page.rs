//! Fuzz the page parser: any bytes, as a page and as the data-props of a real-shaped page.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = paper_digest::parse::parse_page(text);
        let wrapped = format!(
            "<div class=\"SVELTE_HYDRATER contents\" data-target=\"DailyPapers\" data-props=\"{text}\"></div><article><h3><a href=\"/papers/{text}\">{text}</a></h3></article>"
        );
        let _ = paper_digest::parse::parse_page(&wrapped);
    }
});
