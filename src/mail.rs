//! Mail: turns a rendered digest into the MIME message for one reader (multipart/alternative,
//! text then HTML, encoded so that no line exceeds the SMTP limit).

use std::time::SystemTime;

use anyhow::Result;
use chrono::NaiveDate;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use crate::exit::{fail, Class};
use crate::render::Rendered;

/// A message ready to go to one reader.
#[derive(Debug, Clone)]
pub struct Composed {
    pub recipient: Mailbox,
    pub message_id: String,
    pub rendered: Rendered,
    pub message: Message,
}

/// Build the message for `to`. The Message-ID is fresh for every message; the ledger keeps it.
pub fn compose(
    from: &Mailbox,
    to: &Mailbox,
    rendered: Rendered,
    day: NaiveDate,
) -> Result<Composed> {
    let domain = header_safe_domain(from);
    let message_id = format!(
        "<digest.{}.{:016x}@{domain}>",
        day.format("%Y%m%d"),
        fastrand::u64(..)
    );
    let mut message = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(rendered.subject.clone())
        .date(SystemTime::now())
        .message_id(Some(message_id.clone()))
        .user_agent(format!("digest/{}", env!("CARGO_PKG_VERSION")))
        .multipart(MultiPart::alternative_plain_html(
            crlf(&rendered.text),
            crlf(&rendered.html),
        ))
        .map_err(|e| {
            fail(
                Class::Config,
                format!("cannot build the message for {to}: {e}"),
            )
        })?;
    let headers = message.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Id"),
        format!("Trending papers digest <trending-papers.{domain}>"),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_string(),
    ));
    Ok(Composed {
        recipient: to.clone(),
        message_id,
        rendered,
        message,
    })
}

/// The text with CRLF line ends, in one pass. (lettre would convert it too, but by inserting
/// one `\r` at a time, which is quadratic in the size of the body.)
fn crlf(text: &str) -> String {
    if !text.contains('\r') {
        return text.replace('\n', "\r\n");
    }
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut last = '\0';
    for c in text.chars() {
        if c == '\n' && last != '\r' {
            out.push('\r');
        }
        out.push(c);
        last = c;
    }
    out
}

/// The sender's domain, reduced to characters that are safe in any header.
fn header_safe_domain(from: &Mailbox) -> String {
    let domain: String = from
        .email
        .domain()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    if domain.is_empty() {
        "localhost".to_string()
    } else {
        domain
    }
}

/// What a dry run shows: the message's headers exactly as they would be sent, a blank
/// line, then the text part (decoded, as a mail client would show it).
pub fn preview(composed: &Composed) -> String {
    let raw = composed.message.formatted();
    let raw = String::from_utf8_lossy(&raw);
    let headers = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut out = String::with_capacity(headers.len() + composed.rendered.text.len() + 8);
    out.push_str(&headers.replace("\r\n", "\n"));
    out.push_str("\n\n");
    out.push_str(&composed.rendered.text);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(subject: &str, text: &str) -> Rendered {
        Rendered {
            subject: subject.into(),
            text: text.into(),
            html: format!("<p>{}</p>", "x".repeat(3000)),
        }
    }

    #[test]
    fn message_is_multipart_alternative_with_short_lines() {
        let from: Mailbox = "Digest <digest@example.org>".parse().unwrap();
        let to: Mailbox = "reader@example.org".parse().unwrap();
        let c = compose(
            &from,
            &to,
            rendered(
                "Trending papers: 3 new — ünïcode",
                "héllo wörld ".repeat(200).as_str(),
            ),
            NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        )
        .unwrap();
        let raw = String::from_utf8(c.message.formatted()).unwrap();
        assert!(raw.is_ascii(), "the message must be 7-bit clean");
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("List-Id: Trending papers digest <trending-papers.example.org>"));
        assert!(raw.contains(&format!("Message-ID: {}", c.message_id)));
        assert!(
            raw.lines().all(|l| l.len() <= 998),
            "a line exceeds the SMTP limit"
        );
        let text_at = raw.find("text/plain").unwrap();
        let html_at = raw.find("text/html").unwrap();
        assert!(text_at < html_at, "text part must come first");
    }

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
        assert_eq!(crlf(""), "");
    }

    #[test]
    fn preview_shows_headers_then_plain_text() {
        let from: Mailbox = "digest@example.org".parse().unwrap();
        let c = compose(
            &from,
            &from,
            rendered("S", "the text part"),
            NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        )
        .unwrap();
        let p = preview(&c);
        assert!(p.starts_with("From: ") || p.contains("\nFrom: "));
        assert!(p.contains("Subject: S\n"));
        assert!(p.ends_with("\n\nthe text part\n"));
    }
}
