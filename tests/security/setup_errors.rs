//! Issue 14 item 12: provider setup errors say what happened. A config the
//! plugin's schema refuses (a Telegram `webhook_secret` with a space) is a
//! 400 naming the field, and nothing is saved; a provider that cannot be
//! reached is not called a refusal.

use serde_json::json;

use super::World;
use super::support::{plugin_cli, plugin_package};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i12_local_config_errors_are_400s_and_an_unreachable_provider_is_no_refusal() {
    let w = World::start_with(|dir| {
        let data = dir.join("data");
        let package = plugin_package("telegram", "telegram", &dir.join("packages"));
        plugin_cli(&data, &["install", package.to_str().unwrap()]);
        vec![("FRONTDESK_DATA_DIR".into(), data.display().to_string())]
    });
    // Nothing listens on port 1: a call would be refused by the OS.
    let config = |secret: &str| json!({"api_base_url": "http://127.0.0.1:1", "bot_token": "123:abc", "webhook_secret": secret});

    let (status, body) = w
        .call(
            &w.admin,
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Bot", "kind": "telegram", "config": config("has space")})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"webhook_secret\""),
        "names the field: {message}"
    );
    assert!(
        message.contains("A-Za-z0-9_-"),
        "says what is allowed: {message}"
    );
    assert!(
        !message.contains("has space"),
        "the secret is not echoed: {message}"
    );
    let channels = w.admin("GET", "/api/v1/channels", None).await;
    assert_eq!(channels, json!([]), "nothing saved");

    // A valid secret: the channel is saved, and the setup fails because
    // Telegram's address cannot be reached, which is said as such.
    let (status, body) = w
        .call(
            &w.admin,
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Bot", "kind": "telegram", "config": config("ok_Secret-1")})),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "provider_setup_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("could not be reached"), "{message}");
    assert!(!message.contains("refused it"), "{message}");
    assert!(message.contains("is saved"), "{message}");

    // The same check on a PATCH: 400, and the saved config is unchanged.
    let id = w.admin("GET", "/api/v1/channels", None).await[0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = w
        .call(
            &w.admin,
            "PATCH",
            &format!("/api/v1/channels/{id}"),
            Some(json!({"config": config("still has space")})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("webhook_secret")
    );
}
