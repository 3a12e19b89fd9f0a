//! An `api` channel's receiver (its `callback_url`) for outbox tests: it
//! answers every delivery after a delay and records what came, in order.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use frontdesk::ingest::DELIVERY_HEADER;
use serde_json::{Value, json};

use super::Http;

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The outbox id (`X-Frontdesk-Delivery`): the same on a repeat.
    pub id: i64,
    pub chat_id: String,
    pub text: String,
    /// When it arrived (the receiver answers `delay` later).
    pub at: Instant,
}

/// A running receiver.
pub struct Callback {
    pub url: String,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl Callback {
    /// Listens on a free loopback port; answers 200 after `delay`.
    pub async fn start(delay: Duration) -> Callback {
        let log: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let app = Router::new().route(
            "/callback",
            post({
                let log = log.clone();
                move |headers: HeaderMap, body: Bytes| {
                    let log = log.clone();
                    async move {
                        let id = headers[DELIVERY_HEADER].to_str().unwrap().parse().unwrap();
                        let body: Value = serde_json::from_slice(&body).unwrap();
                        log.lock().unwrap().push(Delivery {
                            id,
                            chat_id: body["chat_id"].as_str().unwrap().to_string(),
                            text: body["text"].as_str().unwrap().to_string(),
                            at: Instant::now(),
                        });
                        tokio::time::sleep(delay).await;
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Callback { url, log }
    }

    /// Everything received so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().unwrap().clone()
    }

    /// How many times delivery `id` arrived.
    pub fn times(&self, id: i64) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.id == id)
            .count()
    }
}

/// Creates an `api` channel that delivers to `callback`; returns (id, secret).
pub async fn api_channel(
    http: &Http,
    base: &str,
    token: &str,
    name: &str,
    callback: &str,
) -> (i64, String) {
    let (status, created) = http
        .api(
            "POST",
            &format!("{base}/api/v1/channels"),
            token,
            Some(json!({"name": name, "config": {"callback_url": callback}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    (
        created["channel"]["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

/// A customer writes to `chat` on an `api` channel; returns the session id.
pub async fn customer_writes(
    http: &Http,
    base: &str,
    channel: i64,
    secret: &str,
    chat: &str,
    external_id: &str,
) -> i64 {
    let payload = json!({"message_id": external_id, "chat_id": chat, "text": "hello"})
        .to_string()
        .into_bytes();
    let headers = [(
        frontdesk::ingest::SIGNATURE_HEADER,
        frontdesk::ingest::sign(secret, &payload),
    )];
    let (status, answer) = http
        .send(
            "POST",
            &format!("{base}/hooks/{channel}"),
            &headers,
            payload,
        )
        .await
        .expect("the server answered the webhook");
    assert_eq!(status, 200, "{answer}");
    answer["messages"][0]["session_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no session id in {answer}"))
}

/// An agent's reply to `session`; returns its outbox id (the delivery id).
pub async fn reply(http: &Http, base: &str, token: &str, session: i64, text: &str) -> i64 {
    let (status, body) = http
        .api(
            "POST",
            &format!("{base}/api/v1/sessions/{session}/messages"),
            token,
            Some(json!({"text": text})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    body["outbox"]["id"].as_i64().unwrap()
}

/// The outbox item `id` as admins see it.
pub async fn outbox_item(http: &Http, base: &str, token: &str, id: i64) -> Value {
    let (status, items) = http
        .api(
            "GET",
            &format!("{base}/api/v1/outbox?limit=1000"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{items}");
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_i64() == Some(id))
        .cloned()
        .unwrap_or_else(|| panic!("outbox item {id} is not listed: {items}"))
}

/// Polls `check` every 20 ms until it holds; panics after `within`.
pub async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
