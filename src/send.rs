//! Send: hands composed messages to a transport (SMTP, sendmail or a directory of .eml
//! files) and reports, message by message, which ones were accepted.
//!
//! SMTP runs its own session on one connection for all readers (MAIL, RCPT, DATA per
//! message), so each failure is named by the step that failed: connecting, TLS, AUTH,
//! sender, recipient or message.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Result;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncFileTransport, AsyncSendmailTransport, AsyncTransport, Tokio1Executor};
use tracing::{debug, warn};

use crate::config::{Config, Security, SmtpConfig, Transport};
use crate::exit::{fail, Class};
use crate::mail::Composed;
use crate::progress::Progress;

/// Where messages go.
pub enum Mailer {
    Smtp(SmtpSender),
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
}

impl Mailer {
    /// Set up the configured transport. Checks the security rules before anything connects.
    pub fn new(config: &Config) -> Result<Mailer> {
        Ok(match config.mail.transport {
            Transport::Smtp => Mailer::Smtp(SmtpSender::new(&config.smtp)?),
            Transport::Sendmail => Mailer::Sendmail(match &config.mail.sendmail_command {
                Some(cmd) => AsyncSendmailTransport::new_with_command(cmd.as_os_str()),
                None => AsyncSendmailTransport::new(),
            }),
            Transport::File => {
                let dir = config.mail.output_dir.clone().ok_or_else(|| {
                    fail(Class::Config, "transport = \"file\" needs mail.output_dir")
                })?;
                std::fs::create_dir_all(&dir).map_err(|e| {
                    fail(
                        Class::Delivery,
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
                Mailer::File(AsyncFileTransport::new(&dir), dir)
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => "smtp",
            Mailer::Sendmail(_) => "sendmail",
            Mailer::File(..) => "file",
        }
    }

    /// Open an outbox for `count` messages: one SMTP session (opened on the first message)
    /// that carries them all.
    pub fn outbox(&self, count: usize) -> Outbox<'_> {
        Outbox {
            mailer: self,
            session: None,
            progress: (count > 1).then(|| Progress::new("sending digests:", Some(count))),
            sent: 0,
        }
    }

    /// Send every message; returns the failures, one per message not accepted.
    pub async fn send_all(&self, messages: &[Composed]) -> Vec<(String, anyhow::Error)> {
        let mut outbox = self.outbox(messages.len());
        let mut failures = Vec::new();
        for m in messages {
            if let Err(e) = outbox.send(m).await {
                failures.push((m.recipient.email.to_string(), e));
            }
        }
        outbox.close().await;
        failures
    }
}

/// Messages on their way, one at a time, over one session.
pub struct Outbox<'a> {
    mailer: &'a Mailer,
    session: Option<AsyncSmtpConnection>,
    progress: Option<Progress>,
    sent: usize,
}

impl Outbox<'_> {
    /// Hand one message to the transport. `Ok` means it was accepted.
    pub async fn send(&mut self, m: &Composed) -> Result<()> {
        self.sent += 1;
        if let Some(p) = self.progress.as_mut() {
            p.set(self.sent);
        }
        match self.mailer {
            Mailer::Smtp(smtp) => smtp.send_one(&mut self.session, m).await,
            Mailer::Sendmail(t) => t.send(m.message.clone()).await.map(|_| ()).map_err(|e| {
                fail(
                    Class::Delivery,
                    format!("sendmail did not take the message for {}: {e}", m.recipient),
                )
            }),
            Mailer::File(t, dir) => t.send(m.message.clone()).await.map(|_| ()).map_err(|e| {
                fail(
                    Class::Delivery,
                    format!(
                        "cannot write the message for {} into {}: {e}",
                        m.recipient,
                        dir.display()
                    ),
                )
            }),
        }
    }

    /// End the session politely.
    pub async fn close(mut self) {
        if let (Mailer::Smtp(smtp), Some(mut conn)) = (self.mailer, self.session.take()) {
            let _ = tokio::time::timeout(smtp.timeout, conn.quit()).await;
        }
    }
}

/// An SMTP relay's settings, checked.
pub struct SmtpSender {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    username: Option<String>,
    credentials: Option<Credentials>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

/// The step of the SMTP exchange that failed, for the error message.
#[derive(Clone, Copy)]
enum Step {
    Connect,
    Starttls,
    Auth,
    Sender,
    Recipient,
    Message,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Starttls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::Sender => "MAIL FROM",
            Step::Recipient => "RCPT TO",
            Step::Message => "DATA",
        })
    }
}

pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpSender {
    pub fn new(c: &SmtpConfig) -> Result<SmtpSender> {
        let host = c
            .host
            .clone()
            .ok_or_else(|| fail(Class::Config, "smtp.host is not set (DIGEST_SMTP_HOST)"))?;
        let loopback = is_loopback(&host);
        if c.security == Security::None && !loopback && !c.allow_insecure {
            return Err(fail(
                Class::Config,
                format!("smtp.security = \"none\" sends mail unencrypted to {host}; use starttls or tls, or set smtp.allow_insecure = true"),
            ));
        }
        if c.security == Security::None && !loopback && c.username.is_some() {
            return Err(fail(
                Class::Config,
                format!("refusing to send the SMTP password unencrypted to {host}: use smtp.security = \"starttls\" or \"tls\""),
            ));
        }
        let tls = match c.security {
            Security::None => None,
            Security::Starttls | Security::Tls => Some(tls_parameters(&host, c)?),
        };
        let credentials = match (&c.username, &c.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            (Some(_), None) => return Err(fail(
                Class::Config,
                "smtp.username is set but no password (DIGEST_SMTP_PASSWORD or smtp.password_file)",
            )),
            _ => None,
        };
        Ok(SmtpSender {
            host,
            port: c.port,
            security: c.security,
            tls,
            username: c.username.clone(),
            credentials,
            timeout: c.timeout,
            retries: c.retries,
            backoff: c.backoff,
        })
    }

    fn error(
        &self,
        step: Step,
        e: &lettre::transport::smtp::Error,
        who: Option<&str>,
    ) -> anyhow::Error {
        let at = format!("{}:{}", self.host, self.port);
        let detail = root_cause(e);
        let message = match step {
            Step::Connect | Step::Starttls if e.is_tls() => {
                format!("TLS with {at} failed: {detail}")
            }
            Step::Connect if io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) => {
                format!("SMTP connection refused by {at}")
            }
            _ if e.is_timeout() => format!("SMTP server {at} did not answer in time ({step})"),
            Step::Connect => format!("cannot connect to SMTP server {at}: {detail}"),
            Step::Starttls => format!("TLS with {at} failed (STARTTLS): {detail}"),
            Step::Auth => format!(
                "SMTP authentication failed for user {:?} at {at}: {detail}",
                self.username.as_deref().unwrap_or_default()
            ),
            Step::Sender => format!("{at} rejected the sender: {detail}"),
            Step::Recipient => format!("{at} rejected recipient {}: {detail}", who.unwrap_or("?")),
            Step::Message => format!(
                "{at} rejected the message for {}: {detail}",
                who.unwrap_or("?")
            ),
        };
        fail(Class::Delivery, message)
    }

    async fn tcp(&self) -> Result<tokio::net::TcpStream, Failure> {
        let at = format!("{}:{}", self.host, self.port);
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let tcp = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(
                    fail(Class::Delivery, format!("SMTP connection refused by {at}")).into(),
                )
            }
            Ok(Err(e)) => {
                return Err(fail(
                    Class::Delivery,
                    format!("cannot connect to SMTP server {at}: {e}"),
                )
                .into())
            }
            Err(_) => {
                return Err(fail(
                    Class::Delivery,
                    format!("SMTP server {at} did not answer in time (connect)"),
                )
                .into())
            }
        };
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }

    /// Try the server step by step without sending anything, for `digest check`: the TCP
    /// connection, TLS (with certificate verification), and AUTH. Each step's outcome, in
    /// order; the first failure ends the probe.
    pub async fn probe(&self) -> Vec<(&'static str, Result<String>)> {
        let at = format!("{}:{}", self.host, self.port);
        let mut steps = Vec::new();
        let tcp = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await;
        match tcp {
            Ok(Ok(_)) => steps.push(("SMTP connects", Ok(at.clone()))),
            Ok(Err(e)) => {
                let why = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    format!("connection refused by {at}")
                } else {
                    format!("cannot connect to {at}: {e}")
                };
                steps.push(("SMTP connects", Err(fail(Class::Delivery, why))));
                return steps;
            }
            Err(_) => {
                let why = format!("{at} did not answer in time");
                steps.push(("SMTP connects", Err(fail(Class::Delivery, why))));
                return steps;
            }
        }
        match self.connect().await {
            Ok(mut conn) => {
                if self.security != Security::None {
                    let how = match self.security {
                        Security::Tls => "implicit TLS",
                        _ => "STARTTLS",
                    };
                    steps.push((
                        "TLS verifies",
                        Ok(format!("{how}, certificate valid for {}", self.host)),
                    ));
                }
                if let Some(user) = &self.username {
                    steps.push(("AUTH accepted", Ok(format!("user {user:?}"))));
                }
                let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
            }
            Err(f) => {
                let text = format!("{:#}", f.error);
                let step = if text.contains("TLS") {
                    "TLS verifies"
                } else if text.contains("authentication") {
                    if self.security != Security::None {
                        steps.push(("TLS verifies", Ok("certificate valid".to_string())));
                    }
                    "AUTH accepted"
                } else {
                    "SMTP greets"
                };
                steps.push((step, Err(f.error)));
            }
        }
        steps
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let hello = ClientId::default();
        let wrapper_tls = match self.security {
            Security::Tls => self.tls.clone(),
            _ => None,
        };
        let mut conn = match wrapper_tls {
            Some(tls) => {
                self.step(
                    Step::Connect,
                    None,
                    AsyncSmtpConnection::connect_tokio1(
                        (self.host.as_str(), self.port),
                        Some(self.timeout),
                        &hello,
                        Some(tls),
                        None,
                    ),
                )
                .await?
            }
            None => {
                // Our own socket, so that small commands after a large message are not held
                // back by Nagle's algorithm (lettre leaves it on): a pipelined session of many
                // messages would otherwise wait on delayed ACKs.
                let tcp = self.tcp().await?;
                self.step(
                    Step::Connect,
                    None,
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
                )
                .await?
            }
        };
        if self.security == Security::Starttls {
            if !conn.can_starttls() {
                let _ = conn.quit().await;
                let message = format!(
                    "{}:{} does not offer STARTTLS (smtp.security = \"starttls\")",
                    self.host, self.port
                );
                return Err(fail(Class::Delivery, message).into());
            }
            let tls = self.tls.clone().expect("starttls has TLS parameters");
            self.step(Step::Starttls, None, conn.starttls(tls, &hello))
                .await?;
        }
        if let Some(credentials) = &self.credentials {
            if !conn.is_encrypted() && !is_loopback(&self.host) {
                let message = "refusing to authenticate over an unencrypted connection";
                return Err(fail(Class::Config, message).into());
            }
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            self.step(Step::Auth, None, conn.auth(&mechanisms, credentials))
                .await?;
        }
        debug!(
            "connected to {}:{} ({:?})",
            self.host, self.port, self.security
        );
        Ok(conn)
    }

    /// Send one message, retrying when the server answers with a temporary (4xx) error.
    /// Nothing else is retried: after a dropped connection the server may already hold the
    /// message, and sending it again could deliver it twice.
    async fn send_one(
        &self,
        session: &mut Option<AsyncSmtpConnection>,
        m: &Composed,
    ) -> Result<()> {
        let mut attempt = 1;
        loop {
            match self.try_send(session, m).await {
                Ok(()) => return Ok(()),
                Err(f) if f.transient && attempt <= self.retries => {
                    let wait = self.backoff.saturating_mul(1 << (attempt - 1).min(10));
                    warn!(
                        "{:#}; retrying in {}",
                        f.error,
                        humantime::format_duration(wait)
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    /// One attempt on the session (opened, or re-opened if it broke): MAIL, RCPT, DATA.
    async fn try_send(
        &self,
        session: &mut Option<AsyncSmtpConnection>,
        m: &Composed,
    ) -> Result<(), Failure> {
        let mut conn = match session.take() {
            Some(conn) if !conn.has_broken() => conn,
            _ => self.connect().await?,
        };
        let envelope: &Envelope = m.message.envelope();
        let who = m.recipient.email.to_string();
        let who = Some(who.as_str());
        let bytes = m.message.formatted();
        let result = async {
            let from = Mail::new(envelope.from().cloned(), vec![]);
            self.step(Step::Sender, who, conn.command(from)).await?;
            for to in envelope.to() {
                let rcpt = Rcpt::new(to.clone(), vec![]);
                self.step(Step::Recipient, who, conn.command(rcpt)).await?;
            }
            self.step(Step::Message, who, conn.command(Data)).await?;
            crate::faults::kill_point("smtp-data");
            self.step(Step::Message, who, conn.message(&bytes)).await?;
            Ok::<_, Failure>(())
        }
        .await;
        // Keep the session for the next attempt or reader only in a known state: after a
        // failure, that means the server answered a RSET.
        let reusable = match &result {
            Ok(()) => true,
            Err(_) if conn.has_broken() => false,
            Err(_) => matches!(
                tokio::time::timeout(self.timeout, conn.command(Rset)).await,
                Ok(Ok(_))
            ),
        };
        if reusable {
            *session = Some(conn);
        } else {
            conn.abort().await;
        }
        result
    }

    /// Run one step of the exchange under the SMTP timeout (lettre does not bound every
    /// read itself), naming the step when it fails.
    async fn step<T>(
        &self,
        step: Step,
        who: Option<&str>,
        fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => result.map_err(|e| Failure {
                transient: e.is_transient(),
                error: self.error(step, &e, who),
            }),
            Err(_) => Err(Failure {
                transient: false,
                error: fail(
                    Class::Delivery,
                    format!(
                        "SMTP server {}:{} did not answer in time ({step}, after {})",
                        self.host,
                        self.port,
                        humantime::format_duration(self.timeout)
                    ),
                ),
            }),
        }
    }
}

/// A failed attempt, and whether the server said to try again later (a 4xx reply).
struct Failure {
    error: anyhow::Error,
    transient: bool,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure {
            error,
            transient: false,
        }
    }
}

/// RSET: abandon the current mail transaction.
struct Rset;

impl fmt::Display for Rset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RSET\r\n")
    }
}

fn tls_parameters(host: &str, c: &SmtpConfig) -> Result<TlsParameters> {
    let domain = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut builder = TlsParameters::builder(domain);
    if let Some(ca) = &c.ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            fail(
                Class::Config,
                format!("cannot read smtp.ca_file {}: {e}", ca.display()),
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            fail(
                Class::Config,
                format!(
                    "smtp.ca_file {} is not a PEM certificate: {e}",
                    ca.display()
                ),
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if c.accept_invalid_certs {
        warn!("smtp.accept_invalid_certs = true: the server's certificate is not verified");
        builder = builder.dangerous_accept_invalid_certs(true);
    }
    builder
        .build_rustls()
        .map_err(|e| fail(Class::Config, format!("cannot set up TLS for {host}: {e}")))
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        let s = err.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cur = err.source();
    }
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.org"));
        assert!(!is_loopback("10.0.0.1"));
    }

    fn smtp(host: &str, security: Security, user: Option<&str>) -> SmtpConfig {
        SmtpConfig {
            host: Some(host.into()),
            port: 25,
            security,
            username: user.map(Into::into),
            password: user.map(|_| crate::config::Secret::new("pw".into())),
            ca_file: None,
            allow_insecure: true,
            accept_invalid_certs: false,
            timeout: Duration::from_secs(5),
            retries: 0,
            backoff: Duration::from_millis(10),
        }
    }

    #[test]
    fn no_password_over_plaintext_to_remote_hosts() {
        let err = SmtpSender::new(&smtp("smtp.example.org", Security::None, Some("me")))
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("unencrypted"));
        assert!(SmtpSender::new(&smtp("127.0.0.1", Security::None, Some("me"))).is_ok());
        let mut c = smtp("smtp.example.org", Security::None, None);
        c.allow_insecure = false;
        assert!(SmtpSender::new(&c).is_err());
    }
}
