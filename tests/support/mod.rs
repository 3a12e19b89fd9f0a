//! Starting the real `frontdesk` binary and talking to it over sockets.

#![allow(dead_code)] // each test file uses a different part of this

pub mod callback;
pub mod nginx;
pub mod postgres;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// One headless Chromium at a time across every browser test in the binary:
/// two of them on two cores make every wait in both slow enough to time out.
pub static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The binary cargo built for this test run, or `FRONTDESK_TEST_BINARY`
/// (another build, e.g. to check that a new test fails on older code).
pub fn binary() -> PathBuf {
    match std::env::var_os("FRONTDESK_TEST_BINARY") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_frontdesk")),
    }
}

/// Runs a CLI command against `db` and returns its stdout.
pub fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(args)
        .env("FRONTDESK_DATABASE", db)
        .output()
        .expect("run frontdesk");
    assert!(
        out.status.success(),
        "frontdesk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Creates an admin and returns their token (the last line of `user add`).
pub fn admin_token(db: &str) -> String {
    cli(db, &["user", "add", "admin", "--role", "admin"])
        .lines()
        .last()
        .expect("token line")
        .to_string()
}

/// The environment that lets `callback_url`s reach loopback receivers
/// (`--allow-private-callbacks`); without it such URLs are refused (issue 14 item 8).
pub const ALLOW_PRIVATE_CALLBACKS: (&str, &str) = ("FRONTDESK_ALLOW_PRIVATE_CALLBACKS", "1");

/// `frontdesk serve` on a free port.
fn serve_command() -> Command {
    let mut command = Command::new(binary());
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    command
}

/// A server's JSON log lines, shared with the thread that reads them.
pub type Log = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;

/// A running `frontdesk serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts the server on port 0 and waits for the address it logs (no sleeping).
    pub fn start(db: &str, extra_env: &[(&str, &str)]) -> Server {
        Self::spawn(serve_command(), db, extra_env, None)
    }

    /// Like [`Server::start`], keeping every JSON log line it writes in `log`
    /// (the lines before the address included), for tests that read the log.
    pub fn start_logged(db: &str, extra_env: &[(&str, &str)], log: Log) -> Server {
        Self::spawn(serve_command(), db, extra_env, Some(log))
    }

    /// Like [`Server::start`], for a `serve` command built by the caller
    /// (extra flags, or the binary run through a shell that sets limits).
    pub fn start_command(command: Command, db: &str, extra_env: &[(&str, &str)]) -> Server {
        Self::spawn(command, db, extra_env, None)
    }

    /// A second frontdesk that serves the catalogue directory `catalogue` at
    /// `/catalogue` (issue 17), with its own database and data dir under `root`.
    pub fn serving_catalogue(root: &Path, catalogue: &Path) -> Server {
        let dir = root.join("market");
        std::fs::create_dir_all(&dir).unwrap();
        let mut serve = serve_command();
        serve.arg("--serve-catalogue").arg(catalogue);
        serve.arg("--data-dir").arg(dir.join("data"));
        Self::start_command(serve, &sqlite_url(&dir), &[])
    }

    fn spawn(
        mut command: Command,
        db: &str,
        extra_env: &[(&str, &str)],
        log: Option<Log>,
    ) -> Server {
        let mut child = command
            .env("FRONTDESK_DATABASE", db)
            .env("FRONTDESK_LOG_JSON", "1")
            .envs(extra_env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frontdesk serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        // What it wrote before the address, for the panic if it exits instead.
        let mut before = Vec::new();
        let addr = loop {
            let Some(line) = lines.next() else {
                panic!(
                    "server exited before logging its address:\n{}",
                    before.join("\n")
                );
            };
            let line = line.expect("read log");
            before.push(line.clone());
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let addr = entry["fields"]["addr"].as_str().map(str::to_string);
            if let Some(log) = &log {
                log.lock().unwrap().push(entry);
            }
            if let Some(addr) = addr {
                break addr.parse().expect("logged address");
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let (Some(log), Ok(entry)) = (&log, serde_json::from_str::<Value>(&line)) {
                    log.lock().unwrap().push(entry);
                }
            }
        });
        Server { child, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("run kill").success(), "cannot signal {pid}");
    }

    /// Waits up to `within` for the process to exit (polling, no sleep as
    /// synchronisation); `None` if it is still running then.
    pub fn exited_within(
        &mut self,
        within: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive HTTP/1 client.
#[derive(Clone)]
pub struct Http(Client<HttpConnector, Full<Bytes>>);

impl Default for Http {
    fn default() -> Self {
        Http(Client::builder(TokioExecutor::new()).build_http())
    }
}

impl Http {
    /// Sends a request; `Err` when no answer came (connection refused or reset).
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Value), String> {
        let (status, _, body) = self.exchange(method, url, headers, body).await?;
        Ok((status, body))
    }

    /// Like [`Http::send`], with the answer's headers.
    pub async fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(u16, hyper::HeaderMap, Value), String> {
        let mut req = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let res = self.0.request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let answer_headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            status,
            answer_headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A JSON API call with a bearer token; panics unless the server answered.
    pub async fn api(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let headers = [
            ("authorization", format!("Bearer {token}")),
            ("content-type", "application/json".into()),
        ];
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send(method, url, &headers, body)
            .await
            .expect("server answered")
    }
}

/// A database URL for a fresh SQLite file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("frontdesk.db").display())
}

/// Builds the guest plugins (once per test binary) and lays out a package
/// folder (`manifest.toml` + `plugin.wasm`) for the guest crate at
/// `plugins/{dir}` whose wasm file is `{wasm}.wasm`.
pub fn plugin_package(dir: &str, wasm: &str, into: &Path) -> PathBuf {
    static WASM_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm_dir = WASM_DIR.get_or_init(|| {
        frontdesk_plugin_host::guest_build::build_guests(&root, None)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let package = into.join(dir.replace('/', "-"));
    std::fs::create_dir_all(&package).unwrap();
    std::fs::copy(
        root.join("plugins").join(dir).join("manifest.toml"),
        package.join("manifest.toml"),
    )
    .unwrap();
    std::fs::copy(
        wasm_dir.join(format!("{wasm}.wasm")),
        package.join("plugin.wasm"),
    )
    .unwrap();
    package
}

/// Runs `frontdesk plugin --data-dir DATA ARGS...` as an admin would, for
/// tests that look at a refusal. The packages these tests build from the
/// repository are unsigned, so installs allow that (FRONTDESK_ALLOW_UNSIGNED);
/// `tests/marketplace.rs` checks signatures with its own commands.
pub fn plugin_command(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .env("FRONTDESK_ALLOW_UNSIGNED", "true")
        .args(["plugin", "--data-dir"])
        .arg(data)
        .args(args)
        .output()
        .expect("run frontdesk plugin")
}

/// Runs `frontdesk plugin --data-dir DATA ARGS...` and returns its output;
/// panics with its error output unless it succeeds.
pub fn plugin_cli(data: &Path, args: &[&str]) -> String {
    let out = plugin_command(data, args);
    assert!(
        out.status.success(),
        "frontdesk plugin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
