//! Chat bots end to end (B1, B2, C2, C3) on the real binary with the built
//! bots: packages installed from `.tar.gz` archives with the CLI, customers
//! writing through an `api` channel's signed webhook, and the test clock for
//! a bot's silence. Nothing sleeps: every wait polls the API for a state the
//! server must reach, with a deadline.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, cli, plugin_cli, plugin_package, sqlite_url};

/// A Monday morning, 09:00 UTC, in unix milliseconds.
const T0: i64 = 1_795_503_600_000;
/// How long a wait for the server may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// Builds the bot at `bots/{name}` (or a fixture), packs it into a `.tar.gz`
/// with `frontdesk plugin pack`, and returns the archive.
fn archive(crate_dir: &str, wasm: &str, into: &Path) -> PathBuf {
    let folder = plugin_package(crate_dir, wasm, into);
    let out = into.join(format!("{wasm}.tar.gz"));
    let packed = plugin_cli(
        &into.join("unused"),
        &["pack", folder.to_str().unwrap(), out.to_str().unwrap()],
    );
    assert!(packed.contains("packed into"), "{packed}");
    out
}

struct Setup {
    _dir: tempfile::TempDir,
    server: Server,
    http: Http,
    token: String,
    db: String,
    data: String,
}

/// `serve` on the test clock with the plugin data directory.
fn serve(db: &str, data: &str) -> Server {
    let clock = T0.to_string();
    Server::start(
        db,
        &[
            ("FRONTDESK_TEST_CLOCK", clock.as_str()),
            ("FRONTDESK_DATA_DIR", data),
        ],
    )
}

/// A server on the test clock with the given bot archives installed by the CLI.
fn start(bots: &[(&str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    for (crate_dir, wasm) in bots {
        let archive = archive(crate_dir, wasm, dir.path());
        let shown = plugin_cli(&data, &["install", archive.to_str().unwrap()]);
        // B2: the admin sees what it is and what it may do before it runs.
        assert!(shown.contains("(bot) by "), "{shown}");
        assert!(shown.contains("works with open channels: yes"), "{shown}");
        assert!(shown.contains("permissions"), "{shown}");
        assert!(shown.contains("installed "), "{shown}");
    }
    let token = admin_token(&db);
    let data = data.to_str().unwrap().to_string();
    let server = serve(&db, &data);
    Setup {
        _dir: dir,
        server,
        http: Http::default(),
        token,
        db,
        data,
    }
}

impl Setup {
    /// `kill -9` and start again on the same database and plugins.
    fn crash_and_restart(&mut self) {
        self.server.kill9();
        self.server = serve(&self.db, &self.data);
    }

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
    async fn say(&self, channel: (i64, &str), id: &str, chat: &str, text: &str) -> i64 {
        let body = json!({"message_id": id, "chat_id": chat, "text": text,
                          "sender": {"id": chat, "name": "Visitor"}})
        .to_string()
        .into_bytes();
        let headers = [(SIGNATURE_HEADER, sign(channel.1, &body))];
        let (status, answer) = self
            .http
            .send(
                "POST",
                &self.server.url(&format!("/hooks/{}", channel.0)),
                &headers,
                body,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// Texts the session sent the customer, oldest first.
    async fn outbound(&self, session: i64) -> Vec<String> {
        let (status, messages) = self
            .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
            .await;
        assert_eq!(status, 200, "{messages}");
        messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "out")
            .map(|m| m["body"].as_str().unwrap().to_string())
            .collect()
    }

    /// Waits until the session has sent `n` texts; returns them.
    async fn until_outbound(&self, session: i64, n: usize) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let out = self.outbound(session).await;
            if out.len() >= n {
                return out;
            }
            assert!(Instant::now() < deadline, "never sent {n} texts: {out:?}");
            tokio::task::yield_now().await;
        }
    }

    async fn session(&self, session: i64) -> Value {
        let (status, body) = self
            .api("GET", &format!("/api/v1/sessions/{session}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the session left the bot; returns its detail.
    async fn until_left_bot(&self, session: i64) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let detail = self.session(session).await;
            let bot = self.bot(session).await;
            if detail["session"]["state"] != "bot" && bot["bot"]["status"] == "done" {
                return detail;
            }
            assert!(
                Instant::now() < deadline,
                "the session never left the bot: {detail} {bot}"
            );
            tokio::task::yield_now().await;
        }
    }

    async fn bot(&self, session: i64) -> Value {
        let (status, body) = self
            .api("GET", &format!("/api/v1/sessions/{session}/bot"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_faq_bot_answers_then_hands_over_and_routing_picks_an_agent() {
    let s = start(&[("../bots/faq", "faq_bot")]);
    let agent_token = cli(&s.db, &["user", "add", "bo", "--role", "agent"]);
    assert!(!agent_token.is_empty());
    let (_, users) = s.api("GET", "/api/v1/users", None).await;
    let bo = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "bo")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    // An admin picks a bot per channel; only installed bots are accepted.
    let (status, created) = s
        .api("POST", "/api/v1/channels", Some(json!({"name": "Shop"})))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let (status, refused) = s
        .api(
            "PUT",
            &format!("/api/v1/channels/{id}/bot"),
            Some(json!({"plugin": "nope"})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("installed bots: faq"), "{message}");
    let (status, refused) = s
        .api(
            "PUT",
            &format!("/api/v1/channels/{id}/bot"),
            Some(json!({"plugin": "faq", "config": {}})),
        )
        .await;
    assert_eq!(status, 400, "a missing faq list is refused: {refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("faq")
    );
    let faq = json!({"plugin": "faq", "config": {
        "welcome": "Welcome to the shop!",
        "faq": ["What are your opening hours? | when are you open => We are open 9-17, Monday to Friday.",
                "How much does shipping cost? => Shipping is free over 50 EUR."]}});
    let (status, body) = s
        .api("PUT", &format!("/api/v1/channels/{id}/bot"), Some(faq))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bot"]["timeout_secs"], 60, "the default bot timeout");
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180,
                       "unanswered_interval_secs": 600, "agents": [bo]});
    let (status, body) = s
        .api("PUT", &format!("/api/v1/channels/{id}/queue"), Some(queue))
        .await;
    assert_eq!(status, 200, "{body}");

    let channel = (id, secret.as_str());
    let session = s
        .say(
            channel,
            "m1",
            "visitor-1",
            "Hi! What are your opening hours?",
        )
        .await;
    let out = s.until_outbound(session, 2).await;
    assert_eq!(
        out,
        [
            "Welcome to the shop!",
            "We are open 9-17, Monday to Friday."
        ]
    );
    let detail = s.session(session).await;
    assert_eq!(detail["session"]["state"], "bot", "{detail}");
    assert_eq!(detail["session"]["agent_id"], Value::Null);

    assert_eq!(
        s.say(channel, "m2", "visitor-1", "how much is shiping?")
            .await,
        session
    );
    let out = s.until_outbound(session, 3).await;
    assert_eq!(out[2], "Shipping is free over 50 EUR.");

    assert_eq!(
        s.say(channel, "m3", "visitor-1", "Can I talk to an agent please?")
            .await,
        session
    );
    let detail = s.until_left_bot(session).await;
    assert_eq!(
        detail["session"]["agent_id"], bo,
        "routing picked the agent: {detail}"
    );
    assert_eq!(detail["session"]["state"], "assigned", "{detail}");
    let moves: Vec<(String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["to_state"].as_str().unwrap().to_string(),
                e["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // S1: the session opened with the bot, which handed it to the queue.
    assert_eq!(moves[0].0, "bot", "{moves:?}");
    assert_eq!(
        moves[1],
        ("queued".to_string(), "bot_handover".to_string()),
        "{moves:?}"
    );
    let bot = s.bot(session).await;
    let note = bot["bot"]["note"].as_str().unwrap();
    assert!(note.contains("asked for a person"), "{bot}");
    assert_eq!(bot["bot"]["data"]["last_question"], "how much is shiping?");
    let out = s.outbound(session).await;
    assert_eq!(out[3], "Sure, I'm connecting you with an agent.");

    // After the handover the customer talks to the agent, not the bot.
    s.say(channel, "m4", "visitor-1", "opening hours?").await;
    let (_, messages) = s
        .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
        .await;
    assert_eq!(messages.as_array().unwrap().len(), 8, "{messages}");
    assert_eq!(s.outbound(session).await.len(), 4, "the bot stays quiet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_c2_lead_form_rejects_a_bad_email_then_stores_contact_and_lead() {
    let s = start(&[("../bots/lead-form", "lead_form_bot")]);
    let (id, secret) = s
        .channel("Sales", json!({"plugin": "lead-form", "timeout_secs": 120}))
        .await;
    let channel = (id, secret.as_str());
    let session = s
        .say(channel, "m1", "lead-1", "Hello, I want a quote")
        .await;
    let out = s.until_outbound(session, 2).await;
    assert!(
        out[0].starts_with("Hi! An agent will be with you shortly"),
        "{out:?}"
    );
    assert_eq!(out[1], "What is your name?");

    s.say(channel, "m2", "lead-1", "Ada Lovelace").await;
    assert_eq!(
        s.until_outbound(session, 3).await[2],
        "What is your email address?"
    );
    s.say(channel, "m3", "lead-1", "ada(at)example").await;
    let out = s.until_outbound(session, 4).await;
    assert_eq!(
        out[3],
        "\"ada(at)example\" does not look like an email address; please write it like name@example.com."
    );
    s.say(channel, "m4", "lead-1", "Ada@Example.org").await;
    assert_eq!(
        s.until_outbound(session, 5).await[4],
        "And your phone number?"
    );
    s.say(channel, "m5", "lead-1", "+44 (20) 7946-0958").await;

    let detail = s.until_left_bot(session).await;
    // Nobody is in this channel's queue, so the session waits there (R11).
    assert_eq!(detail["session"]["state"], "queued", "{detail}");
    let out = s.outbound(session).await;
    assert_eq!(out[5], "Thank you! An agent will take it from here.");

    let contact_id = detail["session"]["contact_id"].as_i64().unwrap();
    let (status, contact) = s
        .api("GET", &format!("/api/v1/contacts/{contact_id}"), None)
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["name"], "Ada Lovelace");
    assert_eq!(contact["email"], "ada@example.org");
    assert_eq!(contact["phone"], "+442079460958");

    let (status, leads) = s
        .api("GET", &format!("/api/v1/leads?session_id={session}"), None)
        .await;
    assert_eq!(status, 200, "{leads}");
    let lead = &leads[0];
    assert_eq!(lead["contact_id"], contact_id);
    assert_eq!(lead["channel_id"], id);
    assert_eq!(lead["name"], "Ada Lovelace");
    assert_eq!(
        lead["source"], "api",
        "C3: the network the customer wrote from"
    );
    assert_eq!(lead["created_by"], "bot:lead-form");

    let bot = s.bot(session).await;
    assert_eq!(bot["bot"]["data"]["contact.email"], "ada@example.org");
    assert_eq!(bot["lead"]["id"], lead["id"]);
    assert!(
        bot["bot"]["note"]
            .as_str()
            .unwrap()
            .contains("Lead form done: Ada Lovelace"),
        "{bot}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a_bot_conversation_and_its_handover_survive_a_crash() {
    let mut s = start(&[
        ("../bots/lead-form", "lead_form_bot"),
        ("fixtures/broken-bot", "broken_bot"),
    ]);
    let (id, secret) = s.channel("Sales", json!({"plugin": "lead-form"})).await;
    let session = s.say((id, &secret), "m1", "lead-2", "Hi").await;
    s.until_outbound(session, 2).await;
    s.say((id, &secret), "m2", "lead-2", "Grace Hopper").await;
    s.until_outbound(session, 3).await;
    // A silent bot's deadline is a row too.
    let (quiet, quiet_secret) = s
        .channel(
            "Quiet",
            json!({"plugin": "broken-bot", "timeout_secs": 30, "config": {"mode": "silent"}}),
        )
        .await;
    let silent = s.say((quiet, &quiet_secret), "m1", "q", "anyone?").await;
    let deadline = Instant::now() + PATIENCE;
    while s.bot(silent).await["bot"]["due_at"].is_null() {
        assert!(Instant::now() < deadline, "no silence deadline");
        tokio::task::yield_now().await;
    }

    s.crash_and_restart();

    // The form goes on where it was: no second greeting, no repeated question.
    s.say((id, &secret), "m3", "lead-2", "grace@example.org")
        .await;
    let out = s.until_outbound(session, 4).await;
    assert_eq!(out.len(), 4, "{out:?}");
    assert_eq!(out[3], "And your phone number?");
    s.say((id, &secret), "m4", "lead-2", "555 0100 200").await;
    s.until_left_bot(session).await;
    let (_, leads) = s
        .api("GET", &format!("/api/v1/leads?session_id={session}"), None)
        .await;
    assert_eq!(leads.as_array().unwrap().len(), 1, "{leads}");
    assert_eq!(leads[0]["name"], "Grace Hopper");

    // The silence deadline set before the crash still hands over after it.
    let (status, _) = s
        .api(
            "POST",
            "/api/v1/test/clock",
            Some(json!({"advance_ms": 30_000})),
        )
        .await;
    assert_eq!(status, 200);
    let detail = s.until_left_bot(silent).await;
    assert_eq!(detail["session"]["state"], "queued", "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a_bot_that_traps_loops_errs_or_stays_silent_hands_over() {
    let s = start(&[("fixtures/broken-bot", "broken_bot")]);
    let mut sessions = Vec::new();
    for mode in ["trap", "loop", "error"] {
        let (id, secret) = s
            .channel(
                mode,
                json!({"plugin": "broken-bot", "config": {"mode": mode}}),
            )
            .await;
        let session = s.say((id, &secret), "m1", "c", "hello").await;
        sessions.push((mode, session));
    }
    for (mode, session) in sessions {
        let detail = s.until_left_bot(session).await;
        assert_eq!(detail["session"]["state"], "queued", "{mode}: {detail}");
        let bot = s.bot(session).await;
        let note = bot["bot"]["note"].as_str().unwrap();
        assert!(
            note.starts_with("The bot broken-bot failed (") && note.contains("handed to the queue"),
            "{mode}: {note}"
        );
        let why = match mode {
            "trap" => "crashed",
            "loop" => "did not finish within",
            _ => "returned an error: broken-bot refused on purpose",
        };
        assert!(note.contains(why), "{mode}: {note}");
        assert_eq!(
            s.outbound(session).await[0],
            "Hello from a bot that is about to fail."
        );
    }

    // A bot that says nothing when it is its turn: after its timeout (on the
    // test clock) the queue takes over.
    let (id, secret) = s
        .channel(
            "silent",
            json!({"plugin": "broken-bot", "timeout_secs": 30, "config": {"mode": "silent"}}),
        )
        .await;
    let session = s.say((id, &secret), "m1", "c", "hello?").await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let bot = s.bot(session).await;
        if let Some(due) = bot["bot"]["due_at"].as_i64() {
            assert_eq!(due, T0 + 30_000, "30 s after the customer's message");
            break;
        }
        assert!(Instant::now() < deadline, "no silence deadline: {bot}");
        tokio::task::yield_now().await;
    }
    assert_eq!(s.session(session).await["session"]["state"], "bot");
    let (status, body) = s
        .api(
            "POST",
            "/api/v1/test/clock",
            Some(json!({"advance_ms": 30_000})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let detail = s.until_left_bot(session).await;
    assert_eq!(detail["session"]["state"], "queued", "{detail}");
    let note = s.bot(session).await["bot"]["note"].clone();
    assert_eq!(
        note,
        "The bot broken-bot did not answer the customer within 30 s, so the session was handed to the queue."
    );
}

#[path = "bots/actions.rs"]
mod actions;
