//! PostgreSQL, for several `frontdesk serve` nodes sharing one database.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use super::sql::{like_pattern, possible_match, sql_store, visible_channels};
use super::sql_attachments::sql_attachments_store;
use super::sql_bots::sql_bots_store;
use super::sql_config::sql_config_store;
use super::sql_contacts::sql_contacts_store;
use super::sql_failed_inbound::sql_failed_inbound_store;
use super::sql_ingest::sql_ingest;
use super::sql_mail::sql_mail_store;
use super::sql_outbox::sql_outbox_store;
use super::sql_routing::sql_routing_store;
use super::sql_stats::{duration_sql, duration_sqls, index_hint, sql_stats_store};
use super::sql_webchat::sql_webchat_store;
use super::stats::{Aggregate, Group, durations, ranks, shown, total};
use super::*;

/// The store the backend-neutral files compiled in here implement.
type Backend = PgStore;

// Compiled once per backend on purpose: one SQL text, two pool types.
#[allow(clippy::duplicate_mod)]
#[path = "accounts_sql.rs"]
mod accounts_sql;
#[allow(clippy::duplicate_mod)]
#[path = "tokens_sql.rs"]
mod tokens_sql;

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
sql_routing_store!(PgStore);
sql_ingest!();
sql_config_store!(PgStore);
sql_outbox_store!(PgStore);
sql_attachments_store!(PgStore, " FOR UPDATE SKIP LOCKED");
sql_failed_inbound_store!(PgStore);
sql_mail_store!(PgStore);
sql_bots_store!(PgStore);
sql_contacts_store!(PgStore);
sql_webchat_store!(PgStore);
sql_stats_store!(PgStore, plain);
