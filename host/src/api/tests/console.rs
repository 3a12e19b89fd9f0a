//! The console's files, the live hub's frames and the colleague list (issue 7).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use std::sync::Arc;

use super::{App, AppState, World, app, assert_error, call, user, world};
use crate::clock::SystemClock;
use crate::live::{Live, LiveEvent, Subscription};
use crate::store::Role;
use crate::test_support::sqlite_store;

/// A world whose live hub the test can watch.
async fn live_world() -> (World, Live) {
    let (store, dir) = sqlite_store().await;
    let state = AppState::new(
        App::new(store.clone(), Arc::new(SystemClock))
            .await
            .unwrap(),
    );
    let live = state.engine.live().clone();
    let (_, admin) = user(&store, "ada", Role::Admin).await;
    let (_, agent_a) = user(&store, "bo", Role::Agent).await;
    let world = World {
        app: app(state),
        store,
        admin,
        agent_a,
        _dir: dir,
    };
    (world, live)
}

async fn get(world: &World, uri: &str) -> axum::response::Response {
    world
        .app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn console_files_are_embedded_with_a_strict_policy() {
    let w = world().await;
    let page = get(&w, "/console/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let script = get(&w, "/console/console.js").await;
    assert_eq!(
        script.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        get(&w, "/console").await.status(),
        StatusCode::PERMANENT_REDIRECT
    );
    assert_eq!(
        get(&w, "/console/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn live_refuses_bad_tokens_and_plain_requests() {
    let w = world().await;
    let (status, body) = call(&w.app, "GET", "/api/v1/live", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = call(&w.app, "GET", "/api/v1/live?token=fd_nope", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    // A valid token, but not a WebSocket handshake.
    let (status, body) = call(&w.app, "GET", "/api/v1/live", Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The next frame's JSON, skipping nothing; fails after a deadline.
async fn next(rx: &mut Subscription) -> Value {
    let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a live event in time")
        .expect("the hub is open");
    match event.as_ref() {
        LiveEvent::Frame(frame) => serde_json::from_str(&frame.json).unwrap(),
        LiveEvent::Resync => panic!("unexpected resync"),
    }
}

#[tokio::test]
async fn ingest_publishes_the_new_session_then_its_message_once() {
    let (w, live) = live_world().await;
    let (channel, secret) = w.channel("Support").await;
    let mut rx = live.subscribe();
    let msg = json!({"message_id": "1", "chat_id": "c", "text": "hi"});
    let (status, body) = w.hook(channel, &secret, msg.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = body["messages"][0]["session_id"].as_i64().unwrap();
    let first = next(&mut rx).await;
    assert_eq!(first["type"], "session");
    assert_eq!(first["session"]["id"], session);
    assert_eq!(first["session"]["channel_id"], channel);
    // The customer's messages, each once, in order, whatever else (a
    // greeting, routing moves) comes between; a repeated webhook stores
    // nothing and publishes nothing.
    w.hook(channel, &secret, msg).await;
    let again = json!({"message_id": "2", "chat_id": "c", "text": "hello?"});
    w.hook(channel, &secret, again).await;
    let mut bodies = Vec::new();
    while bodies.last().map(String::as_str) != Some("hello?") {
        let frame = next(&mut rx).await;
        if frame["type"] == "message" && frame["message"]["direction"] == "in" {
            assert_eq!(frame["session_id"], session);
            bodies.push(frame["message"]["body"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(bodies, ["hi", "hello?"]);
}

#[tokio::test]
async fn colleagues_are_the_agents_of_my_channels() {
    let w = world().await;
    let (support, _) = w.channel("Support").await;
    let (_, me) = call(&w.app, "GET", "/api/v1/me", Some(&w.agent_a), None).await;
    let bo = me["id"].as_i64().unwrap();
    let (_, other) = user(&w.store, "cy", Role::Agent).await;
    let (_, cy) = call(&w.app, "GET", "/api/v1/me", Some(&other), None).await;
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180,
        "unanswered_interval_secs": 600, "agents": [bo]});
    let (status, body) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{support}/queue"),
        Some(&w.admin),
        Some(queue),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, list) = call(&w.app, "GET", "/api/v1/colleagues", Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![bo], "cy is in no channel of bo's");
    let (_, all) = call(&w.app, "GET", "/api/v1/colleagues", Some(&w.admin), None).await;
    assert!(all.as_array().unwrap().iter().any(|c| c["id"] == cy["id"]));
}
