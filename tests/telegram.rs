//! The Telegram connector end to end (O4, S3–S5, P3, C3): the real binary,
//! the real `plugins/telegram` component, and npm `telegram-test-api` as
//! Telegram (see `telegram_peers/mod.rs` for what the test's front adds).
//!
//! A customer writes through the emulator's client API; the emulator pushes
//! the update to the webhook `setWebhook` registered; an agent's reply comes
//! out through the emulator, where the client reads it. Then: a repeated
//! webhook stores one message, a bad secret is refused and stores nothing,
//! an authentic unreadable update is answered 200 and listed as failed
//! inbound, an outage (502) is retried from the outbox and delivered after,
//! and a 429's `retry_after` is waited out. Time moves only on the test clock.

#[path = "telegram_long_reply.rs"]
mod long_reply;
use crate::support;
use crate::telegram_peers;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_package, sqlite_url};
use telegram_peers::{Emulator, Front, Mode};

const TOKEN: &str = "123456:TEST-frontdesk-bot";
const SECRET: &str = "hook-Secret_42";
const CUSTOMER: i64 = 7001;
/// Where the test clock starts (2026-11-30, Unix ms).
const START: i64 = 1_764_460_800_000;

struct World {
    server: Server,
    http: Http,
    admin: String,
    emulator: Emulator,
    front: std::sync::Arc<Front>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.http
            .api(method, &self.server.url(path), &self.admin, body)
            .await
    }

    /// The customer writes to the bot through the emulator's client API.
    async fn customer_says(&self, text: &str) {
        let message = json!({
            "botToken": TOKEN,
            "from": {"id": CUSTOMER, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace", "username": "ada_l"},
            "chat": {"id": CUSTOMER, "type": "private", "first_name": "Ada", "username": "ada_l"},
            "date": START / 1000,
            "text": text,
        });
        let (status, body) = self
            .http
            .send(
                "POST",
                &format!("{}/sendMessage", self.emulator.url),
                &[("content-type", "application/json".into())],
                message.to_string().into_bytes(),
            )
            .await
            .expect("emulator answers");
        assert_eq!((status, &body["ok"]), (200, &json!(true)), "{body}");
    }

    /// What the customer's client has received from the bot since last asked.
    async fn customer_receives(&self) -> Vec<String> {
        let (status, body) = self
            .http
            .send(
                "POST",
                &format!("{}/getUpdates", self.emulator.url),
                &[("content-type", "application/json".into())],
                json!({"token": TOKEN, "chatId": CUSTOMER})
                    .to_string()
                    .into_bytes(),
            )
            .await
            .expect("emulator answers");
        assert_eq!(status, 200, "{body}");
        body["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                u["message"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    async fn hook(&self, channel: i64, secret: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(secret) = secret {
            headers.push(("x-telegram-bot-api-secret-token", secret.to_string()));
        }
        self.http
            .send(
                "POST",
                &self.server.url(&format!("/hooks/{channel}")),
                &headers,
                body,
            )
            .await
            .expect("frontdesk answers")
    }

    async fn inbound_messages(&self, session: i64) -> Vec<Value> {
        let (_, messages) = self
            .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
            .await;
        messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "in")
            .cloned()
            .collect()
    }

    async fn reply(&self, session: i64, text: &str) -> i64 {
        let (status, queued) = self
            .api(
                "POST",
                &format!("/api/v1/sessions/{session}/messages"),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
        queued["outbox"]["id"].as_i64().unwrap()
    }

    async fn outbox_item(&self, id: i64) -> Value {
        let (_, items) = self.api("GET", "/api/v1/outbox?limit=1000", None).await;
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("outbox item {id} missing: {items}"))
    }

    async fn advance_clock(&self, ms: i64) {
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/test/clock",
                Some(json!({"advance_ms": ms})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("telegram", "telegram", dir.path());
    let admin = admin_token(&db);
    support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let emulator = Emulator::start();
    let front = Front::start(&emulator.url).await;
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_PUBLIC_URL", &front.public_url()),
            ("FRONTDESK_TEST_CLOCK", &START.to_string()),
        ],
    );
    front.relay_to(server.addr);
    World {
        server,
        http: Http::default(),
        admin,
        emulator,
        front,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_bot_end_to_end_through_the_emulator() {
    let w = world().await;

    // Creating the channel registers the webhook with its secret (setWebhook).
    // Agents stay anonymous here, so replies are exactly what the agent
    // typed; I1 has its own test below.
    let config = json!({"api_base_url": w.front.api_base_url(), "bot_token": TOKEN, "webhook_secret": SECRET,
                        "agent_identity": {"mode": "hidden"}});
    let (status, created) = w
        .api(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Shop bot", "kind": "telegram", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let webhook = w
        .front
        .webhook
        .lock()
        .unwrap()
        .clone()
        .expect("setWebhook was called");
    assert_eq!(
        webhook["url"],
        format!("{}/hooks/{channel}", w.front.public_url())
    );
    assert_eq!(webhook["secret_token"], SECRET);
    assert_eq!(
        webhook["allowed_updates"],
        json!(["message", "edited_message"])
    );

    // A customer message goes in through the emulator's webhook push.
    w.customer_says("My parcel is late").await;
    let pushes = w.front.wait_pushes(1).await;
    assert_eq!(pushes[0].status, 200, "the webhook accepted the push");
    let update: Value = serde_json::from_slice(&pushes[0].body).unwrap();
    let (_, sessions) = w.api("GET", "/api/v1/sessions", None).await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = sessions[0]["id"].as_i64().unwrap();
    assert_eq!(
        sessions[0]["source"], "telegram",
        "C3: the network is recorded"
    );
    assert_eq!(sessions[0]["chat_id"], CUSTOMER.to_string());
    let inbound = w.inbound_messages(session).await;
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0]["body"], "My parcel is late");
    assert_eq!(inbound[0]["external_id"], update["update_id"].to_string());

    // An agent's reply comes out through the emulator to the customer's client.
    let outbox = w.reply(session, "Sorry! It ships today.").await;
    w.front
        .wait_call("the reply's sendMessage", |c| {
            c.method == "sendMessage"
                && c.body["text"] == "Sorry! It ships today."
                && c.status == 200
        })
        .await;
    assert!(
        w.customer_receives()
            .await
            .contains(&"Sorry! It ships today.".to_string())
    );
    w.wait_outbox(outbox, |i| i["state"] == "sent").await;
    // Exactly Telegram's fields: the outbox id is never sent to be shown.
    let sent = w
        .front
        .calls(|c| c.body["text"] == "Sorry! It ships today.");
    assert_eq!(
        sent[0].body,
        json!({"chat_id": CUSTOMER, "text": "Sorry! It ships today."})
    );

    // S3: Telegram delivering the same update again stores nothing new.
    let (status, again) = w.hook(channel, Some(SECRET), pushes[0].body.to_vec()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["messages"][0]["message_id"], inbound[0]["id"]);
    assert_eq!(w.inbound_messages(session).await.len(), 1);

    // The customer edits that message: stored as a message of its own, so
    // the log keeps both versions.
    let original = update["message"]["message_id"].as_i64().unwrap();
    let edit = json!({"update_id": update["update_id"].as_i64().unwrap() + 1000,
        "edited_message": {"message_id": original, "date": START / 1000, "edit_date": START / 1000 + 60,
            "from": {"id": CUSTOMER, "is_bot": false, "first_name": "Ada"},
            "chat": {"id": CUSTOMER, "type": "private"}, "text": "My parcel #881 is late"}});
    let (status, body) = w
        .hook(channel, Some(SECRET), edit.to_string().into_bytes())
        .await;
    assert_eq!(status, 200, "{body}");
    let inbound = w.inbound_messages(session).await;
    assert_eq!(inbound.len(), 2, "{inbound:?}");
    assert_eq!(inbound[1]["body"], "My parcel #881 is late");

    // P3: a wrong or missing secret is refused and stores nothing.
    let forged = json!({"update_id": 555, "message": {"message_id": 90, "date": START / 1000,
        "from": {"id": 666, "is_bot": false, "first_name": "Mallory"},
        "chat": {"id": 666, "type": "private"}, "text": "forged"}})
    .to_string()
    .into_bytes();
    let (status, body) = w
        .hook(channel, Some("not-the-secret"), forged.clone())
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("bad_signature")),
        "{body}"
    );
    let (status, _) = w.hook(channel, None, forged).await;
    assert_eq!(status, 403);
    let (_, sessions) = w.api("GET", "/api/v1/sessions", None).await;
    assert_eq!(sessions.as_array().unwrap().len(), 1, "nothing stored");
    let (_, failed) = w.api("GET", "/api/v1/inbound/failed", None).await;
    assert_eq!(failed, json!([]), "refused requests are not kept either");

    // An authentic update that cannot be read: 200, kept raw for admins.
    let unreadable = br#"{"update_id":556,"message":{"message_id":91,"date":1764460800,"text":"where is my chat?"}}"#;
    let (status, body) = w.hook(channel, Some(SECRET), unreadable.to_vec()).await;
    assert_eq!((status, &body["messages"]), (200, &json!([])), "{body}");
    let (_, failed) = w.api("GET", "/api/v1/inbound/failed", None).await;
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed[0]["channel_id"], channel);
    assert_eq!(failed[0]["body"], std::str::from_utf8(unreadable).unwrap());
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("chat"),
        "{failed}"
    );
    assert_eq!(
        failed[0]["headers"]["x-telegram-bot-api-secret-token"],
        "<redacted>"
    );

    // S5: Telegram down (502): the reply waits in the outbox, then goes out once.
    w.front.set_mode(Mode::Down);
    let outbox = w.reply(session, "Tracking number: 42").await;
    let failed_call = w
        .front
        .wait_call("the 502 attempt", |c| {
            c.body["text"] == "Tracking number: 42"
        })
        .await;
    assert_eq!(failed_call.status, 502);
    let item = w.wait_outbox(outbox, |i| i["attempts"] == 1).await;
    assert_eq!(item["state"], "pending", "{item}");
    assert!(
        item["last_error"].as_str().unwrap().contains("502"),
        "{item}"
    );
    assert!(
        !item["last_error"].as_str().unwrap().contains(TOKEN),
        "no token in errors: {item}"
    );
    w.front.set_mode(Mode::Pass);
    w.advance_clock(item["next_attempt_at"].as_i64().unwrap() - w.now().await)
        .await;
    w.front
        .wait_call("the retried sendMessage", |c| {
            c.body["text"] == "Tracking number: 42" && c.status == 200
        })
        .await;
    assert_eq!(
        w.wait_outbox(outbox, |i| i["state"] == "sent").await["attempts"],
        2
    );
    let received = w.customer_receives().await;
    assert_eq!(
        received
            .iter()
            .filter(|t| *t == "Tracking number: 42")
            .count(),
        1,
        "delivered once: {received:?}"
    );

    // Flood control: Telegram's retry_after (30 s) is waited out, not the
    // outbox's own 1 s backoff.
    w.front.set_mode(Mode::FloodOnce { retry_after: 30 });
    let outbox = w.reply(session, "One more thing").await;
    let limited = w
        .front
        .wait_call("the 429 attempt", |c| c.body["text"] == "One more thing")
        .await;
    assert_eq!(limited.status, 429);
    let item = w.wait_outbox(outbox, |i| i["attempts"] == 1).await;
    let now = w.now().await;
    assert_eq!(
        item["next_attempt_at"].as_i64().unwrap() - now,
        30_000,
        "{item}"
    );
    w.advance_clock(29_000).await;
    assert_eq!(w.outbox_item(outbox).await["state"], "pending");
    w.advance_clock(1_000).await;
    w.front
        .wait_call("the sendMessage after retry_after", |c| {
            c.body["text"] == "One more thing" && c.status == 200
        })
        .await;
    let received = w.customer_receives().await;
    assert_eq!(
        received.iter().filter(|t| *t == "One more thing").count(),
        1,
        "{received:?}"
    );
    assert_eq!(
        w.front.calls(|c| c.body["text"] == "One more thing").len(),
        2,
        "one refused attempt, one delivery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_set_webhook_names_telegrams_words_and_a_patch_retries_it() {
    let w = world().await;
    w.front.set_mode(Mode::BadToken);
    let config = json!({"api_base_url": w.front.api_base_url(), "bot_token": "999:wrong", "webhook_secret": SECRET});
    let (status, body) = w
        .api(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Typo bot", "kind": "telegram", "config": config})),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "provider_setup_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("setWebhook: 401 Unauthorized"),
        "{message}"
    );
    assert!(
        !message.contains("999:wrong"),
        "the token is not echoed: {message}"
    );

    // The channel is saved; its health keeps Telegram's words (U1).
    let (_, channels) = w.api("GET", "/api/v1/channels", None).await;
    let channel = channels[0]["id"].as_i64().unwrap();
    let health_url = format!("/api/v1/channels/{channel}/health");
    let (_, health) = w.api("GET", &health_url, None).await;
    assert_eq!(health["setup"]["ok"], false, "{health}");
    assert!(
        health["setup"]["message"]
            .as_str()
            .unwrap()
            .contains("setWebhook: 401 Unauthorized"),
        "{health}"
    );
    // Run setup again while the token is still wrong: the same 502.
    let setup_url = format!("/api/v1/channels/{channel}/setup");
    let (status, body) = w.api("POST", &setup_url, None).await;
    assert_eq!(status, 502, "{body}");

    // Fixing the token with a PATCH registers the webhook.
    w.front.set_mode(Mode::Pass);
    let fixed = json!({"api_base_url": w.front.api_base_url(), "bot_token": TOKEN, "webhook_secret": SECRET});
    let (status, body) = w
        .api(
            "PATCH",
            &format!("/api/v1/channels/{channel}"),
            Some(json!({"config": fixed})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let webhook = w.front.webhook.lock().unwrap().clone().unwrap();
    assert_eq!(
        webhook["url"],
        format!("{}/hooks/{channel}", w.front.public_url())
    );
    let ok = w
        .front
        .calls(|c| c.method == "setWebhook" && c.status == 200);
    assert_eq!(ok.len(), 1);
    let (_, health) = w.api("GET", &health_url, None).await;
    assert_eq!(health["setup"]["ok"], true, "{health}");
    // Run setup again calls setWebhook once more.
    let (status, body) = w.api("POST", &setup_url, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    let ok = w
        .front
        .calls(|c| c.method == "setWebhook" && c.status == 200);
    assert_eq!(ok.len(), 2);

    // And messages flow.
    w.customer_says("hello?").await;
    assert_eq!(w.front.wait_pushes(1).await[0].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_each_agent_identity_mode_shows_in_the_telegram_reply() {
    let w = world().await;
    let config = |identity: Value| {
        json!({"api_base_url": w.front.api_base_url(), "bot_token": TOKEN, "webhook_secret": SECRET,
               "agent_identity": identity})
    };
    let (status, created) = w
        .api(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Shop bot", "kind": "telegram", "config": config(json!({"mode": "profile"}))})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let (status, me) = w
        .api(
            "PATCH",
            "/api/v1/me",
            Some(json!({"display_name": "Ada L.", "avatar_url": "https://example.org/ada.png"})),
        )
        .await;
    assert_eq!(
        (status, &me["display_name"]),
        (200, &json!("Ada L.")),
        "{me}"
    );
    w.customer_says("Where is my parcel?").await;
    w.front.wait_pushes(1).await;
    let (_, sessions) = w.api("GET", "/api/v1/sessions", None).await;
    let session = sessions[0]["id"].as_i64().unwrap();

    for (identity, typed, shown) in [
        (
            json!({"mode": "profile"}),
            "It ships today.",
            "Ada L.:\nIt ships today.",
        ),
        (
            json!({"mode": "channel", "name": "Shop Support"}),
            "Tracking follows.",
            "Shop Support:\nTracking follows.",
        ),
        (
            json!({"mode": "hidden"}),
            "Anything else?",
            "Anything else?",
        ),
    ] {
        let (status, body) = w
            .api(
                "PATCH",
                &format!("/api/v1/channels/{channel}"),
                Some(json!({"config": config(identity.clone())})),
            )
            .await;
        assert_eq!(status, 200, "{identity}: {body}");
        w.reply(session, typed).await;
        w.front
            .wait_call(shown, |c| {
                c.method == "sendMessage" && c.body["text"] == shown && c.status == 200
            })
            .await;
        assert!(
            w.customer_receives().await.contains(&shown.to_string()),
            "{identity}: the customer's client shows {shown:?}"
        );
    }

    // A setting that is not one of the three is refused, naming the forms.
    let (status, body) = w
        .api(
            "PATCH",
            &format!("/api/v1/channels/{channel}"),
            Some(json!({"config": config(json!({"mode": "anonymous"}))})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("agent_identity"),
        "{body}"
    );
}

impl World {
    /// The test clock's time.
    async fn now(&self) -> i64 {
        self.api("POST", "/api/v1/test/clock", Some(json!({"advance_ms": 0})))
            .await
            .1["now"]
            .as_i64()
            .unwrap()
    }

    /// Polls the outbox item until `pred` holds (the worker records each
    /// attempt right after the provider answered), within the deadline.
    async fn wait_outbox(&self, id: i64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + telegram_peers::DEADLINE;
        // A poll interval, not a wait for time to pass: it only keeps the
        // loop from hammering the server while the worker records.
        let mut poll = tokio::time::interval(std::time::Duration::from_millis(10));
        loop {
            poll.tick().await;
            let item = self.outbox_item(id).await;
            if pred(&item) {
                return item;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "outbox item never got there: {item}"
            );
        }
    }
}
