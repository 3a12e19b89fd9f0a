//! The live-chat widget's protocol end to end (issue 7; S3, S4, I1, G1, C2):
//! the real binary with the real `plugins/webchat` component, spoken to
//! over a real WebSocket as the widget speaks.

use crate::support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long anything may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);
const IDENTITY_SECRET: &str = "site-identity-secret-0123456789";

struct World {
    server: Server,
    http: Http,
    admin: String,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_url(dir.path());
        let data = dir.path().join("data");
        let package = plugin_package("webchat", "webchat", dir.path());
        let admin = admin_token(&db);
        support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
        let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())]);
        World {
            server,
            http: Http::default(),
            admin,
            _dir: dir,
        }
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.http
            .api(method, &self.server.url(path), &self.admin, body)
            .await
    }

    async fn channel(&self, name: &str, config: Value) -> i64 {
        let body = json!({"name": name, "kind": "webchat", "config": config});
        let (status, created) = self.api("POST", "/api/v1/channels", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        created["channel"]["id"].as_i64().unwrap()
    }

    /// `POST /chat/{channel}/visitors`, as the widget does (no API token).
    async fn visitor(&self, channel: i64, body: Value) -> (u16, Value) {
        let headers = [("content-type", "application/json".to_string())];
        self.http
            .send(
                "POST",
                &self.server.url(&format!("/chat/{channel}/visitors")),
                &headers,
                body.to_string().into_bytes(),
            )
            .await
            .expect("frontdesk answers")
    }

    async fn connect(&self, channel: i64, token: &str) -> Chat {
        let url = format!("ws://{}/chat/{channel}/ws?token={token}", self.server.addr);
        let (ws, _) = connect_async(url).await.expect("the socket opens");
        Chat {
            ws,
            notices: Vec::new(),
        }
    }

    async fn sessions(&self, channel: i64) -> Vec<Value> {
        let (_, sessions) = self
            .api(
                "GET",
                &format!("/api/v1/sessions?channel_id={channel}"),
                None,
            )
            .await;
        sessions.as_array().unwrap().clone()
    }

    /// The customer's messages of a session (routing notices left out).
    async fn inbound(&self, session: i64) -> Vec<Value> {
        let mut all = self.messages(session).await;
        all.retain(|m| m["direction"] == "in");
        all
    }

    async fn messages(&self, session: i64) -> Vec<Value> {
        let (_, messages) = self
            .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
            .await;
        messages.as_array().unwrap().clone()
    }
}

struct Chat {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// System messages (routing notices such as R11's, the consent prompt),
    /// set aside so they never get in the way of the frames a step expects.
    notices: Vec<Value>,
}

impl Chat {
    async fn send(&mut self, frame: Value) {
        self.send_raw(&frame.to_string()).await;
    }

    async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send a frame");
    }

    /// The next frame that is not a system message.
    async fn next(&mut self) -> Value {
        loop {
            let frame = self.frame().await;
            if frame["type"] == "message" && frame["from"] == "system" {
                self.notices.push(frame);
            } else {
                return frame;
            }
        }
    }

    /// The first system message whose text contains `needle`.
    async fn notice(&mut self, needle: &str) -> Value {
        let has = |f: &Value| f["text"].as_str().unwrap_or_default().contains(needle);
        loop {
            if let Some(at) = self.notices.iter().position(has) {
                return self.notices.remove(at);
            }
            let frame = self.frame().await;
            assert_eq!(frame["from"], "system", "waiting for {needle:?}: {frame}");
            self.notices.push(frame);
        }
    }

    /// The next JSON frame from the server, within the deadline.
    async fn frame(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(DEADLINE, self.ws.next())
                .await
                .expect("a frame within the deadline")
                .expect("the socket is open")
                .expect("a readable frame");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("frames are JSON");
            }
        }
    }

    /// A resume: the backlog's message frames, up to the `resumed` frame.
    async fn resume(&mut self, after: i64) -> Vec<Value> {
        self.send(json!({"type": "resume", "after": after})).await;
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["type"] == "resumed" {
                return frames;
            }
            assert_eq!(frame["type"], "message", "{frame}");
            frames.push(frame);
        }
    }
}

fn identity_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webchat_protocol_acks_after_store_dedupes_resumes_and_pushes_replies() {
    let w = World::start().await;
    let config = json!({"identity_secret": IDENTITY_SECRET, "prechat_fields": ["name", "email"], "language": "de"});
    let channel = w.channel("Shop chat", config).await;
    // Q1: closing asks the customer for a score.
    let (_, mut queue) = w
        .api("GET", &format!("/api/v1/channels/{channel}/queue"), None)
        .await;
    queue["options"]["ask_rating"] = json!(true);
    queue["options"]["close_on_rating"] = json!(true);
    let (status, saved) = w
        .api(
            "PUT",
            &format!("/api/v1/channels/{channel}/queue"),
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{saved}");

    // O1, O3, C2: what the widget shows before the chat.
    let (status, shown) = w
        .http
        .send(
            "GET",
            &w.server.url(&format!("/chat/{channel}/config")),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown,
        json!({"channel_id": channel, "name": "Shop chat", "language": "de", "consent": null, "prechat": ["name", "email"]})
    );

    let (status, visitor) = w.visitor(channel, json!({})).await;
    assert_eq!(status, 200, "{visitor}");
    let visitor_id = visitor["visitor_id"].as_str().unwrap().to_string();
    let token = visitor["token"].as_str().unwrap().to_string();
    assert!(visitor_id.starts_with("v:"), "{visitor}");
    assert_eq!(visitor["verified"], false);

    // A bad token is refused before the socket opens.
    for bad in ["", "nope", &format!("{token}x")] {
        let url = format!("ws://{}/chat/{channel}/ws?token={bad}", w.server.addr);
        match connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401, "token {bad:?}")
            }
            other => panic!("token {bad:?} was not refused: {:?}", other.map(|_| ())),
        }
    }

    let mut chat = w.connect(channel, &token).await;
    assert!(
        chat.resume(0).await.is_empty(),
        "a new visitor has no backlog"
    );

    // S4: the ack comes once the message is stored, with its id.
    chat.send(json!({"type": "message", "client_id": "c-1", "text": "Where is my parcel?"}))
        .await;
    let ack = chat.next().await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["client_id"], "c-1");
    let first = ack["message_id"].as_i64().unwrap();
    let sessions = w.sessions(channel).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["chat_id"], visitor_id.as_str());
    assert_eq!(sessions[0]["source"], "webchat");
    let session = sessions[0]["id"].as_i64().unwrap();
    let stored = w.inbound(session).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["id"].as_i64(), &stored[0]["body"]),
        (Some(first), &json!("Where is my parcel?"))
    );

    // S3: the same client id again (a resend after a lost ack) stores nothing new.
    chat.send(json!({"type": "message", "client_id": "c-1", "text": "Where is my parcel?"}))
        .await;
    let again = chat.next().await;
    assert_eq!(
        (&again["type"], again["message_id"].as_i64()),
        (&json!("ack"), Some(first))
    );
    assert_eq!(w.inbound(session).await.len(), 1);

    // Bad frames get an error frame, never silence.
    chat.send_raw("not json").await;
    assert_eq!(chat.next().await["code"], "invalid_frame");
    chat.send(json!({"type": "dance"})).await;
    assert_eq!(chat.next().await["code"], "invalid_frame");
    chat.send(json!({"type": "message", "text": "no id"})).await;
    assert_eq!(chat.next().await["code"], "invalid_frame");
    chat.send(json!({"type": "message", "client_id": "c-2", "text": "   "}))
        .await;
    let empty = chat.next().await;
    assert_eq!(
        (&empty["type"], &empty["code"], &empty["client_id"]),
        (&json!("error"), &json!("invalid_payload"), &json!("c-2"))
    );
    assert_eq!(w.inbound(session).await.len(), 1);

    // I1: an agent's reply is pushed to the open socket with the author.
    let payload = "<img src=x onerror=alert(1)> <script>alert(2)</script> on its way";
    let (status, queued) = w
        .api(
            "POST",
            &format!("/api/v1/sessions/{session}/messages"),
            Some(json!({"text": payload})),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let reply_id = queued["message"]["id"].as_i64().unwrap();
    let pushed = chat.next().await;
    assert_eq!(pushed["type"], "message", "{pushed}");
    assert_eq!(pushed["id"].as_i64(), Some(reply_id));
    assert_eq!(pushed["from"], "agent");
    assert_eq!(
        pushed["text"], payload,
        "the text is passed as is; the widget shows it as text"
    );
    assert_eq!(pushed["author"]["name"], "admin");

    // A reconnect resumes: the whole chat once, or only what came after.
    drop(chat);
    let mut back = w.connect(channel, &token).await;
    let backlog = back.resume(0).await;
    let ids: Vec<i64> = backlog.iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [first, reply_id], "{backlog:?}");
    assert_eq!(backlog[0]["from"], "customer");
    assert_eq!(
        backlog[0]["client_id"], "c-1",
        "the widget matches its unacked copy"
    );
    assert_eq!(backlog[1]["author"]["name"], "admin");
    let mut later = w.connect(channel, &token).await;
    let rest: Vec<i64> = later
        .resume(first)
        .await
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(rest, [reply_id]);

    // A second visitor's token cannot read the first visitor's chat.
    let (_, other) = w.visitor(channel, json!({})).await;
    let mut stranger = w.connect(channel, other["token"].as_str().unwrap()).await;
    assert!(stranger.resume(0).await.is_empty());

    // Q1: when the agent closes, the rating request is flagged for the
    // widget's score buttons; the score is a message like any other (in
    // German: the channel's language).
    let (status, closed) = w
        .api("POST", &format!("/api/v1/sessions/{session}/close"), None)
        .await;
    assert_eq!(status, 200, "{closed}");
    let asked = back.notice("Bitte bewerten Sie").await;
    assert_eq!(asked["rating"], true, "{asked}");
    back.send(json!({"type": "message", "client_id": "score-1", "text": "5"}))
        .await;
    assert_eq!(back.next().await["type"], "ack");
    let thanks = back.notice("Danke für Ihre Bewertung").await;
    assert_eq!(thanks["rating"], false, "{thanks}");

    // Nobody can pose as a visitor through the public webhook.
    let frame = json!({"type": "message", "client_id": "c-9", "text": "spoof"});
    let (status, refused) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/hooks/{channel}")),
            &[
                ("x-frontdesk-visitor", visitor_id.clone()),
                ("content-type", "application/json".into()),
            ],
            frame.to_string().into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        w.inbound(session).await.len(),
        2,
        "the first message and the score"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_user_hash_is_never_verified() {
    let w = World::start().await;
    let channel = w
        .channel("Members", json!({"identity_secret": IDENTITY_SECRET}))
        .await;
    let good = identity_hash(IDENTITY_SECRET, "user-42");
    let forged = [
        json!({"user_id": "user-42"}),
        json!({"user_id": "user-42", "user_hash": ""}),
        json!({"user_id": "user-42", "user_hash": "00".repeat(32)}),
        json!({"user_id": "user-42", "user_hash": identity_hash("another secret", "user-42")}),
        json!({"user_id": "user-43", "user_hash": good}),
    ];
    for body in forged {
        let (status, answer) = w.visitor(channel, body.clone()).await;
        assert_eq!(status, 401, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], "unauthorized");
    }
    // The widget cannot claim it either: unknown fields are refused.
    let (status, _) = w.visitor(channel, json!({"verified": true})).await;
    assert_eq!(status, 400);

    let (status, answer) = w
        .visitor(channel, json!({"user_id": "user-42", "user_hash": good}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["visitor_id"], &answer["verified"]),
        (&json!("u:user-42"), &json!(true))
    );

    // A channel with no identity secret takes no user ids at all.
    let open = w.channel("Open", json!({})).await;
    let (status, answer) = w
        .visitor(open, json!({"user_id": "user-42", "user_hash": good}))
        .await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_c2_consent_given_in_the_widget_is_recorded_and_details_reach_the_contact() {
    let w = World::start().await;
    let notice = "We store this chat for 30 days. OK?";
    let config = json!({"prechat_fields": ["name", "email", "phone"], "consent": {"text": notice, "version": 2}});
    let channel = w.channel("Shop chat", config).await;
    let (_, shown) = w
        .http
        .send(
            "GET",
            &w.server.url(&format!("/chat/{channel}/config")),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(shown["consent"], json!({"text": notice, "version": 2}));

    // An outdated notice version is refused; bad details are named.
    let (status, _) = w.visitor(channel, json!({"consent_version": 1})).await;
    assert_eq!(status, 409);
    let (status, bad) = w.visitor(channel, json!({"email": "nope"})).await;
    assert_eq!(status, 400);
    assert!(
        bad["error"]["message"].as_str().unwrap().contains("email"),
        "{bad}"
    );

    let details = json!({"name": "Ada", "email": "ada@example.com", "phone": "+49 30 1234567", "consent_version": 2});
    let (status, accepted) = w.visitor(channel, details).await;
    assert_eq!(status, 200, "{accepted}");
    let mut ada = w
        .connect(channel, accepted["token"].as_str().unwrap())
        .await;
    ada.resume(0).await;
    ada.send(json!({"type": "message", "client_id": "a-1", "text": "Hello"}))
        .await;
    assert_eq!(ada.next().await["type"], "ack");

    // A visitor who did not accept in the widget gets the in-chat prompt,
    // pushed to their socket as a system message.
    let (_, plain) = w.visitor(channel, json!({})).await;
    let mut bob = w.connect(channel, plain["token"].as_str().unwrap()).await;
    bob.resume(0).await;
    bob.send(json!({"type": "message", "client_id": "b-1", "text": "Hi"}))
        .await;
    assert_eq!(bob.next().await["type"], "ack");
    let prompt = bob.notice(notice).await;
    assert_eq!(prompt["type"], "message", "{prompt}");

    // Ada's session (routed before Bob's) never got one, and her contact
    // has what she typed (C2).
    let sessions = w.sessions(channel).await;
    let hers = sessions
        .iter()
        .find(|s| s["chat_id"] == accepted["visitor_id"])
        .expect("Ada's session");
    let out: Vec<Value> = w
        .messages(hers["id"].as_i64().unwrap())
        .await
        .into_iter()
        .filter(|m| m["direction"] == "out" && m["body"].as_str().unwrap().contains(notice))
        .collect();
    assert!(
        out.is_empty(),
        "no consent prompt after consent in the widget: {out:?}"
    );
    let (_, contact) = w
        .api(
            "GET",
            &format!("/api/v1/contacts/{}", hers["contact_id"]),
            None,
        )
        .await;
    assert_eq!(contact["name"], "Ada", "{contact}");
    assert_eq!(contact["email"], "ada@example.com");
    assert_eq!(
        contact["phone"], "+49301234567",
        "C1: stored in E.164, as matched"
    );
}

/// Two `frontdesk serve` nodes on one PostgreSQL: the visitor has a socket
/// on each (one token works on both) and writes through A, the node that
/// routes (a second node does not, issue 22); the agent answers there. The
/// reply reaches the socket on B from its store catch-up, and A's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_sent_by_another_postgres_node_reaches_the_visitors_socket() {
    support::postgres::on_postgres("webchat", two_nodes).await;
}

async fn two_nodes(db: String) {
    let dir = tempfile::tempdir().unwrap();
    let token = admin_token(&db);
    let mut nodes = Vec::new();
    for node in ["a", "b"] {
        let data = dir.path().join(node);
        let package = plugin_package("webchat", "webchat", &data.join("pkg"));
        support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
        nodes.push(Server::start(
            &db,
            &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())],
        ));
    }
    let (b, a) = (nodes.pop().unwrap(), nodes.pop().unwrap());
    let w = World {
        server: a,
        http: Http::default(),
        admin: token.clone(),
        _dir: dir,
    };
    let channel = w.channel("Shared chat", json!({})).await;
    let (_, visitor) = w.visitor(channel, json!({})).await;
    let token_b = visitor["token"].as_str().unwrap();
    let mut chat = w.connect(channel, token_b).await;
    chat.resume(0).await;
    let url = format!("ws://{}/chat/{channel}/ws?token={token_b}", b.addr);
    let mut on_b = Chat {
        ws: connect_async(url)
            .await
            .expect("the token works on node B")
            .0,
        notices: Vec::new(),
    };
    on_b.resume(0).await;
    // Node A routes (issue 22: a second node does not), so the session starts
    // there; the visitor's socket on node B gets the reply from the store.
    chat.send(json!({"type": "message", "client_id": "n-1", "text": "Anyone there?"}))
        .await;
    assert_eq!(chat.next().await["type"], "ack");
    let session = w.sessions(channel).await[0]["id"].as_i64().unwrap();
    let (status, queued) = w
        .http
        .api(
            "POST",
            &w.server
                .url(&format!("/api/v1/sessions/{session}/messages")),
            &token,
            Some(json!({"text": "Yes, from node A"})),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let reply = loop {
        let frame = on_b.next().await;
        if frame["from"] != "customer" && frame["type"] == "message" {
            break frame;
        }
    };
    assert_eq!(
        (&reply["type"], &reply["text"]),
        (&json!("message"), &json!("Yes, from node A"))
    );
    let on_a = loop {
        let frame = chat.next().await;
        if frame["from"] != "customer" && frame["type"] == "message" {
            break frame;
        }
    };
    assert_eq!(on_a["id"], queued["message"]["id"]);
    assert_eq!(reply["id"], queued["message"]["id"]);
}
