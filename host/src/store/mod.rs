//! Durable state behind one `Store` trait, with one module per backend.
//!
//! SQLite (WAL, `synchronous=FULL`) is the embedded default; PostgreSQL is for
//! several nodes. The backend is picked once, from the database URL, in
//! [`connect`]. Both run the same SQL (see `sql.rs`); only connection setup and
//! migrations differ, and each backend has its own migrations folder.

mod accounts;
mod attachment_model;
mod bot_store;
mod channel_config;
mod consumers;
mod contact_store;
mod data_store;
mod health;
mod inbox_store;
mod kinds;
mod model;
mod pg_listener;
mod postgres;
mod routing_model;
pub mod schema;
mod sql;
mod sql_failed_inbound;
mod sql_mail;
mod sql_webchat;
mod sqlite;
mod stats;
mod stats_rollup;
mod tokens;
mod users;

use std::sync::Arc;

use async_trait::async_trait;

pub use accounts::{AccountStore, LinkFor, LinkUse, NewWebSession, SignInRecord, WebSession};
pub use attachment_model::*;
pub use bot_store::*;
pub use channel_config::ChannelConfig;
pub use consumers::{
    BotWorkerStore, ConsentGateStore, DeliveryStore, EngineStore, FetchStore, HookStore, PushStore,
    RetentionStore,
};
pub use contact_store::*;
pub use data_store::*;
pub use health::{Fault, HealthStore, StorageHealth};
pub use inbox_store::{
    ANSWER_CHANNEL, Heard, InboxAnswer, InboxListener, InboxRow, ROUTING_CHANNEL,
    RoutingInboxStore, StoredAnswer,
};
pub use kinds::{AttachmentKind, AttachmentState, Direction, OutboxState, Rater, SessionState};
pub use model::*;
pub use routing_model::*;
pub use sql_failed_inbound::{FailedInbound, FailedInboundStore, NewFailedInbound};
pub use sql_webchat::{ChatMessage, VisitorDetails, WebchatStore};
pub use stats::{ChannelStats, Durations, RatingStats, StatsQuery, StatsRow, StatsStore};
pub use tokens::{ApiToken, FIRST_TOKEN_NAME, TokenOwner, TokenStore, TotpState};
pub use users::UserStore;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend frontdesk knows.
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH (the default is sqlite://frontdesk.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// The row a write refers to does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value (a user name, say) is taken already.
    #[error("{0} already exists")]
    Conflict(String),
    /// A reference to another row is wrong (an unknown user id in a queue, say).
    #[error("{0}")]
    Invalid(String),
    /// Applying the migrations failed; the database is left as it was.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A newer frontdesk migrated the database; this binary must not use it.
    #[error(
        "the database has migration {database}, newer than this frontdesk {version} knows (its newest is {binary:04}): a newer frontdesk upgraded it. Run that newer frontdesk (or a later one): migrations only go forward. To return to this version, restore a backup taken before the upgrade",
        version = env!("CARGO_PKG_VERSION")
    )]
    SchemaTooNew {
        database: schema::MigrationName,
        binary: i64,
    },
    /// The database has an older migration this binary does not carry.
    #[error(
        "the database has migration {0}, which this binary does not carry: another build of frontdesk applied it. Use that build (an official release of the same or a newer version)"
    )]
    SchemaForeign(schema::MigrationName),
    /// Another routing node applied some of a routing step's inbox events
    /// first (issue 18): the step was rolled back, so none is applied twice.
    #[error(
        "another node applied {missing} of this routing step's {expected} forwarded events first; the step was rolled back, and the router is rebuilt from the store before it routes again",
        missing = expected - found
    )]
    InboxRace { expected: u64, found: u64 },
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A routing write carried a fencing token that is no longer the
    /// lease's (issue 18): another node took over routing, so nothing of
    /// the write was stored.
    #[error(
        "another node took over routing (this node's routing lease token is {held}, the database's is {current}); nothing of this routing step was stored, and this node routes again only once it holds the lease again"
    )]
    Fenced { held: i64, current: i64 },
}

impl StoreError {
    /// A concurrent transaction won a race (a unique index, a deadlock or a
    /// serialization failure): the same work can succeed if tried again.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                db.is_unique_violation() || matches!(db.code().as_deref(), Some("40001" | "40P01"))
            }
            _ => false,
        }
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One inbound message on its way into the store, with the channel it came in on.
#[derive(Debug, Clone)]
pub struct IngestItem {
    pub channel_id: i64,
    /// The network it came from, recorded as the session's source (C3).
    pub source: String,
    pub message: InboundMessage,
}

/// The durable state of frontdesk.
///
/// Every method that depends on who asks takes a [`Viewer`], so access rules
/// (P1, P2) live next to the SQL and cannot be forgotten by a caller.
///
/// HTTP handlers and `App` hold all of it; a background worker holds only
/// the sub-trait (or bundle, see `consumers.rs`) it needs, which an
/// `Arc<dyn Store>` becomes by trait upcasting.
#[async_trait]
pub trait Store:
    AccountStore
    + HealthStore
    + ChannelStore
    + TranscriptStore
    + DeliveryStore
    + FetchStore
    + RetentionStore
    + EngineStore
    + BotWorkerStore
    + UserStore
    + TokenStore
    + RoutingStore
    + RoutingInboxStore
    + ConfigStore
    + OutboxStore
    + AttachmentStore
    + FailedInboundStore
    + MailStore
    + BotStore
    + ContactStore
    + DataStore
    + WebchatStore
    + StatsStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`, for logs and `/healthz`.
    fn backend(&self) -> &'static str;
    /// Round-trips a trivial query, for `/healthz`.
    async fn ping(&self) -> Result<()>;
    /// Commits a small write, for `/healthz` to learn whether a fault is over.
    async fn probe_write(&self, now: Millis) -> Result<()>;

    /// Creates a channel with a default queue, audited (P4).
    async fn create_channel(&self, actor: i64, new: &NewChannel, now: Millis) -> Result<Channel>;
    /// A channel if the viewer may see it (P2): otherwise `None`, as if it did not exist.
    async fn visible_channel(&self, viewer: Viewer, id: i64) -> Result<Option<Channel>>;
    /// Replaces the queue settings and agent order, audited (P4).
    async fn set_queue(
        &self,
        actor: i64,
        channel_id: i64,
        queue: &Queue,
        now: Millis,
    ) -> Result<()>;
    /// Replaces the channel's supervisors, audited (P4).
    async fn set_supervisors(
        &self,
        actor: i64,
        channel_id: i64,
        users: &[i64],
        now: Millis,
    ) -> Result<()>;
    /// The channel's supervisors' user ids, in id order (Q3).
    async fn supervisors(&self, channel_id: i64) -> Result<Vec<i64>>;

    async fn create_contact(&self, new: &NewContact, now: Millis) -> Result<Contact>;
    async fn list_contacts(
        &self,
        viewer: Viewer,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Contact>>;

    async fn list_sessions(&self, viewer: Viewer, filter: &SessionFilter) -> Result<Vec<Session>>;

    /// Stores a batch of inbound messages in one transaction (group commit, S3, S4).
    ///
    /// Returns one answer per item, in order. An item whose key was stored before
    /// (in an earlier batch or earlier in this one) gets the first answer back and
    /// writes nothing. When this returns `Ok`, everything is durably committed.
    async fn ingest(&self, batch: &[IngestItem], now: Millis) -> Result<Vec<Accepted>>;

    async fn list_outbox(&self, state: Option<&str>, limit: i64) -> Result<Vec<OutboxItem>>;
    /// When the channel last received a customer message, and how many of
    /// its replies failed for good (the channel list's health, U1).
    async fn channel_activity(&self, channel_id: i64) -> Result<ChannelActivity>;
    /// The newest audit entries first (P4).
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The newest audit entries first that match `filter` (P4).
    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// Channels as workers read them: the outbox and the webchat hub by id,
/// retention all of them, the engine with their queues.
#[async_trait]
pub trait ChannelStore: Send + Sync + 'static {
    /// A channel by id, whoever asks: for webhooks, which check signatures instead.
    async fn channel(&self, id: i64) -> Result<Option<Channel>>;
    /// The channels the viewer may see (P2), in id order.
    async fn list_channels(&self, viewer: Viewer) -> Result<Vec<Channel>>;
    /// The channel's queue: its mode, intervals, options and agent order.
    async fn queue(&self, channel_id: i64) -> Result<Queue>;
}

/// One session's record as the console's live events and transcripts read
/// it: the session, its state history and its messages.
#[async_trait]
pub trait TranscriptStore: Send + Sync + 'static {
    /// A session if the viewer may see it (P1, P2): otherwise `None`.
    async fn session(&self, viewer: Viewer, id: i64) -> Result<Option<Session>>;
    /// The session's state history (S1), oldest first.
    async fn session_events(&self, session_id: i64) -> Result<Vec<SessionEvent>>;
    /// The session's messages with id > `after`, oldest first (O2).
    async fn messages(&self, session_id: i64, after: i64, limit: i64) -> Result<Vec<Message>>;
}

/// The rows the routing engine keeps, so a restart rebuilds the same router.
#[async_trait]
pub trait RoutingStore: Send + Sync + 'static {
    /// Everything the engine stored, plus open sessions it never heard of.
    async fn load_routing(&self) -> Result<RoutingRows>;
    /// The message counts and last times a hook's script reads of a
    /// session, without reading its messages.
    async fn transcript_figures(&self, session_id: i64) -> Result<TranscriptFigures>;
    /// Writes one routing step in one transaction, before its effects go out.
    /// Returns the batch's replies as stored, in its order, each with its
    /// outbox entry.
    async fn apply_routing(
        &self,
        batch: &RoutingBatch,
        now: Millis,
    ) -> Result<Vec<(Message, OutboxItem)>>;
    /// An agent clocks in or out, or takes or ends a break (R7).
    async fn set_shift(
        &self,
        user_id: i64,
        clocked_in: Option<bool>,
        on_break: Option<bool>,
    ) -> Result<User>;
}

/// What admins configure beyond channels and queues: scripts (A1–A5, W2,
/// Q1, Q2), canned responses (A6), and ratings (Q1–Q3). Changes are audited (P4).
#[async_trait]
pub trait ConfigStore: Send + Sync + 'static {
    /// Saves a new version of a hook's script for a channel or for all
    /// channels (U1); `None` removes the scope's own script, so it falls back.
    async fn save_script(
        &self,
        scope: frontdesk_rules::ScriptScope,
        hook: &str,
        source: Option<&str>,
        by: i64,
        now: Millis,
    ) -> Result<ScriptVersion>;
    /// Every version of a hook's script in exactly this scope, newest first.
    async fn script_versions(
        &self,
        scope: frontdesk_rules::ScriptScope,
        hook: &str,
    ) -> Result<Vec<ScriptVersion>>;
    /// The newest version of each hook in each scope that has one.
    async fn active_scripts(&self) -> Result<Vec<ScriptVersion>>;
    /// Replaces a channel's canned-response lists (validated JSON).
    async fn set_canned(&self, actor: i64, channel_id: i64, lists: &str, now: Millis)
    -> Result<()>;
    async fn canned(&self, channel_id: i64) -> Result<Option<String>>;
    /// Records (or replaces) a rater's rating of a session.
    async fn rate(
        &self,
        session_id: i64,
        rater: Rater,
        score: i64,
        comment: Option<&str>,
        by: Option<i64>,
        now: Millis,
    ) -> Result<RatingRow>;
    async fn ratings(&self, session_id: i64) -> Result<Vec<RatingRow>>;
    /// A plugin's stored value (the `kv` import), by plugin, channel and key.
    async fn kv_get(&self, plugin: &str, channel: &str, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores a value unless the scope would then hold more than `quota` bytes
    /// of keys and values; returns false (and stores nothing) when it would.
    async fn kv_set(
        &self,
        plugin: &str,
        channel: &str,
        key: &str,
        value: &[u8],
        quota: i64,
    ) -> Result<bool>;
    async fn kv_delete(&self, plugin: &str, channel: &str, key: &str) -> Result<()>;
    /// Records an admin change made outside the database (a plugin upgrade, say).
    async fn record_audit(
        &self,
        actor: i64,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
        now: Millis,
    ) -> Result<()>;
    /// Changes a channel's name, enabled flag or config, audited.
    async fn update_channel(
        &self,
        actor: i64,
        id: i64,
        patch: &ChannelPatch,
        now: Millis,
    ) -> Result<Channel>;
}

/// The durable outbox (S5): claimed item by item by the delivery worker,
/// finished once.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Makes due at `now` the pending items node `node` claimed and did not
    /// finish (its previous process stopped mid-send): called once at start,
    /// before the worker claims anything. Returns how many there were.
    async fn release_outbox_claims(&self, node: &str, now: Millis) -> Result<u64>;
    /// Items that may go out now, oldest first, at most `limit`: due, the
    /// oldest pending item of their chat (a chat's replies keep their
    /// order), and at most `per_channel` of any one channel.
    async fn due_outbox(&self, now: Millis, per_channel: i64, limit: i64)
    -> Result<Vec<DueOutbox>>;
    /// Claims item `id` for `claimant` (node, process token) for `lease_ms`
    /// if it is still pending and due: `None` when another worker has it or
    /// it is finished. A claimant that dies leaves the item to its node's
    /// next start or, failing that, to the lease.
    async fn claim_outbox(
        &self,
        id: i64,
        claimant: (&str, &str),
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<OutboundJob>>;
    /// When the next pending item is due after `after`, if any.
    async fn next_outbox_due(&self, after: Millis) -> Result<Option<Millis>>;
    /// Records how a delivery attempt ended, if the claim with `token` still
    /// holds the item; `false` when it no longer does (its lease ran out and
    /// another worker took it over, whose outcome counts).
    async fn finish_outbox(
        &self,
        id: i64,
        token: &str,
        outcome: &Delivery,
        now: Millis,
    ) -> Result<bool>;
    /// An admin sends a failed item again: pending and due now, its
    /// attempts counted afresh, audited (P4). `None` when the item is not
    /// failed (still pending, or sent); `NotFound` when there is none.
    async fn retry_outbox(&self, actor: i64, id: i64, now: Millis) -> Result<Option<OutboxItem>>;
}

/// Attachments of inbound messages (issue 6): fetched by the worker in
/// `attachments/`, served by `GET /api/v1/attachments/{id}`. Ingest writes
/// them with their message (see [`Store::ingest`]).
#[async_trait]
pub trait AttachmentStore: Send + Sync + 'static {
    /// Takes up to `limit` due pending attachments for `lease_ms`, like the
    /// outbox's claims: a crashed worker's claims come back
    /// when the lease runs out, and on PostgreSQL two nodes never share one.
    async fn claim_attachments(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<AttachmentJob>>;
    /// When the next pending attachment is due, if any.
    async fn next_attachment_due(&self) -> Result<Option<Millis>>;
    /// Records how a fetch attempt ended; a no-op if the attachment is no
    /// longer pending (another worker finished it after this one's lease ran out).
    async fn finish_attachment(&self, id: &str, outcome: &FetchOutcome, now: Millis) -> Result<()>;
    /// An attachment with its bytes, if the viewer may see its session (P1,
    /// P2): otherwise `None`, exactly as if it did not exist.
    async fn attachment_file(&self, viewer: Viewer, id: &str) -> Result<Option<AttachmentFile>>;
}

/// How far the IMAP poller has read one mailbox (issue 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImapCursor {
    /// The mailbox's UIDVALIDITY when `last_uid` was read.
    pub uid_validity: i64,
    /// Every message up to this UID is stored.
    pub last_uid: i64,
}

/// The email connector's durable state: IMAP cursors.
#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    /// The cursor of a channel's mailbox, if it was ever polled.
    async fn imap_cursor(&self, channel_id: i64, mailbox: &str) -> Result<Option<ImapCursor>>;
    /// Moves the cursor; called only after the message at `last_uid` is committed.
    async fn set_imap_cursor(
        &self,
        channel_id: i64,
        mailbox: &str,
        cursor: ImapCursor,
        now: Millis,
    ) -> Result<()>;
}

/// Opens the database the URL names, applies its migrations, and returns the store.
///
/// `sqlite://PATH` (created when missing) or `postgres://...`. A bare path is
/// taken as an SQLite file, so `--database my.db` works too. A database a
/// newer frontdesk migrated is refused ([`StoreError::SchemaTooNew`]) before
/// anything is written to it.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    match schema::Location::parse(url)? {
        schema::Location::Postgres(url) => Ok(Arc::new(postgres::PgStore::connect(url).await?)),
        schema::Location::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::connect(path).await?)),
    }
}

/// Maps a unique-constraint violation to `Conflict`, anything else through.
fn conflict(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Invalid(format!("{} refers to a row that does not exist", what()))
        }
        _ => StoreError::Database(err),
    }
}

#[cfg(test)]
mod attachment_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bots;
#[cfg(test)]
mod tests_contacts;
#[cfg(test)]
mod tests_data;
#[cfg(test)]
mod tests_inbox;
#[cfg(test)]
mod tests_outbox;
#[cfg(test)]
mod tests_routing;
#[cfg(test)]
mod tests_scripts;
#[cfg(test)]
mod tests_stats;
#[cfg(test)]
mod tests_transcript;
#[cfg(test)]
mod tests_upgrade;
