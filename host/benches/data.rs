//! Issue 19 on SQLite: how long `frontdesk backup` takes and how large it is
//! for 1,000,000 messages, and ingest throughput while retention runs,
//! against ingest alone, in the same run (interleaved, so the machine's
//! drift hits both). Run with `cargo bench -p frontdesk --bench data`.
//!
//! A plain `main` (no criterion): the figures are one backup's time and
//! size, and the ratio of two rates measured side by side in one run.
//!
//! The database (100,000 closed sessions of 10 messages each, 200 bytes a
//! message, through the real migrations and triggers) is seeded once into
//! cargo's target tmp dir; each retention round works on a fresh copy.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use frontdesk::store::{InboundMessage, IngestItem, Sender, Store, connect};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteSynchronous};

const SESSIONS: i64 = 100_000;
const PER_SESSION: i64 = 10;
/// 2026-11-01 00:00 UTC; one session a minute from there.
const T0: i64 = 1_793_491_200_000;
/// Messages ingested per measured round, in group-commit sized batches.
const INGEST: usize = 4_000;
const BATCH: usize = 32;
const ROUNDS: usize = 3;

fn seeded_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("data-bench-1m.db")
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Seeds once: the schema through `connect` (migrations), then the rows in
/// one transaction of `INSERT ... SELECT` over a generated series.
async fn seed() -> PathBuf {
    let path = seeded_path();
    if path.exists() {
        return path;
    }
    drop(connect(&url(&path)).await.unwrap());
    let options = SqliteConnectOptions::from_str(&url(&path))
        .unwrap()
        .synchronous(SqliteSynchronous::Off);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    let series = |n: i64, body: &str| {
        format!(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) {body}"
        )
    };
    let started = Instant::now();
    let statements = [
        "INSERT INTO channels (id, name, kind, secret, config, created_at) \
         VALUES (1, 'Bench', 'api', 's', '{\"retention_days\": 30}', 0)"
            .to_string(),
        "INSERT INTO queues (channel_id) VALUES (1)".to_string(),
        series(
            SESSIONS,
            "INSERT INTO contacts (id, name, created_at) SELECT i, 'customer ' || i, 0 FROM seq",
        ),
        series(
            SESSIONS,
            &format!(
                "INSERT INTO sessions (id, channel_id, contact_id, chat_id, source, state, created_at, updated_at, last_message_at) \
             SELECT i, 1, i, 'chat-' || i, 'api', 'closed', {T0} + i * 60000, {T0} + i * 60000, {T0} + i * 60000 FROM seq"
            ),
        ),
        series(
            SESSIONS * PER_SESSION,
            &format!(
                "INSERT INTO messages (session_id, channel_id, direction, external_id, body, created_at) \
             SELECT 1 + (i - 1) / {PER_SESSION}, 1, 'in', 'm-' || i, printf('%.200c', 'x'), \
                    {T0} + ((i - 1) / {PER_SESSION}) * 60000 FROM seq"
            ),
        ),
    ];
    let mut tx = conn.begin().await.unwrap();
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    eprintln!(
        "seeded {} messages in {:.1} s",
        SESSIONS * PER_SESSION,
        started.elapsed().as_secs_f64()
    );
    path
}

/// Backs the seeded database up `ROUNDS` times; prints time and size.
async fn backup(seeded: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let out = dir.path().join(format!("b{round}.tar.gz"));
        let started = Instant::now();
        let written = frontdesk::backup::create(&url(seeded), &data, &out)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(written.manifest.counts.messages, SESSIONS * PER_SESSION);
        if round == 0 {
            println!(
                "backup of {} messages: database {} bytes, archive {} bytes",
                written.manifest.counts.messages,
                std::fs::metadata(seeded).unwrap().len(),
                written.bytes
            );
        }
        std::fs::remove_file(&out).unwrap();
    }
    times.sort();
    println!(
        "backup time: median {:.2} s (min {:.2} s, max {:.2} s, {ROUNDS} rounds)",
        times[ROUNDS / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[ROUNDS - 1].as_secs_f64()
    );
}

fn items(round: usize) -> Vec<IngestItem> {
    (0..INGEST)
        .map(|i| IngestItem {
            channel_id: 1,
            source: "api".into(),
            message: InboundMessage {
                external_id: format!("bench-{round}-{i}"),
                chat_id: format!("live-{}", i % 500),
                sender: Sender {
                    id: format!("live-{}", i % 500),
                    ..Sender::default()
                },
                text: "a new message".into(),
                ..InboundMessage::default()
            },
        })
        .collect()
}

/// Ingests `INGEST` messages in batches on a fresh copy of the seeded
/// database, with retention removing old sessions beside it when asked;
/// returns messages per second and the sessions retention removed.
async fn ingest_round(seeded: &Path, round: usize, retention: bool) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("db.sqlite");
    std::fs::copy(seeded, &copy).unwrap();
    let store: Arc<dyn Store> = connect(&url(&copy)).await.unwrap();
    let now = T0 + 400 * 86_400_000;
    let stop = tokio_util::sync::CancellationToken::new();
    let worker = retention.then(|| {
        let (store, stop) = (store.clone(), stop.clone());
        // The worker's own pacing (`retention::run_once`), on a backlog of
        // 100,000 expired sessions: the first run after retention is set.
        tokio::spawn(async move {
            let runs = frontdesk::retention::run_once(store.as_ref(), now, &stop)
                .await
                .unwrap();
            runs.iter().map(|r| r.counts.sessions).sum::<u64>()
        })
    });
    let all = items(round);
    let started = Instant::now();
    for batch in all.chunks(BATCH) {
        store.ingest(batch, now).await.unwrap();
    }
    let rate = INGEST as f64 / started.elapsed().as_secs_f64();
    stop.cancel();
    let removed = match worker {
        Some(worker) => worker.await.unwrap(),
        None => 0,
    };
    (rate, removed)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let seeded = seed().await;
        backup(&seeded).await;
        let (mut alone, mut beside) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            alone.push(ingest_round(&seeded, round, false).await.0);
            let (rate, removed) = ingest_round(&seeded, round, true).await;
            assert!(removed > 0, "retention removed nothing while ingest ran");
            println!("round {round}: retention removed {removed} sessions during ingest");
            beside.push(rate);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (a, b) = (median(&mut alone), median(&mut beside));
        println!(
            "ingest alone: {a:.0} msg/s; with retention running: {b:.0} msg/s; ratio {:.2} \
             (median of {ROUNDS} interleaved rounds, {INGEST} messages in batches of {BATCH})",
            b / a
        );
    });
}
