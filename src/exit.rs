//! The exit-code table: every failure class `digest` reports, and the one place that maps errors to codes.

use std::fmt;

/// Process exit codes, documented in README.md ("Exit codes"). Never renumber them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything worked (including "nothing new today").
    Success = 0,
    /// An unexpected error: a bug, or something no other class covers.
    Internal = 1,
    /// The command line was malformed (clap reports these itself).
    Usage = 2,
    /// Configuration is missing or invalid (file, environment, flags, templates).
    Config = 3,
    /// The source could not be reached: connection, timeout, HTTP error status, retries exhausted.
    SourceUnreachable = 4,
    /// The source answered but the page or API changed shape: no papers, unreadable data.
    PageShape = 5,
    /// The SQLite store could not be opened, read or written.
    Store = 6,
    /// At least one digest could not be delivered (SMTP, sendmail or file transport).
    Delivery = 7,
    /// Another `digest` run holds the store's lock.
    Locked = 8,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The failure class of an error, attached where the failure is detected so that
/// `main` can pick the exit code without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Config,
    SourceUnreachable,
    PageShape,
    Store,
    Delivery,
    Locked,
}

/// A one-line failure message that carries its class. Created with [`fail`] or
/// [`ResultExt::classify`]; found again by [`exit_code`].
#[derive(Debug)]
pub struct Classified {
    pub class: Class,
    pub message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// Build a classified error with a message.
pub fn fail(class: Class, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        class,
        message: message.into(),
    })
}

/// Attach a class (and a message) to any error, keeping its cause chain.
pub trait ResultExt<T> {
    fn classify(self, class: Class, message: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn classify(self, class: Class, message: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|e| {
            e.into().context(Classified {
                class,
                message: message(),
            })
        })
    }
}

/// The exit code for an error: the outermost classified cause decides; SQLite errors
/// anywhere in the chain count as store errors; anything else is internal.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    // anyhow's own downcast sees context layers (the outermost first); the chain
    // walk finds classified errors that other error types wrap.
    let classified = err
        .downcast_ref::<Classified>()
        .or_else(|| err.chain().find_map(|c| c.downcast_ref::<Classified>()));
    if let Some(c) = classified {
        return match c.class {
            Class::Config => ExitCode::Config,
            Class::SourceUnreachable => ExitCode::SourceUnreachable,
            Class::PageShape => ExitCode::PageShape,
            Class::Store => ExitCode::Store,
            Class::Delivery => ExitCode::Delivery,
            Class::Locked => ExitCode::Locked,
        };
    }
    if err.chain().any(|c| c.is::<rusqlite::Error>()) {
        return ExitCode::Store;
    }
    ExitCode::Internal
}

/// Whether the error is stdout's reader having gone away (`digest export | head`): not a
/// failure of ours, so the process ends quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outermost_class_decides() {
        let inner: anyhow::Result<()> = Err(fail(Class::PageShape, "no papers"));
        let outer = inner.classify(Class::Delivery, || "while sending".into());
        let err = outer.unwrap_err();
        assert_eq!(exit_code(&err), ExitCode::Delivery);
        assert_eq!(format!("{err:#}"), "while sending: no papers");
    }

    #[test]
    fn unclassified_sqlite_error_is_a_store_error() {
        let err = anyhow::Error::new(rusqlite::Error::InvalidQuery).context("reading");
        assert_eq!(exit_code(&err), ExitCode::Store);
        assert_eq!(exit_code(&anyhow::anyhow!("boom")), ExitCode::Internal);
    }
}
