//! Issue 21, JavaScript plugins on the real binary: `frontdesk plugin build`
//! turns the JS example (`plugins/examples/order-status-js`) into a package
//! with componentize-js from the npm test peers; installed from that archive,
//! it greets a customer, looks an order up through the `http` capability on
//! its allowed host (a loopback shop here), and hands over when an order is
//! unknown. A hostile JS bot that loops or grows memory without end is
//! stopped by the deadline or the memory limit (which SpiderMonkey reports
//! as its own out-of-memory error), the session goes to the queue, and the
//! server keeps serving.
//!
//! The builds go to `target/js-plugins/`, kept between runs: componentize-js
//! runs again only when the sources change (`plugin build` hashes them).

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, binary, plugin_cli, sqlite_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATIENCE: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the JS project at `plugins/{dir}` with `frontdesk plugin build`,
/// once per test binary, and returns its archive. The project is copied to
/// `target/js-plugins/` with the test peers' `node_modules` linked in, as
/// an author's `npm install` would leave it.
fn js_package(dir: &'static str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(&'static str, PathBuf)>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap();
    if let Some((_, archive)) = built.iter().find(|(d, _)| *d == dir) {
        return archive.clone();
    }
    let peers = root().join("tests/peers/node_modules");
    assert!(
        peers.join(".bin/componentize-js").is_file(),
        "the npm test peers are not installed: run `npm install --prefix tests/peers` \
         (scripts/test.sh does)"
    );
    let project = root()
        .join("target/js-plugins")
        .join(Path::new(dir).file_name().unwrap());
    copy_sources(&root().join("plugins").join(dir), &project);
    let modules = project.join("node_modules");
    if std::fs::symlink_metadata(&modules).is_err() {
        std::os::unix::fs::symlink(&peers, &modules).unwrap();
    }
    let started = Instant::now();
    let out = std::process::Command::new(binary())
        .arg("plugin")
        .arg("build")
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "plugin build {dir} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    eprintln!("built {dir} in {:.1?}: {shown}", started.elapsed());
    let line = shown
        .lines()
        .find_map(|l| l.strip_prefix("packed into "))
        .unwrap_or_else(|| panic!("no archive named: {shown}"));
    let archive = PathBuf::from(line);
    built.push((dir, archive.clone()));
    archive
}

/// Copies a project's files (symlinks followed, so `wit/` comes along),
/// leaving out what a build writes; an unchanged file is left alone.
fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ["node_modules", "dist", ".gitignore"].contains(&name.as_str())
            || name.ends_with(".tar.gz")
        {
            continue;
        }
        let target = to.join(&name);
        if path.is_dir() {
            copy_sources(&path, &target);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            if std::fs::read(&target).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&target, bytes).unwrap();
            }
        }
    }
}

/// A shop's order API on loopback: `GET /orders/10042` is a shipped order,
/// every other number is unknown (404). Keeps the paths it was asked for.
async fn shop() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split(' ').nth(1).unwrap_or_default().to_string();
                seen.lock().unwrap().push(path.clone());
                let (status, body) = if path == "/orders/10042" {
                    (
                        "200 OK",
                        json!({"status": "shipped", "eta": "Friday"}).to_string(),
                    )
                } else {
                    (
                        "404 Not Found",
                        json!({"error": "no such order"}).to_string(),
                    )
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, asked)
}

struct Setup {
    _dir: tempfile::TempDir,
    server: Server,
    http: Http,
    token: String,
}

/// A server with the given JS packages installed by the CLI.
fn start(packages: &[PathBuf]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    for archive in packages {
        let shown = plugin_cli(&data, &["install", archive.to_str().unwrap()]);
        assert!(shown.contains("(bot) by "), "{shown}");
        assert!(shown.contains("installed "), "{shown}");
    }
    let token = admin_token(&db);
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
    Setup {
        _dir: dir,
        server,
        http: Http::default(),
        token,
    }
}

impl Setup {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.http
            .api(method, &self.server.url(path), &self.token, body)
            .await
    }

    /// An `api` channel whose new sessions go to `bot`; returns (id, secret).
    async fn channel(&self, name: &str, bot: Value) -> (i64, String) {
        let (status, created) = self
            .api("POST", "/api/v1/channels", Some(json!({"name": name})))
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["channel"]["id"].as_i64().unwrap();
        let (status, body) = self
            .api("PUT", &format!("/api/v1/channels/{id}/bot"), Some(bot))
            .await;
        assert_eq!(status, 200, "{body}");
        (id, created["secret"].as_str().unwrap().to_string())
    }

    /// A customer's message through the signed webhook; returns the session.
    async fn say(&self, channel: &(i64, String), id: &str, text: &str) -> i64 {
        let body = json!({"message_id": id, "chat_id": "c1", "text": text,
                          "sender": {"id": "c1", "name": "Ada"}})
        .to_string()
        .into_bytes();
        let headers = [(SIGNATURE_HEADER, sign(&channel.1, &body))];
        let url = self.server.url(&format!("/hooks/{}", channel.0));
        let (status, answer) = self.http.send("POST", &url, &headers, body).await.unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// Waits until the session sent a text containing `part`; returns all.
    async fn until_sent(&self, session: i64, part: &str) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, messages) = self
                .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
                .await;
            assert_eq!(status, 200, "{messages}");
            let out: Vec<String> = messages
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["direction"] == "out")
                .map(|m| m["body"].as_str().unwrap_or_default().to_string())
                .collect();
            if out.iter().any(|t| t.contains(part)) {
                return out;
            }
            assert!(Instant::now() < deadline, "never sent {part:?}: {out:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the session left the bot; returns the bot's note.
    async fn until_handed_over(&self, session: i64) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, detail) = self
                .api("GET", &format!("/api/v1/sessions/{session}"), None)
                .await;
            let (_, bot) = self
                .api("GET", &format!("/api/v1/sessions/{session}/bot"), None)
                .await;
            if detail["session"]["state"] == "queued" && bot["bot"]["status"] == "done" {
                return bot["bot"]["note"].as_str().unwrap_or_default().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the session never went to the queue: {detail} {bot}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_order_bot_looks_an_order_up_then_hands_an_unknown_one_over() {
    let archive = js_package("examples/order-status-js");
    let s = start(&[archive]);
    let (shop_url, asked) = shop().await;
    let channel = s
        .channel(
            "Shop",
            json!({"plugin": "order-status-js", "config": {"orders_api": shop_url}}),
        )
        .await;

    let session = s.say(&channel, "m1", "Hi, where is my parcel?").await;
    let out = s.until_sent(session, "What is your order number?").await;
    assert_eq!(out[0], "Hello! I can tell you where your order is.");

    // The answer to the bot's question goes out through the http capability.
    s.say(&channel, "m2", "It is #10042").await;
    s.until_sent(session, "Order 10042: shipped, expected Friday.")
        .await;
    assert_eq!(*asked.lock().unwrap(), ["/orders/10042"]);

    // An order the shop does not know: the bot says so and hands over.
    s.say(&channel, "m3", "and 55555?").await;
    s.until_sent(session, "I could not find order 55555").await;
    let note = s.until_handed_over(session).await;
    assert!(note.contains("order 55555 was not found"), "{note}");
    assert_eq!(*asked.lock().unwrap(), ["/orders/10042", "/orders/55555"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_js_bot_is_stopped_and_the_server_keeps_serving() {
    // One install only: a debug build of the server compiles a 12 MiB JS
    // component in minutes (unoptimised cranelift).
    let s = start(&[js_package("fixtures/hostile-js")]);
    let mut sessions = Vec::new();
    for mode in ["loop", "grow", "error"] {
        let channel = s
            .channel(
                mode,
                json!({"plugin": "hostile-js", "config": {"mode": mode}}),
            )
            .await;
        let session = s.say(&channel, "m1", "hello").await;
        sessions.push((mode, session));
    }
    for (mode, session) in sessions {
        let note = s.until_handed_over(session).await;
        assert!(
            note.starts_with("The bot hostile-js failed (") && note.contains("handed to the queue"),
            "{mode}: {note}"
        );
        let why = match mode {
            "loop" => "did not finish within 1s",
            // SpiderMonkey turns the refused `memory.grow` into its own
            // out-of-memory error, which the bindings return as `err`.
            "grow" => "returned an error: out of memory",
            _ => "returned an error: hostile-js refused on purpose",
        };
        assert!(note.contains(why), "{mode}: {note}");
        s.until_sent(session, "Hello from a JavaScript bot about to fail.")
            .await;
    }

    // The same server still runs bots: the built-in FAQ bot answers.
    let channel = s
        .channel(
            "Help",
            json!({"plugin": "faq", "config": {"faq": ["opening hours => We are open 9-17."]}}),
        )
        .await;
    let session = s.say(&channel, "m1", "opening hours?").await;
    s.until_sent(session, "We are open 9-17.").await;
}

#[test]
fn plugin_new_js_writes_a_project_and_build_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], path: Option<&Path>| {
        let mut command = std::process::Command::new(binary());
        command.arg("plugin").args(args).current_dir(dir.path());
        if let Some(path) = path {
            command.env("PATH", path);
        }
        command.output().unwrap()
    };
    let made = run(&["new", "bot", "greeter", "--lang", "js"], None);
    assert!(made.status.success(), "{made:?}");
    let project = dir.path().join("greeter");
    for file in [
        "package.json",
        "src/bot.js",
        "wit/bot.wit",
        "types/bot.d.ts",
    ] {
        assert!(project.join(file).is_file(), "no {file}");
    }

    // No componentize-js: the npm command that installs it.
    let out = run(&["build", "greeter"], None);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("componentize-js is not installed")
            && error.contains(
                "npm install --save-dev @bytecodealliance/componentize-js@0.23.0 \
                 @bytecodealliance/preview2-shim@0.25.0"
            ),
        "{error}"
    );

    // No Node.js at all.
    let empty = dir.path().join("no-tools");
    std::fs::create_dir(&empty).unwrap();
    let out = run(&["build", "greeter"], Some(&empty));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("Node.js was not found on PATH"), "{error}");
}
