//! A customer's data and how long it is kept (issue 19): retention's
//! batches, a contact's export (GDPR art. 15, 20) and erasure (art. 17). The
//! SQL is in `shared/data.rs` and `shared/contact_data.rs`.
//!
//! Export and erasure find the rows that name a contact from the schema
//! itself: every table with a `contact_id` or `session_id` column (plus the
//! outbox by its message), so a table added later is covered without a
//! change here.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Millis, Result};

/// What one retention batch removed from a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetentionCounts {
    /// Sessions turned into stubs (their timing columns kept for statistics).
    pub sessions: u64,
    pub messages: u64,
    pub attachments: u64,
    /// Bytes of the attachments removed.
    pub attachment_bytes: u64,
    /// Failed inbound requests older than the cutoff.
    pub failed_inbound: u64,
}

impl RetentionCounts {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: RetentionCounts) {
        self.sessions += other.sessions;
        self.messages += other.messages;
        self.attachments += other.attachments;
        self.attachment_bytes += other.attachment_bytes;
        self.failed_inbound += other.failed_inbound;
    }

    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        *self == RetentionCounts::default()
    }
}

/// Everything stored about one contact, table by table.
#[derive(Debug, Clone, Default)]
pub struct ContactExport {
    /// Table name → its rows naming the contact, as JSON objects (column →
    /// value; bytes in base64). The contact row itself is under `contacts`.
    pub tables: BTreeMap<String, Vec<serde_json::Value>>,
    /// The stored attachment files: (attachment id, file name, bytes).
    pub files: Vec<(String, Option<String>, Vec<u8>)>,
}

/// How a request to erase a contact ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erasure {
    /// There is no such contact.
    NotFound,
    /// These sessions of theirs are not closed: the routing engine still
    /// holds them, so nothing was erased.
    OpenSessions(Vec<i64>),
    /// Erased: rows removed per table (plus `attachment_bytes`).
    Erased(BTreeMap<String, u64>),
}

/// Retention, export and erasure.
#[async_trait]
pub trait DataStore: Send + Sync + 'static {
    /// One short transaction: turns at most `limit` closed sessions of the
    /// channel whose last message is older than `before` into stubs (their
    /// messages, attachments, outbox rows, events, ratings and bot data
    /// removed; chat id and lead note cleared; timing and score columns
    /// kept), and removes at most `limit` failed inbound requests older than
    /// `before`. Returns what it removed; all zero when nothing is left.
    async fn retain_batch(
        &self,
        channel_id: i64,
        before: Millis,
        limit: i64,
        now: Millis,
    ) -> Result<RetentionCounts>;
    /// Audits one retention run of a channel (no actor: the server did it).
    async fn audit_retention(
        &self,
        channel_id: i64,
        days: i64,
        counts: &RetentionCounts,
        now: Millis,
    ) -> Result<()>;
    /// Every row that names the contact; `None` if there is no such contact.
    async fn contact_export(&self, contact_id: i64) -> Result<Option<ContactExport>>;
    /// Erases the contact everywhere in one transaction: every row naming
    /// them or their sessions, their attachments' bytes, unsent outbox
    /// items, failed inbound requests and plugin kv entries that contain one
    /// of their identities (or their email or phone), and the contact.
    /// Audited by `actor` with counts only, no personal data.
    async fn erase_contact(&self, actor: i64, contact_id: i64, now: Millis) -> Result<Erasure>;
}

/// The shortest identity, email or phone erasure looks for inside failed
/// inbound requests and plugin kv entries: shorter ones (`"7"`) would match
/// unrelated bytes.
pub const MIN_NEEDLE_LEN: usize = 4;

/// Whether `haystack` contains `needle` (bytes).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
