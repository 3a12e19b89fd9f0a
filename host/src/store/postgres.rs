//! PostgreSQL, for several `frontdesk serve` nodes sharing one database.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use super::sql::{like_pattern, possible_match, visible_channels};
use super::stats::{Aggregate, Group, durations, ranks, shown, total};
use super::*;

/// The store the backend-neutral files compiled in here implement.
type Backend = PgStore;

/// Row locking for claims: skip rows another node is claiming.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
/// This backend's name, for logs and `/healthz`.
const BACKEND: &str = "postgres";

/// Every table's `contact_id` and `session_id` columns (export and erasure, issue 19).
const KEYED_COLUMNS_SQL: &str = "SELECT table_name::text, column_name::text FROM information_schema.columns \
     WHERE table_schema = current_schema() AND column_name IN ('contact_id', 'session_id') \
     ORDER BY table_name, column_name";

/// Routing events reach the routing leader through `routing_inbox` (issue 18).
const ROUTING_INBOX: bool = true;

/// A `LISTEN` connection for the routing inbox, out of the store's pool.
async fn inbox_listener(pool: &Pool<Postgres>) -> Result<Option<Box<dyn InboxListener>>> {
    super::pg_listener::connect(pool).await.map(Some)
}

/// PostgreSQL's planner picks indexes by itself: no hint.
fn index_hint(_index: &str) -> String {
    String::new()
}

/// Fencing (issue 18): a routing write made under the lease with token
/// `held` goes through only while that is still the lease's token. `FOR
/// SHARE` holds the row until the write commits, so a node taking the lease
/// over waits for it and then rebuilds from a store that includes it.
async fn check_fence(tx: &mut sqlx::Transaction<'_, Db>, held: Option<i64>) -> Result<()> {
    let Some(held) = held else {
        return Ok(());
    };
    let (current,): (i64,) =
        sqlx::query_as("SELECT token FROM routing_lease WHERE id = 1 FOR SHARE")
            .fetch_one(&mut **tx)
            .await?;
    if current != held {
        return Err(StoreError::Fenced { held, current });
    }
    Ok(())
}

// Compiled once per backend on purpose: one SQL text, two pool types.
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

type Db = Postgres;

/// PostgreSQL store; reads and writes share one pool.
pub struct PgStore {
    write: Pool<Postgres>,
    read: Pool<Postgres>,
    health: StorageHealth,
}

impl PgStore {
    /// Connects and applies the migrations (idempotent, safe from several nodes).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        schema::migrate_postgres(&pool).await?;
        Ok(PgStore {
            write: pool.clone(),
            read: pool,
            health: StorageHealth::default(),
        })
    }
}
