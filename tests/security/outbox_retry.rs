//! S5, issue 14 item 15: an admin sends a failed reply again once its
//! channel can take it (audited); only failed items, only admins.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use frontdesk::ingest::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use serde_json::{Value, json};

use super::support::ALLOW_PRIVATE_CALLBACKS;
use super::{DEADLINE, World, env};

/// Polls the outbox until item `id` is in `state`.
pub async fn until_state(w: &World, id: i64, state: &str) -> Value {
    let started = Instant::now();
    loop {
        let items = w.admin("GET", "/api/v1/outbox?limit=1000", None).await;
        let item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or(Value::Null);
        if item["state"] == state {
            return item;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "item {id} never {state}: {item}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_an_admin_sends_a_failed_reply_again_once_the_channel_can_take_it() {
    // The receiver below is on loopback.
    let w = World::start_with(|_| vec![env(ALLOW_PRIVATE_CALLBACKS)]);
    let (channel, secret) = w.api_channel("Site").await;
    let payload = json!({"message_id": "m1", "chat_id": "c1", "text": "hello?"})
        .to_string()
        .into_bytes();
    let headers = [(SIGNATURE_HEADER, sign(&secret, &payload))];
    let (_, answer) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/hooks/{channel}")),
            &headers,
            payload,
        )
        .await
        .unwrap();
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    let queued = w
        .admin(
            "POST",
            &format!("/api/v1/sessions/{session}/messages"),
            Some(json!({"text": "Hi, how can I help?"})),
        )
        .await;
    let id = queued["outbox"]["id"].as_i64().unwrap();
    // No callback_url yet: the reply fails for good.
    let failed = until_state(&w, id, "failed").await;
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("callback_url"),
        "{failed}"
    );

    // The admin gives the channel a receiver and sends the reply again.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/in",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                let id = headers[DELIVERY_HEADER].to_str().unwrap().to_string();
                record.lock().unwrap().push(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/in", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    w.admin(
        "PATCH",
        &format!("/api/v1/channels/{channel}"),
        Some(json!({"config": {"callback_url": callback}})),
    )
    .await;
    let (_, agent) = w.user("ann", "agent").await;
    let (status, body) = w
        .call(&agent, "POST", &format!("/api/v1/outbox/{id}/retry"), None)
        .await;
    assert_eq!(status, 403, "only admins send again: {body}");
    let retried = w
        .admin("POST", &format!("/api/v1/outbox/{id}/retry"), None)
        .await;
    assert_eq!(
        (&retried["state"], &retried["attempts"]),
        (&json!("pending"), &json!(0))
    );
    until_state(&w, id, "sent").await;
    assert_eq!(*seen.lock().unwrap(), vec![id.to_string()]);

    // Sent items and unknown ids are not sent again.
    let (status, body) = w
        .call(
            &w.admin,
            "POST",
            &format!("/api/v1/outbox/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = w
        .call(&w.admin, "POST", "/api/v1/outbox/999999/retry", None)
        .await;
    assert_eq!(status, 404, "{body}");
    let audit = w.admin("GET", "/api/v1/audit", None).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "outbox.retry" && e["target"] == format!("outbox/{id}")),
        "{audit}"
    );
}
