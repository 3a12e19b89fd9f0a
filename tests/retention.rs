//! Issue 19, retention on the real binary and its test clock: a channel
//! keeps 30 days. Three sessions closed on 2 November, two more on
//! 27 November; on 12 December the worker removes exactly the
//! three old closed sessions' messages, attachments, events and ratings,
//! leaves the rest, audits the run with its counts, and November's
//! statistics are the same as before.

use crate::support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use sqlx::Connection;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

/// 2026-11-02 09:00 UTC.
const T0: i64 = 1_793_610_000_000;
const DAY: i64 = 86_400_000;
const NOVEMBER: &str = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";

/// The provider's file server.
async fn provider() -> String {
    let files = get(|| async {
        (
            [("content-type", "image/png")],
            b"\x89PNG a receipt".to_vec(),
        )
            .into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/files/{name}", files))
            .await
            .unwrap()
    });
    url
}

struct Desk {
    http: Http,
    server: Server,
    admin: String,
    hook: String,
    provider: String,
    db: std::path::PathBuf,
}

impl Desk {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .http
            .api(method, &self.server.url(path), &self.admin, body)
            .await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    async fn advance(&self, ms: i64) {
        self.api(
            "POST",
            "/api/v1/test/clock",
            Some(json!({"advance_ms": ms})),
        )
        .await;
    }

    /// A customer message in `chat`, with a file when `file`; its session.
    async fn message(&self, chat: &str, n: usize, file: bool) -> i64 {
        let mut message = json!({"chat": chat, "id": format!("{chat}-{n}"),
            "from": {"id": format!("customer-{chat}")}, "text": format!("hello {n} from {chat}")});
        if file {
            message["attachments"] = json!([{"kind": "image",
                "url": format!("{}/files/{chat}.png", self.provider), "name": format!("{chat}.png")}]);
        }
        let body = json!({"messages": [message]}).to_string().into_bytes();
        let headers = [("x-echo-token", "t0k".to_string())];
        let (status, answer) = self
            .http
            .send("POST", &self.hook, &headers, body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// Waits until no attachment of the session is pending.
    async fn files_fetched(&self, session: i64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self
                .api("GET", &format!("/api/v1/sessions/{session}/messages"), None)
                .await;
            let pending = messages.as_array().unwrap().iter().any(|m| {
                m["attachments"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|f| f["state"] == "pending"))
            });
            if !pending {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "attachments still pending: {messages}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn close(&self, session: i64) {
        self.api("POST", &format!("/api/v1/sessions/{session}/close"), None)
            .await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let detail = self
                .api("GET", &format!("/api/v1/sessions/{session}"), None)
                .await;
            let state = detail["session"]["state"].clone();
            if state == "closed" || detail["state"] == "closed" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "session {session} not closed: {detail}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Per session: (messages, attachments, events, ratings, retained).
    async fn rows(&self) -> HashMap<i64, (i64, i64, i64, i64, bool)> {
        let url = format!("sqlite://{}", self.db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows: Vec<(i64, i64, i64, i64, i64, bool)> = sqlx::query_as(
            "SELECT s.id, (SELECT COUNT(*) FROM messages WHERE session_id = s.id), \
             (SELECT COUNT(*) FROM attachments WHERE session_id = s.id), \
             (SELECT COUNT(*) FROM session_events WHERE session_id = s.id), \
             (SELECT COUNT(*) FROM ratings WHERE session_id = s.id), \
             s.retained_at IS NOT NULL FROM sessions s",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(id, m, a, e, r, kept)| (id, (m, a, e, r, kept)))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_at_30_days_removes_exactly_the_old_closed_sessions_and_keeps_the_statistics() {
    let provider = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let echo = plugin_package("echo", "echo", dir.path());
    let admin = admin_token(&db);
    support::plugin_cli(&data, &["install", echo.to_str().unwrap()]);
    let data_env = data.to_str().unwrap().to_string();
    let t0 = T0.to_string();
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data_env.as_str()),
            ("FRONTDESK_TEST_CLOCK", t0.as_str()),
            ("FRONTDESK_RETENTION_EVERY", "1s"),
        ],
    );
    let http = Http::default();
    let config = json!({"api_base_url": provider, "token": "t0k", "retention_days": 30});
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &admin,
            Some(json!({"name": "Echo", "kind": "echo", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let desk = Desk {
        hook: server.url(&format!("/hooks/{channel}")),
        http,
        server,
        admin,
        provider,
        db: dir.path().join("frontdesk.db"),
    };

    // 2 November: three sessions closed (two with a file, one rated).
    let old_a = desk.message("old-a", 1, true).await;
    desk.message("old-a", 2, false).await;
    let old_b = desk.message("old-b", 1, true).await;
    let old_c = desk.message("old-c", 1, false).await;
    for session in [old_a, old_b] {
        desk.files_fetched(session).await;
    }
    desk.advance(60_000).await;
    for session in [old_a, old_b, old_c] {
        desk.close(session).await;
    }
    desk.api(
        "POST",
        &format!("/api/v1/sessions/{old_b}/ratings"),
        Some(json!({"score": 4, "comment": "the customer was happy"})),
    )
    .await;

    // 27 November: one closed, one open; both within 30 days of 12 December.
    desk.advance(25 * DAY).await;
    let new_a = desk.message("new-a", 1, true).await;
    let new_b = desk.message("new-b", 1, false).await;
    desk.files_fetched(new_a).await;
    desk.advance(120_000).await;
    // Closed too, so that nothing but retention changes November's figures
    // while the clock moves on (an open session would be marked unanswered
    // and closed by the auto-actions meanwhile).
    desk.close(new_a).await;
    desk.close(new_b).await;

    let stats_path = format!("/api/v1/stats?channel={channel}&{NOVEMBER}");
    let stats_before = desk.api("GET", &stats_path, None).await;
    assert_eq!(stats_before["totals"]["sessions"], 5, "{stats_before}");
    let before = desk.rows().await;
    let old = [old_a, old_b, old_c];
    for id in old {
        assert!(
            before[&id].0 > 0 && before[&id].2 > 0,
            "{id}: {:?}",
            before[&id]
        );
    }
    assert_eq!(before[&old_b].3, 1, "old_b is rated");

    // 12 December: the old closed sessions are past 30 days.
    desk.advance(15 * DAY).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let audit = loop {
        let entries = desk
            .api("GET", "/api/v1/audit?action=retention.run", None)
            .await;
        if let Some(entry) = entries.as_array().unwrap().first() {
            break entry.clone();
        }
        assert!(Instant::now() < deadline, "no retention run was audited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let detail: Value = match &audit["detail"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    };
    let expected_messages: i64 = old.iter().map(|id| before[id].0).sum();
    let expected_files: i64 = old.iter().map(|id| before[id].1).sum();
    assert_eq!(audit["target"], format!("channel:{channel}"), "{audit}");
    assert_eq!(detail["sessions"], 3, "{audit}");
    assert_eq!(detail["messages"], expected_messages, "{audit}");
    assert_eq!(detail["attachments"], expected_files, "{audit}");
    assert_eq!(expected_files, 2);
    assert_eq!(detail["retention_days"], 30, "{audit}");

    let after = desk.rows().await;
    for id in old {
        assert_eq!(after[&id], (0, 0, 0, 0, true), "session {id} is a stub now");
    }
    for id in [new_a, new_b] {
        assert_eq!(after[&id], before[&id], "session {id} is untouched");
        assert!(after[&id].0 > 0);
    }
    assert_eq!(after.len(), before.len(), "no session row goes");
    let messages = desk
        .api("GET", &format!("/api/v1/sessions/{old_a}/messages"), None)
        .await;
    assert_eq!(messages, json!([]));

    let stats_after = desk.api("GET", &stats_path, None).await;
    assert_eq!(
        stats_after, stats_before,
        "November's statistics are unchanged"
    );
}
