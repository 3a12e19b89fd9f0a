//! Issue 22 item 5: a second `serve` on the same database does not run the
//! routing engine and says so (log, `/healthz`) instead of corrupting
//! routing; on PostgreSQL it hands its routing events to the node that
//! routes (issue 18, see `routing_inbox.rs`), on SQLite it answers each
//! routing action with a 503; and a routing node that loses its lock stops
//! routing.

use crate::support;

use std::future::Future;
use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use frontdesk::routing_lock::{ADVISORY_KEY, ANOTHER_NODE};
use serde_json::{Value, json};
use sqlx::Connection;
use support::{Http, Log, Server, admin_token, cli, sqlite_url};

/// Long enough for a loaded 2-core machine; the lock check runs every second.
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs `test` on a fresh PostgreSQL database, with a connection of the
/// test's own to it (to look at and take the routing lock).
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

async fn healthz(http: &Http, server: &Server) -> (u16, Value) {
    http.send("GET", &server.url("/healthz"), &[], Vec::new())
        .await
        .expect("the server answers /healthz")
}

/// Polls `/healthz` until `check` accepts it, within [`PATIENCE`].
async fn until_health(
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
fn add_agent(db: &str, name: &str) -> (i64, String) {
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
async fn channel(http: &Http, server: &Server, token: &str, agent: i64) -> (i64, String) {
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
    let queue = json!({"mode": "evenly", "forward_interval_secs": 60,
                       "unanswered_interval_secs": 600, "agents": [agent]});
    let url = server.url(&format!("/api/v1/channels/{id}/queue"));
    let (status, body) = http.api("PUT", &url, token, Some(queue)).await;
    assert_eq!(status, 200, "{body}");
    (id, created["secret"].as_str().unwrap().to_string())
}

/// A customer's message to `server`; returns (status, session id if stored).
async fn customer_writes(
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

async fn session(http: &Http, server: &Server, token: &str, id: i64) -> Value {
    let url = server.url(&format!("/api/v1/sessions/{id}"));
    let (status, body) = http.api("GET", &url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body["session"].clone()
}

/// Waits until routing gave the session to an agent.
async fn until_assigned(http: &Http, server: &Server, token: &str, id: i64) -> Value {
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

async fn take(http: &Http, server: &Server, token: &str, id: i64) -> (u16, Value) {
    let url = server.url(&format!("/api/v1/sessions/{id}/take"));
    http.api("POST", &url, token, None).await
}

/// The node refused routing, with `why` in its answer.
fn assert_refused(status: u16, body: &Value, why: &str) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(why), "{message}");
}

/// The backend that holds this database's routing lock, if any (`pg_locks`
/// lists every database's locks; tests run side by side on one server).
async fn lock_holder(conn: &mut sqlx::PgConnection) -> Option<i32> {
    sqlx::query_as::<_, (i32,)>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = 0 \
         AND objid::bigint = $1 AND objsubid = 1 AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(ADVISORY_KEY)
    .fetch_optional(conn)
    .await
    .unwrap()
    .map(|(pid,)| pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_on_one_postgres_refuses_routing_and_the_first_routes() {
    on_postgres("second_node", |db, mut watcher| async move {
        let token = admin_token(&db);
        let (ann, ann_token) = add_agent(&db, "ann");
        let http = Http::default();
        let first = Server::start(&db, &[]);
        let health = until_health(&http, &first, "the first node routes", |s, _| s == 200).await;
        assert_eq!(health["routing"]["state"], "active", "{health}");
        let log = Log::default();
        let second = Server::start_logged(&db, &[], log.clone());

        // The second node says why, in /healthz ...
        let (status, health) = healthz(&http, &second).await;
        assert_eq!(status, 503, "{health}");
        assert_eq!(health["routing"]["state"], "refused", "{health}");
        let reason = health["routing"]["reason"].as_str().unwrap();
        assert!(reason.starts_with(ANOTHER_NODE), "{reason}");
        assert_eq!(health["database"], "postgres");
        // ... and in its log, before it serves.
        let logged = log.lock().unwrap().iter().any(|e| {
            e["level"] == "ERROR"
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

        // The first node dies and its lock with it; the second does not
        // start routing with a router it never loaded: what it forwards now
        // waits for a routing node, and the caller is told so.
        let mut first = first;
        first.kill9();
        let deadline = Instant::now() + PATIENCE;
        while lock_holder(&mut watcher).await.is_some() {
            assert!(Instant::now() < deadline, "the dead node's lock stayed");
            tokio::task::yield_now().await;
        }
        let (status, health) = healthz(&http, &second).await;
        assert_eq!(
            (status, &health["routing"]["state"]),
            (503, &json!("refused"))
        );
        let url = second.url(&format!("/api/v1/sessions/{routed}/close"));
        let (status, body) = http.api("POST", &url, &ann_token, None).await;
        assert_refused(status, &body, "may still take effect");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_its_postgres_lock_stops_routing_until_it_holds_it_again() {
    on_postgres("lost_lock", |db, mut watcher| async move {
        let token = admin_token(&db);
        let (ann, ann_token) = add_agent(&db, "ann");
        let http = Http::default();
        let node = Server::start(&db, &[]);
        let (channel, secret) = channel(&http, &node, &token, ann).await;
        let (_, session) = customer_writes(&http, &node, channel, &secret, "1").await;
        let session = session.unwrap();
        until_assigned(&http, &node, &token, session).await;

        // The lock's connection is cut, as a database restart or a network
        // fault would, and someone else takes the lock at once: the node
        // must stop routing.
        let pid = lock_holder(&mut watcher)
            .await
            .expect("the node holds the lock");
        sqlx::query("SELECT pg_terminate_backend($1, 5000)")
            .bind(pid)
            .execute(&mut watcher)
            .await
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (taken,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                .bind(ADVISORY_KEY)
                .fetch_one(&mut watcher)
                .await
                .unwrap();
            if taken {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the node's lock was never released"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let health = until_health(&http, &node, "routing stops", |s, _| s == 503).await;
        assert_eq!(health["routing"]["state"], "refused", "{health}");
        let reason = health["routing"]["reason"].as_str().unwrap();
        assert!(reason.contains("lost the routing lock"), "{reason}");
        // Its routing actions go to the routing inbox for whoever routes;
        // nobody does here, so the caller is told the action may still
        // take effect (issue 18).
        let (status, body) = take(&http, &node, &ann_token, session).await;
        assert_refused(status, &body, "may still take effect");
        // Everything else still works: the session is readable.
        session_is_readable(&http, &node, &token, session).await;

        // Once nobody else holds it, the node takes the lock again by itself,
        // rebuilds its router from the store and routes: no restart.
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(ADVISORY_KEY)
            .execute(&mut watcher)
            .await
            .unwrap();
        let health = until_health(&http, &node, "routing resumes", |s, _| s == 200).await;
        assert_eq!(health["routing"]["state"], "active", "{health}");
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
