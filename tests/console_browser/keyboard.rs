//! Issue 16, "everything works from the keyboard" (`tests/browser/settings_keyboard.mjs`):
//! an admin reaches every settings page and every channel tab with the
//! keyboard only, every control is in the tab order with its focus showing
//! and nothing traps focus, and one field saved on each page is what the
//! server then keeps.

use serde_json::{Value, json};

use super::support::{Http, Server, admin_token, sqlite_url};

const ADMIN_PASSWORD: &str = "ada types this in";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u1_every_settings_page_and_channel_tab_works_from_the_keyboard() {
    let _one_browser = super::support::BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let server = Server::start(&db, &[]);
    let http = Http::default();
    let api = async |method: &str, path: &str, body: Option<Value>| {
        let (status, answer) = http.api(method, &server.url(path), &token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    };
    let ada = json!({"name": "ada", "role": "admin", "password": ADMIN_PASSWORD});
    api("POST", "/api/v1/users", Some(ada)).await;
    let ann = json!({"name": "ann", "role": "agent", "password": "ann signs in with this"});
    let ann = api("POST", "/api/v1/users", Some(ann)).await["user"]["id"].clone();
    let created = api("POST", "/api/v1/channels", Some(json!({"name": "Support"}))).await;
    let channel = created["channel"]["id"].as_i64().unwrap();
    let queue = json!({"mode": "strict", "forward_interval_secs": 60, "unanswered_interval_secs": 600,
        "agents": [ann]});
    api(
        "PUT",
        &format!("/api/v1/channels/{channel}/queue"),
        Some(queue),
    )
    .await;

    let walked = super::result_line(&super::node_script(
        "settings_keyboard.mjs",
        &[
            ("FRONTDESK_URL", server.url("")),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("CHANNEL_NAME", "Support".to_string()),
        ],
    ));

    // What was typed is what the server keeps.
    let http = Http::default();
    let api = async |path: &str| {
        let (status, answer) = http.api("GET", &server.url(path), &token, None).await;
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    };
    let ch = api(&format!("/api/v1/channels/{channel}")).await;
    assert_eq!(ch["name"], walked["renamed"], "{ch}");
    assert_eq!(ch["config"]["agent_identity"]["mode"], "hidden", "{ch}");
    assert_eq!(
        ch["config"]["working_hours"],
        json!({"time_zone": "Europe/Berlin", "days": {"mon": ["09:00-17:00"]}, "holidays": []}),
        "{ch}"
    );
    assert_eq!(
        ch["config"]["consent"]["text"],
        "We keep this chat for 30 days. Agree?"
    );
    let queue = api(&format!("/api/v1/channels/{channel}/queue")).await;
    assert_eq!(queue["forward_interval_secs"], 120, "{queue}");
    assert_eq!(queue["options"]["ask_rating"], true, "{queue}");
    let scripts = api(&format!("/api/v1/channels/{channel}/scripts")).await;
    let first = scripts
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hook"] == "first_message")
        .unwrap();
    assert_eq!(first["source"], "reply(\"Hello from the keyboard\")");
    let canned = api(&format!("/api/v1/channels/{channel}/canned")).await;
    assert_eq!(canned["lists"][0]["responses"][0]["shortcut"], "/thanks");
    let users = api("/api/v1/users").await;
    assert!(
        users.as_array().unwrap().iter().any(|u| u["name"] == "kim"),
        "{users}"
    );
    let channels = api("/api/v1/channels").await;
    assert!(
        channels
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Keyboard line"),
        "{channels}"
    );
}
