//! O6: statistics for one channel over 1,000,000 stored sessions on SQLite.
//! Target: ≤ 150 ms (issue 20; read from the rollups of migration 0021).
//! Run with `cargo bench -p frontdesk --bench stats`.
//!
//! The database is seeded once (one transaction of `INSERT ... SELECT` over a
//! generated series, through the real migrations and triggers, so the
//! summary columns are filled the way production fills them) and kept in
//! cargo's target tmp dir for later runs. Baselines in the same run: a plain
//! `COUNT(*)` of the same sessions (index only), and a `SUM` that reads
//! every one of those session rows.

use std::hint::black_box;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use frontdesk::store::{StatsQuery, Store, connect};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

/// Sessions in the measured channel.
const SESSIONS: i64 = 1_000_000;
/// Sessions in a second channel, so the range is not the whole table.
const OTHER: i64 = 100_000;
const AGENTS: i64 = 20;
/// 2026-11-24 00:00 UTC; one session a second from there.
const T0: i64 = 1_795_996_800_000;

fn db_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stats-bench-1m.db")
}

async fn pool(path: &std::path::Path) -> Pool<Sqlite> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .journal_mode(SqliteJournalMode::Wal)
        // Seeding only: a crash just means seeding again.
        .synchronous(SqliteSynchronous::Off)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

/// Seeds the sessions once: every tenth is still open and unanswered by an
/// agent, the rest answered (1 s to 10 min) and closed (1 min to 1 day);
/// every seventh marked unanswered, every fifth rated by the customer,
/// every fiftieth by a supervisor.
async fn seed(db: &Pool<Sqlite>) {
    let (have,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions")
        .fetch_one(db)
        .await
        .unwrap();
    if have == SESSIONS + OTHER {
        return;
    }
    assert_eq!(have, 0, "a half-seeded {}; delete it", db_path().display());
    let started = Instant::now();
    let mut tx = db.begin().await.unwrap();
    let series = |n: i64, body: &str| {
        format!(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) {body}"
        )
    };
    let mut statements = vec![
        "INSERT INTO users (id, name, role, token_hash, created_at) VALUES (1, 'ada', 'admin', 'h1', 0)".to_string(),
        series(AGENTS, "INSERT INTO users (id, name, role, token_hash, created_at) SELECT 1 + i, 'agent' || i, 'agent', 'h' || (1 + i), 0 FROM seq"),
        "INSERT INTO channels (id, name, kind, secret, created_at) VALUES (1, 'Bench', 'api', 's', 0), (2, 'Other', 'api', 's', 0)".to_string(),
        "INSERT INTO queues (channel_id) VALUES (1), (2)".to_string(),
        series(1000, "INSERT INTO contacts (id, name, created_at) SELECT i, 'customer ' || i, 0 FROM seq"),
    ];
    let total = SESSIONS + OTHER;
    let sessions = format!(
        "INSERT INTO sessions (id, channel_id, contact_id, chat_id, source, state, agent_id, created_at, updated_at, last_message_at, unanswered_at) \
         SELECT i, CASE WHEN i <= {SESSIONS} THEN 1 ELSE 2 END, 1 + i % 1000, 'chat-' || i, 'api', \
                CASE WHEN i % 10 = 0 THEN 'queued' ELSE 'closed' END, \
                CASE WHEN i % 10 = 0 THEN NULL ELSE 2 + i % {AGENTS} END, \
                {T0} + i * 1000, {T0} + i * 1000, {T0} + i * 1000, \
                CASE WHEN i % 7 = 0 THEN {T0} + i * 1000 + 600000 END FROM seq"
    );
    statements.push(series(total, &sessions));
    statements.push(series(total, &format!(
        "INSERT INTO messages (session_id, channel_id, direction, body, created_at) \
         SELECT i, CASE WHEN i <= {SESSIONS} THEN 1 ELSE 2 END, 'in', 'hello', {T0} + i * 1000 FROM seq"
    )));
    statements.push(series(
        total,
        &format!(
            "INSERT INTO messages (session_id, channel_id, direction, author_id, body, created_at) \
         SELECT i, CASE WHEN i <= {SESSIONS} THEN 1 ELSE 2 END, 'out', 2 + i % {AGENTS}, 'answer', \
                {T0} + i * 1000 + ((i * 7919) % 600 + 1) * 1000 FROM seq WHERE i % 10 <> 0"
        ),
    ));
    statements.push(series(
        total,
        &format!(
            "INSERT INTO session_events (session_id, from_state, to_state, cause, at) \
         SELECT i, NULL, 'queued', 'opened', {T0} + i * 1000 FROM seq"
        ),
    ));
    statements.push(series(
        total,
        &format!(
            "INSERT INTO session_events (session_id, from_state, to_state, cause, actor_id, at) \
         SELECT i, 'answered', 'closed', 'closed_by_agent', 2 + i % {AGENTS}, \
                {T0} + i * 1000 + ((i * 104729) % 86400 + 60) * 1000 FROM seq WHERE i % 10 <> 0"
        ),
    ));
    statements.push(series(
        total,
        &format!(
            "INSERT INTO ratings (session_id, rater, score, at) \
         SELECT i, 'customer', 1 + (i / 5) % 5, {T0} + i * 1000 FROM seq WHERE i % 5 = 0"
        ),
    ));
    statements.push(series(
        total,
        &format!(
            "INSERT INTO ratings (session_id, rater, score, rated_by, at) \
         SELECT i, 'supervisor', 1 + (i / 50) % 5, 1, {T0} + i * 1000 FROM seq WHERE i % 50 = 0"
        ),
    ));
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await
        .unwrap();
    eprintln!(
        "seeded {total} sessions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = db_path();
    let (store, db): (std::sync::Arc<dyn Store>, Pool<Sqlite>) = rt.block_on(async {
        // The store first: it applies the migrations (and their triggers).
        let store = connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let db = pool(&path).await;
        seed(&db).await;
        (store, db)
    });
    let query = StatsQuery {
        channel_id: 1,
        from: T0,
        to: T0 + (SESSIONS + 1) * 1000,
        agent_id: None,
    };
    let stats = rt.block_on(store.channel_stats(&query)).unwrap();
    assert_eq!(stats.totals.sessions, SESSIONS);
    // Agents 2 and 12 hold only the open sessions' numbers (i % 10 == 0), which
    // have no agent: 18 agents and the row of sessions nobody held.
    assert_eq!(stats.agents.len() as i64, AGENTS - 2 + 1);
    eprintln!(
        "totals: first response median {:?} ms p90 {:?} ms; resolution median {:?} ms p90 {:?} ms",
        stats.totals.first_response.median_ms,
        stats.totals.first_response.p90_ms,
        stats.totals.resolution.median_ms,
        stats.totals.resolution.p90_ms
    );

    let mut group = c.benchmark_group("o6_stats_1m_sessions");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15));
    group.bench_function("channel_stats", |b| {
        b.iter(|| black_box(rt.block_on(store.channel_stats(&query)).unwrap()))
    });
    group.bench_function("channel_stats_one_agent", |b| {
        let one = StatsQuery {
            agent_id: Some(2),
            ..query
        };
        b.iter(|| black_box(rt.block_on(store.channel_stats(&one)).unwrap()))
    });
    let rt = &rt;
    let scalar = |sql: &'static str| {
        let db = db.clone();
        move || -> i64 {
            rt.block_on(async {
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(query.from)
                    .bind(query.to)
                    .fetch_one(&db)
                    .await
                    .unwrap();
                n
            })
        }
    };
    let count = scalar(
        "SELECT COUNT(*) FROM sessions WHERE channel_id = 1 AND created_at >= $1 AND created_at < $2",
    );
    assert_eq!(count(), SESSIONS);
    group.bench_function("baseline_count", |b| b.iter(|| black_box(count())));
    let sum = scalar(
        "SELECT COALESCE(SUM(closed_at - created_at), 0) FROM sessions \
         WHERE channel_id = 1 AND created_at >= $1 AND created_at < $2",
    );
    group.bench_function("baseline_sum_rows", |b| b.iter(|| black_box(sum())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
