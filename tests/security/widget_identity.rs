//! Issue 14, item 2 (C1): what an anonymous widget visitor types about
//! themselves is a claim. It never attaches them to a known customer's
//! contact, shows them that contact's data or touches its consent; agents
//! see it as unverified with the possible match and merge by hand. A
//! visitor the site vouches for with its identity HMAC matches as before.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::support::{plugin_cli, plugin_package};
use super::{DEADLINE, World};

const IDENTITY_SECRET: &str = "site-identity-secret-0123456789";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn with_webchat() -> World {
    World::start_with(|dir| {
        let data = dir.join("data");
        let package = plugin_package("webchat", "webchat", dir);
        plugin_cli(&data, &["install", package.to_str().unwrap()]);
        vec![(
            "FRONTDESK_DATA_DIR".to_string(),
            data.to_str().unwrap().to_string(),
        )]
    })
}

/// `POST /chat/{channel}/visitors` as the widget sends it; returns the token.
async fn visitor(w: &World, channel: i64, body: Value) -> Value {
    let (status, answer) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/chat/{channel}/visitors")),
            &[("content-type", "application/json".to_string())],
            body.to_string().into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Opens the visitor's chat and sends one message; returns the socket.
async fn says_hello(w: &World, channel: i64, token: &str) -> Socket {
    let url = format!("ws://{}/chat/{channel}/ws?token={token}", w.server.addr);
    let (mut ws, _) = connect_async(url).await.expect("the widget socket opens");
    let frame = json!({"type": "message", "client_id": "c-1", "text": "Hi, it's me"});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    ws
}

/// The first frame whose text contains `needle`.
async fn frame_with(ws: &mut Socket, needle: &str) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no frame with {needle:?} in time"))
            .expect("the socket is open")
            .expect("a readable frame");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["text"].as_str().is_some_and(|t| t.contains(needle)) {
                return frame;
            }
        }
    }
}

/// The webchat session of `chat` (the visitor id), once ingest stored it.
async fn session_of(w: &World, channel: i64, chat: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let sessions = w
            .admin(
                "GET",
                &format!("/api/v1/sessions?channel_id={channel}"),
                None,
            )
            .await;
        if let Some(s) = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["chat_id"] == chat)
        {
            return s.clone();
        }
        assert!(started.elapsed() < DEADLINE, "no session for {chat}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn identity_hash(user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(IDENTITY_SECRET.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Consent answers recorded for a contact, read from the database itself:
/// the API shows none of them.
async fn consents(w: &World, contact: i64) -> i64 {
    let pool = sqlx::SqlitePool::connect(&w.db).await.unwrap();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM contact_consents WHERE contact_id = $1")
            .bind(contact)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c1_a_visitors_claimed_email_never_becomes_the_known_customer() {
    let w = with_webchat();
    // Alice and Bob are known customers, from the signed `api` channel.
    let (api, secret) = w.api_channel("Shop backend").await;
    let mut known = Vec::new();
    for (name, email) in [("Alice", "alice@example.org"), ("Bob", "bob@example.org")] {
        let sender = json!({"id": name, "name": name, "email": email});
        let session = w
            .customer_writes(api, &secret, name, &format!("m-{name}"), sender)
            .await;
        known.push(w.session_when(session, |_| true).await["contact_id"].clone());
    }
    let (alice, bob) = (known[0].as_i64().unwrap(), known[1].as_i64().unwrap());

    let config = json!({"prechat_fields": ["name", "email"], "identity_secret": IDENTITY_SECRET,
        "consent": {"text": "We keep this chat for 30 days.", "version": 1}});
    let created = w
        .admin(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Shop chat", "kind": "webchat", "config": config})),
        )
        .await;
    let chat = created["channel"]["id"].as_i64().unwrap();

    // Mallory claims Alice's address in the pre-chat form and accepts consent.
    let mallory = visitor(
        &w,
        chat,
        json!({"name": "Mallory", "email": "alice@example.org", "consent_version": 1}),
    )
    .await;
    assert_eq!(mallory["verified"], false);
    let mut ws = says_hello(&w, chat, mallory["token"].as_str().unwrap()).await;
    let greeting = frame_with(&mut ws, "Thanks for writing").await;
    let text = greeting["text"].as_str().unwrap();
    assert!(
        text.contains("Mallory") && !text.contains("Alice"),
        "greeted with her own claim, never Alice's name: {text}"
    );

    let session = session_of(&w, chat, mallory["visitor_id"].as_str().unwrap()).await;
    let claimed = session["contact_id"].as_i64().unwrap();
    assert_ne!(claimed, alice, "the claim attaches to no known contact");
    let contact = w
        .admin("GET", &format!("/api/v1/contacts/{claimed}"), None)
        .await;
    assert_eq!(contact["unverified"], true, "{contact}");
    assert_eq!(contact["possible_match_id"], json!(alice), "{contact}");
    assert_eq!(contact["name"], "Mallory");
    let theirs = w
        .admin("GET", &format!("/api/v1/contacts/{alice}"), None)
        .await;
    assert_eq!(theirs["name"], "Alice", "{theirs}");
    assert_eq!(theirs["email"], "alice@example.org");
    assert_eq!(theirs["unverified"], false);
    assert_eq!(consents(&w, alice).await, 0, "Alice's consent is untouched");
    assert_eq!(
        consents(&w, claimed).await,
        1,
        "Mallory's own answer is kept"
    );

    // The site vouches for Bob with its HMAC: he matches as before.
    let verified = visitor(
        &w,
        chat,
        json!({"user_id": "bob-1", "user_hash": identity_hash("bob-1"),
               "email": "bob@example.org", "consent_version": 1}),
    )
    .await;
    assert_eq!(verified["verified"], true);
    let _bob_ws = says_hello(&w, chat, verified["token"].as_str().unwrap()).await;
    let session = session_of(&w, chat, verified["visitor_id"].as_str().unwrap()).await;
    assert_eq!(session["contact_id"], json!(bob), "{session}");

    // An agent who decides the visitor is Alice merges by hand (C1).
    let merged = w
        .admin(
            "POST",
            &format!("/api/v1/contacts/{alice}/merge"),
            Some(json!({"from": claimed})),
        )
        .await;
    assert_eq!(merged["unverified"], false, "{merged}");
    let session = session_of(&w, chat, mallory["visitor_id"].as_str().unwrap()).await;
    assert_eq!(session["contact_id"], json!(alice));
}
