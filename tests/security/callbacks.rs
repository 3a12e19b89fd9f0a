//! Issue 14 item 8: an admin's `callback_url` may not reach loopback,
//! private, link-local (cloud metadata) or other non-public addresses,
//! neither when it is saved nor when a reply is delivered, unless the
//! operator starts the server with `--allow-private-callbacks`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::outbox_retry::until_state;
use super::support::{ALLOW_PRIVATE_CALLBACKS, Server};
use super::{World, env};

/// A loopback receiver that records the delivery ids it was sent.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/in",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                let id = headers[frontdesk::ingest::DELIVERY_HEADER]
                    .to_str()
                    .unwrap()
                    .to_string();
                record.lock().unwrap().push(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://localhost:{port}/in"), seen)
}

/// Sets the channel's callback; the status and answer.
async fn set_callback(w: &World, channel: i64, url: &str) -> (u16, Value) {
    w.call(
        &w.admin,
        "PATCH",
        &format!("/api/v1/channels/{channel}"),
        Some(json!({"config": {"callback_url": url}})),
    )
    .await
}

/// A customer message and the admin's reply to it; the reply's outbox id.
async fn reply_queued(w: &World, channel: i64, secret: &str, chat: &str) -> i64 {
    let session = w
        .customer_writes(channel, secret, chat, &format!("{chat}-m1"), json!({}))
        .await;
    let queued = w
        .admin(
            "POST",
            &format!("/api/v1/sessions/{session}/messages"),
            Some(json!({"text": "Hi, how can I help?"})),
        )
        .await;
    queued["outbox"]["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_non_public_callback_urls_are_refused_with_the_reason() {
    let w = World::start();
    let (channel, _) = w.api_channel("Site").await;
    for (url, why) in [
        ("http://127.0.0.1:9000/api/v1/users", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://10.0.0.1/", "private"),
        ("http://[::ffff:192.168.0.1]/", "private"),
        ("http://2130706433/", "loopback"),
        ("http://localhost:9000/", "resolves to"),
    ] {
        let (status, body) = set_callback(&w, channel, url).await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("config.callback_url") && message.contains(why),
            "{url}: {message}"
        );
        assert!(message.contains("--allow-private-callbacks"), "{message}");
    }
    // Creating a channel checks the same way.
    let (status, body) = w
        .call(
            &w.admin,
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Other", "config": {"callback_url": "http://127.0.0.1/"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let stored = w
        .admin("GET", &format!("/api/v1/channels/{channel}"), None)
        .await;
    assert!(!stored.to_string().contains("callback_url"), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_flag_a_loopback_callback_is_accepted_and_delivered_and_refused_once_the_flag_is_off()
 {
    let mut w = World::start_with(|_| vec![env(ALLOW_PRIVATE_CALLBACKS)]);
    let (channel, secret) = w.api_channel("Site").await;
    let (url, seen) = receiver().await;
    let (status, body) = set_callback(&w, channel, &url).await;
    assert_eq!(status, 200, "{body}");
    let first = reply_queued(&w, channel, &secret, "c1").await;
    until_state(&w, first, "sent").await;
    // The greeting and routing notice come too.
    assert!(seen.lock().unwrap().contains(&first.to_string()));

    // Restarted without the flag, the saved name now resolves to a refused
    // address at delivery: the reply fails for good, and says why.
    w.server.terminate();
    assert!(w.server.exited_within(Duration::from_secs(10)).is_some());
    w.server = Server::start(&w.db, &[]);
    let second = reply_queued(&w, channel, &secret, "c2").await;
    let failed = until_state(&w, second, "failed").await;
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("callback_url") && error.contains("loopback"),
        "{failed}"
    );
    assert!(!seen.lock().unwrap().contains(&second.to_string()));
}
