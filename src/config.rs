//! Config: defaults, then the TOML file, then `DIGEST_*` environment variables, then flags,
//! merged in one place into one typed, validated [`Config`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::ValueEnum;
use lettre::message::Mailbox;
use serde::Deserialize;
use url::Url;

use crate::exit::{fail, Class};

pub const TRENDING_URL: &str = "https://huggingface.co/papers/trending";
pub const DAILY_URL: &str = "https://huggingface.co/papers/date/{date}";
pub const API_URL: &str = "https://huggingface.co/api/daily_papers";

/// Which listing to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The trending page (https://huggingface.co/papers/trending)
    #[default]
    Trending,
    /// The Daily Papers page of a day (https://huggingface.co/papers/date/YYYY-MM-DD)
    Daily,
    /// The JSON API (https://huggingface.co/api/daily_papers), all pages of a day
    Api,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Trending => "trending",
            SourceKind::Daily => "daily",
            SourceKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum ApiSort {
    #[serde(rename = "trending")]
    #[default]
    Trending,
    #[serde(rename = "publishedAt")]
    PublishedAt,
}

impl ApiSort {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiSort::Trending => "trending",
            ApiSort::PublishedAt => "publishedAt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Smtp,
    Sendmail,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
    /// No encryption (loopback only, unless allow_insecure).
    None,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
            Security::None => "none",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

/// Which text each paper shows under its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    #[default]
    Abstract,
    AiSummary,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

// ---------- the layers: every key optional, unknown keys refused ----------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub db: Option<PathBuf>,
    pub timezone: Option<String>,
    pub templates_dir: Option<PathBuf>,
    pub lock_timeout: Option<String>,
    #[serde(default)]
    pub source: SourceLayer,
    #[serde(default)]
    pub http: HttpLayer,
    #[serde(default)]
    pub mail: MailLayer,
    #[serde(default)]
    pub smtp: SmtpLayer,
    #[serde(default)]
    pub trends: TrendsLayer,
    /// `[[recipient]]` tables: readers with an optional profile.
    pub recipient: Option<Vec<RecipientLayer>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsLayer {
    pub climbing: Option<bool>,
    pub climb_places: Option<i64>,
    pub climb_upvotes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientLayer {
    pub address: String,
    pub name: Option<String>,
    pub profile: Option<ProfileLayer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileLayer {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub organizations: Vec<String>,
    pub min_upvotes: Option<i64>,
    pub min_stars: Option<i64>,
    pub max_papers: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceLayer {
    pub kind: Option<SourceKind>,
    pub url: Option<String>,
    pub api_sort: Option<ApiSort>,
    pub api_limit: Option<u32>,
    pub shape_guard: Option<f64>,
    pub shape_guard_window: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLayer {
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<u32>,
    pub backoff: Option<String>,
    pub max_retry_after: Option<String>,
    pub max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailLayer {
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
    pub transport: Option<Transport>,
    pub send_empty: Option<bool>,
    pub summary: Option<SummaryKind>,
    pub max_authors: Option<usize>,
    pub catch_up_days: Option<u32>,
    pub output_dir: Option<PathBuf>,
    pub sendmail_command: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpLayer {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<Security>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub allow_insecure: Option<bool>,
    pub accept_invalid_certs: Option<bool>,
    pub timeout: Option<String>,
    pub retries: Option<u32>,
    pub backoff: Option<String>,
}

macro_rules! overlay {
    ($base:expr, $top:expr; $($field:ident),* $(,)?) => {
        $( if $top.$field.is_some() { $base.$field = $top.$field; } )*
    };
}

impl Layer {
    /// Put `top`'s keys over `self`'s.
    pub fn overlay(&mut self, top: Layer) {
        overlay!(self, top; db, timezone, templates_dir, lock_timeout, recipient);
        overlay!(self.trends, top.trends; climbing, climb_places, climb_upvotes);
        overlay!(self.source, top.source; kind, url, api_sort, api_limit, shape_guard, shape_guard_window);
        overlay!(self.http, top.http; timeout, connect_timeout, retries, backoff, max_retry_after, max_body_bytes);
        overlay!(self.mail, top.mail; from, to, transport, send_empty, summary, max_authors, catch_up_days, output_dir, sendmail_command);
        overlay!(self.smtp, top.smtp; host, port, security, username, password_file, ca_file, allow_insecure, accept_invalid_certs, timeout, retries, backoff);
    }

    /// The layer the `DIGEST_*` variables make. `get` reads a variable (the process
    /// environment in production, a map in tests). Returns the layer and the names used.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<(Layer, Vec<&'static str>)> {
        let mut used = Vec::new();
        let mut var = |name: &'static str| {
            let v = get(name).filter(|v| !v.is_empty());
            if v.is_some() {
                used.push(name);
            }
            v
        };
        let l = Layer {
            db: var("DIGEST_DB").map(PathBuf::from),
            timezone: var("DIGEST_TIMEZONE"),
            templates_dir: var("DIGEST_TEMPLATES_DIR").map(PathBuf::from),
            lock_timeout: var("DIGEST_LOCK_TIMEOUT"),
            source: SourceLayer {
                kind: env_enum("DIGEST_SOURCE", var("DIGEST_SOURCE"))?,
                url: var("DIGEST_SOURCE_URL"),
                ..SourceLayer::default()
            },
            http: HttpLayer {
                timeout: var("DIGEST_HTTP_TIMEOUT"),
                retries: env_parse("DIGEST_HTTP_RETRIES", var("DIGEST_HTTP_RETRIES"))?,
                backoff: var("DIGEST_HTTP_BACKOFF"),
                ..HttpLayer::default()
            },
            mail: MailLayer {
                from: var("DIGEST_FROM"),
                to: var("DIGEST_TO").map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }),
                transport: env_enum("DIGEST_TRANSPORT", var("DIGEST_TRANSPORT"))?,
                send_empty: env_parse("DIGEST_SEND_EMPTY", var("DIGEST_SEND_EMPTY"))?,
                output_dir: var("DIGEST_OUTPUT_DIR").map(PathBuf::from),
                ..MailLayer::default()
            },
            smtp: SmtpLayer {
                host: var("DIGEST_SMTP_HOST"),
                port: env_parse("DIGEST_SMTP_PORT", var("DIGEST_SMTP_PORT"))?,
                security: env_enum("DIGEST_SMTP_SECURITY", var("DIGEST_SMTP_SECURITY"))?,
                username: var("DIGEST_SMTP_USERNAME"),
                password_file: var("DIGEST_SMTP_PASSWORD_FILE").map(PathBuf::from),
                ca_file: var("DIGEST_SMTP_CA_FILE").map(PathBuf::from),
                allow_insecure: env_parse(
                    "DIGEST_SMTP_ALLOW_INSECURE",
                    var("DIGEST_SMTP_ALLOW_INSECURE"),
                )?,
                accept_invalid_certs: env_parse(
                    "DIGEST_SMTP_ACCEPT_INVALID_CERTS",
                    var("DIGEST_SMTP_ACCEPT_INVALID_CERTS"),
                )?,
                timeout: var("DIGEST_SMTP_TIMEOUT"),
                retries: env_parse("DIGEST_SMTP_RETRIES", var("DIGEST_SMTP_RETRIES"))?,
                backoff: var("DIGEST_SMTP_BACKOFF"),
            },
            trends: TrendsLayer::default(),
            recipient: None,
        };
        Ok((l, used))
    }
}

fn env_parse<T: FromStr>(name: &str, value: Option<String>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    value
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|e| fail(Class::Config, format!("{name}={v:?} is invalid: {e}")))
        })
        .transpose()
}

fn env_enum<T: for<'de> Deserialize<'de>>(name: &str, value: Option<String>) -> Result<Option<T>> {
    value
        .map(|v| {
            T::deserialize(
                serde::de::value::StrDeserializer::<serde::de::value::Error>::new(v.trim()),
            )
            .map_err(|e| fail(Class::Config, format!("{name}={v:?} is invalid: {e}")))
        })
        .transpose()
}

// ---------- the resolved configuration ----------

/// The time zone that decides which day it is.
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    pub fn today(self) -> NaiveDate {
        match self {
            Zone::Local => chrono::Local::now().date_naive(),
            Zone::Named(tz) => Utc::now().with_timezone(&tz).date_naive(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub max_retry_after: Duration,
    pub max_body_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// The URL (a template containing `{date}` for the daily page).
    pub url: String,
    pub api_sort: ApiSort,
    pub api_limit: u32,
    /// Hold a listing with fewer papers than this share of the recent median (0: off).
    pub shape_guard: f64,
    /// How many recent fetches the median is taken over.
    pub shape_guard_window: usize,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub allow_insecure: bool,
    pub accept_invalid_certs: bool,
    pub timeout: Duration,
    /// Retries of one message after a temporary (4xx) answer.
    pub retries: u32,
    pub backoff: Duration,
}

/// A reader: where their digest goes, and what they care about.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub mailbox: Mailbox,
    pub profile: Option<crate::relevance::Profile>,
}

impl Recipient {
    pub fn address(&self) -> String {
        self.mailbox.email.to_string()
    }
}

/// The "Climbing" section: papers already mailed that rose since.
#[derive(Debug, Clone, Copy)]
pub struct TrendsConfig {
    pub climbing: bool,
    pub climb_places: i64,
    pub climb_upvotes: i64,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: Option<Mailbox>,
    /// Every reader: the `[[recipient]]` tables, then `mail.to` addresses not among them.
    pub to: Vec<Recipient>,
    pub transport: Transport,
    pub send_empty: bool,
    pub summary: SummaryKind,
    pub max_authors: usize,
    pub catch_up_days: u32,
    pub output_dir: Option<PathBuf>,
    pub sendmail_command: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub db: PathBuf,
    /// How long a run waits for another run's lock on the store.
    pub lock_timeout: Duration,
    pub zone: Zone,
    pub templates_dir: Option<PathBuf>,
    pub source: SourceConfig,
    pub http: HttpConfig,
    pub mail: MailConfig,
    pub smtp: SmtpConfig,
    pub trends: TrendsConfig,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// The `DIGEST_*` variables that set keys.
    pub env_used: Vec<&'static str>,
}

/// Where the config file is looked for when `--config`/`DIGEST_CONFIG` do not say.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("digest").join("config.toml"))
}

pub fn default_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("digest")
        .join("digest.db")
}

/// Read the config file: an explicit path must exist; the default path may be absent.
pub fn read_file_layer(explicit: Option<&Path>) -> Result<(Layer, Option<PathBuf>)> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok((Layer::default(), None)),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Layer::default(), None))
        }
        Err(e) => {
            return Err(fail(
                Class::Config,
                format!("cannot read config file {}: {e}", path.display()),
            ))
        }
    };
    warn_if_shared(&path, "config file");
    let layer: Layer = toml::from_str(&text).map_err(|e| {
        fail(
            Class::Config,
            format!(
                "invalid config file {}: {}",
                path.display(),
                one_line(&e.to_string())
            ),
        )
    })?;
    Ok((layer, Some(path)))
}

/// Warn when a file that may hold secrets can be read by group or others.
fn warn_if_shared(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    "{what} {} is readable by other users; run: chmod 600 {}",
                    path.display(),
                    path.display()
                );
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

fn duration(key: &str, value: Option<&str>, default: Duration) -> Result<Duration> {
    match value {
        None => Ok(default),
        Some(v) => humantime::parse_duration(v.trim()).map_err(|e| {
            fail(
                Class::Config,
                format!("{key} = {v:?} is not a duration like \"30s\" or \"2m\": {e}"),
            )
        }),
    }
}

fn mailbox(key: &str, value: &str) -> Result<Mailbox> {
    value.trim().parse().map_err(|e| {
        fail(
            Class::Config,
            format!("{key}: {value:?} is not a valid email address: {e}"),
        )
    })
}

/// The readers: `[[recipient]]` tables first, then `mail.to` addresses not already listed.
fn recipients(tables: Vec<RecipientLayer>, to: Vec<String>) -> Result<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    for (i, r) in tables.into_iter().enumerate() {
        let key = format!("recipient[{i}].address");
        let mut mb = mailbox(&key, &r.address)?;
        if let Some(name) = r.name {
            mb.name = Some(name);
        }
        let profile = r.profile.map(|p| profile(i, p)).transpose()?;
        out.push(Recipient {
            mailbox: mb,
            profile,
        });
    }
    for t in to {
        let mb = mailbox("mail.to", &t)?;
        if !out.iter().any(|r| r.mailbox.email == mb.email) {
            out.push(Recipient {
                mailbox: mb,
                profile: None,
            });
        }
    }
    Ok(out)
}

fn profile(i: usize, p: ProfileLayer) -> Result<crate::relevance::Profile> {
    use crate::relevance::Phrase;
    let phrases = |key: &str, list: Vec<String>| -> Result<Vec<Phrase>> {
        list.iter()
            .map(|k| {
                Phrase::new(k).ok_or_else(|| {
                    fail(
                        Class::Config,
                        format!("recipient[{i}].profile.{key}: {k:?} has no words to match"),
                    )
                })
            })
            .collect()
    };
    Ok(crate::relevance::Profile {
        include: phrases("include", p.include)?,
        exclude: phrases("exclude", p.exclude)?,
        authors: p.authors,
        organizations: p.organizations,
        min_upvotes: p.min_upvotes,
        min_stars: p.min_stars,
        max_papers: p.max_papers,
    })
}

impl Config {
    /// Resolve the merged layer into a typed configuration. `password` is the value of
    /// `DIGEST_SMTP_PASSWORD`, which only the environment may carry.
    pub fn resolve(
        layer: Layer,
        password: Option<String>,
        file: Option<PathBuf>,
        env_used: Vec<&'static str>,
    ) -> Result<Config> {
        let zone = match layer.timezone.as_deref() {
            None | Some("") | Some("local") => Zone::Local,
            Some(name) => Zone::Named(name.parse().map_err(|_| {
                fail(
                    Class::Config,
                    format!(
                        "timezone = {name:?} is not an IANA time zone name like \"Europe/Berlin\""
                    ),
                )
            })?),
        };
        let kind = layer.source.kind.unwrap_or_default();
        let url = layer.source.url.unwrap_or_else(|| {
            match kind {
                SourceKind::Trending => TRENDING_URL,
                SourceKind::Daily => DAILY_URL,
                SourceKind::Api => API_URL,
            }
            .to_string()
        });
        let probe = url.replace("{date}", "2000-01-01");
        match Url::parse(&probe) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(fail(
                    Class::Config,
                    format!("source url {url:?} is not an http(s) URL"),
                ))
            }
        }
        let api_limit = layer.source.api_limit.unwrap_or(100);
        if !(1..=100).contains(&api_limit) {
            return Err(fail(
                Class::Config,
                "source.api_limit must be between 1 and 100",
            ));
        }
        let shape_guard = layer.source.shape_guard.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&shape_guard) {
            return Err(fail(
                Class::Config,
                "source.shape_guard must be between 0 (off) and 1",
            ));
        }
        let http = HttpConfig {
            timeout: duration(
                "http.timeout",
                layer.http.timeout.as_deref(),
                Duration::from_secs(30),
            )?,
            connect_timeout: duration(
                "http.connect_timeout",
                layer.http.connect_timeout.as_deref(),
                Duration::from_secs(10),
            )?,
            retries: layer.http.retries.unwrap_or(3),
            backoff: duration(
                "http.backoff",
                layer.http.backoff.as_deref(),
                Duration::from_millis(500),
            )?,
            max_retry_after: duration(
                "http.max_retry_after",
                layer.http.max_retry_after.as_deref(),
                Duration::from_secs(60),
            )?,
            max_body_bytes: layer.http.max_body_bytes.unwrap_or(20 * 1024 * 1024),
        };
        let password = match (password, &layer.smtp.password_file) {
            (Some(p), _) => Some(Secret::new(p)),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    fail(
                        Class::Config,
                        format!("cannot read smtp.password_file {}: {e}", path.display()),
                    )
                })?;
                warn_if_shared(path, "smtp.password_file");
                Some(Secret::new(text.trim_end_matches(['\r', '\n']).to_string()))
            }
            (None, None) => None,
        };
        let security = layer.smtp.security.unwrap_or_default();
        let smtp = SmtpConfig {
            host: layer.smtp.host.filter(|h| !h.trim().is_empty()),
            port: layer.smtp.port.unwrap_or(security.default_port()),
            security,
            username: layer.smtp.username,
            password,
            ca_file: layer.smtp.ca_file,
            allow_insecure: layer.smtp.allow_insecure.unwrap_or(false),
            accept_invalid_certs: layer.smtp.accept_invalid_certs.unwrap_or(false),
            timeout: duration(
                "smtp.timeout",
                layer.smtp.timeout.as_deref(),
                Duration::from_secs(60),
            )?,
            retries: layer.smtp.retries.unwrap_or(3),
            backoff: duration(
                "smtp.backoff",
                layer.smtp.backoff.as_deref(),
                Duration::from_secs(5),
            )?,
        };
        let mail = MailConfig {
            from: layer
                .mail
                .from
                .as_deref()
                .map(|f| mailbox("mail.from", f))
                .transpose()?,
            to: recipients(
                layer.recipient.unwrap_or_default(),
                layer.mail.to.unwrap_or_default(),
            )?,
            transport: layer.mail.transport.unwrap_or_default(),
            send_empty: layer.mail.send_empty.unwrap_or(false),
            summary: layer.mail.summary.unwrap_or_default(),
            max_authors: layer.mail.max_authors.unwrap_or(3).max(1),
            catch_up_days: layer.mail.catch_up_days.unwrap_or(7),
            output_dir: layer.mail.output_dir,
            sendmail_command: layer.mail.sendmail_command,
        };
        Ok(Config {
            db: layer.db.unwrap_or_else(default_db_path),
            lock_timeout: duration(
                "lock_timeout",
                layer.lock_timeout.as_deref(),
                Duration::from_secs(300),
            )?,
            zone,
            templates_dir: layer.templates_dir,
            source: SourceConfig {
                kind,
                url,
                api_sort: layer.source.api_sort.unwrap_or_default(),
                api_limit,
                shape_guard,
                shape_guard_window: layer.source.shape_guard_window.unwrap_or(7).max(1),
            },
            http,
            mail,
            smtp,
            trends: TrendsConfig {
                climbing: layer.trends.climbing.unwrap_or(true),
                climb_places: layer.trends.climb_places.unwrap_or(5).max(1),
                climb_upvotes: layer.trends.climb_upvotes.unwrap_or(50).max(1),
            },
            file,
            env_used,
        })
    }

    /// Check that a real (not dry) run has what it needs to deliver, naming every
    /// missing key, its variable, and the file that was read.
    pub fn check_delivery(&self) -> Result<()> {
        let mut missing = Vec::new();
        if self.mail.from.is_none() {
            missing.push("mail.from (DIGEST_FROM)");
        }
        if self.mail.to.is_empty() {
            missing.push("mail.to (DIGEST_TO) or [[recipient]]");
        }
        match self.mail.transport {
            Transport::Smtp if self.smtp.host.is_none() => {
                missing.push("smtp.host (DIGEST_SMTP_HOST)")
            }
            Transport::File if self.mail.output_dir.is_none() => {
                missing.push("mail.output_dir (DIGEST_OUTPUT_DIR)")
            }
            _ => {}
        }
        if self.mail.transport == Transport::Smtp
            && self.smtp.username.is_some()
            && self.smtp.password.is_none()
        {
            missing
                .push("a password for smtp.username (DIGEST_SMTP_PASSWORD or smtp.password_file)");
        }
        if missing.is_empty() {
            return Ok(());
        }
        let read = match &self.file {
            Some(f) => format!("read {}", f.display()),
            None => match default_config_path() {
                Some(p) => format!("no config file at {}", p.display()),
                None => "no config file".to_string(),
            },
        };
        Err(fail(
            Class::Config,
            format!("cannot deliver: missing {} ({read})", missing.join(", ")),
        ))
    }
}

/// Build the configuration from every layer: the file (`--config`, `DIGEST_CONFIG` or the
/// default path), the process's `DIGEST_*` variables, then the flags' layer.
pub fn load(explicit_file: Option<&Path>, flags: Layer) -> Result<Config> {
    let (mut layer, file) = read_file_layer(explicit_file)?;
    let (env_layer, env_used) = Layer::from_env(|k| std::env::var(k).ok())?;
    layer.overlay(env_layer);
    layer.overlay(flags);
    let password = std::env::var("DIGEST_SMTP_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    Config::resolve(layer, password, file, env_used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let mut layer: Layer = toml::from_str(
            "db = \"/file.db\"\n[smtp]\nhost = \"file.example\"\nport = 2525\n[mail]\nto = [\"a@x.org\"]\n",
        )
        .unwrap();
        let (env_layer, used) = Layer::from_env(env(&[
            ("DIGEST_SMTP_HOST", "env.example"),
            ("DIGEST_TO", "b@x.org, c@x.org"),
        ]))
        .unwrap();
        layer.overlay(env_layer);
        let flags = Layer {
            db: Some("/flag.db".into()),
            ..Layer::default()
        };
        layer.overlay(flags);
        let c = Config::resolve(layer, None, None, used.clone()).unwrap();
        assert_eq!(c.db, PathBuf::from("/flag.db"));
        assert_eq!(c.smtp.host.as_deref(), Some("env.example"));
        assert_eq!(c.smtp.port, 2525);
        assert_eq!(c.mail.to.len(), 2);
        assert_eq!(c.mail.to[1].address(), "c@x.org");
        assert_eq!(used, vec!["DIGEST_TO", "DIGEST_SMTP_HOST"]);
        assert_eq!(c.http.timeout, Duration::from_secs(30));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<Layer>("[smtp]\nhots = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `hots`"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let layer: Layer = toml::from_str("[http]\ntimeout = \"soon\"\n").unwrap();
        let err = Config::resolve(layer, None, None, vec![]).unwrap_err();
        assert!(format!("{err:#}").contains("http.timeout"), "{err:#}");
        let err = Layer::from_env(env(&[("DIGEST_SMTP_PORT", "many")])).unwrap_err();
        assert!(format!("{err:#}").contains("DIGEST_SMTP_PORT"));
        let layer: Layer = toml::from_str("[mail]\nfrom = \"not an address\"\n").unwrap();
        let err = Config::resolve(layer, None, None, vec![]).unwrap_err();
        assert!(format!("{err:#}").contains("mail.from"), "{err:#}");
    }

    #[test]
    fn missing_delivery_keys_are_all_named() {
        let c =
            Config::resolve(Layer::default(), None, Some("/etc/d.toml".into()), vec![]).unwrap();
        let err = format!("{:#}", c.check_delivery().unwrap_err());
        assert!(
            err.contains("mail.from") && err.contains("mail.to") && err.contains("smtp.host"),
            "{err}"
        );
        assert!(err.contains("/etc/d.toml"), "{err}");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
