//! Fault injection for the crash tests, compiled into debug builds only: with
//! `DIGEST_TEST_KILL_AT=<stage>` the process SIGKILLs itself on reaching that stage, and
//! `DIGEST_TEST_MAX_PAGES=<n>` caps the store's size to simulate a full disk.
//! Release builds contain neither.

/// The stages a crash test can stop the run at, in pipeline order.
pub const STAGES: &[&str] = &["fetched", "storing", "rendered", "smtp-data", "accepted"];

/// Die here, as `kill -9` would kill us, if the crash test asks for this stage.
#[cfg(debug_assertions)]
pub fn kill_point(stage: &str) {
    debug_assert!(STAGES.contains(&stage), "unknown kill point {stage}");
    if std::env::var("DIGEST_TEST_KILL_AT").is_ok_and(|s| s == stage) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        // SIGKILL cannot be caught; should `kill` be missing, die without cleanup all the same.
        std::process::abort();
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn kill_point(_stage: &str) {}

/// The page cap for a simulated full disk, if the test set one.
#[cfg(debug_assertions)]
pub fn max_pages() -> Option<u32> {
    std::env::var("DIGEST_TEST_MAX_PAGES").ok()?.parse().ok()
}

#[cfg(not(debug_assertions))]
pub fn max_pages() -> Option<u32> {
    None
}
