//! Issue 16, Channels and one channel's Queue, CRM, Agent information and
//! Other tabs in a real browser (`tests/browser/settings_channels.mjs`):
//! the admin creates a webchat and an `api` channel, puts two agents in the
//! queue in strict order with a 1-minute forward interval, and a bad
//! interval is refused at its field with nothing saved (a). A customer then
//! writes; on the test clock the offer moves from the first agent to the
//! second after a minute; the admin switches the queue to evenly in the
//! browser and the next session follows the new mode (b, scenario 3). The
//! channel's supervisor sees every tab read-only (c, scenario 4). axe-core
//! checks each page (d).

use serde_json::{Value, json};

use super::support::{Http, Server, admin_token, plugin_cli, plugin_package, sqlite_url};

struct Desk {
    server: Server,
    http: Http,
    admin: String,
}

impl Desk {
    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .http
            .api(method, &self.server.url(path), token, body)
            .await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// Creates a user who signs in with a password; returns (id, API token).
    async fn user(&self, name: &str, role: &str) -> (i64, String) {
        let body = json!({"name": name, "role": role, "password": password(name)});
        let created = self
            .api("POST", "/api/v1/users", &self.admin, Some(body))
            .await;
        (
            created["user"]["id"].as_i64().unwrap(),
            created["token"].as_str().unwrap().to_string(),
        )
    }

    /// The engine answers a heartbeat only after storing its step, so after
    /// it every earlier event and every timer already due is in the store.
    async fn settle(&self) {
        let url = self.server.url("/api/v1/me/presence");
        let (status, body) = self.http.api("POST", &url, &self.admin, None).await;
        assert_eq!(status, 204, "{body}");
    }

    async fn advance(&self, ms: i64) {
        self.api(
            "POST",
            "/api/v1/test/clock",
            &self.admin,
            Some(json!({"advance_ms": ms})),
        )
        .await;
        self.settle().await;
    }

    /// A customer writes through the `api` channel's signed webhook.
    async fn customer_writes(&self, channel: i64, secret: &str, n: u32) -> i64 {
        let payload =
            json!({"message_id": format!("m{n}"), "chat_id": format!("customer-{n}"), "text": "hello?"})
                .to_string();
        let sig = frontdesk::ingest::sign(secret, payload.as_bytes());
        let headers = [(frontdesk::ingest::SIGNATURE_HEADER, sig)];
        let url = self.server.url(&format!("/hooks/{channel}"));
        let (status, answer) = self
            .http
            .send("POST", &url, &headers, payload.into_bytes())
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        self.settle().await;
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// The session's state and agent.
    async fn holder(&self, session: i64) -> (String, Option<i64>, Value) {
        let body = self
            .api(
                "GET",
                &format!("/api/v1/sessions/{session}"),
                &self.admin,
                None,
            )
            .await;
        (
            body["session"]["state"].as_str().unwrap().to_string(),
            body["session"]["agent_id"].as_i64(),
            body["history"].clone(),
        )
    }

    async fn queue(&self, channel: i64) -> Value {
        self.api(
            "GET",
            &format!("/api/v1/channels/{channel}/queue"),
            &self.admin,
            None,
        )
        .await
    }
}

fn password(name: &str) -> String {
    format!("{name} signs in with this")
}

/// Runs one step of the browser script; returns the JSON it printed last.
fn browser(desk: &Desk, step: &str, extra: &[(&str, String)]) -> Value {
    let root = super::root();
    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut env = vec![
        ("FRONTDESK_URL", desk.server.url("")),
        ("STEP", step.to_string()),
        ("SHOTS", shots.display().to_string()),
        ("ADA_PASSWORD", password("ada")),
        ("SAM_PASSWORD", password("sam")),
    ];
    env.extend(extra.iter().cloned());
    super::result_line(&super::node_script("settings_channels.mjs", &env))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u1_r3_r5_admin_creates_channels_and_sets_the_queue_supervisor_reads_it() {
    let _one = super::support::BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("webchat", "webchat", dir.path());
    plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let admin = admin_token(&db);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_TEST_CLOCK", now.as_str()),
        ],
    );
    let desk = Desk {
        server,
        http: Http::default(),
        admin,
    };
    desk.user("ada", "admin").await;
    let (ann, ann_token) = desk.user("ann", "agent").await;
    let (ben, _) = desk.user("ben", "agent").await;
    let (sam, _) = desk.user("sam", "supervisor").await;

    // (a) The admin creates both channels and sets the api channel's queue.
    let made = browser(&desk, "create", &[]);
    let channel = made["channel"].as_i64().expect("the api channel's id");
    let secret = made["secret"].as_str().expect("the secret shown once");
    let channels = desk.api("GET", "/api/v1/channels", &desk.admin, None).await;
    let kinds: Vec<&str> = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["webchat", "api"], "{channels}");
    // Changed on its Other tab; the secret set at creation is kept (masked).
    assert_eq!(
        channels[0]["config"]["prechat_fields"],
        json!(["email", "name"])
    );
    assert_eq!(channels[0]["config"]["identity_secret"], "********");
    assert_eq!(channels[0]["config"]["retention_days"], 30, "{channels}");
    // The bad intervals were refused: the saved queue is the good one.
    let queue = desk.queue(channel).await;
    assert_eq!(queue["mode"], "strict", "{queue}");
    assert_eq!(queue["forward_interval_secs"], 60, "{queue}");
    assert_eq!(queue["agents"], json!([ann, ben]), "{queue}");

    // (b) Scenario 3: the first agent is offered the session; a minute
    // later it moves to the second.
    let first = desk.customer_writes(channel, secret, 1).await;
    let (state, agent, history) = desk.holder(first).await;
    assert_eq!((state.as_str(), agent), ("offered", Some(ann)), "{history}");
    desk.advance(59_999).await;
    let (_, agent, history) = desk.holder(first).await;
    assert_eq!(agent, Some(ann), "forwarded early: {history}");
    desk.advance(1).await;
    let (state, agent, history) = desk.holder(first).await;
    assert_eq!((state.as_str(), agent), ("offered", Some(ben)), "{history}");
    // Strict order offers the next session to Ann again; she answers it,
    // which restarts her idle time (R2) while Ben's never started: strict
    // order would offer the third session to Ann, evenly gives it to Ben.
    desk.advance(1_000).await;
    let second = desk.customer_writes(channel, secret, 2).await;
    let (_, agent, history) = desk.holder(second).await;
    assert_eq!(agent, Some(ann), "strict order starts at Ann: {history}");
    desk.api(
        "POST",
        &format!("/api/v1/sessions/{second}/messages"),
        &ann_token,
        Some(json!({"text": "Hello, how can I help?"})),
    )
    .await;
    desk.advance(1_000).await;

    browser(&desk, "evenly", &[("CHANNEL", channel.to_string())]);
    assert_eq!(desk.queue(channel).await["mode"], "evenly");
    let third = desk.customer_writes(channel, secret, 3).await;
    let (_, agent, history) = desk.holder(third).await;
    assert_eq!(agent, Some(ben), "evenly: the idlest agent: {history}");

    // (c) Scenario 4: the channel's supervisor sees it read-only.
    desk.api(
        "PUT",
        &format!("/api/v1/channels/{channel}/supervisors"),
        &desk.admin,
        Some(json!({"users": [sam]})),
    )
    .await;
    browser(&desk, "supervisor", &[("CHANNEL", channel.to_string())]);
    let queue = desk.queue(channel).await;
    assert_eq!(queue["mode"], "evenly", "unchanged: {queue}");
    assert_eq!(queue["agents"], json!([ann, ben]), "unchanged: {queue}");
}
