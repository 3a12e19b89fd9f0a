//! The channel list's health, Run setup again and the channel kinds (U1).

use axum::http::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test]
async fn health_shows_the_last_inbound_message_and_the_setup_result() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let url = format!("/api/v1/channels/{ch}/health");
    let (status, health) = call(&w.app, "GET", &url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["last_inbound_at"], Value::Null);
    assert_eq!(health["failed_outbox"], 0);
    assert_eq!(health["failed_inbound"], 0);
    assert_eq!(health["setup"]["ok"], true, "{health}");
    assert!(
        health["webhook_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/hooks/{ch}")),
        "{health}"
    );

    let (status, _) = w
        .hook(
            ch,
            &secret,
            json!({"message_id": "1", "chat_id": "c", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, health) = call(&w.app, "GET", &url, Some(&w.admin), None).await;
    assert!(health["last_inbound_at"].as_i64().is_some(), "{health}");

    // Agents do not read health; a supervisor of another channel does not see it.
    let (status, _) = call(&w.app, "GET", &url, Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, sue) = user(&w.store, "sue", Role::Supervisor).await;
    let (status, _) = call(&w.app, "GET", &url, Some(&sue), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn run_setup_again_is_for_admins_and_enabled_channels() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    let url = format!("/api/v1/channels/{ch}/setup");
    let (status, _) = call(&w.app, "POST", &url, Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, result) = call(&w.app, "POST", &url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["ok"], true);
    assert!(
        result["message"].as_str().unwrap().contains("Built in"),
        "{result}"
    );
    let audit = w.store.audit_log(10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "channel.setup"),
        "{audit:?}"
    );

    let patch = format!("/api/v1/channels/{ch}");
    let (status, _) = call(
        &w.app,
        "PATCH",
        &patch,
        Some(&w.admin),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&w.app, "POST", &url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("enabled:"),
        "{body}"
    );
}

#[tokio::test]
async fn channel_kinds_list_the_built_in_api_with_its_config() {
    let w = world().await;
    let (status, kinds) = call(&w.app, "GET", "/api/v1/channel-kinds", Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{kinds}");
    let api = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "api")
        .expect("the api kind");
    assert_eq!(api["builtin"], true);
    assert_eq!(api["config"]["callback_url"]["type"], "url");
    let (status, _) = call(
        &w.app,
        "GET",
        "/api/v1/channel-kinds",
        Some(&w.agent_a),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
