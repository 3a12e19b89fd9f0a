//! Issue 22 item 5 and issue 18: one node of those on a database routes.
//! Another `serve` on the same database follows: it says so (log,
//! `/healthz`) instead of corrupting routing; on PostgreSQL it hands its
//! routing events to the leader through the routing inbox (see
//! `routing_inbox.rs`) and takes over when the leader dies, on SQLite it
//! answers each routing action with a 503; a leader that loses its lease
//! stops routing until it holds it again.

use crate::support;

use std::future::Future;
use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use frontdesk::routing_lock::ANOTHER_NODE;
use serde_json::{Value, json};
use sqlx::Connection;
use support::{Http, Log, Server, admin_token, cli, sqlite_url};

/// Long enough for a loaded 2-core machine; the lease is renewed and tried
/// for every second.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Runs `test` on a fresh PostgreSQL database, with a connection of the
/// test's own to it (to look at and take the routing lease).
async fn on_postgres<F, Fut>(tag: &str, test: F)
where
    F: FnOnce(String, sqlx::PgConnection) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    support::postgres::on_postgres(tag, |db| async move {
        let watcher = sqlx::PgConnection::connect(&db).await.unwrap();
        test(db, watcher).await
    })
    .await
}

pub async fn healthz(http: &Http, server: &Server) -> (u16, Value) {
    http.send("GET", &server.url("/healthz"), &[], Vec::new())
        .await
        .expect("the server answers /healthz")
}

/// Polls `/healthz` until `check` accepts it, within [`PATIENCE`].
pub async fn until_health(
    http: &Http,
    server: &Server,
    what: &str,
    check: impl Fn(u16, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + PATIENCE;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        let (status, body) = healthz(http, server).await;
        if check(status, &body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: last /healthz {status} {body}"
        );
    }
}

/// The agent's id and token, created with the CLI.
pub fn add_agent(db: &str, name: &str) -> (i64, String) {
    let token = cli(db, &["user", "add", name, "--role", "agent"])
        .lines()
        .last()
        .unwrap()
        .to_string();
    let list = cli(db, &["user", "list"]);
    let line = list.lines().find(|l| l.contains(name)).unwrap();
    let id = line.split_whitespace().next().unwrap().parse().unwrap();
    (id, token)
}

/// An `api` channel whose evenly queue has `agent`; returns its id and secret.
pub async fn channel(http: &Http, server: &Server, token: &str, agent: i64) -> (i64, String) {
    let queue = json!({"mode": "evenly", "forward_interval_secs": 60,
                       "unanswered_interval_secs": 600, "agents": [agent]});
    channel_with_queue(http, server, token, queue).await
}

/// An `api` channel with `queue`, both made through `server`; its id and secret.
pub async fn channel_with_queue(
    http: &Http,
    server: &Server,
    token: &str,
    queue: Value,
) -> (i64, String) {
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            token,
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_i64().unwrap();
    let url = server.url(&format!("/api/v1/channels/{id}/queue"));
    let (status, body) = http.api("PUT", &url, token, Some(queue)).await;
    assert_eq!(status, 200, "{body}");
    (id, created["secret"].as_str().unwrap().to_string())
}

/// A customer's message to `server`; returns (status, session id if stored).
pub async fn customer_writes(
    http: &Http,
    server: &Server,
    channel: i64,
    secret: &str,
    id: &str,
) -> (u16, Option<i64>) {
    let body = json!({"message_id": id, "chat_id": format!("chat-{id}"), "text": "hello"});
    let body = body.to_string().into_bytes();
    let headers = [(SIGNATURE_HEADER, sign(secret, &body))];
    let url = server.url(&format!("/hooks/{channel}"));
    let (status, answer) = http.send("POST", &url, &headers, body).await.unwrap();
    (status, answer["messages"][0]["session_id"].as_i64())
}

pub async fn session(http: &Http, server: &Server, token: &str, id: i64) -> Value {
    let url = server.url(&format!("/api/v1/sessions/{id}"));
    let (status, body) = http.api("GET", &url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body["session"].clone()
}

/// Waits until routing gave the session to an agent.
pub async fn until_assigned(http: &Http, server: &Server, token: &str, id: i64) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let s = session(http, server, token, id).await;
        if s["agent_id"].is_i64() {
            return s;
        }
        assert!(Instant::now() < deadline, "never routed: {s}");
        tokio::task::yield_now().await;
    }
}

pub async fn take(http: &Http, server: &Server, token: &str, id: i64) -> (u16, Value) {
    let url = server.url(&format!("/api/v1/sessions/{id}/take"));
    http.api("POST", &url, token, None).await
}

/// The node refused routing, with `why` in its answer.
pub fn assert_refused(status: u16, body: &Value, why: &str) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(why), "{message}");
}

/// The routing lease row: (holder, token, not run out yet).
pub async fn lease_row(conn: &mut sqlx::PgConnection) -> (Option<String>, i64, bool) {
    sqlx::query_as("SELECT holder, token, expires_at >= now() FROM routing_lease WHERE id = 1")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_on_one_postgres_refuses_routing_and_the_first_routes() {
    on_postgres("second_node", |db, mut watcher| async move {
        let token = admin_token(&db);
        let (ann, ann_token) = add_agent(&db, "ann");
        let http = Http::default();
        let first = Server::start(&db, &[]);
        let health = until_health(&http, &first, "the first node routes", |_, h| {
            h["routing"]["role"] == "leader"
        })
        .await;
        assert_eq!(health["routing"]["state"], "active", "{health}");
        assert_eq!(health["routing"]["role"], "leader", "{health}");
        assert_eq!(health["routing"]["token"], 1, "{health}");
        let log = Log::default();
        let second = Server::start_logged(&db, &[], log.clone());

        // The second node says why, in /healthz ...
        let (status, health) = healthz(&http, &second).await;
        // A follower on PostgreSQL is healthy: it forwards routing.
        assert_eq!(status, 200, "{health}");
        assert_eq!(health["status"], "ok", "{health}");
        assert_eq!(health["routing"]["state"], "following", "{health}");
        assert_eq!(health["routing"]["role"], "follower", "{health}");
        let reason = health["routing"]["reason"].as_str().unwrap();
        assert!(reason.starts_with(ANOTHER_NODE), "{reason}");
        assert_eq!(health["database"], "postgres");
        // ... and in its log, before it serves.
        let logged = log.lock().unwrap().iter().any(|e| {
            e["level"] == "WARN"
                && e["fields"]["reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with(ANOTHER_NODE))
        });
        assert!(logged, "no refusal in the log: {:?}", log.lock().unwrap());

        // The first node routes, also what reaches the second: the second
        // hands its routing events to the first through the routing inbox
        // (issue 18) instead of routing them itself.
        let (channel, secret) = channel(&http, &first, &token, ann).await;
        let (status, routed) = customer_writes(&http, &first, channel, &secret, "1").await;
        assert_eq!(status, 200);
        let routed = routed.unwrap();
        assert_eq!(
            until_assigned(&http, &first, &token, routed).await["agent_id"],
            ann
        );
        let (status, stored) = customer_writes(&http, &second, channel, &secret, "2").await;
        assert_eq!(status, 200, "ingest on the second node keeps messages (S4)");
        let stored = stored.unwrap();
        assert_eq!(
            until_assigned(&http, &first, &token, stored).await["agent_id"],
            ann
        );
        let (status, body) = take(&http, &second, &ann_token, routed).await;
        assert_eq!(status, 200, "forwarded to the routing node: {body}");
        let (status, body) = take(&http, &first, &ann_token, stored).await;
        assert_eq!(status, 200, "{body}");

        // The first node dies; once its lease runs out the second takes
        // over, loads the router from the store and routes what only it
        // stored meanwhile.
        let mut first = first;
        first.kill9();
        let health = until_health(&http, &second, "the second node takes over", |_, h| {
            h["routing"]["role"] == "leader"
        })
        .await;
        assert_eq!(health["routing"]["role"], "leader", "{health}");
        assert_eq!(health["routing"]["token"], 2, "{health}");
        assert_eq!(
            until_assigned(&http, &second, &token, stored).await["agent_id"],
            ann
        );
        let (holder, _, live) = lease_row(&mut watcher).await;
        assert!(live && holder.is_some(), "{holder:?}");
        // The new leader routes its own actions now.
        let url = second.url(&format!("/api/v1/sessions/{stored}/close"));
        let (status, body) = http.api("POST", &url, &ann_token, None).await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_its_postgres_lease_stops_routing_until_it_holds_it_again() {
    on_postgres("lost_lease", |db, mut watcher| async move {
        let token = admin_token(&db);
        let (ann, ann_token) = add_agent(&db, "ann");
        let http = Http::default();
        let node = Server::start(&db, &[]);
        let (channel, secret) = channel(&http, &node, &token, ann).await;
        let (_, session) = customer_writes(&http, &node, channel, &secret, "1").await;
        let session = session.unwrap();
        until_assigned(&http, &node, &token, session).await;

        // Another node takes the lease over while this one still holds it
        // (as after a pause or a cut connection): its next renewal fails,
        // and it must stop routing.
        sqlx::query(
            "UPDATE routing_lease SET holder = 'intruder', token = token + 1, \
             expires_at = now() + interval '1 hour' WHERE id = 1",
        )
        .execute(&mut watcher)
        .await
        .unwrap();
        let health = until_health(&http, &node, "routing stops", |_, h| {
            h["routing"]["role"] == "follower"
        })
        .await;
        assert_eq!(health["routing"]["state"], "following", "{health}");
        assert_eq!(health["routing"]["role"], "follower", "{health}");
        let reason = health["routing"]["reason"].as_str().unwrap();
        assert!(reason.contains("lost the routing lease"), "{reason}");
        // Its routing actions go to the routing inbox for whoever routes;
        // nobody does here, so the caller is told the action may still
        // take effect (issue 18).
        let (status, body) = take(&http, &node, &ann_token, session).await;
        assert_refused(status, &body, "may still take effect");
        // Everything else still works: the session is readable.
        session_is_readable(&http, &node, &token, session).await;

        // Once the intruder hands the lease back, the node takes it over by
        // itself, rebuilds its router from the store and routes: no restart.
        sqlx::query("UPDATE routing_lease SET expires_at = '-infinity' WHERE id = 1")
            .execute(&mut watcher)
            .await
            .unwrap();
        let health = until_health(&http, &node, "routing resumes", |_, h| {
            h["routing"]["role"] == "leader"
        })
        .await;
        assert_eq!(health["routing"]["state"], "active", "{health}");
        assert_eq!(health["routing"]["token"], 3, "{health}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, body) = take(&http, &node, &ann_token, session).await;
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "routing never came back: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A new customer's session is routed too.
        let (_, second) = customer_writes(&http, &node, channel, &secret, "2").await;
        until_assigned(&http, &node, &token, second.unwrap()).await;
    })
    .await;
}

async fn session_is_readable(http: &Http, server: &Server, token: &str, id: i64) {
    assert_eq!(session(http, server, token, id).await["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_on_one_sqlite_file_refuses_routing() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let (ann, ann_token) = add_agent(&db, "ann");
    let http = Http::default();
    let first = Server::start(&db, &[]);
    let (channel, secret) = channel(&http, &first, &token, ann).await;
    let second = Server::start(&db, &[]);
    let (status, health) = healthz(&http, &second).await;
    assert_eq!(status, 503, "{health}");
    let reason = health["routing"]["reason"].as_str().unwrap();
    assert!(reason.starts_with(ANOTHER_NODE), "{reason}");
    assert!(reason.contains("frontdesk.db.routing.lock"), "{reason}");
    let (status, session) = customer_writes(&http, &first, channel, &secret, "1").await;
    assert_eq!(status, 200);
    let session = session.unwrap();
    until_assigned(&http, &first, &token, session).await;
    let (status, body) = take(&http, &second, &ann_token, session).await;
    assert_refused(status, &body, ANOTHER_NODE);
    assert_eq!(healthz(&http, &first).await.0, 200);
}
