//! Check: `digest check` tries every part of the set-up and prints one line for each,
//! ✓ or ✗ with the reason. Nothing is stored; nothing is sent unless `--send-test`.

use std::io::Write;

use anyhow::Result;
use lettre::message::Mailbox;

use crate::app::{day_for, fetch_listing, load_config};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::config::{Config, Transport};
use crate::exit::{fail, Class};
use crate::mail;
use crate::render::{Rendered, Renderer};
use crate::send::{Mailer, SmtpSender};
use crate::store::Store;

/// The lines printed so far, and the first failure (which sets the exit code).
struct Report {
    first_failure: Option<anyhow::Error>,
}

impl Report {
    fn line(&mut self, what: &str, outcome: Result<String>) {
        let mut out = std::io::stdout().lock();
        let _ = match &outcome {
            Ok(detail) => writeln!(out, "\u{2713} {what}: {detail}"),
            Err(e) => writeln!(
                out,
                "\u{2717} {what}: {}",
                format!("{e:#}").replace('\n', " ")
            ),
        };
        if let Err(e) = outcome {
            self.first_failure.get_or_insert(e);
        }
    }
}

pub async fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<()> {
    let mut report = Report {
        first_failure: None,
    };
    let config = match load_config(global, Some(&args.source)) {
        Ok(config) => {
            report.line("config", Ok(describe_config(&config)));
            config
        }
        Err(e) => {
            report.line("config", Err(e));
            return finish(report);
        }
    };
    report.line(
        "templates",
        Renderer::new(config.templates_dir.as_deref()).map(|_| match &config.templates_dir {
            Some(dir) => format!("{} (over the built-in ones)", dir.display()),
            None => "built-in".to_string(),
        }),
    );
    report.line("store", check_store(&config));
    let day = day_for(&config, &args.source);
    report.line(
        "source",
        fetch_listing(&config, &args.source, day).await.map(|f| {
            format!(
                "{} ({} papers, read from the {})",
                f.origin,
                f.listing.papers.len(),
                f.listing.path.as_str().replace('_', " ")
            )
        }),
    );
    check_delivery(&config, args, &mut report).await;
    finish(report)
}

fn finish(report: Report) -> Result<()> {
    match report.first_failure {
        None => Ok(()),
        Some(e) => Err(e.context("digest check found a problem")),
    }
}

fn describe_config(config: &Config) -> String {
    let file = match &config.file {
        Some(f) => f.display().to_string(),
        None => "no config file (defaults)".to_string(),
    };
    if config.env_used.is_empty() {
        file
    } else {
        format!("{file}; overridden by {}", config.env_used.join(", "))
    }
}

fn check_store(config: &Config) -> Result<String> {
    if !config.db.exists() {
        return Ok(format!(
            "{} does not exist yet (the first run creates it)",
            config.db.display()
        ));
    }
    let store = Store::open_read_only(&config.db)?;
    Ok(format!(
        "{} (schema {}, {} papers, {} digests sent)",
        store.path().display(),
        store.schema_version()?,
        store.paper_count()?,
        store.digest_count(None)?
    ))
}

async fn check_delivery(config: &Config, args: &CheckArgs, report: &mut Report) {
    if let Err(e) = config.check_delivery() {
        report.line("delivery", Err(e));
        return;
    }
    let readers: Vec<String> = config
        .mail
        .to
        .iter()
        .map(|r| r.mailbox.to_string())
        .collect();
    report.line("readers", Ok(readers.join(", ")));
    match config.mail.transport {
        Transport::Smtp => match SmtpSender::new(&config.smtp) {
            Ok(smtp) => {
                for (what, outcome) in smtp.probe().await {
                    report.line(what, outcome);
                }
            }
            Err(e) => report.line("SMTP settings", Err(e)),
        },
        Transport::Sendmail => report.line(
            "sendmail",
            Ok(config
                .mail
                .sendmail_command
                .as_ref()
                .map_or("sendmail on the PATH".to_string(), |c| {
                    c.display().to_string()
                })),
        ),
        Transport::File => report.line(
            "file transport",
            Ok(format!(
                "writes .eml files into {}",
                config
                    .mail
                    .output_dir
                    .as_ref()
                    .map_or(String::new(), |d| d.display().to_string())
            )),
        ),
    }
    if args.send_test && report.first_failure.is_none() {
        report.line("test mail", send_test(config).await);
    }
}

async fn send_test(config: &Config) -> Result<String> {
    let from: &Mailbox = config
        .mail
        .from
        .as_ref()
        .expect("check_delivery ensured a sender");
    let mailer = Mailer::new(config)?;
    let day = config.zone.today();
    let mut messages = Vec::new();
    for reader in &config.mail.to {
        let rendered = Rendered {
            subject: "digest: test mail".to_string(),
            text: "This is a test mail from `digest check --send-test`.\nYour set-up can send digests.\n".to_string(),
            html: "<p>This is a test mail from <code>digest check --send-test</code>.</p><p>Your set-up can send digests.</p>".to_string(),
        };
        messages.push(mail::compose(from, &reader.mailbox, rendered, day)?);
    }
    let failures = mailer.send_all(&messages).await;
    match failures.into_iter().next() {
        None => Ok(format!("sent to {} reader(s)", messages.len())),
        Some((who, e)) => Err(fail(Class::Delivery, format!("{who}: {e:#}"))),
    }
}
