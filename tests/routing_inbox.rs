//! Issue 18, the hand-over of routing events: two `frontdesk serve`
//! processes on one PostgreSQL, the first holding the routing lock. Every
//! routing event the second accepts (a new session, a customer message, an
//! agent's accept, reply or close, an admin's queue) reaches the first
//! through the routing inbox and is applied there once; the second answers
//! what the first's engine answered; and a second node killed right after
//! acknowledging messages loses none of their routing.

use crate::second_node::channel_with_queue;
use crate::support;

use std::time::{Duration, Instant};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, cli};

/// Long enough for a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// The agent's id and token, created with the CLI.
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

/// Starts the leader, waits until it routes, then starts the follower.
async fn two_nodes(db: &str, http: &Http) -> (Server, Server) {
    let leader = Server::start(db, &[]);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = http
            .send("GET", &leader.url("/healthz"), &[], Vec::new())
            .await
            .unwrap();
        if status == 200 && body["routing"]["state"] == "active" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first node never routed: {body}"
        );
        tokio::task::yield_now().await;
    }
    let follower = Server::start(db, &[]);
    let (_, health) = http
        .send("GET", &follower.url("/healthz"), &[], Vec::new())
        .await
        .unwrap();
    assert_eq!(health["routing"]["state"], "following", "{health}");
    (leader, follower)
}

/// A customer's message in chat `chat`; returns its session once stored.
async fn customer_writes(
    http: &Http,
    server: &Server,
    (channel, secret): (i64, &str),
    id: &str,
    chat: &str,
) -> i64 {
    let body = json!({"message_id": id, "chat_id": chat, "text": "hello"});
    let body = body.to_string().into_bytes();
    let headers = [(SIGNATURE_HEADER, sign(secret, &body))];
    let url = server.url(&format!("/hooks/{channel}"));
    let (status, answer) = http.send("POST", &url, &headers, body).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    answer["messages"][0]["session_id"].as_i64().unwrap()
}

async fn session(http: &Http, server: &Server, token: &str, id: i64) -> Value {
    let url = server.url(&format!("/api/v1/sessions/{id}"));
    let (status, body) = http.api("GET", &url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the session until `check` accepts it.
async fn until(
    http: &Http,
    server: &Server,
    token: &str,
    id: i64,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + PATIENCE;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        let body = session(http, server, token, id).await;
        if check(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{what}: {body}");
    }
}

fn causes(body: &Value) -> Vec<String> {
    body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap().to_string())
        .collect()
}

async fn act(http: &Http, server: &Server, token: &str, id: i64, action: &str) -> (u16, Value) {
    let url = server.url(&format!("/api/v1/sessions/{id}/{action}"));
    http.api("POST", &url, token, None).await
}

async fn reply(http: &Http, server: &Server, token: &str, id: i64, text: &str) -> (u16, Value) {
    let url = server.url(&format!("/api/v1/sessions/{id}/messages"));
    http.api("POST", &url, token, Some(json!({ "text": text })))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_follower_accepts_is_routed_by_the_leader_and_answered_as_the_leader_would() {
    support::postgres::on_postgres("inbox_follow", |db| async move {
        let token = admin_token(&db);
        let (ann, ann_token) = add_agent(&db, "ann");
        let (bob, bob_token) = add_agent(&db, "bob");
        let http = Http::default();
        let (leader, follower) = two_nodes(&db, &http).await;

        // An admin's channel and queue, saved through the follower, reach
        // the leader's router: it routes the channel's sessions by them.
        // Strict order: ann is offered every session first (R3); bob is a
        // colleague who sees them and may not reply in hers (R18).
        let queue = json!({"mode": "strict", "forward_interval_secs": 600,
            "unanswered_interval_secs": 600, "agents": [ann, bob],
            "options": {"watch_availability": true, "close_delay_secs": 600}});
        let (channel, secret) = channel_with_queue(&http, &follower, &token, queue).await;
        let ch = (channel, secret.as_str());

        // A new session through the follower: the leader offers it to ann.
        let first = customer_writes(&http, &follower, ch, "m1", "chat-1").await;
        let offered = until(&http, &leader, &token, first, "offered to ann", |s| {
            s["session"]["agent_id"] == ann
        })
        .await;
        assert_eq!(offered["session"]["state"], "offered", "{offered}");

        // ann accepts through the follower: the answer is the session as the
        // leader's step left it.
        let (status, accepted) = act(&http, &follower, &ann_token, first, "accept").await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(
            (&accepted["state"], &accepted["agent_id"]),
            (&json!("assigned"), &json!(ann))
        );
        // A refusal comes back as the leader gives it, word for word.
        let through_follower = act(&http, &follower, &bob_token, first, "accept").await;
        let through_leader = act(&http, &leader, &bob_token, first, "accept").await;
        assert_eq!(through_follower.0, 409, "{through_follower:?}");
        assert_eq!(through_follower, through_leader);
        let through_follower = reply(&http, &follower, &bob_token, first, "mine now").await;
        let through_leader = reply(&http, &leader, &bob_token, first, "mine now").await;
        assert_eq!(through_follower.0, 409, "{through_follower:?}");
        assert_eq!(through_follower, through_leader);

        // ann's reply through the follower: stored by the leader's step,
        // answered with the message and its outbox entry as stored.
        let (status, queued) = reply(&http, &follower, &ann_token, first, "On it!").await;
        assert_eq!(status, 202, "{queued}");
        let message = &queued["message"];
        assert_eq!(
            (
                &message["body"],
                &message["author_id"],
                &message["direction"]
            ),
            (&json!("On it!"), &json!(ann), &json!("out"))
        );
        assert_eq!(queued["outbox"]["message_id"], message["id"], "{queued}");
        let (status, again) = reply(&http, &leader, &ann_token, first, "And more").await;
        assert_eq!(status, 202, "{again}");
        let keys = |v: &Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&queued["message"]), keys(&again["message"]));
        assert_eq!(keys(&queued["outbox"]), keys(&again["outbox"]));
        let url = leader.url(&format!("/api/v1/sessions/{first}/messages?limit=100"));
        let (_, messages) = http.api("GET", &url, &token, None).await;
        let by_ann: Vec<&str> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["author_id"] == ann)
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(by_ann, ["On it!", "And more"], "each reply once");

        // ann closes through the follower (A4: the close delay runs); the
        // customer writes through the follower and the session reopens (S2).
        let (status, closing) = act(&http, &follower, &ann_token, first, "close").await;
        assert_eq!(status, 200, "{closing}");
        assert_eq!(closing["state"], "closing", "{closing}");
        customer_writes(&http, &follower, ch, "m2", "chat-1").await;
        // The session and its history are two reads of `GET /sessions/{id}`,
        // so one answer may hold the step's event but the row from before
        // it: wait for both.
        until(
            &http,
            &leader,
            &token,
            first,
            "reopened and answered",
            |s| {
                causes(s).last().map(String::as_str) == Some("reopened")
                    && s["session"]["state"] == "answered"
            },
        )
        .await;

        // R9: a customer message through the follower in a session whose
        // agent is offline puts it back in the queue.
        let second = customer_writes(&http, &follower, ch, "m3", "chat-2").await;
        until(&http, &leader, &token, second, "offered", |s| {
            s["session"]["agent_id"] == ann
        })
        .await;
        customer_writes(&http, &follower, ch, "m4", "chat-2").await;
        until(&http, &leader, &token, second, "requeued (R9)", |s| {
            causes(s).iter().any(|c| c == "agent_unavailable")
        })
        .await;
        // Each event applied once, in the order it was accepted.
        let history = causes(&session(&http, &leader, &token, first).await);
        assert_eq!(
            history,
            [
                "first inbound message",
                "strict_order",
                "accepted",
                "agent_replied",
                "agent_replied",
                "closed_by_agent",
                "reopened"
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_killed_right_after_acknowledging_messages_loses_none_of_their_routing() {
    const SESSIONS: usize = 40;
    support::postgres::on_postgres("inbox_kill", |db| async move {
        let token = admin_token(&db);
        let (ann, _) = add_agent(&db, "ann");
        let http = Http::default();
        let (leader, mut follower) = two_nodes(&db, &http).await;
        let queue = json!({"mode": "evenly", "forward_interval_secs": 600,
            "unanswered_interval_secs": 600, "agents": [ann]});
        let (channel, secret) = channel_with_queue(&http, &leader, &token, queue).await;

        let sends = (0..SESSIONS).map(|n| {
            let (http, secret) = (http.clone(), secret.clone());
            let hook = follower.url(&format!("/hooks/{channel}"));
            tokio::spawn(async move {
                let body = json!({"message_id": format!("k{n}"), "chat_id": format!("kill-{n}"), "text": "hi"});
                let body = body.to_string().into_bytes();
                let headers = [(SIGNATURE_HEADER, sign(&secret, &body))];
                let (status, answer) = http.send("POST", &hook, &headers, body).await.unwrap();
                assert_eq!(status, 200, "{answer}");
                answer["messages"][0]["session_id"].as_i64().unwrap()
            })
        });
        let mut sessions = Vec::new();
        for send in sends.collect::<Vec<_>>() {
            sessions.push(send.await.unwrap());
        }
        // Every message is acknowledged: the follower dies at once.
        follower.kill9();

        for id in sessions {
            until(&http, &leader, &token, id, "routed by the leader", |s| {
                s["session"]["agent_id"] == ann
            })
            .await;
        }
    })
    .await;
}
