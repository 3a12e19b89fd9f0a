//! U1: auto-action scripts per channel over HTTP. A channel's own script runs
//! for that channel only; a channel without one runs the script saved for all
//! channels (`/scripts/...`), else the built-in default.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

/// Waits until the session has an outbound message `text`; false if the
/// engine never writes it.
async fn answered(w: &World, session: i64, text: &str) -> bool {
    for _ in 0..2000 {
        let messages = w.store.messages(session, 0, 100).await.unwrap();
        if messages
            .iter()
            .any(|m| m.direction == crate::store::Direction::Out && m.body == text)
        {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

async fn customer_writes(w: &World, channel: i64, secret: &str, id: &str) -> i64 {
    let (status, accepted) = w
        .hook(
            channel,
            secret,
            json!({"message_id": id, "chat_id": format!("chat-{id}"), "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    accepted["messages"][0]["session_id"].as_i64().unwrap()
}

fn first_message(list: &Value) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["hook"] == "first_message")
        .unwrap()
        .clone()
}

#[tokio::test]
async fn u1_two_channels_run_their_own_scripts_and_fall_back_to_the_one_for_all() {
    let w = world().await;
    let (shop, shop_secret) = w.channel("Shop").await;
    let (help, help_secret) = w.channel("Help").await;
    let all = json!({"source": "reply(\"Hi from all channels\")"});
    let (status, body) = call(
        &w.app,
        "PUT",
        "/api/v1/scripts/first_message",
        Some(&w.admin),
        Some(all),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["channel_id"], Value::Null);
    let shop_url = format!("/api/v1/channels/{shop}/scripts/first_message");
    let (status, v1) = call(
        &w.app,
        "PUT",
        &shop_url,
        Some(&w.admin),
        Some(json!({"source": "reply(`Hi from ${channel.name}`)"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert_eq!(v1["channel_id"], shop);

    // Each channel's customers get that channel's script.
    let s = customer_writes(&w, shop, &shop_secret, "1").await;
    assert!(answered(&w, s, "Hi from Shop").await, "Shop runs its own");
    let s = customer_writes(&w, help, &help_secret, "2").await;
    assert!(
        answered(&w, s, "Hi from all channels").await,
        "Help runs the one for all channels"
    );

    let list = |id: i64| format!("/api/v1/channels/{id}/scripts");
    let (_, shop_list) = call(&w.app, "GET", &list(shop), Some(&w.admin), None).await;
    let a1 = first_message(&shop_list);
    assert_eq!(
        (&a1["runs"], &a1["custom"], &a1["default_source"]),
        (
            &json!("channel"),
            &json!(true),
            &json!("reply(\"Hi from all channels\")")
        ),
        "{a1}"
    );
    let (_, help_list) = call(&w.app, "GET", &list(help), Some(&w.admin), None).await;
    let a1 = first_message(&help_list);
    assert_eq!(
        (&a1["runs"], &a1["custom"]),
        (&json!("all_channels"), &json!(false))
    );

    // A broken script is refused at line and column; Shop keeps its own.
    let (status, body) = call(
        &w.app,
        "PUT",
        &shop_url,
        Some(&w.admin),
        Some(json!({"source": "reply(\n\"x\" +"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "script_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{body}"
    );

    // Reset: Shop falls back to the script for all channels; its versions are its own.
    let (status, _) = call(&w.app, "DELETE", &shop_url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, shop_list) = call(&w.app, "GET", &list(shop), Some(&w.admin), None).await;
    assert_eq!(first_message(&shop_list)["runs"], "all_channels");
    let (_, versions) = call(
        &w.app,
        "GET",
        &format!("{shop_url}/versions"),
        Some(&w.admin),
        None,
    )
    .await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2, "the save and the reset: {versions:?}");
    assert_eq!(versions[0]["source"], Value::Null);
    let restore = format!("{shop_url}/versions/{}/restore", v1["id"]);
    let (status, restored) = call(&w.app, "POST", &restore, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["channel_id"], shop);
    let (_, shop_list) = call(&w.app, "GET", &list(shop), Some(&w.admin), None).await;
    assert_eq!(
        first_message(&shop_list)["source"],
        "reply(`Hi from ${channel.name}`)"
    );
    // Help's versions are not Shop's: it has none of its own.
    let help_versions = format!("/api/v1/channels/{help}/scripts/first_message/versions");
    let (_, versions) = call(&w.app, "GET", &help_versions, Some(&w.admin), None).await;
    assert_eq!(versions, json!([]));
    // A version id of another scope is not this channel's to restore.
    let (_, all_versions) = call(
        &w.app,
        "GET",
        "/api/v1/scripts/first_message/versions",
        Some(&w.admin),
        None,
    )
    .await;
    let foreign = format!(
        "/api/v1/channels/{help}/scripts/first_message/versions/{}/restore",
        v1["id"]
    );
    assert_eq!(all_versions.as_array().unwrap().len(), 1, "{all_versions}");
    let (status, body) = call(&w.app, "POST", &foreign, Some(&w.admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "version_not_found");
}

#[tokio::test]
async fn u1_channel_scripts_are_read_by_its_supervisors_and_changed_by_admins_only() {
    let w = world().await;
    let (shop, _) = w.channel("Shop").await;
    let (help, _) = w.channel("Help").await;
    let (sam, sam_token) = user(&w.store, "sam", Role::Supervisor).await;
    let (status, body) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{shop}/supervisors"),
        Some(&w.admin),
        Some(json!({"users": [sam]})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let (status, list) = call(
        &w.app,
        "GET",
        &format!("/api/v1/channels/{shop}/scripts"),
        Some(&sam_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(first_message(&list)["runs"], "default");
    let (status, body) = call(
        &w.app,
        "GET",
        &format!("/api/v1/channels/{help}/scripts"),
        Some(&sam_token),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");
    let save = format!("/api/v1/channels/{shop}/scripts/no_answer");
    let script = json!({"source": "reply(\"x\")"});
    let (status, body) = call(&w.app, "PUT", &save, Some(&sam_token), Some(script.clone())).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = call(
        &w.app,
        "GET",
        &format!("/api/v1/channels/{shop}/scripts"),
        Some(&w.agent_a),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = call(
        &w.app,
        "PUT",
        "/api/v1/channels/999/scripts/no_answer",
        Some(&w.admin),
        Some(script),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");
}
