//! Progress: a one-line indicator on stderr for operations that take a while (many API pages,
//! many readers). Shown only when stderr is a terminal and warnings are not silenced (`-q`).

use std::io::{IsTerminal, Write};

pub struct Progress {
    label: &'static str,
    total: Option<usize>,
    enabled: bool,
    shown: bool,
}

impl Progress {
    pub fn new(label: &'static str, total: Option<usize>) -> Progress {
        let enabled = std::io::stderr().is_terminal()
            && tracing::level_filters::LevelFilter::current() >= tracing::Level::WARN;
        Progress {
            label,
            total,
            enabled,
            shown: false,
        }
    }

    /// Show that `done` items are done.
    pub fn set(&mut self, done: usize) {
        if !self.enabled {
            return;
        }
        let text = match self.total {
            Some(total) => format!("\r{} {done}/{total}", self.label),
            None => format!("\r{} {done}", self.label),
        };
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
        self.shown = true;
    }
}

impl Drop for Progress {
    /// Clear the line, so that what follows starts clean.
    fn drop(&mut self) {
        if self.shown {
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        }
    }
}
