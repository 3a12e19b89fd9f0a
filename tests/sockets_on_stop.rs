//! Open WebSockets when the server stops (issue 15: every task under the
//! node's stop signal): on SIGTERM an agent's console socket and a
//! visitor's widget socket are each closed with 1001 (going away), which
//! both clients answer by connecting again, instead of being cut at exit.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the close frame may take once the server was told to stop.
const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

/// Reads frames until the close frame, and returns its code and reason;
/// panics if the socket ends without one (cut rather than closed).
async fn close_frame(socket: &mut Socket, what: &str) -> (CloseCode, String) {
    loop {
        let next = tokio::time::timeout(CLOSE_DEADLINE, socket.next())
            .await
            .unwrap_or_else(|_| panic!("the {what} socket got no close frame in time"));
        match next {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (frame.code, frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) => panic!("the {what} socket closed without a code"),
            Some(Ok(_)) => continue,
            Some(Err(err)) => panic!("the {what} socket was cut, not closed: {err}"),
            None => panic!("the {what} socket ended without a close frame"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_console_and_widget_sockets_with_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("webchat", "webchat", dir.path());
    let admin = admin_token(&db);
    support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let mut server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ("FRONTDESK_DRAIN_SECS", "20"),
        ],
    );
    let http = Http::default();
    let body = json!({"name": "Shop chat", "kind": "webchat", "config": {}});
    let (status, created) = http
        .api("POST", &server.url("/api/v1/channels"), &admin, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();

    let headers = [("content-type", "application/json".to_string())];
    let (status, visitor) = http
        .send(
            "POST",
            &server.url(&format!("/chat/{channel}/visitors")),
            &headers,
            b"{}".to_vec(),
        )
        .await
        .expect("frontdesk answers");
    assert_eq!(status, 200, "{visitor}");
    let token = visitor["token"].as_str().unwrap();
    let (mut widget, _) = connect_async(format!(
        "ws://{}/chat/{channel}/ws?token={token}",
        server.addr
    ))
    .await
    .expect("the widget socket opens");

    let mut request = format!("ws://{}/api/v1/live", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {admin}").parse().unwrap());
    let (mut console, _) = connect_async(request)
        .await
        .expect("the console socket opens");
    // The console's first frame says the socket is being served.
    match console.next().await {
        Some(Ok(Message::Text(hello))) => assert!(hello.contains("\"hello\""), "{hello}"),
        other => panic!("expected the hello frame, got {other:?}"),
    }

    server.terminate();
    for (socket, what) in [(&mut console, "console"), (&mut widget, "widget")] {
        let (code, reason) = close_frame(socket, what).await;
        assert_eq!(code, CloseCode::Away, "{what}: {reason}");
        assert!(reason.contains("connect again"), "{what}: {reason}");
    }
    // The sockets were the last thing open: the process ends well inside
    // its drain time, and cleanly.
    let exit = tokio::task::block_in_place(|| server.exited_within(Duration::from_secs(15)))
        .expect("the server exits once its sockets are closed");
    assert!(exit.success(), "exited with {exit}");
}
