//! Issue 22 item 4 end to end, on the real binary with a test clock: in an
//! evenly queue with a 60 s unanswered interval (R6), eight sessions wait
//! while nobody is online and reach the agents at 59.7 s. A2's default
//! back-to-queue (R17) must give the agents their whole 60 s, not 0.3 s, and
//! then hand each session to the other agent, not back to the same one.

use crate::support;

use serde_json::{Value, json};
use support::{Http, Server, admin_token, cli, sqlite_url};

/// A Monday morning, 09:00 UTC, in unix milliseconds.
const T0: i64 = 1_795_503_600_000;
const R6_MS: i64 = 60_000;
const SESSIONS: usize = 8;

struct Setup {
    http: Http,
    server: Server,
    admin: String,
}

impl Setup {
    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .http
            .api(method, &self.server.url(path), token, body)
            .await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    async fn advance(&self, ms: i64) -> i64 {
        let body = Some(json!({"advance_ms": ms}));
        let now = self
            .api("POST", "/api/v1/test/clock", &self.admin, body)
            .await;
        now["now"].as_i64().unwrap()
    }

    /// The agent's console heartbeat (R12). The engine answers it only after
    /// storing its step, which fires every timer already due first, so after
    /// it the effects of the clock's last move are in the store.
    async fn heartbeat(&self, token: &str) {
        let url = self.server.url("/api/v1/me/presence");
        let (status, body) = self.http.api("POST", &url, token, None).await;
        assert_eq!(status, 204, "{body}");
    }

    /// The session's holder and its moves as (to_state, holder, cause, at).
    async fn history(
        &self,
        session: i64,
    ) -> (Option<i64>, Vec<(String, Option<i64>, String, i64)>) {
        let body = self
            .api(
                "GET",
                &format!("/api/v1/sessions/{session}"),
                &self.admin,
                None,
            )
            .await;
        let moves = body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["to_state"].as_str().unwrap().to_string(),
                    e["actor_id"].as_i64(),
                    e["cause"].as_str().unwrap().to_string(),
                    e["at"].as_i64().unwrap(),
                )
            })
            .collect();
        (body["session"]["agent_id"].as_i64(), moves)
    }
}

fn add_agent(db: &str, name: &str) -> (i64, String) {
    let token = cli(db, &["user", "add", name, "--role", "agent"])
        .lines()
        .last()
        .unwrap()
        .to_string();
    let list = cli(db, &["user", "list"]);
    let line = list.lines().find(|l| l.contains(name)).unwrap();
    (
        line.split_whitespace().next().unwrap().parse().unwrap(),
        token,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_r17_sessions_assigned_after_a_wait_get_the_whole_interval_then_go_to_the_other_agent() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let admin = admin_token(&db);
    let (ann, ann_token) = add_agent(&db, "ann");
    let (ben, ben_token) = add_agent(&db, "ben");
    let clock = T0.to_string();
    let server = Server::start(&db, &[("FRONTDESK_TEST_CLOCK", clock.as_str())]);
    let s = Setup {
        http: Http::default(),
        server,
        admin: admin.clone(),
    };

    let created = s
        .api(
            "POST",
            "/api/v1/channels",
            &admin,
            Some(json!({"name": "Support"})),
        )
        .await;
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    // Only online agents get sessions (R8), and nobody is online yet.
    let queue = json!({"mode": "evenly", "forward_interval_secs": 60,
                       "unanswered_interval_secs": R6_MS / 1000, "agents": [ann, ben],
                       "options": {"require_online": true}});
    s.api(
        "PUT",
        &format!("/api/v1/channels/{channel}/queue"),
        &admin,
        Some(queue),
    )
    .await;

    let mut sessions = Vec::new();
    for n in 0..SESSIONS {
        let payload =
            json!({"message_id": n.to_string(), "chat_id": format!("customer-{n}"), "text": "hello?"})
                .to_string();
        let sig = frontdesk::ingest::sign(&secret, payload.as_bytes());
        let headers = [(frontdesk::ingest::SIGNATURE_HEADER, sig)];
        let url = s.server.url(&format!("/hooks/{channel}"));
        let (status, answer) = s
            .http
            .send("POST", &url, &headers, payload.into_bytes())
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        sessions.push(answer["messages"][0]["session_id"].as_i64().unwrap());
    }

    // 59.7 s later both agents come online and get the waiting sessions.
    let assigned_at = s.advance(59_700).await;
    s.heartbeat(&ann_token).await;
    s.heartbeat(&ben_token).await;
    let mut first = Vec::new();
    for session in &sessions {
        let (holder, moves) = s.history(*session).await;
        let holder = holder.unwrap_or_else(|| panic!("{session} not assigned: {moves:?}"));
        assert!([ann, ben].contains(&holder));
        assert_eq!(moves.last().unwrap().3, assigned_at, "{moves:?}");
        first.push(holder);
    }

    // At 60.0 s, 0.3 s after the assignment, nothing may happen.
    s.advance(300).await;
    s.heartbeat(&ann_token).await;
    for (session, holder) in sessions.iter().zip(&first) {
        let (now, moves) = s.history(*session).await;
        assert_eq!(
            now,
            Some(*holder),
            "requeued 0.3 s after assignment: {moves:?}"
        );
        assert!(moves.iter().all(|m| m.2 != "back_to_queue"), "{moves:?}");
    }

    // A whole interval after the assignment, A2 sends each session back to
    // the queue, and each goes to the other agent, who is free.
    s.advance(R6_MS - 300 - 1).await;
    s.heartbeat(&ann_token).await;
    for session in &sessions {
        let (_, moves) = s.history(*session).await;
        assert!(
            moves.iter().all(|m| m.2 != "back_to_queue"),
            "early: {moves:?}"
        );
    }
    let requeued_at = s.advance(1).await;
    s.heartbeat(&ann_token).await;
    for (session, had) in sessions.iter().zip(&first) {
        let (now, moves) = s.history(*session).await;
        let back = moves
            .iter()
            .position(|m| m.2 == "back_to_queue")
            .unwrap_or_else(|| panic!("{session} never went back: {moves:?}"));
        assert_eq!(moves[back].3, requeued_at, "{moves:?}");
        let other = if *had == ann { ben } else { ann };
        assert_eq!(now, Some(other), "{session} went back to {had}: {moves:?}");
    }
}
