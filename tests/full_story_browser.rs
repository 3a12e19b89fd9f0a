//! Issue 7's first scenario end to end in a real browser: the widget and the
//! agent console together (`tests/browser/full_story.mjs`, Playwright with
//! Debian's Chromium), against the real binary and the real
//! `plugins/webchat` component.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm install --prefix tests/peers`
//! (`.ci/run` does all three).

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

const CANNED_TEXT: &str = "Hello! Thanks for writing to us. Let me look into it right away.";
/// I1: what the channel shows customers instead of the agent's own name.
const SHOWN_AS: &str = "Shop Support";
/// Ann signs in to the console through its form with this (P5).
const ANN_PASSWORD: &str = "ann signs in with this";

async fn call(
    http: &Http,
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Value {
    let (status, answer) = http.api(method, &server.url(path), token, Some(body)).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r18_a6_i1_q1_a_widget_customer_and_a_console_agent_from_first_message_to_rating() {
    let _one_browser = support::BROWSER.lock().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("tests/peers/node_modules/playwright-core")
            .is_dir(),
        "playwright-core is missing: run npm install --prefix tests/peers"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("webchat", "webchat", dir.path());
    let admin = admin_token(&db);
    support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
    let http = Http::default();

    let config = json!({"language": "en", "agent_identity": {"mode": "channel", "name": SHOWN_AS}});
    let created = call(
        &http,
        &server,
        &admin,
        "POST",
        "/api/v1/channels",
        json!({"name": "Example Shop", "kind": "webchat", "config": config}),
    )
    .await;
    let channel = created["channel"]["id"].as_i64().unwrap();
    let ann = call(
        &http,
        &server,
        &admin,
        "POST",
        "/api/v1/users",
        json!({"name": "ann", "role": "agent", "password": ANN_PASSWORD}),
    )
    .await;
    let ann_id = ann["user"]["id"].as_i64().unwrap();
    // Evenly routing to Ann alone; Q1 asks for a rating on close, Q2 closes on it.
    call(
        &http,
        &server,
        &admin,
        "PUT",
        &format!("/api/v1/channels/{channel}/queue"),
        json!({"mode": "evenly", "forward_interval_secs": 180, "unanswered_interval_secs": 600,
               "agents": [ann_id], "options": {"ask_rating": true, "close_on_rating": true}}),
    )
    .await;
    call(
        &http,
        &server,
        &admin,
        "PUT",
        &format!("/api/v1/channels/{channel}/canned"),
        json!({"lists": [{"name": "Greetings", "responses": [
            {"name": "Hello", "shortcut": "/hello", "text": CANNED_TEXT}]}]}),
    )
    .await;

    let out = Command::new("node")
        .arg(root.join("tests/browser/full_story.mjs"))
        .env("FRONTDESK_URL", server.url(""))
        .env("CHANNEL", channel.to_string())
        .env("ADMIN_TOKEN", &admin)
        .env("ANN_PASSWORD", ANN_PASSWORD)
        .env("CANNED_TEXT", CANNED_TEXT)
        .env("SHOWN_AS", SHOWN_AS)
        .output()
        .expect("run node (is it installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the story failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("result line");
    assert_eq!(result["score"], 4, "{result}");
    let session = result["session"].as_i64().unwrap();
    let (_, detail) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/sessions/{session}")),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        detail["session"]["state"], "closed",
        "Q2 closed it on the rating: {detail}"
    );
}
