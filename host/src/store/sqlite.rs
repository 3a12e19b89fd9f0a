//! The embedded default: one SQLite file in WAL mode.
//!
//! Durability: `synchronous=FULL` syncs the WAL on every commit, so a commit
//! that returned survives `kill -9` and power loss. Group commit (see
//! `ingest`) keeps that from capping throughput at one fsync per message.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use super::sql::{like_pattern, possible_match, visible_channels};
use super::stats::{Aggregate, Group, durations, ranks, shown, total};
use super::*;

/// The store the backend-neutral files compiled in here implement.
type Backend = SqliteStore;

/// Row locking for claims: SQLite has one writer, so nothing to skip.
const SKIP_LOCKED: &str = "";
/// This backend's name, for logs and `/healthz`.
const BACKEND: &str = "sqlite";

/// Every table's `contact_id` and `session_id` columns (export and erasure, issue 19).
const KEYED_COLUMNS_SQL: &str = "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND p.name IN ('contact_id', 'session_id') ORDER BY m.name, p.name";

/// One node routes in memory: no routing inbox.
const ROUTING_INBOX: bool = false;

/// No routing inbox, so nothing to listen for.
async fn inbox_listener(_pool: &Pool<Sqlite>) -> Result<Option<Box<dyn InboxListener>>> {
    Ok(None)
}

/// SQLite is told which index to use (it has no statistics to pick one).
fn index_hint(index: &str) -> String {
    format!(" INDEXED BY {index}")
}

/// One node per SQLite file, held by the routing file lock: there is no
/// lease to fence against (issue 18), so every routing write goes through.
async fn check_fence(_tx: &mut sqlx::Transaction<'_, Db>, _held: Option<i64>) -> Result<()> {
    Ok(())
}

// Compiled once per backend on purpose: one SQL text, two pool types.
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

type Db = Sqlite;

/// SQLite store: one writer connection, several readers.
pub struct SqliteStore {
    /// Exactly one connection: writers queue here instead of failing with `SQLITE_BUSY`.
    write: Pool<Sqlite>,
    /// WAL lets readers run beside the writer.
    read: Pool<Sqlite>,
    health: StorageHealth,
}

impl SqliteStore {
    /// Opens (or creates) the file at `path` and applies the migrations.
    pub async fn connect(path: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted rows (erasure, retention) are overwritten in the file,
            // not left in free pages for anyone with the file to read.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .after_release(|conn, _| Box::pin(release_clean(conn)))
            .connect_with(options.clone())
            .await?;
        schema::migrate_sqlite(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            write,
            read,
            health: StorageHealth::default(),
        })
    }
}

/// Keeps the writer connection only if no transaction is left open on it.
///
/// When a statement fails with `SQLITE_FULL` or an I/O error, SQLite may roll
/// the transaction back by itself; sqlx's `ROLLBACK` on drop then fails and
/// its transaction depth stays above zero. The next `begin` on that connection
/// becomes a `SAVEPOINT` and every later "commit" only releases a savepoint
/// inside a transaction that never ends: callers are told their writes
/// committed while nothing reaches the disk (S4). A fresh connection has no
/// such state, so the pool opens one instead. The ping runs after the
/// rollback that dropping the transaction queued on the same connection.
async fn release_clean(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!(
            "the database connection was left inside a failed transaction; opening a new one"
        );
    }
    Ok(clean)
}
