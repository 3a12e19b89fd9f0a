//! HTTP tests through `oneshot`, no socket: errors, roles, and access (P1–P3).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{AppState, app};
use crate::app::{App, Config};
use crate::auth::{new_token, token_hash};
use crate::clock::SystemClock;
use crate::ingest::{SIGNATURE_HEADER, sign};
use crate::store::{Role, Store};
use crate::test_support::sqlite_store;

struct World {
    app: Router,
    store: Arc<dyn Store>,
    admin: String,
    agent_a: String,
    _dir: tempfile::TempDir,
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    raw(app, req.body(body).unwrap()).await
}

async fn raw(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn user(store: &Arc<dyn Store>, name: &str, role: Role) -> (i64, String) {
    let token = new_token();
    let user = store
        .create_user(name, role, &token_hash(&token), 0)
        .await
        .unwrap();
    (user.id, token)
}

async fn world() -> World {
    let (store, dir) = sqlite_store().await;
    let app = app(AppState::new(
        App::new(store.clone(), Arc::new(SystemClock))
            .await
            .unwrap(),
    ));
    let (_, admin) = user(&store, "ada", Role::Admin).await;
    let (_, agent_a) = user(&store, "bo", Role::Agent).await;
    World {
        app,
        store,
        admin,
        agent_a,
        _dir: dir,
    }
}

impl World {
    async fn channel(&self, name: &str) -> (i64, String) {
        let (status, body) = call(
            &self.app,
            "POST",
            "/api/v1/channels",
            Some(&self.admin),
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["channel"]["id"].as_i64().unwrap(),
            body["secret"].as_str().unwrap().to_string(),
        )
    }

    async fn hook(&self, channel: i64, secret: &str, body: Value) -> (StatusCode, Value) {
        let bytes = body.to_string();
        let req = Request::post(format!("/hooks/{channel}"))
            .header(SIGNATURE_HEADER, sign(secret, bytes.as_bytes()))
            .body(Body::from(bytes))
            .unwrap();
        raw(&self.app, req).await
    }

    /// Inbound messages stored, in every session.
    async fn message_count(&self) -> usize {
        let viewer = crate::store::Viewer {
            user_id: 1,
            role: Role::Admin,
        };
        let sessions = self
            .store
            .list_sessions(viewer, &Default::default())
            .await
            .unwrap();
        let mut n = 0;
        for s in sessions {
            let messages = self.store.messages(s.id, 0, 10_000).await.unwrap();
            n += messages
                .iter()
                .filter(|m| m.direction == crate::store::Direction::In)
                .count();
        }
        n
    }
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        !body["error"]["message"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
}

mod access;
mod admin_pages;
mod channel_health;
mod channel_scripts;
mod console;
mod failed_inbound;
mod message_log;
mod settings;
mod stats;
mod webhooks;

#[tokio::test]
async fn s3_a_repeated_message_gets_the_same_answer_and_stores_nothing() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let msg = json!({"message_id": "m-1", "chat_id": "c-1", "text": "hello"});
    let first = w.hook(ch, &secret, msg.clone()).await;
    let again = w.hook(ch, &secret, msg).await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(first, again);
    assert_eq!(w.message_count().await, 1);
}

#[tokio::test]
async fn p3_bad_signatures_and_unknown_channels_are_refused_and_store_nothing() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    let msg = json!({"message_id": "m-1", "chat_id": "c-1", "text": "hello"});
    let (status, body) = w.hook(ch, "not-the-secret", msg.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "bad_signature");
    let unsigned = Request::post(format!("/hooks/{ch}"))
        .body(Body::from(msg.to_string()))
        .unwrap();
    let (status, body) = raw(&w.app, unsigned).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "bad_signature");
    let (status, body) = w.hook(ch + 100, "x", msg).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");
    let (status, body) = w.hook(ch, "x", json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "bad_signature");
    assert_eq!(w.message_count().await, 0);
}

#[tokio::test]
async fn signed_but_invalid_payloads_name_the_problem() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let (status, body) = w
        .hook(ch, &secret, json!({"chat_id": "c", "text": "t"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message_id")
    );
    assert_eq!(w.message_count().await, 0);
}

#[tokio::test]
async fn malformed_json_oversize_bodies_and_unknown_routes_use_the_error_shape() {
    let w = world().await;
    let req = Request::post("/api/v1/channels")
        .header("authorization", format!("Bearer {}", w.admin))
        .header("content-type", "application/json")
        .body(Body::from("{\"name\": "))
        .unwrap();
    let (status, body) = raw(&w.app, req).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_json");

    let huge = json!({"name": "x".repeat(super::BODY_LIMIT + 10)});
    let (status, body) = call(
        &w.app,
        "POST",
        "/api/v1/channels",
        Some(&w.admin),
        Some(huge),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let (ch, secret) = w.channel("Site").await;
    let huge =
        json!({"message_id": "m", "chat_id": "c", "text": "x".repeat(super::BODY_LIMIT + 10)});
    let (status, body) = w.hook(ch, &secret, huge).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_eq!(w.message_count().await, 0);

    let (status, body) = call(&w.app, "GET", "/api/v1/nothing-here", Some(&w.admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "route_not_found");
    let (status, body) = call(&w.app, "GET", "/api/v1/sessions/abc", Some(&w.admin), None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, body) = call(
        &w.app,
        "GET",
        "/api/v1/sessions?limit=many",
        Some(&w.admin),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn p2_tokens_are_checked() {
    let w = world().await;
    let (status, body) = call(&w.app, "GET", "/api/v1/me", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = call(&w.app, "GET", "/api/v1/me", Some("fd_wrong"), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = call(&w.app, "GET", "/api/v1/me", Some(&w.agent_a), None).await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("bo"))
    );

    let bo = w.store.user_by_name("bo").await.unwrap().unwrap();
    let patch = json!({"disabled": true});
    let (status, _) = call(
        &w.app,
        "PATCH",
        &format!("/api/v1/users/{}", bo.id),
        Some(&w.admin),
        Some(patch),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&w.app, "GET", "/api/v1/me", Some(&w.agent_a), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn r5_r6_intervals_outside_one_minute_to_twelve_hours_are_refused() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    for (fwd, unans, field) in [
        (59, 600, "forward_interval_secs"),
        (600, 43201, "unanswered_interval_secs"),
    ] {
        let q = json!({"mode": "strict", "forward_interval_secs": fwd, "unanswered_interval_secs": unans, "agents": []});
        let (status, body) = call(
            &w.app,
            "PUT",
            &format!("/api/v1/channels/{ch}/queue"),
            Some(&w.admin),
            Some(q),
        )
        .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    let q = json!({"mode": "strict", "forward_interval_secs": 60, "unanswered_interval_secs": 43200, "agents": []});
    let (status, body) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{ch}/queue"),
        Some(&w.admin),
        Some(q),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn s5_a_reply_goes_to_the_outbox_and_admin_changes_are_audited() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let (_, accepted) = w
        .hook(
            ch,
            &secret,
            json!({"message_id": "1", "chat_id": "c", "text": "t"}),
        )
        .await;
    let session = accepted["messages"][0]["session_id"].as_i64().unwrap();
    let (status, body) = call(
        &w.app,
        "POST",
        &format!("/api/v1/sessions/{session}/messages"),
        Some(&w.admin),
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (_, outbox) = call(
        &w.app,
        "GET",
        "/api/v1/outbox?state=pending",
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(outbox[0]["message_id"], body["message"]["id"]);
    let (_, audit) = call(&w.app, "GET", "/api/v1/audit", Some(&w.admin), None).await;
    assert_eq!(audit[0]["action"], "channel.create");
    assert_eq!(audit[0]["actor_id"], 1);
}

/// The store's typed states and kinds are documented as the strings the
/// API sends, and every schema the document names is in it.
#[tokio::test]
async fn x4_openapi_documents_the_store_enums_as_their_names() {
    let w = world().await;
    let (status, doc) = call(&w.app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = doc.to_string();
    let schemas = &doc["components"]["schemas"];
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            schemas.get(name).is_some(),
            "{name} is named but not in the document"
        );
    }
    let states: Vec<&str> = schemas["SessionState"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "bot", "queued", "offered", "assigned", "answered", "waiting", "closing", "rating",
            "closed"
        ]
    );
    assert_eq!(
        schemas["Direction"]["enum"],
        serde_json::json!(["in", "out"])
    );
}

#[tokio::test]
async fn x4_health_metrics_and_openapi_answer() {
    let w = world().await;
    let (status, body) = call(&w.app, "GET", "/healthz", None, None).await;
    assert_eq!(
        (status, body["database"].as_str()),
        (StatusCode::OK, Some("sqlite"))
    );
    let res = w
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, doc) = call(&w.app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/channels",
        "/api/v1/sessions/{id}/messages",
        "/api/v1/users",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    // Issue 14 item 17: query parameters were declared `"in": "path"`.
    let mut parameters = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                assert_eq!(
                    parameter["in"] == "path",
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: {parameter}"
                );
                parameters += 1;
            }
            for status in ["401", "403", "503"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    assert!(parameters > 20, "only {parameters} parameters");
    let limit = &doc["paths"]["/api/v1/outbox"]["get"]["parameters"][0];
    assert_eq!(
        (&limit["name"], &limit["in"]),
        (&json!("limit"), &json!("query"))
    );
}
