//! Deliver: the daily run. Fetch and store the listing, select each reader's new papers,
//! render and send one digest per reader, and write the ledger after each acceptance.
//! A dry run does all of it inside a store transaction that is rolled back, and prints
//! instead of sending.

use std::io::Write;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use lettre::message::Mailbox;
use tracing::info;

use crate::app::{day_for, fetch_listing, load_config, record_history, RunReport};
use crate::cli::{GlobalArgs, RunArgs};
use crate::config::{Config, Recipient};
use crate::exit::{fail, Class, ResultExt};
use crate::faults;
use crate::mail::{self, Composed};
use crate::render::{DigestView, Rendered, Renderer, Style};
use crate::select;
use crate::send::Mailer;
use crate::store::{AcceptedDigest, PaperRecord, Store};

/// The reader a dry run previews for when no recipient is configured.
const PREVIEW_READER: &str = "reader@example.invalid";
const PREVIEW_SENDER: &str = "digest <digest@localhost>";

pub async fn run(global: &GlobalArgs, args: &RunArgs) -> Result<()> {
    let config = load_config(global, Some(&args.source))?;
    let dry = args.dry_run;
    if !dry {
        config.check_delivery()?;
    }
    let readers = readers(&config.mail.to, args.to.as_deref(), dry)?;
    let from: Mailbox = match &config.mail.from {
        Some(f) => f.clone(),
        None => PREVIEW_SENDER.parse().expect("the preview sender is valid"),
    };
    let renderer = Renderer::new(config.templates_dir.as_deref())?;
    let mailer = if dry {
        None
    } else {
        Some(Mailer::new(&config)?)
    };
    let style = Style {
        summary: config.mail.summary,
        max_authors: config.mail.max_authors,
    };

    let day = day_for(&config, &args.source);
    let plan = Plan {
        readers,
        from,
        renderer,
        mailer,
        style,
    };
    let started = Utc::now();
    let mut report = RunReport::default();
    let result = deliver(&config, args, &plan, day, &mut report).await;
    if !dry {
        record_history(&config, "run", day, started, &report, &result);
    }
    result
}

/// What the pre-flight checks settled: who gets mail, from whom, how it looks, how it goes.
struct Plan {
    readers: Vec<Recipient>,
    from: Mailbox,
    renderer: Renderer,
    mailer: Option<Mailer>,
    style: Style,
}

async fn deliver(
    config: &Config,
    args: &RunArgs,
    plan: &Plan,
    day: NaiveDate,
    report: &mut RunReport,
) -> Result<()> {
    let Plan {
        readers,
        from,
        renderer,
        mailer,
        style,
    } = plan;
    let (dry, style) = (args.dry_run, *style);
    // One run at a time: a second run waits, then gives up with its own exit code.
    let _lock = crate::store::lock(&config.db, config.lock_timeout)?;
    let fetched = fetch_listing(config, &args.source, day).await?;
    faults::kill_point("fetched");
    let store = Store::open(&config.db)?;
    let tx = store.begin()?;
    let stats = crate::app::store_listing(&store, config, day, &fetched)?;
    report.papers = Some(stats.papers as i64);
    report.new_papers = Some(stats.new_papers as i64);
    faults::kill_point("storing");
    // A dry run keeps its transaction open to the end and never commits it.
    let dry_run_tx = if dry {
        Some(tx)
    } else {
        for r in readers {
            store.add_recipient(&r.address(), day)?;
        }
        tx.commit()
            .classify(Class::Store, || "cannot commit the fetch".into())?;
        None
    };

    // Pass 1: with a user's templates, every reader's digest must render before any is sent,
    // so that a template that fails for one reader sends nothing at all. Nothing is kept:
    // memory stays flat however many readers there are.
    let render_for = |reader: &Recipient| -> Result<Option<(Rendered, Vec<PaperRecord>)>> {
        let address = reader.address();
        let selection = select::for_reader(
            &store,
            reader,
            day,
            config.mail.catch_up_days,
            config.trends,
        )?;
        if selection.is_empty() && !config.mail.send_empty {
            info!("nothing new for {address}");
            return Ok(None);
        }
        let rendered = renderer.render(&DigestView::new(day, &address, &selection, style))?;
        Ok(Some((rendered, selection.records().cloned().collect())))
    };
    let digest_for = |reader: &Recipient| -> Result<Option<(Composed, Vec<PaperRecord>)>> {
        match render_for(reader)? {
            None => Ok(None),
            Some((rendered, papers)) => Ok(Some((
                mail::compose(from, &reader.mailbox, rendered, day)?,
                papers,
            ))),
        }
    };
    // The built-in templates render any data; only a user's templates need this pass.
    let mut to_mail: Vec<&Recipient> = Vec::new();
    for reader in readers {
        if config.templates_dir.is_none() || render_for(reader)?.is_some() {
            to_mail.push(reader);
        }
    }

    // Pass 2: one reader at a time, render, then send (or show) and record.
    let Some(mailer) = mailer else {
        let result = show(&to_mail, digest_for, args);
        drop(dry_run_tx); // rolls back: the store is left exactly as it was
        return result;
    };
    faults::kill_point("rendered");
    let transport = mailer.name();
    let mut outbox = mailer.outbox(to_mail.len());
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    let mut total = 0;
    for reader in &to_mail {
        let Some((composed, papers)) = digest_for(reader)? else {
            continue;
        };
        total += 1;
        let delivered = match outbox.send(&composed).await {
            Ok(()) => {
                // The duplicate window: the server has the message, the ledger does not yet.
                faults::kill_point("accepted");
                store
                    .record_digest(&AcceptedDigest {
                        recipient: composed.recipient.email.as_ref(),
                        day,
                        message_id: &composed.message_id,
                        sent_at: Utc::now(),
                        transport,
                        papers: &papers,
                    })
                    .classify(Class::Store, || {
                        format!(
                            "the digest {} for {} was accepted but could not be recorded",
                            composed.message_id, composed.recipient
                        )
                    })
            }
            Err(e) => Err(e),
        };
        match delivered {
            Ok(()) => report.sent_to.push(reader.address()),
            Err(e) => failures.push((reader.address(), e)),
        }
    }
    outbox.close().await;
    let sent = total - failures.len();
    info!(
        "{day}: {} papers on the listing ({} new to the store); {sent} of {total} digests sent",
        stats.papers, stats.new_papers,
    );
    match failures.len() {
        0 => Ok(()),
        1 if total == 1 => Err(failures.into_iter().next().expect("one failure").1),
        n => {
            let details: Vec<String> = failures
                .iter()
                .map(|(who, e)| format!("{who}: {e:#}"))
                .collect();
            Err(fail(
                Class::Delivery,
                format!(
                    "{n} of {total} digests not delivered ({})",
                    details.join("; ")
                ),
            ))
        }
    }
}

/// The readers of this run: the configured ones, or the one `--to` names.
fn readers(configured: &[Recipient], only: Option<&str>, dry: bool) -> Result<Vec<Recipient>> {
    let preview = |mailbox: Mailbox| Recipient {
        mailbox,
        profile: None,
    };
    let Some(only) = only else {
        if configured.is_empty() && dry {
            let reader = PREVIEW_READER.parse().expect("the preview reader is valid");
            return Ok(vec![preview(reader)]);
        }
        return Ok(configured.to_vec());
    };
    let wanted: Mailbox = only.parse().map_err(|e| {
        fail(
            Class::Config,
            format!("--to {only:?} is not a valid address: {e}"),
        )
    })?;
    match configured.iter().find(|r| r.mailbox.email == wanted.email) {
        Some(r) => Ok(vec![r.clone()]),
        None if dry => Ok(vec![preview(wanted)]),
        None => Err(fail(
            Class::Config,
            format!("--to {only}: not one of the configured recipients (mail.to or [[recipient]])"),
        )),
    }
}

/// Print each reader's message as it would be sent; with --output, write the one message to
/// a file.
fn show(
    readers: &[&Recipient],
    digest_for: impl Fn(&Recipient) -> Result<Option<(Composed, Vec<PaperRecord>)>>,
    args: &RunArgs,
) -> Result<()> {
    if readers.is_empty() {
        eprintln!("digest: nothing new to send");
    }
    if args.output.is_some() && readers.len() > 1 {
        return Err(fail(
            Class::Config,
            "--output writes one message: choose the reader with --to",
        ));
    }
    let stdout = std::io::stdout();
    for (i, reader) in readers.iter().enumerate() {
        let Some((c, _)) = digest_for(reader)? else {
            continue;
        };
        let mut out = stdout.lock();
        if i > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(mail::preview(&c).as_bytes())?;
        out.flush()?;
        if let Some(path) = &args.output {
            let is_html = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
            let bytes = if is_html {
                c.rendered.html.clone().into_bytes()
            } else {
                c.message.formatted()
            };
            std::fs::write(path, bytes).map_err(|e| {
                fail(
                    Class::Config,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
        }
    }
    if args.output.is_some() && readers.is_empty() {
        return Err(fail(
            Class::Config,
            "--output: there is no message to write",
        ));
    }
    Ok(())
}
