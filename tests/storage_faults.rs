//! S4 under storage faults, on the real binary: a full disk (SQLite on a
//! small tmpfs) and PostgreSQL backends killed mid-load. Nothing is
//! acknowledged unless its own commit succeeded, a repeat never gets a
//! different answer than its first, the server takes writes again by itself
//! once the cause is gone (no restart), and `/healthz` reports the fault.

use crate::support;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frontdesk::ingest::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use sqlx::Connection;
use support::{ALLOW_PRIVATE_CALLBACKS, Http, Server, admin_token};

/// A tmpfs of `size` mounted on a temporary folder, unmounted when dropped.
struct Tmpfs {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill it and needs root for that \
             (CI and the project's machines run as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { _dir: dir, path }
    }

    /// Fills the disk until only about `leave` bytes are free; returns the filler.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        let mut written = 0u64;
        while file.write_all(&block).is_ok() {
            written += block.len() as u64;
        }
        drop(file);
        // A failed write may have left part of a block; size it exactly.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap();
        file.set_len(written.saturating_sub(leave)).unwrap();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

/// The `api` channel's callback: every delivery id it was sent, in order.
type Deliveries = Arc<Mutex<Vec<i64>>>;

async fn callback_server() -> (String, Deliveries) {
    let seen: Deliveries = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                let id = headers[DELIVERY_HEADER].to_str().unwrap().parse().unwrap();
                record.lock().unwrap().push(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// A server with one `api` channel whose replies go to a local callback.
struct Desk {
    server: Server,
    http: Http,
    token: String,
    hook: String,
    secret: String,
    deliveries: Deliveries,
}

impl Desk {
    async fn start(db: &str, data_dir: &Path) -> Desk {
        let token = admin_token(db);
        let data = data_dir.display().to_string();
        let server = Server::start(
            db,
            &[
                ("FRONTDESK_DATA_DIR", data.as_str()),
                ALLOW_PRIVATE_CALLBACKS,
            ],
        );
        let http = Http::default();
        let (callback, deliveries) = callback_server().await;
        let (status, created) = http
            .api(
                "POST",
                &server.url("/api/v1/channels"),
                &token,
                Some(json!({"name": "Support", "config": {"callback_url": callback}})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let channel = created["channel"]["id"].as_i64().unwrap();
        Desk {
            hook: server.url(&format!("/hooks/{channel}")),
            secret: created["secret"].as_str().unwrap().to_string(),
            server,
            http,
            token,
            deliveries,
        }
    }

    /// Sends one customer message of about 4 KB; `None` if no answer came.
    async fn send(&self, external: &str, chat: &str) -> Option<(u16, Value)> {
        let text = format!("{external} {}", "x".repeat(4000));
        let payload = json!({"message_id": external, "chat_id": chat, "text": text})
            .to_string()
            .into_bytes();
        let headers = [(SIGNATURE_HEADER, sign(&self.secret, &payload))];
        self.http
            .send("POST", &self.hook, &headers, payload)
            .await
            .ok()
    }

    /// An agent's reply of about 4 KB in `session`.
    async fn reply(&self, session: i64, n: usize) -> (u16, Value) {
        let url = self
            .server
            .url(&format!("/api/v1/sessions/{session}/messages"));
        let text = format!("reply {n} {}", "y".repeat(4000));
        self.http
            .api("POST", &url, &self.token, Some(json!({"text": text})))
            .await
    }

    async fn health(&self) -> (u16, Value) {
        self.http
            .send("GET", &self.server.url("/healthz"), &[], Vec::new())
            .await
            .expect("healthz answers")
    }

    /// Polls `/healthz` until it says `status`, within a bounded time.
    async fn until_health(&self, status: u16) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (got, body) = self.health().await;
            if got == status {
                return body;
            }
            assert!(Instant::now() < deadline, "healthz stayed {got}: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What the clients were told: message id per acknowledged external id,
/// and the ids of acknowledged replies.
#[derive(Default)]
struct Acks {
    messages: Mutex<HashMap<String, i64>>,
    replies: Mutex<Vec<i64>>,
    refused: AtomicUsize,
}

impl Acks {
    /// Records an answer to a message; a repeat must match its first answer.
    fn message(&self, external: &str, answer: Option<(u16, Value)>) -> bool {
        match answer {
            Some((200, body)) => {
                let id = body["messages"][0]["message_id"].as_i64().unwrap();
                let mut acked = self.messages.lock().unwrap();
                let first = *acked.entry(external.to_string()).or_insert(id);
                assert_eq!(
                    first, id,
                    "{external} was acknowledged twice with different ids"
                );
                true
            }
            Some((503, body)) => {
                assert_eq!(body["error"]["code"], "storage_unavailable", "{body}");
                self.refused.fetch_add(1, Ordering::Relaxed);
                false
            }
            Some((status, body)) => panic!("{external}: unexpected {status} {body}"),
            None => false,
        }
    }

    fn reply(&self, (status, body): (u16, Value)) {
        match status {
            202 => self
                .replies
                .lock()
                .unwrap()
                .push(body["message"]["id"].as_i64().unwrap()),
            503 => {
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
            _ => panic!("unexpected reply answer {status} {body}"),
        }
    }
}

/// Every stored inbound message as (external id, id), and the ids of agents' replies.
async fn read_back(db: &str) -> (Vec<(String, i64)>, Vec<i64>) {
    const INBOUND: &str =
        "SELECT external_id, id FROM messages WHERE direction = 'in' AND external_id IS NOT NULL";
    const REPLIES: &str =
        "SELECT id FROM messages WHERE direction = 'out' AND author_id IS NOT NULL";
    if db.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
        let inbound = sqlx::query_as(INBOUND).fetch_all(&mut conn).await.unwrap();
        let replies: Vec<(i64,)> = sqlx::query_as(REPLIES).fetch_all(&mut conn).await.unwrap();
        (inbound, replies.into_iter().map(|(id,)| id).collect())
    } else {
        let mut conn = sqlx::PgConnection::connect(db).await.unwrap();
        let inbound = sqlx::query_as(INBOUND).fetch_all(&mut conn).await.unwrap();
        let replies: Vec<(i64,)> = sqlx::query_as(REPLIES).fetch_all(&mut conn).await.unwrap();
        (inbound, replies.into_iter().map(|(id,)| id).collect())
    }
}

/// Reads the database the way it is on disk and checks every acknowledgement.
async fn assert_all_stored(db: &str, acks: &Acks) {
    let (inbound, replies) = read_back(db).await;
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    for (external, id) in inbound {
        stored.entry(external).or_default().push(id);
    }
    for (external, ids) in &stored {
        assert_eq!(ids.len(), 1, "{external} is stored {} times", ids.len());
    }
    for (external, id) in acks.messages.lock().unwrap().iter() {
        assert_eq!(
            stored.get(external).map(|ids| ids[0]),
            Some(*id),
            "acknowledged message {external} (id {id}) is not on disk"
        );
    }
    let replies: std::collections::HashSet<i64> = replies.into_iter().collect();
    for id in acks.replies.lock().unwrap().iter() {
        assert!(
            replies.contains(id),
            "acknowledged reply {id} is not on disk"
        );
    }
}

/// Waits until every acknowledged reply reached the callback (S5).
async fn until_delivered(desk: &Desk, acks: &Acks) {
    let url = desk.server.url("/api/v1/outbox?limit=1000");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, items) = desk.http.api("GET", &url, &desk.token, None).await;
        let items = items.as_array().cloned().unwrap_or_default();
        let sent: HashMap<i64, i64> = items
            .iter()
            .filter(|i| i["state"] == "sent")
            .map(|i| (i["message_id"].as_i64().unwrap(), i["id"].as_i64().unwrap()))
            .collect();
        let replies = acks.replies.lock().unwrap().clone();
        let missing: Vec<i64> = replies
            .iter()
            .filter(|id| !sent.contains_key(id))
            .copied()
            .collect();
        if missing.is_empty() {
            let seen = desk.deliveries.lock().unwrap().clone();
            for id in replies {
                assert!(
                    seen.contains(&sent[&id]),
                    "reply {id} marked sent but never arrived"
                );
            }
            return;
        }
        assert!(
            Instant::now() < deadline,
            "acknowledged replies never delivered: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_a_full_disk_refuses_each_write_and_recovers_without_a_restart() {
    let disk = Tmpfs::mount("24m");
    let data = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", disk.path.join("frontdesk.db").display());
    let mut desk = Desk::start(&db, data.path()).await;
    let acks = Acks::default();
    let (status, answer) = desk.send("first", "chat-0").await.unwrap();
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    acks.message("first", Some((status, answer)));
    acks.reply(desk.reply(session, 0).await);

    let filler = disk.fill(1 << 20);
    let mut first_refusal = None;
    for i in 0..2_000 {
        let external = format!("m{i}");
        let stored = acks.message(
            &external,
            desk.send(&external, &format!("chat-{}", i % 5)).await,
        );
        if !stored && first_refusal.is_none() {
            first_refusal = Some(i);
        }
        if first_refusal.is_some() {
            acks.reply(desk.reply(session, i).await);
            // Repeats of what was acknowledged get the same answer or a 503.
            acks.message("first", desk.send("first", "chat-0").await);
        }
        if first_refusal.is_some_and(|first| i >= first + 40) {
            break;
        }
    }
    let first_refusal = first_refusal.expect("the disk filled up");
    eprintln!(
        "first refusal after {first_refusal} messages; {} refused in all",
        acks.refused.load(Ordering::Relaxed)
    );
    let health = desk.until_health(503).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(health["storage_fault"]["error"].is_string(), "{health}");

    // Room again: the same process takes writes by itself.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    while !acks.message(
        &format!("after{n}"),
        desk.send(&format!("after{n}"), "chat-1").await,
    ) {
        assert!(Instant::now() < deadline, "writes never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
        n += 1;
    }
    desk.until_health(200).await;
    for i in 0..20 {
        let external = format!("later{i}");
        assert!(
            acks.message(&external, desk.send(&external, "chat-2").await),
            "{external} refused after the disk had room again"
        );
    }
    for i in 0..5 {
        let (status, body) = desk.reply(session, 10_000 + i).await;
        assert_eq!(status, 202, "{body}");
        acks.reply((status, body));
    }
    until_delivered(&desk, &acks).await;

    // What was acknowledged is on disk, before and after a crash.
    assert_all_stored(&db, &acks).await;
    desk.server.kill9();
    let server = Server::start(&db, &[]);
    assert_all_stored(&db, &acks).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_a_disk_filling_under_concurrent_load_acknowledges_only_what_it_stored() {
    let disk = Tmpfs::mount("24m");
    let data = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", disk.path.join("frontdesk.db").display());
    let desk = Desk::start(&db, data.path()).await;
    let acks = Arc::new(Acks::default());
    let (_, opened) = desk.send("open", "chat-0").await.unwrap();
    let session = opened["messages"][0]["session_id"].as_i64().unwrap();
    let filler = disk.fill(2 << 20);
    let desk = Arc::new(desk);
    let stop = Arc::new(AtomicBool::new(false));
    let refused_per_client = Arc::new(Mutex::new(vec![0usize; 6]));
    let mut clients = Vec::new();
    for c in 0..6 {
        let (desk, acks, stop, refused) = (
            desk.clone(),
            acks.clone(),
            stop.clone(),
            refused_per_client.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                // Every fifth message repeats one sent before (a provider's retry).
                let n = if i % 5 == 4 { i / 2 } else { i };
                let external = format!("c{c}-{n}");
                let answer = desk.send(&external, &format!("chat-{}", n % 7)).await;
                if !acks.message(&external, answer) {
                    refused.lock().unwrap()[c] += 1;
                }
                i += 1;
            }
        }));
    }
    let replier = {
        let (desk, acks, stop) = (desk.clone(), acks.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                acks.reply(desk.reply(session, i).await);
                i += 1;
            }
        })
    };
    // Until every client was refused a few times.
    let deadline = Instant::now() + Duration::from_secs(60);
    while refused_per_client.lock().unwrap().iter().any(|&r| r < 5) {
        assert!(
            Instant::now() < deadline,
            "the disk never filled: {:?}",
            refused_per_client.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(desk.health().await.0, 503);
    std::fs::remove_file(filler).unwrap();
    // Keep the load on while the server recovers, then a while longer.
    let recovered_at = acks.messages.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acks.messages.lock().unwrap().len() < recovered_at + 300 {
        assert!(
            Instant::now() < deadline,
            "the server never took writes again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    replier.await.unwrap();
    desk.until_health(200).await;
    until_delivered(&desk, &acks).await;
    eprintln!(
        "{} messages and {} replies acknowledged, {} refused",
        acks.messages.lock().unwrap().len(),
        acks.replies.lock().unwrap().len(),
        acks.refused.load(Ordering::Relaxed)
    );
    assert_all_stored(&db, &acks).await;
    let mut desk = Arc::into_inner(desk).expect("clients are done");
    desk.server.kill9();
    let server = Server::start(&db, &[]);
    assert_all_stored(&db, &acks).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_postgres_backends_killed_mid_load_lose_nothing_acknowledged() {
    support::postgres::on_postgres("faults", killed_backends).await;
}

async fn killed_backends(db: String) {
    let name = db.rsplit_once('/').unwrap().1.to_string();
    let data = tempfile::tempdir().unwrap();
    let desk = Arc::new(Desk::start(&db, data.path()).await);
    let acks = Arc::new(Acks::default());
    let (_, opened) = desk.send("open", "chat-0").await.unwrap();
    let session = opened["messages"][0]["session_id"].as_i64().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for c in 0..6 {
        let (desk, acks, stop) = (desk.clone(), acks.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let n = if i % 5 == 4 { i / 2 } else { i };
                let external = format!("c{c}-{n}");
                acks.message(
                    &external,
                    desk.send(&external, &format!("chat-{}", n % 7)).await,
                );
                i += 1;
            }
        }));
    }
    {
        let (desk, acks, stop) = (desk.clone(), acks.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                acks.reply(desk.reply(session, i).await);
                i += 1;
            }
        }));
    }
    let admin_url = db.replace(&name, "test");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let mut killed = 0;
    for _ in 0..5 {
        let before = acks.messages.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(30);
        while acks.messages.lock().unwrap().len() < before + 100 {
            assert!(Instant::now() < deadline, "no progress between kills");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        killed += n;
    }
    // The same process carries on: more messages are acknowledged.
    let before = acks.messages.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acks.messages.lock().unwrap().len() < before + 200 {
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    desk.until_health(200).await;
    until_delivered(&desk, &acks).await;
    eprintln!(
        "{killed} backends killed; {} messages and {} replies acknowledged, {} refused",
        acks.messages.lock().unwrap().len(),
        acks.replies.lock().unwrap().len(),
        acks.refused.load(Ordering::Relaxed)
    );
    assert!(killed >= 5, "the server's connections were killed");
    assert_all_stored(&db, &acks).await;
}
