//! Fetch: gets the listing's text over HTTP (retries, backoff, limits) or from a saved file.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use tracing::{debug, warn};

use crate::config::HttpConfig;
use crate::exit::{fail, Class};

pub const USER_AGENT: &str = concat!("digest/", env!("CARGO_PKG_VERSION"), " (paper-digest)");
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// An HTTP client with the configured timeouts, retry policy and body limit.
pub struct Fetcher {
    client: reqwest::Client,
    config: HttpConfig,
}

/// The outcome of one attempt that did not produce a body.
enum AttemptError {
    /// Worth another try, after `wait` if the server said so.
    Retry { why: String, wait: Option<Duration> },
    /// Final: trying again will not help.
    Final(anyhow::Error),
}

impl Fetcher {
    pub fn new(config: &HttpConfig) -> Result<Fetcher> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| fail(Class::Config, format!("cannot set up the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            config: config.clone(),
        })
    }

    /// GET `url` and return its body as text, retrying transient failures.
    pub async fn get_text(&self, url: &str) -> Result<String> {
        let attempts = self.config.retries + 1;
        for attempt in 1..=attempts {
            match self.attempt(url).await {
                Ok(body) => return Ok(body),
                Err(AttemptError::Final(e)) => return Err(e),
                Err(AttemptError::Retry { why, wait }) => {
                    if attempt == attempts {
                        let tries = if attempts == 1 {
                            "1 attempt".to_string()
                        } else {
                            format!("{attempts} attempts")
                        };
                        return Err(fail(
                            Class::SourceUnreachable,
                            format!("source unreachable: {url}: {why} (gave up after {tries})"),
                        ));
                    }
                    let wait = wait
                        .map(|w| w.min(self.config.max_retry_after))
                        .unwrap_or_else(|| backoff(self.config.backoff, attempt));
                    warn!("{url}: {why}; retrying in {:.1}s", wait.as_secs_f64());
                    tokio::time::sleep(wait).await;
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    async fn attempt(&self, url: &str) -> std::result::Result<String, AttemptError> {
        debug!("GET {url}");
        let mut response = match self.client.get(url).send().await {
            Ok(r) => r,
            Err(e) => return Err(classify_request_error(url, &e, self.config.timeout)),
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
        {
            return Err(AttemptError::Retry {
                why: format!("HTTP {status}"),
                wait: retry_after(response.headers()),
            });
        }
        if !status.is_success() {
            return Err(AttemptError::Final(fail(
                Class::SourceUnreachable,
                format!("source unreachable: {url}: HTTP {status}"),
            )));
        }
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(AttemptError::Final(too_large(url, limit)));
        }
        let mut body =
            Vec::with_capacity(response.content_length().unwrap_or(256 * 1024).min(limit) as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err(AttemptError::Final(too_large(url, limit)));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(classify_request_error(url, &e, self.config.timeout)),
            }
        }
        into_text(url, body).map_err(AttemptError::Final)
    }
}

fn too_large(url: &str, limit: u64) -> anyhow::Error {
    fail(
        Class::PageShape,
        format!("page changed shape: {url}: the response is larger than the {limit}-byte limit (http.max_body_bytes)"),
    )
}

fn into_text(origin: &str, body: Vec<u8>) -> Result<String> {
    String::from_utf8(body).map_err(|e| {
        fail(
            Class::PageShape,
            format!(
                "page changed shape: {origin}: the response is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn classify_request_error(url: &str, e: &reqwest::Error, timeout: Duration) -> AttemptError {
    if e.is_redirect() {
        return AttemptError::Final(fail(
            Class::SourceUnreachable,
            format!("source unreachable: {url}: too many redirects"),
        ));
    }
    let why = if e.is_timeout() {
        format!("timed out after {}", humantime::format_duration(timeout))
    } else if e.is_connect() {
        format!("cannot connect ({})", root_cause(e))
    } else if e.is_decode() {
        format!("the response body is corrupt ({})", root_cause(e))
    } else {
        root_cause(e)
    };
    AttemptError::Retry { why, wait: None }
}

/// The innermost error's message: the one that says what actually went wrong.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Exponential backoff with jitter: base * 2^(attempt-1), capped, scaled by a random 50-100 %.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << (attempt - 1).min(16))
        .min(MAX_BACKOFF);
    exp.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// Read a saved page or API answer from a file, or from stdin for `-`.
pub fn read_input(path: &Path, max_bytes: u64) -> Result<String> {
    let shown = path.display().to_string();
    let mut body = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(max_bytes + 1)
            .read_to_end(&mut body)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(max_bytes + 1).read_to_end(&mut body))
    };
    read.map_err(|e| {
        fail(
            Class::SourceUnreachable,
            format!("cannot read input {shown}: {e}"),
        )
    })?;
    if body.len() as u64 > max_bytes {
        return Err(too_large(&shown, max_bytes));
    }
    into_text(&shown, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..=3 {
            let d = backoff(base, attempt);
            let full = base * (1 << (attempt - 1));
            assert!(d >= full / 2 && d <= full, "{d:?} for attempt {attempt}");
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
