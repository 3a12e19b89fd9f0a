//! Issue 19, backup and restore on the real binary: a server takes webhook
//! messages through the echo connector plugin without pause; `frontdesk
//! backup` runs in the middle; more messages arrive; the backup is restored
//! into a fresh directory, and a server started on it holds every message
//! acknowledged before the backup began, each once, none sent after it
//! ended, and its plugin still takes messages.

use crate::support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sqlx::Connection;
use support::{Http, Server, admin_token, binary, plugin_package, sqlite_url};

const CLIENTS: usize = 4;
/// The backup starts once this many messages were acknowledged.
const BACKUP_AFTER: usize = 150;
/// And the load goes on for this many more after it ended.
const MORE_AFTER: usize = 100;

/// When each message was sent and answered, relative to the backup.
#[derive(Default)]
struct Log {
    /// Message numbers acknowledged.
    acked: HashSet<usize>,
    /// Numbers whose request started after the backup command returned.
    sent_after_backup: Vec<usize>,
}

fn echo_body(n: usize) -> Vec<u8> {
    json!({"messages": [{"chat": format!("chat-{}", n % 25), "id": format!("m-{n}"),
        "from": {"id": format!("u-{}", n % 25)}, "text": format!("message {n}")}]})
    .to_string()
    .into_bytes()
}

fn run(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env("FRONTDESK_DATABASE", db)
        .output()
        .expect("run frontdesk")
}

/// How many times each inbound message id is in the database at `db_path`.
async fn stored_ids(db_path: &Path) -> HashMap<String, i64> {
    let url = format!("sqlite://{}", db_path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT external_id, COUNT(*) FROM messages WHERE direction = 'in' GROUP BY external_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_message_acknowledged_before_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let db = sqlite_url(&live);
    let data = live.join("data");
    let echo = plugin_package("echo", "echo", dir.path());
    let token = admin_token(&db);
    support::plugin_cli(&data, &["install", echo.to_str().unwrap()]);
    let data_env = data.to_str().unwrap().to_string();
    let server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data_env.as_str())]);
    let http = Http::default();
    let config = json!({"api_base_url": "http://127.0.0.1:9", "token": "t0k"});
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Echo", "kind": "echo", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    let hook = server.url(&format!("/hooks/{channel}"));

    let log = Arc::new(Mutex::new(Log::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let backup_done = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, hook, log) = (http.clone(), hook.clone(), log.clone());
            let (next, backup_done, stop) = (next.clone(), backup_done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let after = backup_done.load(Ordering::SeqCst);
                    let headers = [("x-echo-token", "t0k".to_string())];
                    let (status, answer) = http
                        .send("POST", &hook, &headers, echo_body(n))
                        .await
                        .expect("the server answers");
                    assert_eq!(status, 200, "message {n}: {answer}");
                    let mut log = log.lock().unwrap();
                    log.acked.insert(n);
                    if after {
                        log.sent_after_backup.push(n);
                    }
                }
            })
        })
        .collect();
    let acked = || log.lock().unwrap().acked.len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked() < BACKUP_AFTER {
        assert!(std::time::Instant::now() < deadline, "ingest too slow");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The backup, while the clients keep sending.
    let before: Vec<usize> = log.lock().unwrap().acked.iter().copied().collect();
    let archive = dir.path().join("backups/frontdesk.tar.gz");
    let (db2, data2, archive2) = (db.clone(), data_env.clone(), archive.clone());
    let out = tokio::task::spawn_blocking(move || {
        run(
            &db2,
            &[
                "backup",
                archive2.to_str().unwrap(),
                "--data-dir",
                data2.as_str(),
            ],
        )
    })
    .await
    .unwrap();
    backup_done.store(true, Ordering::SeqCst);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("backup written to"), "{said}");
    let after_count = acked();
    while acked() < after_count + MORE_AFTER {
        assert!(std::time::Instant::now() < deadline, "ingest too slow");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }

    // A restore onto the running server's files is refused.
    let refused = run(
        &db,
        &[
            "restore",
            archive.to_str().unwrap(),
            "--data-dir",
            &data_env,
            "--force",
        ],
    );
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "restored over a running server");
    assert!(why.contains("a frontdesk server is running"), "{why}");
    drop(server);

    let fresh = dir.path().join("fresh");
    let fresh_db = sqlite_url(&fresh);
    let fresh_data = fresh.join("data");
    let restore_args = [
        "restore",
        archive.to_str().unwrap(),
        "--data-dir",
        fresh_data.to_str().unwrap(),
    ];
    let restored = run(&fresh_db, &restore_args);
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(
        restored.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(said.starts_with("restored "), "{said}");
    assert!(said.contains(" messages"), "{said}");
    // A second restore onto the same (now full) target needs --force.
    let again = run(&fresh_db, &restore_args);
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(why.contains("the target is not empty"), "{why}");

    let stored = stored_ids(&fresh.join("frontdesk.db")).await;
    let sent_after_backup = log.lock().unwrap().sent_after_backup.clone();
    for n in &before {
        assert_eq!(
            stored.get(&format!("m-{n}")),
            Some(&1),
            "message {n}, acknowledged before the backup began, is restored once"
        );
    }
    for n in &sent_after_backup {
        assert!(
            !stored.contains_key(&format!("m-{n}")),
            "message {n} was sent after the backup ended, yet it is in it"
        );
    }
    assert!(stored.values().all(|&c| c == 1), "each message once");
    assert!(
        stored.len() >= before.len(),
        "{} restored, {} acknowledged before",
        stored.len(),
        before.len()
    );

    // A server on the restored files serves the plugin's channel.
    let fresh_data_env = fresh_data.to_str().unwrap().to_string();
    let server = Server::start(
        &fresh_db,
        &[("FRONTDESK_DATA_DIR", fresh_data_env.as_str())],
    );
    let hook = server.url(&format!("/hooks/{channel}"));
    let headers = [("x-echo-token", "t0k".to_string())];
    let (status, answer): (u16, Value) = http
        .send("POST", &hook, &headers, echo_body(1_000_000))
        .await
        .unwrap();
    assert_eq!(
        status, 200,
        "the echo plugin takes messages after the restore: {answer}"
    );
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    let (status, messages) = http
        .api(
            "GET",
            &server.url(&format!("/api/v1/sessions/{session}/messages")),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "the restored admin token works: {messages}");
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "message 1000000"),
        "{messages}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_written_every_period_and_only_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let token = admin_token(&db);
    let backups = dir.path().join("backups");
    let backups_env = backups.to_str().unwrap().to_string();
    let data_env = dir.path().join("data").to_str().unwrap().to_string();
    let log = support::Log::default();
    let server = Server::start_logged(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data_env.as_str()),
            ("FRONTDESK_BACKUP_EVERY", "1s"),
            ("FRONTDESK_BACKUP_KEEP", "2"),
            ("FRONTDESK_BACKUP_DIR", backups_env.as_str()),
        ],
        log.clone(),
    );
    let written = || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l["fields"]["message"] == "scheduled backup written")
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while written() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than 3 scheduled backups in 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(server);
    let mut names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "--backup-keep 2 keeps two: {names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("frontdesk-") && n.ends_with("Z.tar.gz")),
        "{names:?}"
    );
    // The newest restores, with the admin in it.
    let fresh = dir.path().join("fresh");
    let fresh_db = sqlite_url(&fresh);
    let archive = backups.join(names.last().unwrap());
    let restored = run(
        &fresh_db,
        &[
            "restore",
            archive.to_str().unwrap(),
            "--data-dir",
            fresh.join("data").to_str().unwrap(),
        ],
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let server = Server::start(&fresh_db, &[]);
    let (status, me) = Http::default()
        .api("GET", &server.url("/api/v1/me"), &token, None)
        .await;
    assert_eq!(status, 200, "{me}");
}
