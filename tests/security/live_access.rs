//! Issue 14, item 3 (P1): an open `/api/v1/live` socket follows its user's
//! access as it changes, within a second, instead of at its next reconnect.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::support::cli;
use super::{DEADLINE, World};

pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The bound: a change reaches the open sockets within a second.
const WITHIN: Duration = Duration::from_secs(1);

pub(super) async fn connect(w: &World, token: &str) -> Socket {
    let mut request = format!("ws://{}/api/v1/live", w.server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the live socket opens");
    assert_eq!(next(&mut socket).await.expect("hello")["type"], "hello");
    socket
}

/// The next JSON frame; `None` once the server closed the socket.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a frame or the close within the deadline")?;
        match message {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Ping(data)) => {
                let _ = socket.send(Message::Pong(data)).await;
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads until the server closes the socket; returns the close code and
/// reason. `strict` fails on any session or message frame on the way.
pub(super) async fn closed(socket: &mut Socket, strict: bool) -> (CloseCode, String) {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("the server closes the socket")
            .expect("a close frame before the end")
            .expect("a readable frame");
        match message {
            Message::Close(Some(frame)) => return (frame.code, frame.reason.to_string()),
            Message::Close(None) => panic!("the close names a code and reason"),
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                assert!(
                    !strict || frame["type"] == "resync",
                    "nothing reaches a closing socket: {frame}"
                );
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_disabling_a_user_closes_their_live_sockets_within_a_second() {
    let w = World::start();
    let (ann, ann_token) = w.user("ann", "agent").await;
    let (bob, bob_token) = w.user("bob", "agent").await;
    let (channel, secret) = w.api_channel("Support").await;
    w.queue(channel, &[ann, bob], json!({})).await;
    let mut ann_socket = connect(&w, &ann_token).await;
    let mut bob_socket = connect(&w, &bob_token).await;

    // Through the API: closed before the next event could reach it.
    let started = Instant::now();
    w.admin(
        "PATCH",
        &format!("/api/v1/users/{ann}"),
        Some(json!({"disabled": true})),
    )
    .await;
    w.customer_writes(channel, &secret, "chat-1", "m-1", json!({}))
        .await;
    let (code, reason) = closed(&mut ann_socket, true).await;
    let took = started.elapsed();
    assert_eq!(code, CloseCode::Policy, "{reason}");
    assert!(reason.contains("disabled"), "{reason}");
    assert!(took < WITHIN, "closed after {took:?}");

    // From the command line, another process: the server notices by itself.
    // (Bob, still enabled, rightly saw the customer's session meanwhile.)
    let started = Instant::now();
    cli(&w.db, &["user", "disable", "bob"]);
    let (code, reason) = closed(&mut bob_socket, false).await;
    let took = started.elapsed();
    assert_eq!(code, CloseCode::Policy, "{reason}");
    assert!(
        took < WITHIN,
        "closed {took:?} after `user disable` returned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_leaving_a_queue_narrows_the_live_socket_at_once() {
    let w = World::start();
    let (carl, carl_token) = w.user("carl", "agent").await;
    let (support, support_secret) = w.api_channel("Support").await;
    let (billing, billing_secret) = w.api_channel("Billing").await;
    w.queue(support, &[carl], json!({})).await;
    w.queue(billing, &[carl], json!({})).await;
    let mut socket = connect(&w, &carl_token).await;

    w.queue(support, &[], json!({})).await;
    let hidden = w
        .customer_writes(support, &support_secret, "chat-s", "s-1", json!({}))
        .await;
    let shown = w
        .customer_writes(billing, &billing_secret, "chat-b", "b-1", json!({}))
        .await;
    // Everything up to Billing's session: nothing of Support's.
    let mut resynced = false;
    loop {
        let frame = next(&mut socket).await.expect("the socket stays open");
        if frame["type"] == "resync" {
            resynced = true;
            continue;
        }
        let session = frame["session"]["id"]
            .as_i64()
            .or(frame["session_id"].as_i64());
        assert_ne!(session, Some(hidden), "Support's events stop: {frame}");
        if session == Some(shown) {
            break;
        }
    }
    assert!(
        resynced,
        "the console is told to refetch its narrowed lists"
    );
}
