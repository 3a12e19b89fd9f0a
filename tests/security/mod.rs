//! Issue 14's access-control regressions, each replayed on the real binary:
//!
//! - `responsible`: creating a contact makes nobody responsible, so it
//!   routes no other channel's sessions to its creator (R14, C4).
//! - `held_sessions`: only the holder, or an overseer of the channel, may
//!   transfer, close or reply in a held session; a transfer to an agent the
//!   caller may not see answers like an unknown one (R18, P2).
//! - `live_access`: disabling a user or changing their channels closes or
//!   narrows their open `/api/v1/live` sockets within a second (P1).
//! - `widget_identity`: a widget visitor's unverified claims never attach
//!   them to a known customer's contact (C1).
//! - `metrics`: `/metrics` shows every series from the first scrape (X4).
//! - `outbox_retry`: an admin sends a failed reply again, audited (S5).
//! - `callbacks`: a `callback_url` may not reach loopback, private or
//!   metadata addresses, at save or at delivery, without
//!   `--allow-private-callbacks` (issue 14 item 8).
//! - `webhook_errors`: webhook callers get the kind of a refusal, never a
//!   connector's internals; admins get the detail in failed inbound (P3).
//! - `sign_in`: passwords into strict `HttpOnly` cookies, CSRF on changes,
//!   the lockout, sessions ended by sign-out and disabling, the first-run
//!   link used once (P5, P6).
//! - `rate_limits`: wrong tokens, refused webhooks, widget visitors and
//!   widget messages get 429 with `Retry-After` past their limits, per IP,
//!   channel and visitor; right tokens and signed webhooks never (L1).
//! - `transcript_limits`: transcript mails a visitor asks for are limited
//!   per address, visitor and IP (L1, O3).
//! - `api_tokens`: each user's named API tokens, listed and revoked by
//!   their owner or an admin; a revoked token and its live socket stop at
//!   once; others' tokens look like an unknown user's (P1, P2).
//! - `totp`: two-factor sign-in: enrol and confirm, codes used once, wrong
//!   codes counted toward the lockout, recovery codes used once (P5).
//! - `setup_errors`: a config the plugin's schema refuses is a 400 with
//!   nothing saved; an unreachable provider is not called a refusal.

use crate::support;

mod api_tokens;
mod callbacks;
mod held_sessions;
mod live_access;
mod metrics;
mod outbox_retry;
mod rate_limits;
mod responsible;
mod setup_errors;
mod sign_in;
mod totp;
mod transcript_limits;
mod webhook_errors;
mod widget_identity;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Http, Server, admin_token, sqlite_url};

/// How long anything the server does in the background may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// One environment pair, owned, for [`World::start_with`].
pub fn env((key, value): (&str, &str)) -> (String, String) {
    (key.to_string(), value.to_string())
}

/// A server with an admin, spoken to over HTTP.
pub struct World {
    pub server: Server,
    pub http: Http,
    pub admin: String,
    pub db: String,
    /// Holds the data folder until the world is dropped.
    _dir: tempfile::TempDir,
}

impl World {
    pub fn start() -> World {
        Self::start_with(|_| Vec::new())
    }

    /// Starts the server with extra environment made from the data folder.
    pub fn start_with(env: impl FnOnce(&std::path::Path) -> Vec<(String, String)>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_url(dir.path());
        let admin = admin_token(&db);
        let env = env(dir.path());
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = Server::start(&db, &env);
        World {
            server,
            http: Http::default(),
            admin,
            db,
            _dir: dir,
        }
    }

    /// An API call with `token`.
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.http
            .api(method, &self.server.url(path), token, body)
            .await
    }

    /// An API call as the admin, which must succeed.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(&self.admin, method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// A new user; returns their id and token.
    pub async fn user(&self, name: &str, role: &str) -> (i64, String) {
        let created = self
            .admin(
                "POST",
                "/api/v1/users",
                Some(json!({"name": name, "role": role})),
            )
            .await;
        (
            created["user"]["id"].as_i64().unwrap(),
            created["token"].as_str().unwrap().to_string(),
        )
    }

    /// A built-in `api` channel (X3); returns its id and webhook secret.
    pub async fn api_channel(&self, name: &str) -> (i64, String) {
        let created = self
            .admin("POST", "/api/v1/channels", Some(json!({"name": name})))
            .await;
        (
            created["channel"]["id"].as_i64().unwrap(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Sets a channel's queue to `agents` in evenly mode with `options`.
    pub async fn queue(&self, channel: i64, agents: &[i64], options: Value) {
        let queue = json!({"mode": "evenly", "forward_interval_secs": 600,
            "unanswered_interval_secs": 3600, "agents": agents, "options": options});
        self.admin(
            "PUT",
            &format!("/api/v1/channels/{channel}/queue"),
            Some(queue),
        )
        .await;
    }

    /// A customer's message through an `api` channel, signed with its
    /// secret; returns the session it landed in.
    pub async fn customer_writes(
        &self,
        channel: i64,
        secret: &str,
        chat: &str,
        id: &str,
        sender: Value,
    ) -> i64 {
        let payload = json!({"message_id": id, "chat_id": chat, "text": "Hello", "sender": sender})
            .to_string();
        let sig = frontdesk::ingest::sign(secret, payload.as_bytes());
        let (status, answer) = self
            .http
            .send(
                "POST",
                &self.server.url(&format!("/hooks/{channel}")),
                &[(frontdesk::ingest::SIGNATURE_HEADER, sig)],
                payload.into_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["messages"][0]["session_id"].as_i64().unwrap()
    }

    /// The session as the admin sees it, once `ready` holds for it.
    pub async fn session_when(&self, session: i64, ready: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let detail = self
                .admin("GET", &format!("/api/v1/sessions/{session}"), None)
                .await;
            if ready(&detail["session"]) {
                return detail["session"].clone();
            }
            assert!(
                started.elapsed() < DEADLINE,
                "session {session} never got there: {detail}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
