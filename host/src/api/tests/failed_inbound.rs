//! Failed inbound (P3, S4) and connector setup over HTTP, with a connector
//! written for the test: it refuses a bad token, cannot parse `garbled`
//! bodies, and its provider setup fails while `refuse_setup` is set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::StatusCode;
use serde_json::json;

use super::*;
use crate::ingest::{
    Connector, ConnectorError, InboundRequest, Outbound, Parsed, SendError, SetupError,
};
use crate::store::{Channel, InboundMessage, Sender};

#[derive(Default)]
struct Picky {
    setups: Mutex<Vec<String>>,
    refuse_setup: AtomicBool,
}

#[async_trait]
impl Connector for Picky {
    fn network(&self) -> &str {
        "picky"
    }

    async fn verify_and_parse(
        &self,
        _channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Parsed, ConnectorError> {
        if request.headers.get("x-picky-token").map(|v| v.as_bytes()) != Some(b"ok") {
            return Err(ConnectorError::Unauthenticated("bad x-picky-token".into()));
        }
        if request.body.as_ref() == b"garbled" {
            return Err(ConnectorError::Unprocessable(
                "picky cannot read this".into(),
            ));
        }
        Ok(Parsed::messages(vec![InboundMessage {
            external_id: String::from_utf8_lossy(&request.body).into_owned(),
            chat_id: "c1".into(),
            sender: Sender {
                verified: true,
                id: "u1".into(),
                name: None,
                email: None,
                phone: None,
            },
            text: "hi".into(),
            ..InboundMessage::default()
        }]))
    }

    async fn send(&self, _channel: &Channel, _message: &Outbound) -> Result<(), SendError> {
        Ok(())
    }

    async fn setup(&self, _channel: &Channel, webhook_url: &str) -> Result<(), SetupError> {
        self.setups.lock().unwrap().push(webhook_url.to_string());
        if self.refuse_setup.load(Ordering::SeqCst) {
            return Err(SetupError::Refused(
                "Bad Request: bad webhook: HTTPS url must be provided for webhook".into(),
            ));
        }
        Ok(())
    }
}

async fn picky_world() -> (World, Arc<Picky>) {
    let (store, dir) = sqlite_store().await;
    let picky = Arc::new(Picky::default());
    let state = AppState::new(
        App::start(Config {
            public_url: "https://support.example.com/".into(),
            connectors: vec![("picky".into(), picky.clone() as Arc<dyn Connector>)],
            ..Config::new(store.clone(), Arc::new(SystemClock))
        })
        .await
        .unwrap(),
    );
    let (_, admin) = user(&store, "ada", Role::Admin).await;
    let (_, agent_a) = user(&store, "bo", Role::Agent).await;
    let world = World {
        app: app(state),
        store,
        admin,
        agent_a,
        _dir: dir,
    };
    (world, picky)
}

async fn post_hook(
    w: &World,
    channel: i64,
    token: &str,
    body: &'static str,
) -> (StatusCode, Value) {
    let req = Request::post(format!("/hooks/{channel}"))
        .header("x-picky-token", token)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    raw(&w.app, req).await
}

async fn failed_total(w: &World) -> f64 {
    let res = w
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix("frontdesk_inbound_failed_total "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn p3_an_authentic_unparseable_webhook_is_kept_answered_200_and_listed_for_admins() {
    let (w, _picky) = picky_world().await;
    let (status, created) = call(
        &w.app,
        "POST",
        "/api/v1/channels",
        Some(&w.admin),
        Some(json!({"name": "Picky", "kind": "picky"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let before = failed_total(&w).await;

    // A bad token is refused and keeps nothing.
    let (status, body) = post_hook(&w, channel, "nope", "garbled").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "bad_signature");
    let (_, listed) = call(
        &w.app,
        "GET",
        "/api/v1/inbound/failed",
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(listed, json!([]));

    // Authentic but unreadable: 200, no message, kept raw.
    let (status, body) = post_hook(&w, channel, "ok", "garbled").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"], json!([]));
    assert_eq!(w.message_count().await, 0);
    let (status, body) = post_hook(&w, channel, "ok", "m1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.message_count().await, 1);
    let (status, _) = post_hook(&w, channel, "ok", "garbled").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failed_total(&w).await - before, 2.0);

    let (status, listed) = call(
        &w.app,
        "GET",
        "/api/v1/inbound/failed",
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0]["id"].as_i64() > listed[1]["id"].as_i64(),
        "newest first"
    );
    let kept = &listed[0];
    assert_eq!(kept["channel_id"], channel);
    assert_eq!(kept["body"], "garbled");
    assert_eq!(kept["body_base64"], Value::Null);
    assert!(
        kept["reason"]
            .as_str()
            .unwrap()
            .contains("picky cannot read this")
    );
    assert_eq!(kept["headers"]["content-type"], "application/json");
    assert_eq!(kept["headers"]["x-picky-token"], "<redacted>");
    assert!(kept["received_at"].as_i64().unwrap() > 0);

    let (_, one) = call(
        &w.app,
        "GET",
        &format!("/api/v1/inbound/failed?channel={channel}&limit=1"),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, other) = call(
        &w.app,
        "GET",
        &format!("/api/v1/inbound/failed?channel={}", channel + 1),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(other, json!([]));

    // Admins only.
    let (status, body) = call(
        &w.app,
        "GET",
        "/api/v1/inbound/failed",
        Some(&w.agent_a),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (_, doc) = call(&w.app, "GET", "/api/v1/openapi.json", None, None).await;
    assert!(doc["paths"].get("/api/v1/inbound/failed").is_some());
}

#[tokio::test]
async fn connector_setup_runs_on_create_enable_and_config_change_and_a_refusal_keeps_the_channel() {
    let (w, picky) = picky_world().await;
    picky.refuse_setup.store(true, Ordering::SeqCst);
    let (status, body) = call(
        &w.app,
        "POST",
        "/api/v1/channels",
        Some(&w.admin),
        Some(json!({"name": "Picky", "kind": "picky"})),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_GATEWAY,
        "provider_setup_failed",
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("HTTPS url must be provided"), "{message}");
    assert!(message.contains("is saved"), "{message}");
    let (_, channels) = call(&w.app, "GET", "/api/v1/channels", Some(&w.admin), None).await;
    let channel = channels[0]["id"].as_i64().unwrap();
    assert_eq!(channels[0]["kind"], "picky");
    assert_eq!(
        picky.setups.lock().unwrap().as_slice(),
        [format!("https://support.example.com/hooks/{channel}")]
    );

    // The cause is fixed; a PATCH retries and succeeds.
    picky.refuse_setup.store(false, Ordering::SeqCst);
    let url = format!("/api/v1/channels/{channel}");
    let (status, body) = call(
        &w.app,
        "PATCH",
        &url,
        Some(&w.admin),
        Some(json!({"config": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(picky.setups.lock().unwrap().len(), 2);

    // A rename needs no setup; disabling none; enabling again does.
    call(
        &w.app,
        "PATCH",
        &url,
        Some(&w.admin),
        Some(json!({"name": "Picky 2"})),
    )
    .await;
    call(
        &w.app,
        "PATCH",
        &url,
        Some(&w.admin),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(picky.setups.lock().unwrap().len(), 2);
    let (status, _) = call(
        &w.app,
        "PATCH",
        &url,
        Some(&w.admin),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(picky.setups.lock().unwrap().len(), 3);

    // Built-in `api` channels have nothing to set up.
    let (status, _) = call(
        &w.app,
        "POST",
        "/api/v1/channels",
        Some(&w.admin),
        Some(json!({"name": "Api"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(picky.setups.lock().unwrap().len(), 3);
}
