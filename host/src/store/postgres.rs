//! PostgreSQL, for several `frontdesk serve` nodes sharing one database.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use super::sql::{like_pattern, possible_match, sql_store, visible_channels};
use super::sql_config::sql_config_store;
use super::sql_failed_inbound::sql_failed_inbound_store;
use super::sql_outbox::sql_outbox_store;
use super::sql_stats::{duration_sql, duration_sqls, index_hint, sql_stats_store};
use super::stats::{Aggregate, Group, durations, ranks, shown, total};
use super::*;

/// The store the backend-neutral files compiled in here implement.
type Backend = PgStore;

/// Row locking for claims: skip rows another node is claiming.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

// Compiled once per backend on purpose: one SQL text, two pool types.
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

use shared::{attach_files, ingest_batch};

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
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            write: pool.clone(),
            read: pool,
            health: StorageHealth::default(),
        })
    }
}

sql_store!(PgStore, "postgres");
sql_config_store!(PgStore);
sql_outbox_store!(PgStore);
sql_failed_inbound_store!(PgStore);
sql_stats_store!(PgStore, plain);
