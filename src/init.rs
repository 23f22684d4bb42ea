//! Init: `digest init` writes a config file (mode 0600). On a terminal it asks for each
//! setting, offering defaults; otherwise it takes them from flags. It never overwrites a
//! file without `--force`, and it tries the SMTP connection unless `--no-test`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use lettre::message::Mailbox;

use crate::cli::{GlobalArgs, InitArgs};
use crate::config::{self, default_config_path, Security, SourceKind};
use crate::exit::{fail, Class};
use crate::send::SmtpSender;

/// The settings init writes.
struct Answers {
    source: SourceKind,
    host: String,
    port: u16,
    security: Security,
    username: Option<String>,
    password_file: Option<PathBuf>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

pub async fn run(global: &GlobalArgs, args: &InitArgs) -> Result<()> {
    let path = global
        .config
        .clone()
        .or_else(default_config_path)
        .ok_or_else(|| fail(Class::Config, "no config directory: pass --config PATH"))?;
    if path.exists() && !args.force {
        return Err(fail(
            Class::Config,
            format!("{} exists; pass --force to overwrite it", path.display()),
        ));
    }
    let answers = if std::io::stdin().is_terminal() {
        ask(args, &path)?
    } else {
        from_flags(args)?
    };
    write_private(&path, &render(&answers))?;
    println!("wrote {}", path.display());
    if args.no_test {
        return Ok(());
    }
    // Try the connection exactly as a run would, through the file just written.
    let config = config::load(Some(&path), config::Layer::default())?;
    let smtp = SmtpSender::new(&config.smtp)?;
    let mut failed = None;
    for (what, outcome) in smtp.probe().await {
        match outcome {
            Ok(detail) => println!("\u{2713} {what}: {detail}"),
            Err(e) => {
                println!("\u{2717} {what}: {e:#}");
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => Err(e.context(format!(
            "the config was written to {}, but the SMTP test failed",
            path.display()
        ))),
    }
}

fn from_flags(args: &InitArgs) -> Result<Answers> {
    let host = args.smtp_host.clone().ok_or_else(|| {
        fail(
            Class::Config,
            "init needs --smtp-host, --from and --to when it cannot ask (no terminal)",
        )
    })?;
    let from = args
        .from
        .as_deref()
        .ok_or_else(|| fail(Class::Config, "init needs --from when it cannot ask"))?;
    if args.to.is_empty() {
        return Err(fail(Class::Config, "init needs --to when it cannot ask"));
    }
    let security = args.security.unwrap_or_default();
    Ok(Answers {
        source: args.source.unwrap_or_default(),
        host,
        port: args.smtp_port.unwrap_or(security.default_port()),
        security,
        username: args.username.clone(),
        password_file: args.password_file.clone(),
        from: mailbox("--from", from)?,
        to: args
            .to
            .iter()
            .map(|t| mailbox("--to", t))
            .collect::<Result<_>>()?,
    })
}

/// Ask on the terminal for everything the flags did not give.
fn ask(args: &InitArgs, path: &Path) -> Result<Answers> {
    eprintln!("Setting up digest: {}", path.display());
    eprintln!("Press Enter to take the value in [brackets].");
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut prompt = |question: &str, default: Option<&str>| -> Result<String> {
        loop {
            match default {
                Some(d) => eprint!("{question} [{d}]: "),
                None => eprint!("{question}: "),
            }
            std::io::stderr().flush()?;
            let line = lines
                .next()
                .transpose()?
                .ok_or_else(|| fail(Class::Config, "init was cancelled (end of input)"))?;
            let line = line.trim().to_string();
            match (line.is_empty(), default) {
                (false, _) => return Ok(line),
                (true, Some(d)) => return Ok(d.to_string()),
                (true, None) => eprintln!("  (this one is needed)"),
            }
        }
    };
    let source = match &args.source {
        Some(s) => *s,
        None => loop {
            match prompt("Source (trending, daily, api)", Some("trending"))?.as_str() {
                "trending" => break SourceKind::Trending,
                "daily" => break SourceKind::Daily,
                "api" => break SourceKind::Api,
                other => eprintln!("  {other:?} is not one of trending, daily, api"),
            }
        },
    };
    let host = match &args.smtp_host {
        Some(h) => h.clone(),
        None => prompt("SMTP server (e.g. smtp.gmail.com)", None)?,
    };
    let security = match args.security {
        Some(s) => s,
        None => loop {
            match prompt(
                "Security (starttls on 587, tls on 465, none)",
                Some("starttls"),
            )?
            .as_str()
            {
                "starttls" => break Security::Starttls,
                "tls" => break Security::Tls,
                "none" => break Security::None,
                other => eprintln!("  {other:?} is not one of starttls, tls, none"),
            }
        },
    };
    let port = match args.smtp_port {
        Some(p) => p,
        None => loop {
            let default = security.default_port().to_string();
            match prompt("Port", Some(&default))?.parse() {
                Ok(p) => break p,
                Err(_) => eprintln!("  a port is a number from 1 to 65535"),
            }
        },
    };
    let username = match &args.username {
        Some(u) => Some(u.clone()),
        None => Some(prompt("SMTP user name (- for none)", Some("-"))?).filter(|u| u != "-"),
    };
    let from = loop {
        let answer = match &args.from {
            Some(f) => f.clone(),
            None => prompt(
                "From (e.g. Paper digest <you@example.org>)",
                username.as_deref(),
            )?,
        };
        match mailbox("From", &answer) {
            Ok(m) => break m,
            Err(e) if args.from.is_none() => eprintln!("  {e:#}"),
            Err(e) => return Err(e),
        }
    };
    let to = if args.to.is_empty() {
        loop {
            let default = from.email.to_string();
            let answer = prompt("To (comma-separated)", Some(&default))?;
            match answer
                .split(',')
                .map(|t| mailbox("To", t))
                .collect::<Result<Vec<_>>>()
            {
                Ok(list) => break list,
                Err(e) => eprintln!("  {e:#}"),
            }
        }
    } else {
        args.to
            .iter()
            .map(|t| mailbox("--to", t))
            .collect::<Result<_>>()?
    };
    let password_file = match (&args.password_file, &username) {
        (Some(p), _) => Some(p.clone()),
        (None, None) => None,
        (None, Some(_)) => {
            let file = path.with_file_name("smtp-password");
            let password = rpassword::prompt_password(format!(
                "SMTP password (kept in {}, mode 0600; empty: set DIGEST_SMTP_PASSWORD instead): ",
                file.display()
            ))?;
            if password.is_empty() {
                None
            } else {
                write_private(&file, &format!("{password}\n"))?;
                Some(file)
            }
        }
    };
    Ok(Answers {
        source,
        host,
        port,
        security,
        username,
        password_file,
        from,
        to,
    })
}

fn mailbox(what: &str, value: &str) -> Result<Mailbox> {
    value.trim().parse().map_err(|e| {
        fail(
            Class::Config,
            format!(
                "{what}: {:?} is not a valid email address: {e}",
                value.trim()
            ),
        )
    })
}

/// The config file's text. Values go through TOML's own string quoting.
fn render(a: &Answers) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut text = String::from(
        "# digest configuration, written by `digest init`.\n\
         # Every key is documented in config.example.toml. Keep this file private (mode 0600).\n\n",
    );
    text.push_str(&format!("[source]\nkind = {}\n\n", q(a.source.as_str())));
    text.push_str(&format!(
        "[mail]\nfrom = {}\nto = [",
        q(&a.from.to_string())
    ));
    let to: Vec<String> = a.to.iter().map(|m| q(&m.to_string())).collect();
    text.push_str(&to.join(", "));
    text.push_str("]\n\n");
    text.push_str(&format!(
        "[smtp]\nhost = {}\nport = {}\nsecurity = {}\n",
        q(&a.host),
        a.port,
        q(a.security.as_str())
    ));
    if let Some(u) = &a.username {
        text.push_str(&format!("username = {}\n", q(u)));
    }
    match &a.password_file {
        Some(p) => text.push_str(&format!(
            "password_file = {}\n",
            q(&p.display().to_string())
        )),
        None if a.username.is_some() => text
            .push_str("# The password comes from the DIGEST_SMTP_PASSWORD environment variable.\n"),
        None => {}
    }
    text
}

/// Write a file readable by its owner only (replacing any earlier one), creating its
/// directory if needed.
fn write_private(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            fail(
                Class::Config,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = options.open(path).and_then(|mut f| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(text.as_bytes())
    });
    write.map_err(|e| {
        fail(
            Class::Config,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}
