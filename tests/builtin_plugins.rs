//! Issue 17, "batteries included", on the real binary: a fresh server (empty
//! data dir, nothing installed) offers every first-party channel kind and
//! bot from the packages embedded in it, a telegram channel (npm
//! `telegram-test-api` as Telegram) and a webchat channel carry a message
//! each way; an installed package of the same name overrides a built-in one
//! and removing it falls back.

use crate::support;
// Only the emulator, the front and its webhook record are used here.
#[allow(dead_code)]
use crate::telegram_peers;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_cli, plugin_command, plugin_package, sqlite_url};
use telegram_peers::{Emulator, Front};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "123456:TEST-builtin-bot";
const SECRET: &str = "hook-Secret_17";
const CUSTOMER: i64 = 7017;
const DEADLINE: Duration = Duration::from_secs(30);

struct World {
    server: Server,
    http: Http,
    admin: String,
}

impl World {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.http
            .api(method, &self.server.url(path), &self.admin, body)
            .await
    }

    async fn create_channel(&self, body: Value) -> i64 {
        let (status, created) = self.api("POST", "/api/v1/channels", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        created["channel"]["id"].as_i64().unwrap()
    }

    /// The customer's messages of the channel's only session, polled until
    /// there is one.
    async fn inbound_of_channel(&self, channel: i64) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let (_, sessions) = self
                .api(
                    "GET",
                    &format!("/api/v1/sessions?channel_id={channel}"),
                    None,
                )
                .await;
            if let Some(session) = sessions.as_array().and_then(|s| s.first()) {
                let id = session["id"].as_i64().unwrap();
                let (_, messages) = self
                    .api("GET", &format!("/api/v1/sessions/{id}/messages"), None)
                    .await;
                let inbound: Vec<String> = messages
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["direction"] == "in")
                    .map(|m| m["body"].as_str().unwrap_or_default().to_string())
                    .collect();
                if !inbound.is_empty() {
                    return inbound;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no inbound message on channel {channel}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn session_of(&self, channel: i64) -> i64 {
        let (_, sessions) = self
            .api(
                "GET",
                &format!("/api/v1/sessions?channel_id={channel}"),
                None,
            )
            .await;
        sessions[0]["id"].as_i64().unwrap()
    }

    async fn agent_replies(&self, session: i64, text: &str) {
        let (status, queued) = self
            .api(
                "POST",
                &format!("/api/v1/sessions/{session}/messages"),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_serves_telegram_webchat_and_both_bots_from_its_embedded_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    // Never created by hand: the server makes it, and nothing is installed.
    let data = dir.path().join("data");
    let admin = admin_token(&db);
    let emulator = Emulator::start();
    let front = Front::start(&emulator.url).await;
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_PUBLIC_URL", &front.public_url()),
        ],
    );
    front.relay_to(server.addr);
    let w = World {
        server,
        http: Http::default(),
        admin,
    };

    // Every first-party channel kind and bot is there, marked built-in.
    let (status, kinds) = w.api("GET", "/api/v1/channel-kinds", None).await;
    assert_eq!(status, 200, "{kinds}");
    let kinds: Vec<&str> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["api", "email", "facebook", "telegram", "webchat"]);
    let (status, plugins) = w.api("GET", "/api/v1/plugins", None).await;
    assert_eq!(status, 200, "{plugins}");
    let listed: Vec<(&str, &str, &str)> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["kind"].as_str().unwrap(),
                p["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("email", "connector", "built-in"),
            ("facebook", "connector", "built-in"),
            ("faq", "bot", "built-in"),
            ("lead-form", "bot", "built-in"),
            ("telegram", "connector", "built-in"),
            ("webchat", "connector", "built-in"),
        ]
    );

    // Telegram: creating the channel registers the webhook through the
    // embedded connector; a customer's message comes in, a reply goes out.
    let config = json!({"api_base_url": front.api_base_url(), "bot_token": TOKEN,
                        "webhook_secret": SECRET, "agent_identity": {"mode": "hidden"}});
    let telegram = w
        .create_channel(json!({"name": "Shop bot", "kind": "telegram", "config": config}))
        .await;
    assert!(
        front.webhook.lock().unwrap().is_some(),
        "setWebhook was called"
    );
    let message = json!({
        "botToken": TOKEN,
        "from": {"id": CUSTOMER, "is_bot": false, "first_name": "Ada"},
        "chat": {"id": CUSTOMER, "type": "private", "first_name": "Ada"},
        "date": 1_764_460_800,
        "text": "Is my order on its way?",
    });
    let (status, sent) = w
        .http
        .send(
            "POST",
            &format!("{}/sendMessage", emulator.url),
            &[("content-type", "application/json".into())],
            message.to_string().into_bytes(),
        )
        .await
        .expect("the emulator answers");
    assert_eq!(status, 200, "{sent}");
    assert_eq!(front.wait_pushes(1).await[0].status, 200);
    assert_eq!(
        w.inbound_of_channel(telegram).await,
        ["Is my order on its way?"]
    );
    let session = w.session_of(telegram).await;
    w.agent_replies(session, "Yes, it ships today.").await;
    front
        .wait_call("the reply's sendMessage", |c| {
            c.method == "sendMessage" && c.body["text"] == "Yes, it ships today." && c.status == 200
        })
        .await;

    // Webchat: a visitor writes over the WebSocket; the agent's reply is pushed back.
    let webchat = w
        .create_channel(json!({"name": "Site chat", "kind": "webchat", "config": {}}))
        .await;
    let (status, visitor) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/chat/{webchat}/visitors")),
            &[("content-type", "application/json".into())],
            b"{}".to_vec(),
        )
        .await
        .expect("frontdesk answers");
    assert_eq!(status, 200, "{visitor}");
    let url = format!(
        "ws://{}/chat/{webchat}/ws?token={}",
        w.server.addr,
        visitor["token"].as_str().unwrap()
    );
    let (mut socket, _) = connect_async(url).await.expect("the socket opens");
    let frame = json!({"type": "message", "client_id": "c-1", "text": "Hello from the site"});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    next_frame(&mut socket, |f| f["type"] == "ack").await;
    assert_eq!(w.inbound_of_channel(webchat).await, ["Hello from the site"]);
    let session = w.session_of(webchat).await;
    w.agent_replies(session, "Hi! How can I help?").await;
    next_frame(&mut socket, |f| f["text"] == "Hi! How can I help?").await;

    // Both embedded bots can take a channel's sessions.
    let api_channel = w.create_channel(json!({"name": "Bots"})).await;
    for bot in [
        json!({"plugin": "faq", "config": {"faq": ["hours => 9 to 5"]}}),
        json!({"plugin": "lead-form", "config": {}}),
    ] {
        let (status, body) = w
            .api(
                "PUT",
                &format!("/api/v1/channels/{api_channel}/bot"),
                Some(bot),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON frame from the visitor's socket that `want` accepts.
async fn next_frame(socket: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a frame within the deadline")
            .expect("the socket is open")
            .expect("a readable frame");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            if want(&frame) {
                return frame;
            }
        }
    }
}

#[test]
fn an_installed_package_overrides_a_built_in_one_and_removing_it_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let list = plugin_cli(&data, &["list"]);
    assert!(
        list.contains("webchat (Connector): active 0.1.0 [built-in]"),
        "{list}"
    );
    assert!(
        list.contains("faq (Bot): active 0.1.0 [built-in]"),
        "{list}"
    );

    // The same plugin, a newer version, installed by the admin.
    let package = plugin_package("webchat", "webchat", dir.path());
    let manifest = std::fs::read_to_string(package.join("manifest.toml")).unwrap();
    std::fs::write(
        package.join("manifest.toml"),
        manifest.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let list = plugin_cli(&data, &["list"]);
    assert!(
        list.contains("webchat (Connector): active 0.2.0 [installed; overrides built-in 0.1.0]"),
        "{list}"
    );

    plugin_cli(&data, &["remove", "webchat"]);
    let list = plugin_cli(&data, &["list"]);
    assert!(
        list.contains("webchat (Connector): active 0.1.0 [built-in]"),
        "{list}"
    );

    // A built-in plugin itself cannot be removed: there is nothing installed.
    let out = plugin_command(&data, &["remove", "telegram"]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("plugin telegram is built into the server and cannot be removed"),
        "{error}"
    );
}
