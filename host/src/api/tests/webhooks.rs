//! Webhook plumbing through `oneshot`: what a connector sees of a request
//! (method, path, raw query, raw bytes), and how its reply is answered only
//! after the messages are committed (S3, S4, P3).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::Connection;
use tower::ServiceExt;

use super::{call, raw, user};
use crate::api::{AppState, app};
use crate::app::{App, Config};
use crate::clock::SystemClock;
use crate::ingest::{
    Connector, ConnectorError, InboundRequest, Outbound, Parsed, Reply, SendError,
};
use crate::store::{Channel, InboundMessage, Role, Sender, Store};
use crate::test_support::sqlite_store;

/// A connector that records every request and answers like a provider with a
/// handshake: `GET` is answered with the `challenge` query value as text, a
/// `POST` body `id:<n>` is one message whose reply is `202 stored <n>`.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<InboundRequest>>,
}

#[async_trait]
impl Connector for Recorder {
    fn network(&self) -> &str {
        "recorder"
    }

    async fn verify_and_parse(
        &self,
        _channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Parsed, ConnectorError> {
        self.seen.lock().unwrap().push(request.clone());
        let text_reply = |status: StatusCode, body: String| {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", "text/plain".parse().unwrap());
            Some(Reply {
                status,
                headers,
                body: body.into(),
            })
        };
        if request.method == Method::GET {
            let challenge = request
                .query
                .split('&')
                .find_map(|pair| pair.strip_prefix("challenge="))
                .ok_or_else(|| ConnectorError::Unauthenticated("no challenge".into()))?;
            return Ok(Parsed {
                messages: Vec::new(),
                reply: text_reply(StatusCode::OK, challenge.to_string()),
            });
        }
        let body = std::str::from_utf8(&request.body).unwrap_or_default();
        match body.strip_prefix("id:") {
            Some(id) => Ok(Parsed {
                messages: vec![InboundMessage {
                    external_id: id.to_string(),
                    chat_id: "chat".into(),
                    sender: Sender {
                        verified: true,
                        id: "someone".into(),
                        ..Sender::default()
                    },
                    text: format!("message {id}"),
                    ..InboundMessage::default()
                }],
                reply: text_reply(StatusCode::ACCEPTED, format!("stored {id}")),
            }),
            // Raw bytes pass through untouched: answer with the host's JSON.
            None => Ok(Parsed::default()),
        }
    }

    async fn send(&self, _channel: &Channel, _message: &Outbound) -> Result<(), SendError> {
        Err(SendError::Permanent("the recorder sends nothing".into()))
    }
}

struct Hooks {
    app: Router,
    store: Arc<dyn Store>,
    recorder: Arc<Recorder>,
    channel: i64,
    dir: tempfile::TempDir,
}

async fn hooks() -> Hooks {
    let (store, dir) = sqlite_store().await;
    let recorder = Arc::new(Recorder::default());
    let state = AppState::new(
        App::start(Config {
            connectors: vec![("recorder".into(), recorder.clone() as Arc<dyn Connector>)],
            ..Config::new(store.clone(), Arc::new(SystemClock))
        })
        .await
        .unwrap(),
    );
    let app = app(state);
    let (_, admin) = user(&store, "ada", Role::Admin).await;
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/channels",
        Some(&admin),
        Some(json!({"name": "Provider", "kind": "recorder"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Hooks {
        app,
        store,
        recorder,
        channel: body["channel"]["id"].as_i64().unwrap(),
        dir,
    }
}

/// Status, content type and body text of a raw answer.
async fn answer(app: &Router, req: Request<Body>) -> (StatusCode, String, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

impl Hooks {
    fn last_seen(&self) -> InboundRequest {
        self.recorder.seen.lock().unwrap().last().cloned().unwrap()
    }

    /// Inbound messages stored, in every session.
    async fn stored(&self) -> usize {
        let viewer = crate::store::Viewer {
            user_id: 1,
            role: Role::Admin,
        };
        let mut n = 0;
        for s in self
            .store
            .list_sessions(viewer, &Default::default())
            .await
            .unwrap()
        {
            // Only the customer's: the engine may have queued replies (A1, R11).
            let messages = self.store.messages(s.id, 0, 1000).await.unwrap();
            n += messages
                .iter()
                .filter(|m| m.direction == crate::store::Direction::In)
                .count();
        }
        n
    }
}

#[tokio::test]
async fn a_get_handshake_reaches_the_connector_with_its_raw_query_and_gets_its_reply() {
    let h = hooks().await;
    let uri = format!(
        "/hooks/{}?hub.mode=subscribe&hub.verify_token=a%20b&challenge=42",
        h.channel
    );
    let (status, content_type, body) =
        answer(&h.app, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (StatusCode::OK, "text/plain", "42")
    );
    let seen = h.last_seen();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path, "");
    // Still percent-encoded: the connector decodes what it needs.
    assert_eq!(
        seen.query,
        "hub.mode=subscribe&hub.verify_token=a%20b&challenge=42"
    );
    assert_eq!(h.stored().await, 0);
}

#[tokio::test]
async fn the_path_after_the_channel_and_the_exact_body_bytes_are_passed_on() {
    let h = hooks().await;
    // Odd spacing, key order and escapes: re-serialised JSON would differ.
    let body = "{ \"b\":1,  \"a\" : \"caf\\u00e9 \u{e9}\" }\n";
    let req = Request::post(format!("/hooks/{}/events/page?x=1", h.channel))
        .header("x-hub-signature-256", "sha256=00")
        .body(Body::from(body))
        .unwrap();
    let (status, _, text) = answer(&h.app, req).await;
    // No reply from the connector: the host's own JSON.
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, r#"{"messages":[]}"#);
    let seen = h.last_seen();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/events/page");
    assert_eq!(seen.query, "x=1");
    assert_eq!(&seen.body[..], body.as_bytes());
    assert_eq!(seen.headers["x-hub-signature-256"], "sha256=00");
}

#[tokio::test]
async fn s3_s4_a_reply_follows_the_commit_and_a_repeat_gets_it_again() {
    let h = hooks().await;
    let post = || {
        Request::post(format!("/hooks/{}", h.channel))
            .body(Body::from("id:7"))
            .unwrap()
    };
    let first = answer(&h.app, post()).await;
    assert_eq!(
        first,
        (StatusCode::ACCEPTED, "text/plain".into(), "stored 7".into())
    );
    assert_eq!(h.stored().await, 1);
    assert_eq!(answer(&h.app, post()).await, first);
    assert_eq!(h.stored().await, 1);
}

#[tokio::test]
async fn s4_when_the_commit_fails_the_connector_reply_is_not_sent() {
    let h = hooks().await;
    // Another connection makes every message insert fail, as a full disk would.
    let url = format!("sqlite://{}", h.dir.path().join("test.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let req = Request::post(format!("/hooks/{}", h.channel))
        .body(Body::from("id:8"))
        .unwrap();
    let (status, body) = raw(&h.app, req).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(h.stored().await, 0);
}

#[tokio::test]
async fn the_api_channel_refuses_a_get_or_a_sub_path_and_says_how_to_post() {
    let h = hooks().await;
    let (_, admin) = user(&h.store, "bea", Role::Admin).await;
    let (_, created) = call(
        &h.app,
        "POST",
        "/api/v1/channels",
        Some(&admin),
        Some(json!({"name": "Site"})),
    )
    .await;
    let id = created["channel"]["id"].as_i64().unwrap();
    for req in [
        Request::get(format!("/hooks/{id}?hub.challenge=1")),
        Request::post(format!("/hooks/{id}/extra")),
    ] {
        let (status, body) = raw(&h.app, req.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("POST /hooks/{id} only")),
            "{body}"
        );
    }
    let (status, body) = raw(
        &h.app,
        Request::get("/hooks/abc").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
}
