//! S3 across nodes: two `frontdesk serve` processes on one PostgreSQL get
//! every message twice, once each, at the same moment (a provider retrying
//! against another node). Both answer the same, and each message is stored once.

use crate::support;

use std::sync::Arc;

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::json;
use support::{Http, Server, admin_token};

const MESSAGES: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_two_nodes_store_a_message_sent_to_both_once() {
    support::postgres::on_postgres("nodes", run).await;
}

async fn run(db: String) {
    let token = admin_token(&db);
    let (a, b) = (Server::start(&db, &[]), Server::start(&db, &[]));
    let http = Http::default();
    let (status, created) = http
        .api(
            "POST",
            &a.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Shared"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = Arc::new(created["secret"].as_str().unwrap().to_string());
    let hooks = Arc::new([
        a.url(&format!("/hooks/{channel}")),
        b.url(&format!("/hooks/{channel}")),
    ]);

    let sends: Vec<_> = (0..MESSAGES)
        .map(|n| {
            let (http, hooks, secret) = (http.clone(), hooks.clone(), secret.clone());
            tokio::spawn(async move {
                let body = json!({"message_id": format!("m{n}"), "chat_id": format!("chat-{}", n % 20), "text": "hi"});
                let body = body.to_string().into_bytes();
                let headers = [(SIGNATURE_HEADER, sign(&secret, &body))];
                let (first, second) = tokio::join!(
                    http.send("POST", &hooks[0], &headers, body.clone()),
                    http.send("POST", &hooks[1], &headers, body.clone())
                );
                let (first, second) = (first.unwrap(), second.unwrap());
                assert_eq!(first.0, 200, "{first:?}");
                assert_eq!(first, second, "both nodes give the first answer");
            })
        })
        .collect();
    for send in sends {
        send.await.unwrap();
    }

    let mut stored = 0;
    let (_, sessions) = http
        .api("GET", &b.url("/api/v1/sessions?limit=500"), &token, None)
        .await;
    assert_eq!(
        sessions.as_array().unwrap().len(),
        20,
        "one session per chat, whichever node opened it"
    );
    for s in sessions.as_array().unwrap() {
        let url = b.url(&format!("/api/v1/sessions/{}/messages?limit=1000", s["id"]));
        let (_, messages) = http.api("GET", &url, &token, None).await;
        stored += messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "in")
            .count();
    }
    assert_eq!(stored, MESSAGES, "every message once");
}
