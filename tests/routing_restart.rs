//! Issue 4 end to end: a strict-order queue of three agents on the real
//! binary with a test clock. Nobody answers, so the session walks the queue
//! and wraps round (R3, R5); the server is restarted in the middle of a
//! forward interval, and every forward still happens to the second.

use crate::support;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, cli, sqlite_url};

/// A Monday morning, 09:00 UTC, in unix milliseconds.
const T0: i64 = 1_795_503_600_000;
const FORWARD_SECS: i64 = 60;

async fn advance(http: &Http, server: &Server, token: &str, ms: i64) -> i64 {
    let (status, body) = http
        .api(
            "POST",
            &server.url("/api/v1/test/clock"),
            token,
            Some(json!({"advance_ms": ms})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["now"].as_i64().unwrap()
}

/// The session's history as (to_state, holder, cause, at) rows.
async fn history(
    http: &Http,
    server: &Server,
    token: &str,
    session: i64,
) -> Vec<(String, Option<i64>, String, i64)> {
    let (status, body) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/sessions/{session}")),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| {
            (
                e["to_state"].as_str().unwrap().to_string(),
                e["actor_id"].as_i64(),
                e["cause"].as_str().unwrap().to_string(),
                e["at"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Waits until the engine has recorded `n` moves. The engine writes a step
/// before anything else can observe it, so this polls the API, not the clock.
async fn until_moves(
    http: &Http,
    server: &Server,
    token: &str,
    session: i64,
    n: usize,
) -> Vec<(String, Option<i64>, String, i64)> {
    for _ in 0..2_000 {
        let h = history(http, server, token, session).await;
        if h.len() >= n {
            return h;
        }
        tokio::task::yield_now().await;
    }
    panic!(
        "the session never reached {n} moves: {:?}",
        history(http, server, token, session).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_r5_strict_order_walks_the_queue_wraps_round_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let agents: Vec<i64> = ["ann", "ben", "cat"]
        .iter()
        .map(|name| {
            cli(&db, &["user", "add", name, "--role", "agent"]);
            let list = cli(&db, &["user", "list"]);
            let line = list.lines().find(|l| l.contains(name)).unwrap();
            line.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect();
    let http = Http::default();
    let clock = T0.to_string();
    let env = [("FRONTDESK_TEST_CLOCK", clock.as_str())];

    let server = Server::start(&db, &env);
    let (_, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Support"})),
        )
        .await;
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let queue = json!({"mode": "strict", "forward_interval_secs": FORWARD_SECS, "unanswered_interval_secs": 43200, "agents": agents});
    let (status, body) = http
        .api(
            "PUT",
            &server.url(&format!("/api/v1/channels/{channel}/queue")),
            &token,
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let payload =
        json!({"message_id": "1", "chat_id": "customer", "text": "anyone there?"}).to_string();
    let sig = frontdesk::ingest::sign(&secret, payload.as_bytes());
    let headers = [(frontdesk::ingest::SIGNATURE_HEADER, sig)];
    let (status, answer) = http
        .send(
            "POST",
            &server.url(&format!("/hooks/{channel}")),
            &headers,
            payload.into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();

    // Opened, then offered to the first agent in queue order at T0.
    let h = until_moves(&http, &server, &token, session, 2).await;
    assert_eq!(
        h[1],
        ("offered".into(), Some(agents[0]), "strict_order".into(), T0)
    );

    // One forward interval later it moves to the second agent.
    advance(&http, &server, &token, FORWARD_SECS * 1000).await;
    let h = until_moves(&http, &server, &token, session, 3).await;
    assert_eq!(
        h[2],
        (
            "offered".into(),
            Some(agents[1]),
            "forwarded".into(),
            T0 + 60_000
        )
    );

    // Half-way through the next interval the server goes down hard and comes back.
    advance(&http, &server, &token, 30_000).await;
    drop(server);
    let restarted_at = (T0 + 90_000).to_string();
    let server = Server::start(&db, &[("FRONTDESK_TEST_CLOCK", restarted_at.as_str())]);
    assert_eq!(
        history(&http, &server, &token, session).await.len(),
        3,
        "nothing fired early or twice"
    );

    // The forward deadline kept its place: 30 s after the restart, not 60.
    advance(&http, &server, &token, 29_999).await;
    assert_eq!(history(&http, &server, &token, session).await.len(), 3);
    advance(&http, &server, &token, 1).await;
    let h = until_moves(&http, &server, &token, session, 4).await;
    assert_eq!(
        h[3],
        (
            "offered".into(),
            Some(agents[2]),
            "forwarded".into(),
            T0 + 120_000
        )
    );

    // After the last agent it wraps round to the first.
    advance(&http, &server, &token, FORWARD_SECS * 1000).await;
    let h = until_moves(&http, &server, &token, session, 5).await;
    assert_eq!(
        h[4],
        (
            "offered".into(),
            Some(agents[0]),
            "forwarded".into(),
            T0 + 180_000
        )
    );
    assert_eq!(h.len(), 5, "every forward happened exactly once: {h:?}");
}
