//! The command line: clap definitions only. Doc comments here are the help text.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::config::{Security, SourceKind};

/// The version with the commit it was built from, for `--version`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("DIGEST_GIT_COMMIT"),
    ")"
);

/// Puts the day's trending research papers from Hugging Face into your inbox.
///
/// Without a subcommand, `digest` runs the daily job: fetch the listing, store it,
/// and mail the papers each reader has not had yet. Use `--dry-run` to preview.
#[derive(Debug, Parser)]
#[command(name = "digest", version = VERSION, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: $XDG_CONFIG_HOME/digest/config.toml]
    #[arg(long, global = true, value_name = "PATH", env = "DIGEST_CONFIG")]
    pub config: Option<PathBuf>,

    /// SQLite store [default: $XDG_DATA_HOME/digest/digest.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Where the listing comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Which listing to read
    #[arg(long, value_enum)]
    pub source: Option<SourceKind>,

    /// Read the source from this URL instead of Hugging Face (`{date}` is replaced by the day)
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Read a saved page or API answer from a file (`-` for stdin) instead of the network
    #[arg(long, value_name = "FILE", conflicts_with = "url")]
    pub input: Option<PathBuf>,

    /// The day to file the listing under [default: today in the configured time zone]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Show what would be sent (headers and text part) on stdout; send and record nothing
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: write the whole message (.eml) or, for a name ending in .html, its HTML part
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub output: Option<PathBuf>,

    /// Mail only this reader (must be one of the configured recipients unless --dry-run)
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, store and mail the new papers (the default when no subcommand is given)
    Run(RunArgs),
    /// Fetch the listing and store it, without mailing anything
    Fetch(SourceArgs),
    /// Print what the store holds, for scripts
    Export(ExportArgs),
    /// Show the last runs: when, what was fetched, who got mail, how it ended
    History(HistoryArgs),
    /// Check the set-up, one line each: config, store, source, SMTP
    Check(CheckArgs),
    /// Write a config file: asks on a terminal, takes flags otherwise
    Init(InitArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many runs
    #[arg(short = 'n', long, default_value_t = 10)]
    pub number: usize,
    /// Print JSON instead of lines
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Also send a short test mail to every reader
    #[arg(long)]
    pub send_test: bool,
}

#[derive(Debug, Args, Default)]
pub struct InitArgs {
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
    /// SMTP server
    #[arg(long, value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 587 for starttls, 465 for tls]
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<u16>,
    /// starttls, tls or none
    #[arg(long, value_enum)]
    pub security: Option<Security>,
    /// SMTP user name
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// A file holding the SMTP password (written by init when it asks for the password)
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. "Paper digest <digest@example.org>"
    #[arg(long, value_name = "MAILBOX")]
    pub from: Option<String>,
    /// A reader (repeat for more)
    #[arg(long, value_name = "MAILBOX")]
    pub to: Vec<String>,
    /// Which listing to read
    #[arg(long, value_enum)]
    pub source: Option<SourceKind>,
    /// Do not try the SMTP connection
    #[arg(long)]
    pub no_test: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ExportFormat {
    /// One JSON array
    #[default]
    Json,
    /// One JSON object per line, streamed
    Ndjson,
    /// CSV (RFC 4180) with a header row
    Csv,
    /// An Atom 1.0 feed, one entry per day
    Atom,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Print one JSON array (the default)
    #[arg(long, conflicts_with = "ndjson")]
    pub json: bool,

    /// Print one JSON object per line, streamed
    #[arg(long, conflicts_with_all = ["csv", "atom"])]
    pub ndjson: bool,

    /// Print CSV (RFC 4180): one row per paper, lists joined with "; "
    #[arg(long, conflicts_with_all = ["json", "atom"])]
    pub csv: bool,

    /// Print an Atom 1.0 feed of the latest days' digests (one entry per day, newest first)
    #[arg(long, conflicts_with_all = ["json", "for_reader"])]
    pub atom: bool,

    /// Only papers seen on the listing on or after this day
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "date")]
    pub since: Option<NaiveDate>,

    /// Only papers seen on or before this day; statistics are as of this day
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "date")]
    pub until: Option<NaiveDate>,

    /// The listing of this day, in rank order
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,

    /// At most this many papers
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// What this reader's profile selects from the listing of --date (default: the latest
    /// listing in the store), best first, with `score` and `matched`
    #[arg(long = "for", value_name = "ADDRESS", conflicts_with_all = ["since", "until"])]
    pub for_reader: Option<String>,
}

impl ExportArgs {
    pub fn format(&self) -> ExportFormat {
        if self.ndjson {
            ExportFormat::Ndjson
        } else if self.csv {
            ExportFormat::Csv
        } else if self.atom {
            ExportFormat::Atom
        } else {
            ExportFormat::Json
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn top_level_dry_run_parses() {
        let cli = Cli::try_parse_from(["digest", "--dry-run", "--date", "2026-12-04"]).unwrap();
        assert!(cli.command.is_none());
        assert!(cli.run.dry_run);
        assert_eq!(cli.run.source.date, NaiveDate::from_ymd_opt(2026, 12, 4));
        assert!(Cli::try_parse_from(["digest", "--output", "x.eml"]).is_err());
    }
}
