//! Issue 19: `deploy/nginx.conf` in front of the real server (a real nginx,
//! see `support/nginx.rs`). Over HTTPS through it: the console
//! page loads, a webhook over the size limit gets nginx's 413 (frontdesk
//! never sees it), a normal webhook is acknowledged, the agents' live
//! WebSocket connects and receives the message as an event, and
//! `X-Forwarded-For` counts only when the trusted proxy sends it.

use crate::support;

use std::net::IpAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::nginx::{DEADLINE, Nginx, certificate, client};
use support::{Server, admin_token, sqlite_url};
use tokio_tungstenite::tungstenite::Message;

/// A webhook on the built-in `api` channel, signed with its secret.
fn signed(secret: &str, id: &str, text: &str) -> (String, Vec<u8>) {
    let body = json!({"message_id": id, "chat_id": "customer-1", "text": text}).to_string();
    (
        frontdesk::ingest::sign(secret, body.as_bytes()),
        body.into_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_through_nginx_serves_the_console_hooks_and_live_socket() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let (cert, key, tls) = certificate(dir.path());
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1"),
            ("FRONTDESK_RATE_LIMITS", "auth-failures-per-ip=3/min"),
        ],
    );
    let nginx = Nginx::start(dir.path(), &[server.addr], &cert, &key);
    let web = client(&tls, [127, 0, 0, 1]);

    // The console's page, over TLS.
    let page = web.get(nginx.url("/console/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().starts_with("<!doctype html>"));

    let created = web
        .post(nginx.url("/api/v1/channels"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(json!({"name": "Site"}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let created: Value = serde_json::from_str(&created).unwrap();
    let channel = created["channel"]["id"].as_i64().expect("channel created");
    let secret = created["secret"].as_str().unwrap().to_string();

    // The agents' live socket, upgraded through the proxy.
    let mut live = nginx.live_socket(&tls, &admin).await;
    let mut next = async || loop {
        let frame = tokio::time::timeout(DEADLINE, live.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .unwrap();
        match frame {
            Message::Text(text) => return serde_json::from_str::<Value>(&text).unwrap(),
            Message::Ping(data) => live.send(Message::Pong(data)).await.unwrap(),
            _ => {}
        }
    };
    assert_eq!(next().await["type"], "hello");

    // A webhook over the limit: nginx answers, frontdesk never sees it.
    let hook = nginx.url(&format!("/hooks/{channel}"));
    let (sig, _) = signed(&secret, "big", "x");
    let big = web
        .post(&hook)
        .header(frontdesk::ingest::SIGNATURE_HEADER, &sig)
        .body(vec![b'x'; 2 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let text = big.text().await.unwrap();
    assert!(
        text.contains("413 Request Entity Too Large") && text.contains("<center>nginx</center>"),
        "not nginx's answer: {text}"
    );

    // A normal one: acknowledged, and on the live socket as it happens.
    let (sig, body) = signed(&secret, "m1", "my order is late");
    let answer = web
        .post(&hook)
        .header(frontdesk::ingest::SIGNATURE_HEADER, &sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let acked: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let session = acked["messages"][0]["session_id"].as_i64().unwrap();
    loop {
        let frame = next().await;
        if frame["type"] == "message" && frame["session_id"] == session {
            assert_eq!(frame["message"]["body"], "my order is late", "{frame}");
            break;
        }
    }

    // X-Forwarded-For from the trusted proxy names the client: wrong tokens
    // from 127.0.0.3 count against 127.0.0.3, whatever the client writes in
    // its own X-Forwarded-For.
    let wrong = |client: &reqwest::Client, url: String, forged: &str| {
        client
            .get(url)
            .bearer_auth("fd_wrong")
            .header("x-forwarded-for", forged.to_string())
            .send()
    };
    let from_3 = client(&tls, [127, 0, 0, 3]);
    for n in 1..=3 {
        let forged = format!("203.0.113.{n}");
        let status = wrong(&from_3, nginx.url("/api/v1/channels"), &forged)
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {n}");
    }
    let status = wrong(&from_3, nginx.url("/api/v1/channels"), "203.0.113.9")
        .await
        .unwrap()
        .status();
    assert_eq!(status, 429, "the fourth wrong token from 127.0.0.3");
    // Straight to frontdesk from 127.0.0.3 (not a trusted proxy): its
    // X-Forwarded-For is ignored, so this is 127.0.0.3 again, over its limit;
    // which also shows the requests above counted as 127.0.0.3, not as the
    // proxy's own address.
    // reqwest builds without a TLS provider of its own; ring is the project's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let direct = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 3]))
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("http://{}/api/v1/channels", server.addr);
    assert_eq!(
        wrong(&direct, url, "198.51.100.7").await.unwrap().status(),
        429
    );
    // Another client behind the same proxy has its own count.
    let from_4 = client(&tls, [127, 0, 0, 4]);
    let status = wrong(&from_4, nginx.url("/api/v1/channels"), "127.0.0.3")
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // /metrics stays off the public side.
    let metrics = web.get(nginx.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 404);
    drop(nginx);
}
