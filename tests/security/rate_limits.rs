//! Issue 14 item 6 (L1): wrong tokens, refused webhooks, widget visitors and
//! widget messages are rate-limited per IP, channel and visitor, with 429
//! and `Retry-After` (or the widget's error frame with `retry_after`); a
//! right token or a signed webhook is never held back, and the defaults let
//! a busy site through. Small limits come from `FRONTDESK_RATE_LIMITS`;
//! other client addresses from `X-Forwarded-For` through a trusted proxy.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::support::{plugin_cli, plugin_package};
use super::{DEADLINE, World};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An answer with the header the tests look at.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
    pub text: String,
}

/// Sends a request; `headers` may name the client in `x-forwarded-for`.
pub async fn request(
    w: &World,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(w.server.url(path));
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = client
        .request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").map(|v| {
        v.to_str()
            .unwrap()
            .parse()
            .expect("Retry-After is whole seconds")
    });
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        retry_after,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Asserts a 429 in the project's error shape, waiting `1..=max` seconds;
/// returns its message.
#[track_caller]
pub fn assert_limited(answer: &Answer, max_wait: u64) -> String {
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(
        answer.body["error"]["code"], "rate_limited",
        "{}",
        answer.text
    );
    let wait = answer.retry_after.expect("a 429 says Retry-After");
    assert!((1..=max_wait).contains(&wait), "Retry-After: {wait}");
    let message = answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.ends_with(&format!("try again in {wait} s")),
        "{message}"
    );
    message
}

/// A server with the webchat plugin, trusting 127.0.0.1 as a proxy, with
/// `limits` as `FRONTDESK_RATE_LIMITS` (and `extra` environment).
pub fn webchat_server(limits: &str, extra: &[(&str, String)]) -> World {
    let mut env = vec![
        ("FRONTDESK_RATE_LIMITS".to_string(), limits.to_string()),
        (
            "FRONTDESK_TRUSTED_PROXIES".to_string(),
            "127.0.0.1".to_string(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    World::start_with(move |dir| {
        let data = dir.join("data");
        let package = plugin_package("webchat", "webchat", dir);
        plugin_cli(&data, &["install", package.to_str().unwrap()]);
        env.push(("FRONTDESK_DATA_DIR".into(), data.to_str().unwrap().into()));
        env
    })
}

/// A webchat channel with no routing notices in the way.
pub async fn webchat_channel(w: &World) -> i64 {
    let body = json!({"name": "Shop", "kind": "webchat", "config": {}});
    let created = w.admin("POST", "/api/v1/channels", Some(body)).await;
    created["channel"]["id"].as_i64().unwrap()
}

/// `POST /chat/{channel}/visitors` from `client` (an address the trusted
/// proxy forwards for).
pub async fn new_visitor(w: &World, channel: i64, client: &str) -> Answer {
    let headers = [
        ("content-type", "application/json".to_string()),
        ("x-forwarded-for", client.to_string()),
    ];
    let path = format!("/chat/{channel}/visitors");
    request(w, "POST", &path, &headers, b"{}".to_vec()).await
}

/// Opens a visitor's socket and resumes, as the widget does.
pub async fn open_chat(w: &World, channel: i64, token: &str) -> Socket {
    let url = format!("ws://{}/chat/{channel}/ws?token={token}", w.server.addr);
    let (mut ws, _) = connect_async(url).await.expect("the widget socket opens");
    send(&mut ws, json!({"type": "resume", "after": 0})).await;
    while next(&mut ws).await["type"] != "resumed" {}
    ws
}

pub async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON frame.
pub async fn next(ws: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a readable frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Sends `count` messages at once; returns the acks and the errors, by
/// `client_id` order of arrival (system messages are skipped).
pub async fn flood(ws: &mut Socket, count: usize) -> (Vec<Value>, Vec<Value>) {
    for n in 0..count {
        let frame =
            json!({"type": "message", "client_id": format!("m-{n}"), "text": format!("hello {n}")});
        send(ws, frame).await;
    }
    let (mut acks, mut errors) = (Vec::new(), Vec::new());
    while acks.len() + errors.len() < count {
        let frame = next(ws).await;
        match frame["type"].as_str() {
            Some("ack") => acks.push(frame),
            Some("error") => errors.push(frame),
            _ => {}
        }
    }
    (acks, errors)
}

/// The customer's stored messages on `channel`, by message id.
pub async fn stored_inbound(w: &World, channel: i64) -> Vec<i64> {
    let sessions = w
        .admin(
            "GET",
            &format!("/api/v1/sessions?channel_id={channel}"),
            None,
        )
        .await;
    let mut ids = Vec::new();
    for session in sessions.as_array().unwrap() {
        let path = format!("/api/v1/sessions/{}/messages", session["id"]);
        let messages = w.admin("GET", &path, None).await;
        for m in messages.as_array().unwrap() {
            if m["direction"] == "in" {
                ids.push(m["id"].as_i64().unwrap());
            }
        }
    }
    ids.sort();
    ids
}

/// `/metrics` as text.
pub async fn metrics(w: &World) -> String {
    request(w, "GET", "/metrics", &[], Vec::new()).await.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_wrong_tokens_get_429_after_the_limit_and_a_right_token_still_works() {
    let w = World::start_with(|_| {
        vec![(
            "FRONTDESK_RATE_LIMITS".into(),
            "auth-failures-per-ip=5/min".into(),
        )]
    });
    let wrong = [("authorization", "Bearer fd_wrong".to_string())];
    for n in 0..5 {
        let answer = request(&w, "GET", "/api/v1/users", &wrong, Vec::new()).await;
        assert_eq!(answer.status, 401, "attempt {n}: {}", answer.text);
    }
    let limited = request(&w, "GET", "/api/v1/users", &wrong, Vec::new()).await;
    // Five a minute: the next one in 12 s.
    let message = assert_limited(&limited, 12);
    assert!(message.contains("wrong tokens"), "{message}");
    // The live socket's token counts too.
    let live = request(&w, "GET", "/api/v1/live?token=fd_wrong", &[], Vec::new()).await;
    assert_limited(&live, 12);

    // The admin, from the same address, is not held back.
    let right = [("authorization", format!("Bearer {}", w.admin))];
    let answer = request(&w, "GET", "/api/v1/users", &right, Vec::new()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Nor is a request that sends no token (nothing to count).
    let bare = request(&w, "GET", "/api/v1/users", &[], Vec::new()).await;
    assert_eq!(bare.status, 401);
    let scraped = metrics(&w).await;
    assert!(
        scraped.contains("frontdesk_rate_limited_total{kind=\"auth_failure\"} 2"),
        "{scraped}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_refused_webhooks_get_429_per_ip_and_per_channel_and_signed_ones_pass() {
    let w = World::start_with(|_| {
        vec![
            (
                "FRONTDESK_RATE_LIMITS".into(),
                "webhook-refusals-per-ip=3/min,webhook-refusals-per-channel=5/min".into(),
            ),
            ("FRONTDESK_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
        ]
    });
    let (channel, secret) = w.api_channel("Site").await;
    let hook = format!("/hooks/{channel}");
    let payload = |id: &str| json!({"message_id": id, "chat_id": "c", "text": "hi"}).to_string();
    let forged = |client: &str| {
        vec![
            (frontdesk::ingest::SIGNATURE_HEADER, "sha256=00".to_string()),
            ("x-forwarded-for", client.to_string()),
        ]
    };
    let first = "198.51.100.1";
    for n in 0..3 {
        let answer = request(&w, "POST", &hook, &forged(first), payload("f").into()).await;
        assert_eq!(answer.status, 403, "attempt {n}: {}", answer.text);
    }
    let by_ip = request(&w, "POST", &hook, &forged(first), payload("f").into()).await;
    assert!(assert_limited(&by_ip, 20).contains("from your address"));
    // Unsigned counts as refused too; from another address the channel's
    // own limit (5, three used) is what stops it.
    let second = "198.51.100.2";
    let unsigned = [("x-forwarded-for", second.to_string())];
    for _ in 0..2 {
        let answer = request(&w, "POST", &hook, &unsigned, payload("u").into()).await;
        assert_eq!(answer.status, 403, "{}", answer.text);
    }
    let by_channel = request(&w, "POST", &hook, &unsigned, payload("u").into()).await;
    assert!(assert_limited(&by_channel, 12).contains("for this channel"));

    // The provider's signed webhooks, from either address, pass.
    for (n, client) in [first, second].into_iter().enumerate() {
        let body = payload(&format!("ok-{n}"));
        let headers = [
            (
                frontdesk::ingest::SIGNATURE_HEADER,
                frontdesk::ingest::sign(&secret, body.as_bytes()),
            ),
            ("x-forwarded-for", client.to_string()),
        ];
        let answer = request(&w, "POST", &hook, &headers, body.into_bytes()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // Unknown channels are refusals per IP as well.
    let unknown = request(
        &w,
        "POST",
        "/hooks/999",
        &forged(first),
        payload("x").into(),
    )
    .await;
    assert_limited(&unknown, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_widget_visitors_get_429_per_ip_and_per_channel() {
    let w = webchat_server("visitors-per-ip=5/min,visitors-per-channel=8/min", &[]);
    let channel = webchat_channel(&w).await;
    for n in 0..5 {
        let answer = new_visitor(&w, channel, "198.51.100.1").await;
        assert_eq!(answer.status, 200, "visitor {n}: {}", answer.text);
    }
    let by_ip = new_visitor(&w, channel, "198.51.100.1").await;
    assert!(assert_limited(&by_ip, 12).contains("new chats from your address"));
    // Another address gets its own five, until the channel's eight are used.
    for _ in 0..3 {
        assert_eq!(new_visitor(&w, channel, "198.51.100.2").await.status, 200);
    }
    let by_channel = new_visitor(&w, channel, "198.51.100.2").await;
    assert!(assert_limited(&by_channel, 8).contains("on this channel"));
    // A client that forges X-Forwarded-For behind the proxy gains nothing:
    // the proxy's own entry (the right-most) is what counts.
    let forged = new_visitor(&w, channel, "203.0.113.5, 198.51.100.1").await;
    assert_eq!(forged.status, 429, "{}", forged.text);
    let scraped = metrics(&w).await;
    assert!(
        scraped.contains("frontdesk_rate_limited_total{kind=\"widget_visitor\"} 3"),
        "{scraped}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_a_widget_message_flood_is_refused_with_a_retry_hint_and_never_acked() {
    let w = webchat_server("messages-per-visitor=5/min", &[]);
    let channel = webchat_channel(&w).await;
    let visitor = new_visitor(&w, channel, "198.51.100.1").await;
    let token = visitor.body["token"].as_str().unwrap().to_string();
    let mut ws = open_chat(&w, channel, &token).await;
    let (acks, errors) = flood(&mut ws, 12).await;
    assert_eq!(acks.len(), 5, "acks: {acks:?}, errors: {errors:?}");
    assert_eq!(errors.len(), 7, "{errors:?}");
    for error in &errors {
        assert_eq!(error["code"], "rate_limited", "{error}");
        assert!(error["client_id"].as_str().unwrap().starts_with("m-"));
        let wait = error["retry_after"].as_u64().expect("a retry hint");
        assert!((1..=12).contains(&wait), "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!("try again in {wait} s")),
            "{error}"
        );
    }
    // Exactly what was acked is stored, nothing more.
    let mut acked: Vec<i64> = acks
        .iter()
        .map(|a| a["message_id"].as_i64().unwrap())
        .collect();
    acked.sort();
    let started = std::time::Instant::now();
    loop {
        let stored = stored_inbound(&w, channel).await;
        if stored == acked {
            break;
        }
        assert!(
            stored.len() <= acked.len() && started.elapsed() < DEADLINE,
            "stored {stored:?}, acked {acked:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_the_defaults_let_a_busy_site_through() {
    let w = webchat_server("", &[]);
    let channel = webchat_channel(&w).await;
    // Ten chats from one office, ten quick messages each.
    for _ in 0..10 {
        let visitor = new_visitor(&w, channel, "198.51.100.1").await;
        assert_eq!(visitor.status, 200, "{}", visitor.text);
        let token = visitor.body["token"].as_str().unwrap().to_string();
        let mut ws = open_chat(&w, channel, &token).await;
        let (acks, errors) = flood(&mut ws, 10).await;
        assert_eq!((acks.len(), errors), (10, Vec::new()));
    }
    // A provider's burst of signed webhooks, and a few typos in a token.
    let (api, secret) = w.api_channel("Site").await;
    for n in 0..300 {
        let body =
            json!({"message_id": format!("m{n}"), "chat_id": format!("c{}", n % 20), "text": "hi"})
                .to_string();
        let headers = [(
            frontdesk::ingest::SIGNATURE_HEADER,
            frontdesk::ingest::sign(&secret, body.as_bytes()),
        )];
        let answer = request(
            &w,
            "POST",
            &format!("/hooks/{api}"),
            &headers,
            body.into_bytes(),
        )
        .await;
        assert_eq!(answer.status, 200, "webhook {n}: {}", answer.text);
    }
    for _ in 0..5 {
        let wrong = [("authorization", "Bearer fd_typo".to_string())];
        let answer = request(&w, "GET", "/api/v1/users", &wrong, Vec::new()).await;
        assert_eq!(answer.status, 401, "{}", answer.text);
    }
    let scraped = metrics(&w).await;
    for kind in [
        "auth_failure",
        "webhook_refused",
        "widget_visitor",
        "widget_message",
        "transcript_mail",
    ] {
        let series = format!("frontdesk_rate_limited_total{{kind=\"{kind}\"}} 0");
        assert!(scraped.contains(&series), "{series} in\n{scraped}");
    }
}
