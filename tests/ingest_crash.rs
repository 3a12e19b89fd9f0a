//! S3, S4 end to end: 2,000 inbound messages (10% of them repeats) from
//! concurrent clients, a `kill -9` part-way, a restart, and then every
//! acknowledged message is in the database exactly once.

use crate::support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use frontdesk::ingest::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use support::{Http, Server, admin_token, sqlite_url};
use tokio::sync::Notify;

const TOTAL: usize = 2_000;
const CLIENTS: usize = 16;
const CHATS: usize = 40;
/// The server is killed once this many messages were acknowledged.
const KILL_AFTER: usize = 800;

/// The i-th message a client sends: every 10th repeats an earlier id.
fn external_id(i: usize) -> String {
    let id = if i % 10 == 9 { i / 2 } else { i };
    format!("ext-{id}")
}

fn body(external: &str) -> Vec<u8> {
    let n: usize = external[4..].parse().unwrap();
    json!({"message_id": external, "chat_id": format!("chat-{}", n % CHATS), "text": format!("message {external}")})
        .to_string()
        .into_bytes()
}

type Acks = Arc<Mutex<HashMap<String, Value>>>;

/// Sends messages `next..TOTAL` (shared counter) until the server stops answering.
async fn client(
    http: Http,
    url: String,
    secret: String,
    next: Arc<AtomicUsize>,
    acks: Acks,
    unacked: Arc<Mutex<Vec<usize>>>,
    crash_now: Arc<Notify>,
) {
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= TOTAL {
            return;
        }
        let ext = external_id(i);
        let payload = body(&ext);
        let headers = [(SIGNATURE_HEADER, sign(&secret, &payload))];
        match http.send("POST", &url, &headers, payload).await {
            Ok((200, answer)) => {
                if record_ack(&acks, &ext, answer) == KILL_AFTER {
                    crash_now.notify_one();
                }
            }
            Ok((status, answer)) => panic!("message {ext}: unexpected {status}: {answer}"),
            Err(_) => unacked.lock().unwrap().push(i),
        }
    }
}

/// Remembers an acknowledgement and returns how many distinct messages are
/// acknowledged; a repeat must get exactly the first answer (S3).
fn record_ack(acks: &Acks, ext: &str, answer: Value) -> usize {
    let mut acks = acks.lock().unwrap();
    if let Some(first) = acks.get(ext) {
        assert_eq!(first, &answer, "a repeat of {ext} got a different answer");
    } else {
        acks.insert(ext.to_string(), answer);
    }
    acks.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_every_acknowledged_message_survives_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let http = Http::default();

    let mut server = Server::start(&db, &[]);
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Load"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let hook = server.url(&format!("/hooks/{channel}"));

    let acks: Acks = Arc::default();
    let unacked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let crash_now = Arc::new(Notify::new());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, hook, secret) = (http.clone(), hook.clone(), secret.clone());
            let (next, acks, unacked, crash_now) = (
                next.clone(),
                acks.clone(),
                unacked.clone(),
                crash_now.clone(),
            );
            tokio::spawn(client(http, hook, secret, next, acks, unacked, crash_now))
        })
        .collect();
    // Crash the server while the clients are still sending.
    crash_now.notified().await;
    server.kill9();
    for c in clients {
        c.await.unwrap();
    }
    let acked_before_crash: HashMap<String, Value> = acks.lock().unwrap().clone();
    assert!(acked_before_crash.len() >= KILL_AFTER);
    assert!(
        next.load(Ordering::SeqCst) >= TOTAL,
        "the clients ran to the end"
    );

    // Restart on the same file; the providers retry what got no answer.
    let server = Server::start(&db, &[]);
    let hook = server.url(&format!("/hooks/{channel}"));
    let retries: Vec<usize> = std::mem::take(&mut *unacked.lock().unwrap());
    assert!(
        !retries.is_empty(),
        "the crash came while messages were in flight"
    );
    eprintln!(
        "{} acknowledged before the crash, {} sent again after it",
        acked_before_crash.len(),
        retries.len()
    );
    for i in retries.iter().copied().chain(0..50) {
        let ext = external_id(i);
        let payload = body(&ext);
        let headers = [(SIGNATURE_HEADER, sign(&secret, &payload))];
        let (status, answer) = http
            .send("POST", &hook, &headers, payload)
            .await
            .expect("restarted server answers");
        assert_eq!(status, 200, "{answer}");
        record_ack(&acks, &ext, answer);
    }

    // Read everything back through the API.
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    let (_, sessions) = http
        .api(
            "GET",
            &server.url("/api/v1/sessions?limit=500"),
            &token,
            None,
        )
        .await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), CHATS, "one session per chat");
    for s in sessions {
        let mut after = 0;
        loop {
            let url = server.url(&format!(
                "/api/v1/sessions/{}/messages?after={after}&limit=1000",
                s["id"]
            ));
            let (_, page) = http.api("GET", &url, &token, None).await;
            let page = page.as_array().unwrap().clone();
            let Some(last) = page.last() else { break };
            after = last["id"].as_i64().unwrap();
            // Outbound messages (R11's notice, say) are not what this test sent.
            for m in page.iter().filter(|m| m["direction"] == "in") {
                stored
                    .entry(m["external_id"].as_str().unwrap().to_string())
                    .or_default()
                    .push(m["id"].as_i64().unwrap());
            }
        }
    }
    for (ext, ids) in &stored {
        assert_eq!(ids.len(), 1, "{ext} is stored {} times", ids.len());
    }
    let acks = acks.lock().unwrap();
    for (ext, answer) in acks.iter() {
        let ids = stored
            .get(ext)
            .unwrap_or_else(|| panic!("acknowledged {ext} is lost"));
        assert_eq!(
            answer["messages"][0]["message_id"].as_i64(),
            Some(ids[0]),
            "{ext}"
        );
    }
    let distinct: HashSet<String> = (0..TOTAL).map(external_id).collect();
    assert_eq!(
        acks.len(),
        distinct.len(),
        "after the retries every message was acknowledged"
    );
    assert_eq!(stored.len(), distinct.len());
}
