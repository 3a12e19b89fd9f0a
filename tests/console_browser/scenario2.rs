//! Issue 16, scenario 2 in one browser walk (`tests/browser/settings_scenario2.mjs`):
//! from an empty database the first admin comes in through the logged setup
//! link and, in the browser only, creates a webchat and an `api` channel,
//! adds two agents with passwords, builds a strict-order queue with a
//! 1-minute forward interval, sets Berlin working hours, and saves a
//! `no_answer` script for the `api` channel (a syntax error first, then the
//! fix, checked and tested). Then, on the real binary and its test clock,
//! two channels with different `no_answer` scripts behave differently (U1):
//! the `api` channel's customer gets the admin's text, a customer of a
//! channel without a script of its own gets the built-in one.

use serde_json::{Value, json};

use super::support::{Http, Log, Server, admin_token, plugin_cli, plugin_package, sqlite_url};

/// Monday 5 January 2026, 09:00 UTC: 10:00 in Berlin, inside the hours the
/// admin sets.
const MONDAY_MORNING_MS: &str = "1767603600000";
/// The queue's unanswered interval (R6), left at its default of ten minutes.
const UNANSWERED_MS: i64 = 600_000;

struct Desk {
    server: Server,
    http: Http,
    token: String,
}

impl Desk {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .http
            .api(method, &self.server.url(path), &self.token, body)
            .await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// The engine answers a heartbeat only after storing its step, so after
    /// it every earlier event and every timer already due is in the store.
    async fn settle(&self) {
        self.api("POST", "/api/v1/me/presence", None).await;
    }

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
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// What the session's customer was sent.
    async fn sent(&self, session: i64) -> Vec<String> {
        let messages = self
            .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
            .await;
        messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "out")
            .map(|m| m["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn runs(scripts: &Value, hook: &str) -> Value {
    scripts
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hook"] == hook)
        .map(|s| s["runs"].clone())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_u1_an_admin_sets_up_a_channel_in_one_walk_and_its_script_is_its_own() {
    let _one_browser = super::support::BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    let db = sqlite_url(dir.path());
    // The operator installed the webchat connector (M2) before the first run.
    let data = dir.path().join("data");
    let package = plugin_package("webchat", "webchat", dir.path());
    plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let server = Server::start_logged(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_TEST_CLOCK", MONDAY_MORNING_MS),
        ],
        log.clone(),
    );
    let setup_url = log
        .lock()
        .unwrap()
        .iter()
        .find_map(|line| line["fields"]["setup_url"].as_str().map(str::to_string))
        .expect("the server logged a setup_url");
    let admin_password = "ada picks a long passphrase";
    let shots = super::root().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let walked = super::result_line(&super::node_script(
        "settings_scenario2.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("SETUP_URL", setup_url),
            ("ADMIN_PASSWORD", admin_password.to_string()),
            ("ANN_PASSWORD", "ann signs in with this".to_string()),
            ("BEN_PASSWORD", "ben signs in with this".to_string()),
            ("SHOTS", shots.display().to_string()),
        ],
    ));
    let partner = walked["channel"].as_i64().unwrap();
    let secret = walked["secret"].as_str().unwrap().to_string();
    let webchat = walked["webchat"].as_i64().unwrap();

    // What the admin did is what the server keeps. The checks use a second
    // admin's API token, made with the CLI after the walk, not in it.
    let http = Http::default();
    for (name, password) in [("ada", admin_password), ("ann", "ann signs in with this")] {
        let body = json!({"name": name, "password": password}).to_string();
        let headers = [("content-type", "application/json".to_string())];
        let (status, answer) = http
            .send(
                "POST",
                &server.url("/api/v1/sign-in"),
                &headers,
                body.into_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{name}'s password works: {answer}");
    }
    let desk = Desk {
        token: admin_token(&db),
        server,
        http,
    };
    let queue = desk
        .api("GET", &format!("/api/v1/channels/{partner}/queue"), None)
        .await;
    assert_eq!(queue["mode"], "strict", "{queue}");
    assert_eq!(queue["forward_interval_secs"], 60, "{queue}");
    assert_eq!(queue["agents"].as_array().unwrap().len(), 2, "{queue}");
    let channel = desk
        .api("GET", &format!("/api/v1/channels/{partner}"), None)
        .await;
    assert_eq!(
        channel["config"]["working_hours"]["time_zone"], "Europe/Berlin",
        "{channel}"
    );
    let scripts = desk
        .api("GET", &format!("/api/v1/channels/{partner}/scripts"), None)
        .await;
    assert_eq!(runs(&scripts, "no_answer"), "channel");
    let scripts = desk
        .api("GET", &format!("/api/v1/channels/{webchat}/scripts"), None)
        .await;
    assert_eq!(runs(&scripts, "no_answer"), "default");

    // A second `api` channel with the same queue and no script of its own.
    let created = desk
        .api(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Second API"})),
        )
        .await;
    let second = created["channel"]["id"].as_i64().unwrap();
    let second_secret = created["secret"].as_str().unwrap().to_string();
    desk.api(
        "PUT",
        &format!("/api/v1/channels/{second}/queue"),
        Some(json!({"mode": "strict", "forward_interval_secs": 60,
            "unanswered_interval_secs": UNANSWERED_MS / 1000, "agents": queue["agents"]})),
    )
    .await;

    let ours = desk.customer_writes(partner, &secret, 1).await;
    let theirs = desk.customer_writes(second, &second_secret, 2).await;
    desk.settle().await;
    desk.api(
        "POST",
        "/api/v1/test/clock",
        Some(json!({"advance_ms": UNANSWERED_MS})),
    )
    .await;
    desk.settle().await;
    let ours = desk.sent(ours).await;
    let theirs = desk.sent(theirs).await;
    assert!(
        ours.iter()
            .any(|t| t == "Still on it: 1 message(s) waiting."),
        "the admin's no_answer script runs on Partner API: {ours:?}"
    );
    assert!(
        theirs.iter().any(|t| t.starts_with("Sorry for the wait")),
        "the built-in no_answer runs on the other channel: {theirs:?}"
    );
    assert!(
        !theirs.iter().any(|t| t.starts_with("Still on it")),
        "Partner API's script is its own: {theirs:?}"
    );
}
