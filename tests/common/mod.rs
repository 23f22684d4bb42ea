//! Test support: a loopback HTTP server with scripted replies, a real SMTP server
//! (aiosmtpd, tests/support/smtp_server.py) writing a Maildir, test certificates, and a
//! runner for the `digest` binary in a sandboxed home.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_file(&format!("fixtures/hf/{name}")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

/// The real captures, through DIGEST_REAL_FIXTURES (set by .ci/run); defaults to
/// ../shared/fixtures/hf beside the repo.
pub fn real_fixture(name: &str) -> String {
    let dir = std::env::var_os("DIGEST_REAL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_file("../shared/fixtures/hf"));
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "real capture {} is missing ({e}); set DIGEST_REAL_FIXTURES to ../shared/fixtures/hf",
            path.display()
        )
    })
}

// ---------------------------------------------------------------- HTTP

/// One scripted HTTP reply.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep before sending anything (a server that stalls).
    pub delay: Duration,
    /// Announce the full length but send only this many body bytes, then close.
    pub cut_body_at: Option<usize>,
    /// Send half the body, then stall this long before the rest.
    pub stall_mid_body: Option<Duration>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
            delay: Duration::ZERO,
            cut_body_at: None,
            stall_mid_body: None,
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: format!("status {status}").into_bytes(),
            delay: Duration::ZERO,
            cut_body_at: None,
            stall_mid_body: None,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    pub fn cut_at(mut self, n: usize) -> Reply {
        self.cut_body_at = Some(n);
        self
    }
    pub fn stall_body(mut self, d: Duration) -> Reply {
        self.stall_mid_body = Some(d);
        self
    }
}

/// A loopback HTTP/1.1 server: each path (with its query) answers with its script of
/// replies in turn, the last one repeating. Unknown paths get 404.
pub struct HttpServer {
    pub port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    pub fn start(routes: Vec<(&str, Vec<Reply>)>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<HashMap<String, Vec<Reply>>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
        );
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (hits, stop) = (hits.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, hits) = (routes.clone(), hits.clone());
                    thread::spawn(move || serve(stream, &routes, &hits));
                }
            });
        }
        HttpServer { port, hits, stop }
    }

    /// Serve one page at `path`, always.
    pub fn page(path: &str, body: impl Into<Vec<u8>>) -> HttpServer {
        HttpServer::start(vec![(path, vec![Reply::ok(body)])])
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests a path (with query) received.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut stream: TcpStream,
    routes: &HashMap<String, Vec<Reply>>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let n = {
        let mut h = hits.lock().unwrap();
        let c = h.entry(path.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let reply = match routes.get(&path) {
        Some(script) => script[(n - 1).min(script.len() - 1)].clone(),
        None => Reply::status(404),
    };
    thread::sleep(reply.delay);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let body = match reply.cut_body_at {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    if let Some(stall) = reply.stall_mid_body {
        let half = body.len() / 2;
        let _ = stream.write_all(&body[..half]);
        let _ = stream.flush();
        thread::sleep(stall);
        let _ = stream.write_all(&body[half..]);
    } else {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
}

// ---------------------------------------------------------------- file systems

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
pub struct TmpMount {
    pub path: PathBuf,
}

impl TmpMount {
    /// Mount a tmpfs of `size` (e.g. "256k") at `path`, or `None` where mounting is not allowed.
    pub fn new(path: &Path, size: &str) -> Option<TmpMount> {
        std::fs::create_dir_all(path).ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| TmpMount {
            path: path.to_path_buf(),
        })
    }

    pub fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount read-only");
    }
}

impl Drop for TmpMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

// ---------------------------------------------------------------- TLS

/// A small CA and a leaf certificate for localhost / 127.0.0.1 signed by it.
pub struct TestCerts {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCerts {
    pub fn create(dir: &Path) -> TestCerts {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "digest test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        let certs = TestCerts {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        };
        std::fs::write(&certs.ca, ca_cert.pem()).unwrap();
        std::fs::write(&certs.cert, leaf_cert.pem()).unwrap();
        std::fs::write(&certs.key, leaf_key.serialize_pem()).unwrap();
        certs
    }
}

// ---------------------------------------------------------------- SMTP

#[derive(Default, Clone)]
pub struct SmtpOptions {
    /// "plain" (the default), "starttls" or "tls"
    pub security: &'static str,
    pub auth: Option<(String, String)>,
    pub reject: Vec<String>,
    pub tempfail: u32,
}

impl SmtpOptions {
    /// A server with this security that requires AUTH with these credentials.
    pub fn with_auth(security: &'static str, user: &str, password: &str) -> SmtpOptions {
        SmtpOptions {
            security,
            auth: Some((user.to_string(), password.to_string())),
            ..SmtpOptions::default()
        }
    }
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1, writing what it accepts into a Maildir.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    pub log: PathBuf,
    pub certs: Option<TestCerts>,
    pub security: &'static str,
    child: Child,
    _stdin: ChildStdin,
}

impl SmtpServer {
    pub fn start(dir: &Path, opts: SmtpOptions) -> SmtpServer {
        SmtpServer::start_with_args(dir, opts, &[])
    }

    /// Start with extra arguments for tests/support/smtp_server.py (e.g. `--reject-data`).
    pub fn start_with_args(dir: &Path, opts: SmtpOptions, extra: &[&str]) -> SmtpServer {
        let security = if opts.security.is_empty() {
            "plain"
        } else {
            opts.security
        };
        std::fs::create_dir_all(dir).unwrap();
        let maildir = dir.join("maildir");
        let log = dir.join("smtp.log");
        let python = std::env::var("DIGEST_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut cmd = Command::new(python);
        cmd.arg(repo_file("tests/support/smtp_server.py"))
            .arg("--maildir")
            .arg(&maildir)
            .arg("--security")
            .arg(security)
            .arg("--log")
            .arg(&log)
            .arg("--tempfail")
            .arg(opts.tempfail.to_string());
        let certs = (security != "plain").then(|| TestCerts::create(dir));
        if let Some(c) = &certs {
            cmd.arg("--cert").arg(&c.cert).arg("--key").arg(&c.key);
        }
        if let Some((u, p)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{u}:{p}"));
        }
        for r in &opts.reject {
            cmd.arg("--reject").arg(r);
        }
        cmd.args(extra);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd is needed for the SMTP tests (pip install aiosmtpd)");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("SMTP server did not start: {line:?}"))
            .parse()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        SmtpServer {
            port,
            maildir,
            log,
            certs,
            security,
            child,
            _stdin: stdin,
        }
    }

    /// Every message the server accepted, raw, in arrival order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in entries.flatten() {
                    files.push((e.metadata().unwrap().modified().unwrap(), e.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).unwrap())
            .collect()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The distinct SMTP sessions (connections) that delivered a message.
    pub fn delivering_sessions(&self) -> usize {
        let mut ids: Vec<String> = self
            .log_text()
            .lines()
            .filter(|l| l.starts_with("DATA "))
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- the binary

/// A sandbox for running `digest`: its own HOME, XDG dirs and store; no inherited DIGEST_* vars.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        Sandbox {
            env: vec![(
                "DIGEST_DB".into(),
                dir.path().join("digest.db").display().to_string(),
            )],
            dir,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn db(&self) -> PathBuf {
        self.path("digest.db")
    }

    pub fn set(&mut self, key: &str, value: impl ToString) -> &mut Sandbox {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.to_string()));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Sandbox {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Point delivery at an SMTP test server (its CA trusted when it has TLS).
    pub fn smtp(&mut self, server: &SmtpServer) -> &mut Sandbox {
        let security = match server.security {
            "plain" => "none",
            s => s,
        };
        self.set("DIGEST_SMTP_HOST", "127.0.0.1")
            .set("DIGEST_SMTP_PORT", server.port)
            .set("DIGEST_SMTP_SECURITY", security)
            .set("DIGEST_SMTP_TIMEOUT", "10s");
        if let Some(c) = &server.certs {
            let ca = c.ca.display().to_string();
            self.set("DIGEST_SMTP_CA_FILE", ca);
        }
        self
    }

    /// A sender and readers for delivery tests.
    pub fn mail(&mut self, from: &str, to: &str) -> &mut Sandbox {
        self.set("DIGEST_FROM", from).set("DIGEST_TO", to)
    }

    pub fn write_config(&mut self, toml: &str) -> PathBuf {
        let path = self.path("config.toml");
        std::fs::write(&path, toml).unwrap();
        self.set("DIGEST_CONFIG", path.display().to_string());
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_digest"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("TZ", "UTC")
            .env("NO_COLOR", "1")
            .env("DIGEST_HTTP_BACKOFF", "50ms");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).stdin(Stdio::null()).output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Run and insist on success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "digest {args:?} failed: {}", r.stderr);
        r
    }

    /// The store's papers through `digest export --json`, parsed.
    pub fn export(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["export", "--json"];
        args.extend_from_slice(extra);
        let r = self.ok(&args);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("export is not JSON ({e}): {}", r.stdout))
    }

    /// The ids the store holds, in export order.
    pub fn exported_ids(&self, extra: &[&str]) -> Vec<String> {
        self.export(extra)
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}; stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    /// The error line: exactly one `digest: error:` line on stderr.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("digest: error:"))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one error line, got: {}",
            self.stderr
        );
        lines[0]
    }
}

/// A file's bytes, or nothing if it does not exist (the store before and after a failure).
pub fn snapshot(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// The usual delivery scene: a listing served over HTTP, an SMTP server, and a sandbox
/// pointed at both with one reader.
pub struct Scene {
    pub sb: Sandbox,
    pub smtp: SmtpServer,
    pub http: HttpServer,
    _dir: tempfile::TempDir,
}

impl Scene {
    /// With `opts.auth`, the sandbox logs in with those credentials.
    pub fn new(fixture_name: &str, opts: SmtpOptions) -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let auth = opts.auth.clone();
        let smtp = SmtpServer::start(dir.path(), opts);
        let http = HttpServer::page("/p", fixture(fixture_name));
        let mut sb = Sandbox::new();
        sb.smtp(&smtp)
            .mail("digest@example.org", "ann@example.org")
            .set("DIGEST_SOURCE_URL", http.url("/p"));
        if let Some((user, password)) = auth {
            sb.set("DIGEST_SMTP_USERNAME", user)
                .set("DIGEST_SMTP_PASSWORD", password);
        }
        Scene {
            sb,
            smtp,
            http,
            _dir: dir,
        }
    }
}
