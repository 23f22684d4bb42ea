//! App: the commands, each a short walk down the pipeline. No stage logic lives here.

use std::io::IsTerminal;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use tracing::info;

use crate::cli::{Cli, Command, ExportArgs, ExportFormat, GlobalArgs, HistoryArgs, SourceArgs};
use crate::config::{self, Config, Layer, SourceKind};
use crate::exit::{Class, ResultExt};
use crate::fetch::{self, Fetcher};
use crate::model::Listing;
use crate::parse;
use crate::store::{self, PaperFilter, Store};

/// Set up `tracing` on stderr: quiet by default, `-v`/`-vv`, `-q`, or a `DIGEST_LOG`
/// / `RUST_LOG` filter; colour only on a terminal and never with `NO_COLOR`.
pub fn init_logging(global: &GlobalArgs) {
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = std::env::var("DIGEST_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            tracing_subscriber::EnvFilter::new(format!("paper_digest={level},digest={level}"))
        });
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Run the command the command line names.
pub fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Some(Command::Fetch(source)) => cmd_fetch(&cli.global, &source).await,
            Some(Command::Export(args)) => cmd_export(&cli.global, &args),
            Some(Command::History(args)) => cmd_history(&cli.global, &args),
            Some(Command::Check(args)) => crate::check::run(&cli.global, &args).await,
            Some(Command::Init(args)) => crate::init::run(&cli.global, &args).await,
            Some(Command::Completions { shell }) => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(shell, &mut cmd, "digest", &mut std::io::stdout());
                Ok(())
            }
            Some(Command::Man) => {
                let cmd = <Cli as clap::CommandFactory>::command();
                clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
                Ok(())
            }
            Some(Command::Run(args)) => crate::deliver::run(&cli.global, &args).await,
            None => crate::deliver::run(&cli.global, &cli.run).await,
        }
    })
}

/// The configuration for a command: file, environment, then these flags.
pub fn load_config(global: &GlobalArgs, source: Option<&SourceArgs>) -> Result<Config> {
    let mut flags = Layer {
        db: global.db.clone(),
        ..Layer::default()
    };
    if let Some(s) = source {
        flags.source.kind = s.source;
        flags.source.url = s.url.clone();
    }
    config::load(global.config.as_deref(), flags)
}

/// A listing read from its source, with where it came from.
pub struct Fetched {
    pub listing: Listing,
    pub origin: String,
}

/// Fetch and parse the listing the configuration and flags name, for `day`.
pub async fn fetch_listing(config: &Config, args: &SourceArgs, day: NaiveDate) -> Result<Fetched> {
    if let Some(path) = &args.input {
        let text = fetch::read_input(path, config.http.max_body_bytes)?;
        let origin = path.display().to_string();
        let listing = if text.trim_start().starts_with('[') {
            parse::parse_api(&text)
        } else {
            parse::parse_page(&text)
        }
        .map_err(|e| e.context(format!("reading {origin}")))?;
        return require_papers(listing, &origin).map(|listing| Fetched { listing, origin });
    }
    let fetcher = Fetcher::new(&config.http)?;
    let day_text = store::day_text(day);
    let url = config.source.url.replace("{date}", &day_text);
    match config.source.kind {
        SourceKind::Trending | SourceKind::Daily => {
            let text = fetcher.get_text(&url).await?;
            let listing =
                parse::parse_page(&text).map_err(|e| e.context(format!("reading {url}")))?;
            require_papers(listing, &url).map(|listing| Fetched {
                listing,
                origin: url,
            })
        }
        SourceKind::Api => fetch_api(config, &fetcher, &url, &day_text).await,
    }
}

/// Follow the API's pages until a short one; papers keep their first position.
async fn fetch_api(config: &Config, fetcher: &Fetcher, base: &str, day: &str) -> Result<Fetched> {
    const MAX_PAGES: u32 = 50;
    let limit = config.source.api_limit;
    let mut papers: Vec<crate::model::Paper> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut progress = crate::progress::Progress::new("fetching API pages:", None);
    for page in 0..MAX_PAGES {
        progress.set(page as usize + 1);
        let mut url = url::Url::parse(base)
            .classify(Class::Config, || format!("source url {base:?} is invalid"))?;
        url.query_pairs_mut()
            .append_pair("date", day)
            .append_pair("sort", config.source.api_sort.as_str())
            .append_pair("limit", &limit.to_string())
            .append_pair("p", &page.to_string());
        let url = url.to_string();
        let text = fetcher.get_text(&url).await?;
        let page_papers = parse::parse_api(&text)
            .map_err(|e| e.context(format!("reading {url}")))?
            .papers;
        let count = page_papers.len();
        papers.extend(
            page_papers
                .into_iter()
                .filter(|p| seen.insert(p.id.clone())),
        );
        if count < limit as usize {
            break;
        }
    }
    let listing = Listing {
        papers,
        path: crate::model::ParsePath::Api,
    };
    require_papers(listing, base).map(|listing| Fetched {
        listing,
        origin: base.to_string(),
    })
}

fn require_papers(listing: Listing, origin: &str) -> Result<Listing> {
    if listing.papers.is_empty() {
        return Err(crate::exit::fail(
            Class::PageShape,
            format!("page changed shape: {origin}: no papers on the listing"),
        ));
    }
    Ok(listing)
}

/// Store a fetched listing for `day`, inside the caller's transaction, unless the page-shape
/// guard holds it: a listing far smaller than usual (under `source.shape_guard` times the
/// median of the last `source.shape_guard_window` fetches) is a page that changed shape.
pub fn store_listing(
    store: &Store,
    config: &Config,
    day: NaiveDate,
    fetched: &Fetched,
) -> Result<store::RecordStats> {
    let source = config.source.kind.as_str();
    let found = fetched.listing.papers.len();
    if config.source.shape_guard > 0.0 {
        let mut sizes = store.recent_fetch_sizes(source, config.source.shape_guard_window)?;
        if !sizes.is_empty() {
            sizes.sort_unstable();
            let median = sizes[sizes.len() / 2] as f64;
            if (found as f64) < config.source.shape_guard * median {
                return Err(crate::exit::fail(
                    Class::PageShape,
                    format!(
                        "page changed shape: {}: {found} papers, fewer than {:.0}% of the usual {median:.0} (median of the last {} fetches); holding this run (source.shape_guard = 0 turns this check off)",
                        fetched.origin,
                        config.source.shape_guard * 100.0,
                        sizes.len()
                    ),
                ));
            }
        }
    }
    store.record_listing(day, source, &fetched.origin, &fetched.listing, Utc::now())
}

/// The day a command works on: `--date`, else today in the configured zone.
pub fn day_for(config: &Config, args: &SourceArgs) -> NaiveDate {
    args.date.unwrap_or_else(|| config.zone.today())
}

async fn cmd_fetch(global: &GlobalArgs, args: &SourceArgs) -> Result<()> {
    let config = load_config(global, Some(args))?;
    let day = day_for(&config, args);
    let started = Utc::now();
    let mut report = RunReport::default();
    let result = fetch_and_store(&config, args, day, &mut report).await;
    record_history(&config, "fetch", day, started, &report, &result);
    result
}

async fn fetch_and_store(
    config: &Config,
    args: &SourceArgs,
    day: NaiveDate,
    report: &mut RunReport,
) -> Result<()> {
    let _lock = store::lock(&config.db, config.lock_timeout)?;
    let fetched = fetch_listing(config, args, day).await?;
    let store = Store::open(&config.db)?;
    let tx = store.begin()?;
    let stats = store_listing(&store, config, day, &fetched)?;
    tx.commit()
        .classify(Class::Store, || "cannot commit the fetch".into())?;
    report.papers = Some(stats.papers as i64);
    report.new_papers = Some(stats.new_papers as i64);
    info!(
        "stored {} papers for {day} ({} new papers, {} new sightings) from {}",
        stats.papers, stats.new_papers, stats.new_sightings, fetched.origin
    );
    Ok(())
}

/// What a fetch or run did, filled in as it goes and written to the history at its end.
#[derive(Debug, Default)]
pub struct RunReport {
    pub papers: Option<i64>,
    pub new_papers: Option<i64>,
    pub sent_to: Vec<String>,
}

/// Write a finished fetch or run into the history. A history that cannot be written (the
/// store is what failed, say) is only worth a warning: the run's own outcome stands.
pub fn record_history(
    config: &Config,
    command: &str,
    day: NaiveDate,
    started: chrono::DateTime<Utc>,
    report: &RunReport,
    result: &Result<()>,
) {
    let (outcome, exit_code) = match result {
        Ok(()) => ("ok".to_string(), 0),
        Err(e) => (
            format!("{e:#}").replace(['\r', '\n'], " "),
            crate::exit::exit_code(e).code(),
        ),
    };
    let record = store::RunRecord {
        started_at: started,
        command: command.to_string(),
        day,
        source: config.source.kind.as_str().to_string(),
        papers: report.papers,
        new_papers: report.new_papers,
        sent_to: report.sent_to.clone(),
        outcome,
        exit_code,
    };
    if let Err(e) = Store::open(&config.db).and_then(|s| s.record_run(&record)) {
        tracing::warn!("could not write this run into the history: {e:#}");
    }
}

fn cmd_export(global: &GlobalArgs, args: &ExportArgs) -> Result<()> {
    let config = load_config(global, None)?;
    let store = Store::open_read_only(&config.db)?;
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let filter = PaperFilter {
        since: args.date.or(args.since),
        until: args.date.or(args.until),
        limit: args.limit,
        ledger: store::LedgerFilter::Any,
    };
    match (&args.for_reader, args.format()) {
        (Some(address), _) => export_for_reader(&config, &store, address, args, out),
        (None, ExportFormat::Csv) => crate::export::write_csv(&store, &filter, out),
        (None, ExportFormat::Atom) => {
            let days = match args.date {
                Some(day) => vec![day],
                None => store.listing_days(args.limit.unwrap_or(14) as usize)?,
            };
            crate::export::write_atom(&store, &days, out)
        }
        (None, format) => crate::export::write(&store, &filter, format, out),
    }
}

/// What a reader's profile selects from one day's listing, best first, with scores.
fn export_for_reader(
    config: &Config,
    store: &Store,
    address: &str,
    args: &ExportArgs,
    out: impl std::io::Write,
) -> Result<()> {
    let reader = config
        .mail
        .to
        .iter()
        .find(|r| r.address().eq_ignore_ascii_case(address.trim()))
        .ok_or_else(|| {
            crate::exit::fail(
                Class::Config,
                format!("--for {address}: not one of the configured recipients (mail.to or [[recipient]])"),
            )
        })?;
    let Some(day) = args.date.or(store.latest_day()?) else {
        return crate::export::write(store, &PaperFilter::default(), args.format(), out);
    };
    let listing = store.paper_list(&PaperFilter {
        since: Some(day),
        until: Some(day),
        limit: None,
        ledger: store::LedgerFilter::Any,
    })?;
    let mut chosen = crate::relevance::select(reader.profile.as_ref(), listing);
    if let Some(limit) = args.limit {
        chosen.truncate(limit.min(usize::MAX as u64) as usize);
    }
    let mut writer = crate::export::RecordWriter::new(out, args.format())?;
    for scored in &chosen {
        writer.item(scored)?;
    }
    writer.finish()
}

fn cmd_history(global: &GlobalArgs, args: &HistoryArgs) -> Result<()> {
    let config = load_config(global, None)?;
    let store = Store::open_read_only(&config.db)?;
    let runs = store.runs(args.number)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    use std::io::Write;
    if args.json {
        serde_json::to_writer_pretty(&mut out, &runs)?;
        writeln!(out)?;
        return Ok(());
    }
    if runs.is_empty() {
        eprintln!("digest: no runs recorded yet");
    }
    for r in &runs {
        let papers = match (r.papers, r.new_papers) {
            (Some(p), Some(n)) => format!("{p} papers, {n} new"),
            _ => "listing not read".to_string(),
        };
        let sent = if r.sent_to.is_empty() {
            "no mail".to_string()
        } else {
            format!("mailed {}", r.sent_to.join(", "))
        };
        writeln!(
            out,
            "{}  {:<5}  {}  {:<8}  {}; {}; {}",
            r.started_at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M"),
            r.command,
            r.day,
            r.source,
            papers,
            sent,
            r.outcome
        )?;
    }
    Ok(())
}
