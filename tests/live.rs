//! Issue 7, the agent's live WebSocket `/api/v1/live` on the real binary:
//! a customer's new session and message reach the agent as they happen, the
//! agent's own take and reply come back as events, another channel's events
//! never reach them (P1), and a bad token is refused before the upgrade.

use crate::support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, sqlite_url};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any one expected frame may take; generous for a loaded CI box.
const FRAME_DEADLINE: Duration = Duration::from_secs(20);

/// A live socket with the token as an `Authorization: Bearer` header.
pub async fn connect(server: &Server, token: &str) -> Result<Socket, WsError> {
    let mut request = format!("ws://{}/api/v1/live", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// The next JSON text frame, within the deadline.
pub async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(FRAME_DEADLINE, socket.next())
            .await
            .expect("a frame within the deadline")
            .expect("the socket stays open")
            .expect("a readable frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON frame"),
            Message::Ping(data) => socket.send(Message::Pong(data)).await.unwrap(),
            _ => {}
        }
    }
}

/// Reads frames until one matches; returns it and every frame before it.
async fn until(socket: &mut Socket, what: &str, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..1000 {
        let frame = next_frame(socket).await;
        let done = matches(&frame);
        seen.push(frame);
        if done {
            return seen;
        }
    }
    panic!("never got {what}; frames: {seen:?}");
}

/// A customer writes through the built-in `api` channel (X3); returns the session id.
async fn customer_writes(
    http: &Http,
    server: &Server,
    channel: i64,
    secret: &str,
    id: &str,
    text: &str,
) -> i64 {
    let payload =
        json!({"message_id": id, "chat_id": format!("chat-{channel}"), "text": text}).to_string();
    let sig = frontdesk::ingest::sign(secret, payload.as_bytes());
    let (status, answer) = http
        .send(
            "POST",
            &server.url(&format!("/hooks/{channel}")),
            &[(frontdesk::ingest::SIGNATURE_HEADER, sig)],
            payload.into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    answer["messages"][0]["session_id"].as_i64().unwrap()
}

async fn channel(http: &Http, server: &Server, admin: &str, name: &str) -> (i64, String) {
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            admin,
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    (
        created["channel"]["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_agent_gets_their_channels_sessions_and_messages_live_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let server = Server::start(&db, &[]);
    let http = Http::default();

    let (support, support_secret) = channel(&http, &server, &admin, "Support").await;
    let (sales, sales_secret) = channel(&http, &server, &admin, "Sales").await;
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/users"),
            &admin,
            Some(json!({"name": "ann", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let ann = created["user"]["id"].as_i64().unwrap();
    let ann_token = created["token"].as_str().unwrap().to_string();
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180,
        "unanswered_interval_secs": 600, "agents": [ann]});
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{support}/queue")),
            &admin,
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut agent = connect(&server, &ann_token).await.expect("agent connects");
    let hello = next_frame(&mut agent).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["user"]["id"], ann);
    let mut watcher = connect(&server, &admin).await.expect("admin connects");
    next_frame(&mut watcher).await;

    // Sales is not Ann's channel: its events are published (the admin sees
    // them) but never reach her socket.
    let other = customer_writes(&http, &server, sales, &sales_secret, "s1", "sales question").await;
    until(&mut watcher, "the admin's sales message", |f| {
        f["type"] == "message" && f["session_id"] == other
    })
    .await;

    let session = customer_writes(
        &http,
        &server,
        support,
        &support_secret,
        "m1",
        "<b>help</b> please",
    )
    .await;
    let frames = until(&mut agent, "the customer's message", |f| {
        f["type"] == "message" && f["session_id"] == session
    })
    .await;
    let message = &frames.last().unwrap()["message"];
    assert_eq!(message["body"], "<b>help</b> please");
    assert_eq!(message["direction"], "in");
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "session" && f["session"]["id"] == session),
        "the new session came first: {frames:?}"
    );
    let leaked = |frames: &[Value]| {
        frames.iter().any(|f| {
            f["session_id"] == other
                || f["session"]["id"] == other
                || f["session"]["channel_id"] == sales
        })
    };
    assert!(
        !leaked(&frames),
        "another channel's event leaked: {frames:?}"
    );

    // Ann takes it (unless routing gave it to her already) and replies: both come back live.
    let (status, got) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/sessions/{session}")),
            &ann_token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    if got["session"]["agent_id"] != ann || got["session"]["state"] == "offered" {
        let (status, body) = http
            .api(
                "POST",
                &server.url(&format!("/api/v1/sessions/{session}/take")),
                &ann_token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let mut seen = until(&mut agent, "the session held by Ann", |f| {
        f["type"] == "session"
            && f["session"]["id"] == session
            && f["session"]["agent_id"] == ann
            && f["session"]["state"] != "offered"
    })
    .await;
    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/messages")),
            &ann_token,
            Some(json!({"text": "Hello, how can I help?"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let reply_id = body["message"]["id"].clone();
    seen.extend(
        until(&mut agent, "Ann's reply", |f| {
            f["type"] == "message" && f["message"]["id"] == reply_id
        })
        .await,
    );
    let reply = &seen.last().unwrap()["message"];
    assert_eq!(reply["direction"], "out");
    assert_eq!(reply["author_id"], ann);
    assert_eq!(
        seen.iter()
            .filter(|f| f["type"] == "message" && f["message"]["id"] == reply_id)
            .count(),
        1,
        "the reply is sent once"
    );
    assert!(!leaked(&seen), "another channel's event leaked: {seen:?}");

    // Once more from Sales, then from Support: only Support's arrives.
    customer_writes(&http, &server, sales, &sales_secret, "s2", "sales again").await;
    customer_writes(
        &http,
        &server,
        support,
        &support_secret,
        "m2",
        "still there?",
    )
    .await;
    let frames = until(&mut agent, "the second support message", |f| {
        f["type"] == "message" && f["message"]["body"] == "still there?"
    })
    .await;
    assert!(
        !leaked(&frames),
        "another channel's event leaked: {frames:?}"
    );

    // An admin moves the session to Sales' queue (R18): Ann no longer
    // holds it, and her socket says so.
    let (status, body) = http
        .api(
            "POST",
            &server.url(&format!("/api/v1/sessions/{session}/transfer")),
            &admin,
            Some(json!({"channel_id": sales})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    until(&mut agent, "the session leaving Ann", |f| {
        f["type"] == "session" && f["session"]["id"] == session && f["session"]["agent_id"] != ann
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_a_bad_or_missing_token_is_refused_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let server = Server::start(&db, &[]);

    for token in ["fd_not-a-real-token", ""] {
        match connect(&server, token).await {
            Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
            Err(other) => panic!("expected 401, got {other}"),
            Ok(_) => panic!("token {token:?} was let in"),
        }
    }
    let url = format!("ws://{}/api/v1/live?token=wrong", server.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    // The right token works as a query parameter and as a subprotocol too.
    let url = format!("ws://{}/api/v1/live?token={admin}", server.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await["type"], "hello");
    let mut request = format!("ws://{}/api/v1/live", server.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("frontdesk, bearer.{admin}").parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "frontdesk",
        "the server picks the protocol, never echoes the token"
    );
    assert_eq!(next_frame(&mut socket).await["type"], "hello");
}
