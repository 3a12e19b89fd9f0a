//! X2 on the real binary: traffic flows through a channel served by a Wasm
//! connector while the plugin is upgraded and rolled back through the admin
//! API. Every message is stored exactly once, and both versions served some.

use crate::support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

/// Messages acknowledged before the upgrade, between it and the rollback, and after.
const PHASE: usize = 150;
const CLIENTS: usize = 8;

fn body(n: usize) -> Vec<u8> {
    json!({"messages": [{"chat": format!("chat-{}", n % 10), "id": format!("m{n}"), "from": {"id": "visitor"}, "text": format!("hello {n}")}]})
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_upgrade_and_rollback_under_traffic_store_every_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let v1 = plugin_package("echo", "echo", dir.path());
    let v2 = plugin_package("fixtures/echo-v2", "echo_v2", dir.path());
    let token = admin_token(&db);
    support::plugin_cli(&data, &["install", v1.to_str().unwrap()]);

    let data_dir = data.to_str().unwrap().to_string();
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data_dir.as_str())]);
    let http = Http::default();
    let config = json!({"api_base_url": "http://127.0.0.1:9", "token": "t0k"});
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Echo", "kind": "echo", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let hook = server.url(&format!("/hooks/{}", created["channel"]["id"]));

    // Clients send until told to stop; a 503 (a plugin busy switching) is
    // retried like a provider would. Acknowledgements are counted on a watch
    // channel, so the test waits for traffic, never for time.
    let (acked_tx, mut acked) = tokio::sync::watch::channel(0usize);
    let acked_tx = Arc::new(acked_tx);
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, hook, acked_tx, next, stop) = (
                http.clone(),
                hook.clone(),
                acked_tx.clone(),
                next.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    loop {
                        let headers = [("x-echo-token", "t0k".to_string())];
                        match http.send("POST", &hook, &headers, body(n)).await {
                            Ok((200, _)) => break,
                            Ok((503, _)) => continue,
                            other => panic!("message {n}: {other:?}"),
                        }
                    }
                    acked_tx.send_modify(|count| *count += 1);
                }
            })
        })
        .collect();
    let mut more = async |count: usize| {
        let target = *acked.borrow() + count;
        acked.wait_for(|n| *n >= target).await.unwrap();
    };

    more(PHASE).await;
    let (status, list) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/upgrade"),
            &token,
            Some(json!({"path": v2, "allow_unsigned": true})),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["active"], "0.2.0");
    more(PHASE).await;
    let (status, list) = http
        .api(
            "POST",
            &server.url("/api/v1/plugins/echo/rollback"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["active"], "0.1.0");
    more(PHASE).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
    let sent = *acked.borrow();

    // Every message exactly once, and both versions served some.
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    let (_, sessions) = http
        .api(
            "GET",
            &server.url("/api/v1/sessions?limit=500"),
            &token,
            None,
        )
        .await;
    for s in sessions.as_array().unwrap() {
        let url = server.url(&format!("/api/v1/sessions/{}/messages?limit=1000", s["id"]));
        let (_, messages) = http.api("GET", &url, &token, None).await;
        for m in messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "in")
        {
            texts
                .entry(m["external_id"].as_str().unwrap().into())
                .or_default()
                .push(m["body"].as_str().unwrap().into());
        }
    }
    assert_eq!(texts.len(), sent, "every acknowledged message is stored");
    assert!(
        texts.values().all(|t| t.len() == 1),
        "no message is stored twice"
    );
    let by_v2 = texts.values().filter(|t| t[0].starts_with("v2: ")).count();
    assert!(
        by_v2 > 0 && by_v2 < sent,
        "both versions served traffic ({by_v2} of {sent} by v2)"
    );

    // The CLI changes the registry on disk while the server runs; the server
    // follows within a second. Poll with real messages until v2 answers.
    support::plugin_cli(&data, &["activate", "echo", "0.2.0"]);
    let mut switched = false;
    for n in 1_000_000..1_020_000 {
        let headers = [("x-echo-token", "t0k".to_string())];
        let (status, answer) = http.send("POST", &hook, &headers, body(n)).await.unwrap();
        assert_eq!(status, 200, "{answer}");
        let session = &answer["messages"][0]["session_id"];
        let message = answer["messages"][0]["message_id"].as_i64().unwrap();
        let url = server.url(&format!(
            "/api/v1/sessions/{session}/messages?after={}&limit=1",
            message - 1
        ));
        let (_, stored) = http.api("GET", &url, &token, None).await;
        if stored[0]["body"].as_str().unwrap().starts_with("v2: ") {
            switched = true;
            break;
        }
    }
    assert!(
        switched,
        "the running server never followed the CLI's activation"
    );

    let (_, audit) = http
        .api("GET", &server.url("/api/v1/audit"), &token, None)
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"plugin.upgrade") && actions.contains(&"plugin.rollback"),
        "{actions:?}"
    );
}

/// P2: a plugin channel's secret config values are never shown, not even to
/// admins, and sending the shown config back keeps them. Host settings (W1,
/// O3, A5, G1) sit beside the plugin's own fields without upsetting its schema.
#[tokio::test]
async fn p2_plugin_secrets_are_never_shown_and_host_settings_sit_beside_plugin_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let package = plugin_package("echo", "echo", dir.path());
    let token = admin_token(&db);
    support::plugin_cli(&data, &["install", package.to_str().unwrap()]);
    let data_dir = data.to_str().unwrap().to_string();
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data_dir.as_str())]);
    let http = Http::default();
    let config = json!({"api_base_url": "http://127.0.0.1:9", "token": "s3cret",
                        "language": "de", "timeout_secs": 3600});
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Echo", "kind": "echo", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_i64().unwrap();
    let url = server.url(&format!("/api/v1/channels/{id}"));
    let (_, shown) = http.api("GET", &url, &token, None).await;
    let shown_config = shown["config"].clone();
    assert_eq!(shown_config["token"], "********");
    assert_eq!(shown_config["language"], "de");
    assert!(!created.to_string().contains("s3cret"), "{created}");

    // The admin edits the language and sends the rest back as shown.
    let mut edited = shown_config.clone();
    edited["language"] = json!("en");
    let (status, body) = http
        .api("PATCH", &url, &token, Some(json!({ "config": edited })))
        .await;
    assert_eq!(status, 200, "{body}");
    // The stored token is still the real one: the webhook accepts it.
    let hook = server.url(&format!("/hooks/{id}"));
    let payload =
        json!({"messages": [{"chat": "c1", "id": "m1", "from": {"id": "u1"}, "text": "hi"}]});
    let (status, answer) = http
        .send(
            "POST",
            &hook,
            &[("x-echo-token", "s3cret".to_string())],
            payload.to_string().into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
}
