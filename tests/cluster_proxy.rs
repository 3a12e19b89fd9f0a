//! Issue 18: three `frontdesk serve` on one PostgreSQL behind the shipped
//! `deploy/nginx.conf` (one `server` line per node, no sticky sessions; a
//! real nginx, see `support/nginx.rs`). Customers' webhooks spread over
//! the nodes by nginx's round robin are all acknowledged and routed once,
//! an agent's console socket opened through nginx sees every message
//! whichever node stored it, and when the routing leader is `kill -9`ed
//! nginx skips it, what arrives meanwhile is acknowledged by the others, and
//! a new leader routes it. Afterwards every session's state history is one
//! unbroken chain (no two writers), and no agent holds more sessions than
//! the queue's limit (R10).

use crate::second_node::{add_agent, healthz};
use crate::support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sqlx::Connection;
use support::nginx::{DEADLINE, Nginx, certificate, client};
use support::{Http, Server, admin_token};
use tokio_tungstenite::tungstenite::Message;

/// Customers before the leader is killed, and after.
const BEFORE: usize = 30;
const AFTER: usize = 15;
/// R10: at most this many open sessions per agent: the three agents'
/// limits add up to exactly the customers, so one session routed twice
/// would leave another unrouted or an agent over it.
const LIMIT: i64 = 15;

/// One webhook through nginx; the session it stored.
async fn customer_writes(web: &reqwest::Client, url: &str, secret: &str, n: usize) -> i64 {
    let body = json!({"message_id": format!("m{n}"), "chat_id": format!("chat-{n}"),
                      "text": format!("customer {n} writes")})
    .to_string();
    let answer = web
        .post(url)
        .header(
            frontdesk::ingest::SIGNATURE_HEADER,
            frontdesk::ingest::sign(secret, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert_eq!(status, 200, "customer {n} through nginx: {text}");
    let acked: Value = serde_json::from_str(&text).unwrap();
    acked["messages"][0]["session_id"].as_i64().unwrap()
}

/// Waits until every session in `sessions` has an agent, reading through nginx.
async fn until_routed(web: &reqwest::Client, nginx: &Nginx, admin: &str, sessions: &[i64]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut waiting: HashSet<i64> = sessions.iter().copied().collect();
    while !waiting.is_empty() {
        for id in waiting.clone() {
            let url = nginx.url(&format!("/api/v1/sessions/{id}"));
            let answer = web.get(url).bearer_auth(admin).send().await.unwrap();
            let body: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
            if body["session"]["agent_id"].is_i64() {
                waiting.remove(&id);
            }
        }
        assert!(
            Instant::now() < deadline,
            "never routed: {waiting:?} of {sessions:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_behind_nginx_route_every_customer_once_through_a_leader_kill() {
    support::postgres::on_postgres("cluster_proxy", |db| async move {
        let dir = tempfile::tempdir().unwrap();
        let admin = admin_token(&db);
        let agents: Vec<i64> = ["ann", "bob", "cat"]
            .iter()
            .map(|name| add_agent(&db, name).0)
            .collect();
        let mut nodes: Vec<Server> = (0..3)
            .map(|i| {
                let data = dir.path().join(format!("node-{i}"));
                Server::start(
                    &db,
                    &[
                        ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
                        ("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1"),
                    ],
                )
            })
            .collect();
        let addrs: Vec<_> = nodes.iter().map(|n| n.addr).collect();
        let (cert, key, tls) = certificate(dir.path());
        let nginx = Nginx::start(dir.path(), &addrs, &cert, &key);
        let web = client(&tls, [127, 0, 0, 1]);

        // An admin sets the channel up through nginx: whichever node gets it.
        let created = web
            .post(nginx.url("/api/v1/channels"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(json!({"name": "Support"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = serde_json::from_str(&created.text().await.unwrap()).unwrap();
        let channel = created["channel"]["id"].as_i64().unwrap();
        let secret = created["secret"].as_str().unwrap().to_string();
        let queue = json!({"mode": "evenly", "forward_interval_secs": 600,
                           "unanswered_interval_secs": 3600, "agents": agents,
                           "options": {"session_limit": LIMIT}});
        let saved = web
            .put(nginx.url(&format!("/api/v1/channels/{channel}/queue")))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(queue.to_string())
            .send()
            .await
            .unwrap();
        let status = saved.status();
        assert_eq!(status, 200, "{}", saved.text().await.unwrap());

        // The admin's console socket, upgraded through nginx to some node.
        let mut live = nginx.live_socket(&tls, &admin).await;

        let hook = nginx.url(&format!("/hooks/{channel}"));
        let mut sessions = Vec::new();
        for n in 0..BEFORE {
            sessions.push(customer_writes(&web, &hook, &secret, n).await);
        }
        // The console saw every message, whichever node stored it.
        let mut seen = HashSet::new();
        while seen.len() < BEFORE {
            let frame = tokio::time::timeout(DEADLINE, live.next())
                .await
                .unwrap_or_else(|_| panic!("the console saw only {seen:?}"))
                .expect("the socket stays open")
                .unwrap();
            match frame {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == "message" {
                        seen.insert(frame["session_id"].as_i64().unwrap());
                    }
                }
                Message::Ping(data) => live.send(Message::Pong(data)).await.unwrap(),
                _ => {}
            }
        }
        assert_eq!(seen, sessions.iter().copied().collect::<HashSet<_>>());
        until_routed(&web, &nginx, &admin, &sessions).await;
        // The leader dies; nginx skips it and the others acknowledge.
        let http = Http::default();
        let mut leader = None;
        for (i, node) in nodes.iter().enumerate() {
            if healthz(&http, node).await.1["routing"]["role"] == "leader" {
                leader = Some(i);
            }
        }
        let leader = leader.expect("one node leads");
        nodes[leader].kill9();
        let mut later = Vec::new();
        for n in BEFORE..BEFORE + AFTER {
            later.push(customer_writes(&web, &hook, &secret, n).await);
        }
        until_routed(&web, &nginx, &admin, &later).await;
        sessions.extend(later);

        // Every session's history is one chain: each change starts from the
        // state the one before it ended in (two routing writers would fork
        // it), and R10 held: nobody holds more than the limit.
        let mut conn = sqlx::PgConnection::connect(&db).await.unwrap();
        let history: Vec<(i64, Option<String>, String)> = sqlx::query_as(
            "SELECT session_id, from_state, to_state FROM session_events ORDER BY session_id, id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut last: HashMap<i64, String> = HashMap::new();
        for (session, from, to) in history {
            if let Some(before) = last.get(&session) {
                assert_eq!(from.as_ref(), Some(before), "session {session} forked");
            }
            last.insert(session, to);
        }
        let held: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT agent_id, count(*) FROM sessions WHERE agent_id IS NOT NULL \
             AND state <> 'closed' GROUP BY agent_id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let total: i64 = held.iter().map(|(_, n)| n).sum();
        assert_eq!(total, sessions.len() as i64, "{held:?}");
        for (agent, n) in held {
            assert!(n <= LIMIT, "agent {agent} holds {n} sessions");
        }
        drop(nginx);
    })
    .await;
}
