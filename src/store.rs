//! Store: the SQLite file that holds papers, daily sightings, fetches and the delivery ledger.
//! Every SQL statement of the program lives here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
};
use serde::Serialize;

use crate::exit::{fail, Class, ResultExt};
use crate::model::{Listing, Paper};

/// The numbered migrations in migrations/, in order. Append only: never edit a released one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_papers_and_sightings",
        include_str!("../migrations/0001_papers_and_sightings.sql"),
    ),
    (
        "0002_delivery_ledger",
        include_str!("../migrations/0002_delivery_ledger.sql"),
    ),
    ("0003_runs", include_str!("../migrations/0003_runs.sql")),
];

/// The schema version this binary writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const DAY_FORMAT: &str = "%Y-%m-%d";

pub fn day_text(day: NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

fn parse_day(s: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, DAY_FORMAT).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What one fetch added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordStats {
    pub papers: usize,
    pub new_papers: usize,
    pub new_sightings: usize,
}

/// A stored paper with what the sightings say about it, as of a reference day.
#[derive(Debug, Clone, Serialize)]
pub struct PaperRecord {
    #[serde(flatten)]
    pub paper: Paper,
    pub hf_url: String,
    pub arxiv_url: String,
    pub pdf_url: String,
    pub first_seen: NaiveDate,
    pub last_seen: NaiveDate,
    pub days_on_list: i64,
    pub best_rank: i64,
    /// Rank on `last_seen` (the reference day).
    pub rank: i64,
    /// Rank on the store's previous listing before `last_seen`; absent if it was not on it.
    pub previous_rank: Option<i64>,
    /// Places gained since that listing (`previous_rank - rank`; negative: fell).
    pub rank_change: Option<i64>,
    /// Upvotes gained since that listing.
    pub upvotes_gained: Option<i64>,
    /// GitHub stars gained since that listing.
    pub stars_gained: Option<i64>,
    /// `new` (not on the previous listing), `up`, `down` or `same`.
    pub trend: Trend,
    /// For a paper already mailed to the reader a selection is for: how it stood then.
    #[serde(skip)]
    pub mailed: Option<Mailed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    New,
    Up,
    Down,
    Same,
}

/// Rank and upvotes a paper had when it was last mailed to a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mailed {
    pub rank: Option<i64>,
    pub upvotes: i64,
}

/// Which papers an export or selection covers: those seen on the listing between
/// `since` and `until` (inclusive), with their statistics as of `until`.
#[derive(Debug, Clone, Default)]
pub struct PaperFilter {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub limit: Option<u64>,
    pub ledger: LedgerFilter,
}

/// What the delivery ledger says about the papers to select, for one reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LedgerFilter {
    /// Every paper, whatever was mailed.
    #[default]
    Any,
    /// Papers never mailed to this reader.
    NotDeliveredTo(String),
    /// Papers mailed to this reader before that have since risen at least `places` ranks
    /// or gained at least `upvotes` upvotes.
    ClimbedFor {
        recipient: String,
        places: i64,
        upvotes: i64,
    },
}

/// One fetch or daily run, for `digest history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub started_at: DateTime<Utc>,
    /// `run` or `fetch`
    pub command: String,
    pub day: NaiveDate,
    pub source: String,
    pub papers: Option<i64>,
    pub new_papers: Option<i64>,
    /// Readers whose digest the mail server accepted.
    pub sent_to: Vec<String>,
    /// `ok`, or the error line.
    pub outcome: String,
    pub exit_code: i32,
}

/// A digest the mail server accepted, to be written into the ledger.
#[derive(Debug, Clone)]
pub struct AcceptedDigest<'a> {
    pub recipient: &'a str,
    pub day: NaiveDate,
    pub message_id: &'a str,
    pub sent_at: DateTime<Utc>,
    pub transport: &'a str,
    pub papers: &'a [PaperRecord],
}

impl Store {
    /// Open (creating if needed) the store for reading and writing, and apply pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let what = || format!("cannot open the store {}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).classify(Class::Store, what)?;
        }
        create_private_file(path).classify(Class::Store, what)?;
        let conn = Connection::open(path).classify(Class::Store, what)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure().classify(Class::Store, what)?;
        store.migrate().classify(Class::Store, what)?;
        Ok(store)
    }

    /// Open an existing store read-only (for exports). It must already be at this binary's schema.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let what = || format!("cannot open the store {}", path.display());
        if !path.exists() {
            return Err(fail(
                Class::Store,
                format!("no store at {} (run `digest fetch` first)", path.display()),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .classify(Class::Store, what)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store
            .conn
            .busy_timeout(Duration::from_secs(10))
            .classify(Class::Store, what)?;
        let version = store.schema_version().classify(Class::Store, what)?;
        if version != SCHEMA_VERSION {
            return Err(fail(
                Class::Store,
                format!(
                    "the store {} has schema version {version}, this digest expects {SCHEMA_VERSION} (run `digest fetch` to upgrade it)",
                    path.display()
                ),
            ));
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        if let Some(pages) = crate::faults::max_pages() {
            self.conn.pragma_update(None, "max_page_count", pages)?;
        }
        Ok(())
    }

    pub fn schema_version(&self) -> rusqlite::Result<usize> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map(|v| v as usize)
    }

    fn migrate(&self) -> Result<()> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            anyhow::bail!(
                "its schema version {current} is newer than this digest knows ({SCHEMA_VERSION}); upgrade digest"
            );
        }
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)
                .with_context(|| format!("migration {name} failed"))?;
            tx.pragma_update(None, "user_version", (index + 1) as i64)?;
            tx.commit()?;
            tracing::debug!("applied migration {name}");
        }
        Ok(())
    }

    /// Start a write transaction. Statements run through `self` join it; dropping it
    /// without [`Transaction::commit`] rolls everything back (dry runs rely on that).
    pub fn begin(&self) -> Result<Transaction<'_>> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .classify(Class::Store, || "cannot start a store transaction".into())
    }

    /// Store one day's listing: papers upserted (newest values win, missing optional
    /// fields keep what was known), one sighting per paper for `day` (a later fetch of the
    /// same day updates its rank, upvotes and stars),
    /// and a row in `fetches`. Run it inside [`Store::begin`].
    pub fn record_listing(
        &self,
        day: NaiveDate,
        source: &str,
        url: &str,
        listing: &Listing,
        now: DateTime<Utc>,
    ) -> Result<RecordStats> {
        let day = day_text(day);
        let now_text = now.to_rfc3339();
        let mut exists = self
            .conn
            .prepare_cached("SELECT 1 FROM papers WHERE id = ?1")?;
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO papers (id, title, abstract, authors, published_at, submitted_at, upvotes,
                 comments, github_repo, github_stars, project_page, ai_summary, ai_keywords,
                 organization, thumbnail, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT(id) DO UPDATE SET
                 title = excluded.title,
                 abstract = CASE WHEN excluded.abstract = '' THEN papers.abstract ELSE excluded.abstract END,
                 authors = CASE WHEN excluded.authors = '[]' THEN papers.authors ELSE excluded.authors END,
                 published_at = COALESCE(excluded.published_at, papers.published_at),
                 submitted_at = COALESCE(excluded.submitted_at, papers.submitted_at),
                 upvotes = excluded.upvotes,
                 comments = COALESCE(excluded.comments, papers.comments),
                 github_repo = COALESCE(excluded.github_repo, papers.github_repo),
                 github_stars = COALESCE(excluded.github_stars, papers.github_stars),
                 project_page = COALESCE(excluded.project_page, papers.project_page),
                 ai_summary = COALESCE(excluded.ai_summary, papers.ai_summary),
                 ai_keywords = CASE WHEN excluded.ai_keywords = '[]' THEN papers.ai_keywords ELSE excluded.ai_keywords END,
                 organization = COALESCE(excluded.organization, papers.organization),
                 thumbnail = COALESCE(excluded.thumbnail, papers.thumbnail),
                 updated_at = excluded.updated_at",
        )?;
        let mut sighted = self
            .conn
            .prepare_cached("SELECT 1 FROM sightings WHERE paper_id = ?1 AND day = ?2")?;
        let mut sight = self.conn.prepare_cached(
            "INSERT INTO sightings (paper_id, day, rank, upvotes, github_stars)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(paper_id, day) DO UPDATE SET
                 rank = excluded.rank,
                 upvotes = excluded.upvotes,
                 github_stars = COALESCE(excluded.github_stars, sightings.github_stars)",
        )?;
        let mut stats = RecordStats {
            papers: listing.papers.len(),
            new_papers: 0,
            new_sightings: 0,
        };
        for (index, p) in listing.papers.iter().enumerate() {
            if !exists.exists([&p.id])? {
                stats.new_papers += 1;
            }
            upsert.execute(params![
                p.id,
                p.title,
                p.abstract_text,
                serde_json::to_string(&p.authors)?,
                p.published_at.map(|t| t.to_rfc3339()),
                p.submitted_at.map(|t| t.to_rfc3339()),
                p.upvotes,
                p.comments,
                p.github_repo,
                p.github_stars,
                p.project_page,
                p.ai_summary,
                serde_json::to_string(&p.ai_keywords)?,
                p.organization,
                p.thumbnail,
                now_text,
            ])?;
            if !sighted.exists(params![p.id, day])? {
                stats.new_sightings += 1;
            }
            sight.execute(params![
                p.id,
                day,
                (index + 1) as i64,
                p.upvotes,
                p.github_stars
            ])?;
        }
        self.conn.execute(
            "INSERT INTO fetches (day, fetched_at, source, url, parse_path, papers, new_papers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                day,
                now_text,
                source,
                url,
                listing.path.as_str(),
                stats.papers as i64,
                stats.new_papers as i64
            ],
        )?;
        Ok(stats)
    }

    /// The latest `n` days the store has a listing for, newest first.
    pub fn listing_days(&self, n: usize) -> Result<Vec<NaiveDate>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT day FROM sightings ORDER BY day DESC LIMIT ?1")?;
        let days = stmt
            .query_map([n as i64], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(days
            .iter()
            .map(|d| parse_day(d))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The latest day the store has a listing for.
    pub fn latest_day(&self) -> Result<Option<NaiveDate>> {
        let day: Option<String> =
            self.conn
                .query_row("SELECT MAX(day) FROM sightings", [], |r| r.get(0))?;
        Ok(day.map(|d| parse_day(&d)).transpose()?)
    }

    /// How many papers the last `n` successful fetches of `source` found, newest first.
    pub fn recent_fetch_sizes(&self, source: &str, n: usize) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT papers FROM fetches WHERE source = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let sizes = stmt
            .query_map(params![source, n as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(sizes)
    }

    /// Papers seen between `filter.since` and `filter.until`, newest listing first and in
    /// rank order within a day, streamed one at a time to `each`.
    pub fn papers(
        &self,
        filter: &PaperFilter,
        mut each: impl FnMut(PaperRecord) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "WITH seen AS (
                 SELECT DISTINCT paper_id FROM sightings WHERE day BETWEEN ?1 AND ?2
             ),
             stats AS (
                 SELECT s.paper_id, MIN(s.day) AS first_seen, MAX(s.day) AS last_seen,
                        COUNT(*) AS days_on_list, MIN(s.rank) AS best_rank
                 FROM seen JOIN sightings s ON s.paper_id = seen.paper_id
                 WHERE s.day <= ?2
                 GROUP BY s.paper_id
             )
             SELECT p.id, p.title, p.abstract, p.authors, p.published_at, p.submitted_at,
                    s.upvotes, p.comments, p.github_repo, COALESCE(s.github_stars, p.github_stars),
                    p.project_page, p.ai_summary, p.ai_keywords, p.organization, p.thumbnail,
                    st.first_seen, st.last_seen, st.days_on_list, st.best_rank, s.rank,
                    prev.rank, s.upvotes - prev.upvotes, s.github_stars - prev.github_stars,
                    m.rank, m.upvotes
             FROM stats st
             JOIN papers p ON p.id = st.paper_id
             JOIN sightings s ON s.paper_id = st.paper_id AND s.day = st.last_seen
             LEFT JOIN sightings prev ON prev.paper_id = st.paper_id
                 AND prev.day = (SELECT MAX(day) FROM sightings WHERE day < st.last_seen)
             LEFT JOIN deliveries m ON m.recipient = ?3 AND m.paper_id = p.id
                 AND m.digest_id = (SELECT MAX(digest_id) FROM deliveries
                                    WHERE recipient = ?3 AND paper_id = p.id)
             WHERE CASE ?5
                 WHEN 'any' THEN 1
                 WHEN 'new' THEN m.paper_id IS NULL
                 ELSE m.paper_id IS NOT NULL
                      AND (m.rank - s.rank >= ?6 OR s.upvotes - m.upvotes >= ?7)
             END
             ORDER BY st.last_seen DESC, s.rank ASC, p.id ASC
             LIMIT ?4",
        )?;
        let since = filter.since.map(day_text).unwrap_or_default();
        let until = filter
            .until
            .map(day_text)
            .unwrap_or_else(|| "9999-12-31".into());
        let limit = filter
            .limit
            .map(|l| l.min(i64::MAX as u64) as i64)
            .unwrap_or(-1);
        let (mode, recipient, places, upvotes) = match &filter.ledger {
            LedgerFilter::Any => ("any", None, 0, 0),
            LedgerFilter::NotDeliveredTo(r) => ("new", Some(r.as_str()), 0, 0),
            LedgerFilter::ClimbedFor {
                recipient,
                places,
                upvotes,
            } => ("climbed", Some(recipient.as_str()), *places, *upvotes),
        };
        let mut rows = stmt.query(params![
            since, until, recipient, limit, mode, places, upvotes
        ])?;
        while let Some(row) = rows.next()? {
            each(paper_record(row)?)?;
        }
        Ok(())
    }

    /// The same as [`Store::papers`], collected.
    pub fn paper_list(&self, filter: &PaperFilter) -> Result<Vec<PaperRecord>> {
        let mut out = Vec::new();
        self.papers(filter, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first day `address` is mailed for, if it has been mailed (or attempted) before.
    pub fn recipient_since(&self, address: &str) -> Result<Option<NaiveDate>> {
        let day: Option<String> = self
            .conn
            .query_row(
                "SELECT since_day FROM recipients WHERE address = ?1",
                [address],
                |r| r.get(0),
            )
            .optional()?;
        Ok(day.map(|d| parse_day(&d)).transpose()?)
    }

    /// Remember `address` as a reader from `day` on (kept if already known).
    pub fn add_recipient(&self, address: &str, day: NaiveDate) -> Result<()> {
        self.conn.execute(
            "INSERT INTO recipients (address, since_day) VALUES (?1, ?2)
             ON CONFLICT(address) DO NOTHING",
            params![address, day_text(day)],
        )?;
        Ok(())
    }

    /// Write an accepted digest and its papers into the ledger, in one transaction.
    pub fn record_digest(&self, digest: &AcceptedDigest) -> Result<()> {
        let tx = self.begin()?;
        tx.execute(
            "INSERT INTO digests (recipient, day, message_id, sent_at, transport, papers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                digest.recipient,
                day_text(digest.day),
                digest.message_id,
                digest.sent_at.to_rfc3339(),
                digest.transport,
                digest.papers.len() as i64
            ],
        )?;
        let digest_id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO deliveries (digest_id, recipient, paper_id, rank, upvotes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in digest.papers {
                stmt.execute(params![
                    digest_id,
                    digest.recipient,
                    p.paper.id,
                    p.rank,
                    p.paper.upvotes
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Write a run into the history.
    pub fn record_run(&self, run: &RunRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO runs (started_at, command, day, source, papers, new_papers, sent_to,
                               outcome, exit_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run.started_at.to_rfc3339(),
                run.command,
                day_text(run.day),
                run.source,
                run.papers,
                run.new_papers,
                serde_json::to_string(&run.sent_to)?,
                run.outcome,
                run.exit_code
            ],
        )?;
        Ok(())
    }

    /// The last `n` runs, newest first.
    pub fn runs(&self, n: usize) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT started_at, command, day, source, papers, new_papers, sent_to, outcome,
                    exit_code
             FROM runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([n as i64], |r| {
            let started: String = r.get(0)?;
            let sent: String = r.get(6)?;
            Ok(RunRecord {
                started_at: DateTime::parse_from_rfc3339(&started)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default(),
                command: r.get(1)?,
                day: parse_day(&r.get::<_, String>(2)?)?,
                source: r.get(3)?,
                papers: r.get(4)?,
                new_papers: r.get(5)?,
                sent_to: serde_json::from_str(&sent).unwrap_or_default(),
                outcome: r.get(7)?,
                exit_code: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many papers the store holds.
    pub fn paper_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM papers", [], |r| r.get(0))?)
    }

    /// How many digests the ledger holds for `recipient` (all recipients when `None`).
    pub fn digest_count(&self, recipient: Option<&str>) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM digests WHERE ?1 IS NULL OR recipient = ?1",
            [recipient],
            |r| r.get(0),
        )?)
    }
}

fn paper_record(row: &Row) -> rusqlite::Result<PaperRecord> {
    let json_list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        let text: Option<String> = row.get(i)?;
        Ok(text
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    };
    let paper = Paper {
        id: row.get(0)?,
        title: row.get(1)?,
        abstract_text: row.get(2)?,
        authors: json_list(3)?,
        published_at: time(4)?,
        submitted_at: time(5)?,
        upvotes: row.get(6)?,
        comments: row.get(7)?,
        github_repo: row.get(8)?,
        github_stars: row.get(9)?,
        project_page: row.get(10)?,
        ai_summary: row.get(11)?,
        ai_keywords: json_list(12)?,
        organization: row.get(13)?,
        thumbnail: row.get(14)?,
    };
    let rank: i64 = row.get(19)?;
    let previous_rank: Option<i64> = row.get(20)?;
    Ok(PaperRecord {
        hf_url: paper.hf_url(),
        arxiv_url: paper.arxiv_url(),
        pdf_url: paper.pdf_url(),
        paper,
        first_seen: parse_day(&row.get::<_, String>(15)?)?,
        last_seen: parse_day(&row.get::<_, String>(16)?)?,
        days_on_list: row.get(17)?,
        best_rank: row.get(18)?,
        rank,
        previous_rank,
        rank_change: previous_rank.map(|p| p - rank),
        upvotes_gained: row.get(21)?,
        stars_gained: row.get(22)?,
        trend: match previous_rank {
            None => Trend::New,
            Some(p) if p > rank => Trend::Up,
            Some(p) if p < rank => Trend::Down,
            Some(_) => Trend::Same,
        },
        mailed: match row.get::<_, Option<i64>>(24)? {
            Some(upvotes) => Some(Mailed {
                rank: row.get(23)?,
                upvotes,
            }),
            None => None,
        },
    })
}

/// An exclusive hold on the store for one writing run, released when dropped (or when the
/// process dies: the OS drops the lock with the file descriptor).
#[derive(Debug)]
pub struct StoreLock {
    _file: std::fs::File,
}

/// Take the store's lock (`<db>.lock`), waiting up to `wait` for another run to finish.
/// The holder's pid is written into the lock file so that a waiter can name it.
pub fn lock(db: &Path, wait: Duration) -> Result<StoreLock> {
    use std::io::{Read, Seek, Write};
    let path = PathBuf::from(format!("{}.lock", db.display()));
    let what = || format!("cannot open the lock file {}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).classify(Class::Store, what)?;
    }
    create_private_file(&path).classify(Class::Store, what)?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .classify(Class::Store, what)?;
    let started = std::time::Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.rewind().and_then(|_| file.read_to_string(&mut holder));
                let holder = holder.trim();
                let holder = if holder.is_empty() { "unknown" } else { holder };
                if started.elapsed() >= wait {
                    return Err(fail(
                        Class::Locked,
                        format!(
                            "another digest run (pid {holder}) is using the store {}; gave up after {}",
                            db.display(),
                            humantime::format_duration(Duration::from_secs(wait.as_secs()))
                        ),
                    ));
                }
                if !announced {
                    tracing::info!("waiting for another digest run (pid {holder}) to finish");
                    announced = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).classify(Class::Store, || format!("cannot lock {}", path.display()))
            }
        }
    }
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .and_then(|_| file.flush())
        .classify(Class::Store, what)?;
    Ok(StoreLock { _file: file })
}

/// Create the database file readable by its owner only, if it does not exist yet.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_list_matches_the_directory() {
        let mut files: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|(n, _)| format!("{n}.sql")).collect();
        assert_eq!(files, listed);
        for (i, name) in listed.iter().enumerate() {
            assert!(
                name.starts_with(&format!("{:04}_", i + 1)),
                "{name} is out of sequence"
            );
        }
    }
}
