//! Fuzz the API parser: any bytes as an API answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = paper_digest::parse::parse_api(text);
    }
});
