//! The live-chat widget in a real browser (issue 7): runs
//! `tests/browser/widget.mjs` (Playwright with Debian's Chromium) against
//! the real binary and the real `plugins/webchat` component. Needs
//! `npm install --prefix tests/peers` and `/usr/bin/chromium` (`.ci/run`
//! installs both).

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::json;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_survives_reload_and_network_loss_and_shows_agent_html_as_text() {
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

    let config = json!({
        "prechat_fields": ["name", "email"],
        "consent": {"text": "We keep this chat for 30 days.", "version": 1},
        "language": "en",
    });
    let body = json!({"name": "Example Shop Support", "kind": "webchat", "config": config});
    let (status, created) = Http::default()
        .api("POST", &server.url("/api/v1/channels"), &admin, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();

    let screenshot = root.join("docs/screenshots/widget.png");
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let profile = dir.path().join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let output = Command::new("node")
        .arg(root.join("tests/browser/widget.mjs"))
        .env("FRONTDESK_URL", server.url(""))
        .env("CHANNEL_ID", channel.to_string())
        .env("ADMIN_TOKEN", &admin)
        .env("SCREENSHOT", &screenshot)
        .env("USER_DATA_DIR", &profile)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser scenario failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(r#""ok":true"#), "{stdout}");
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
}
