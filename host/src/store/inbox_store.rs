//! The routing inbox (issue 18, migration 0024): how routing events reach
//! the routing leader from every node on PostgreSQL.
//!
//! Ingest writes a row for each new session and customer message in the
//! transaction that stores the message; a node that does not route writes
//! one for each event it forwards. The leader reads rows in id order and
//! deletes the ones it applied in the transaction of the step that applied
//! them ([`RoutingBatch::inbox_applied`](super::RoutingBatch)), together with
//! the answers the forwarding nodes wait for. SQLite is one node: it has no
//! inbox, [`RoutingInboxStore::has_routing_inbox`] is `false` there and the
//! engine routes in memory as before.
//!
//! Both tables are woken by `NOTIFY`: [`ROUTING_CHANNEL`] when a row is
//! written, [`ANSWER_CHANNEL`] (payload: the row's id) when it is answered.

use async_trait::async_trait;

use super::{Message, OutboxItem, Result};

/// The channel `NOTIFY`ed when routing inbox rows are written.
pub const ROUTING_CHANNEL: &str = "frontdesk_routing";
/// The channel `NOTIFY`ed, with the inbox row's id, when an answer is written.
pub const ANSWER_CHANNEL: &str = "frontdesk_answers";

/// One routing event waiting for the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub id: i64,
    /// The node that accepted it.
    pub origin: String,
    /// The event in the engine's wire form (JSON).
    pub event: String,
    /// Whether a node waits for the answer.
    pub wants_answer: bool,
}

/// The leader's answer to a forwarded event, written with its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxAnswer {
    pub inbox_id: i64,
    /// The outcome in the engine's wire form (JSON).
    pub outcome: String,
    /// For an agent's reply: its place among the step's stored replies, so
    /// the answer names the message the step stored.
    pub reply: Option<usize>,
}

/// An answer as the waiting node reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub outcome: String,
    /// An agent's reply the step stored.
    pub message_id: Option<i64>,
}

/// What a notification listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Routing inbox rows were written.
    Routing,
    /// The inbox row with this id was answered.
    Answer(i64),
    /// The connection was lost and made again: notifications sent meanwhile
    /// are gone, so whoever waits looks at the tables again.
    Reconnected,
}

/// A `LISTEN` connection of its own on [`ROUTING_CHANNEL`] and [`ANSWER_CHANNEL`].
#[async_trait]
pub trait InboxListener: Send {
    /// The next notification; reconnects by itself after a lost connection.
    async fn recv(&mut self) -> Result<Heard>;
}

/// The routing inbox's rows (see the module doc).
#[async_trait]
pub trait RoutingInboxStore: Send + Sync + 'static {
    /// Whether this backend routes through the inbox (PostgreSQL): ingest
    /// then writes the rows itself, and a node that does not route forwards.
    fn has_routing_inbox(&self) -> bool;
    /// Writes one event (wire form) from node `origin` and notifies the leader;
    /// returns its id.
    async fn push_inbox(&self, origin: &str, event: &str, wants_answer: bool) -> Result<i64>;
    /// The oldest waiting events, in id order, at most `limit`.
    async fn read_inbox(&self, limit: i64) -> Result<Vec<InboxRow>>;
    /// Takes the answer to inbox row `inbox_id` if it is there (deleting it:
    /// an answer is read once).
    async fn take_answer(&self, inbox_id: i64) -> Result<Option<StoredAnswer>>;
    /// An agent's reply as stored, with its outbox entry.
    async fn stored_reply(&self, message_id: i64) -> Result<Option<(Message, OutboxItem)>>;
    /// Deletes answers older than `older_than_secs` (nobody waits for them
    /// any more); returns how many.
    async fn sweep_answers(&self, older_than_secs: i64) -> Result<u64>;
    /// A listener for the inbox's notifications; `None` without an inbox.
    async fn inbox_listener(&self) -> Result<Option<Box<dyn InboxListener>>>;
}
