//! The closed sets the store keeps as TEXT columns, as Rust enums.
//!
//! Each is stored under the same snake_case name serde gives it, so the
//! database contents and the JSON API read exactly as when these were
//! strings. `sqlx(type_name = "text")` makes PostgreSQL bind and read them
//! as TEXT (without it sqlx would look for a database type named after the
//! enum); SQLite takes them as TEXT anyway. A value outside the set is a
//! corrupt row and fails to decode rather than being compared as a string.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a session is in its life (S1); the store's copy of the routing
/// core's `State`, plus nothing: every state the core has, and only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SessionState {
    Bot,
    Queued,
    Offered,
    Assigned,
    Answered,
    Waiting,
    Closing,
    Rating,
    Closed,
}

impl SessionState {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Bot => "bot",
            SessionState::Queued => "queued",
            SessionState::Offered => "offered",
            SessionState::Assigned => "assigned",
            SessionState::Answered => "answered",
            SessionState::Waiting => "waiting",
            SessionState::Closing => "closing",
            SessionState::Rating => "rating",
            SessionState::Closed => "closed",
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<frontdesk_routing::State> for SessionState {
    fn from(state: frontdesk_routing::State) -> Self {
        use frontdesk_routing::State;
        match state {
            State::Bot => SessionState::Bot,
            State::Queued => SessionState::Queued,
            State::Offered => SessionState::Offered,
            State::Assigned => SessionState::Assigned,
            State::Answered => SessionState::Answered,
            State::Waiting => SessionState::Waiting,
            State::Closing => SessionState::Closing,
            State::Rating => SessionState::Rating,
            State::Closed => SessionState::Closed,
        }
    }
}

/// Which way a message went (O2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    In,
    /// To the customer: an agent's reply, a bot's or a notice.
    Out,
}

impl Direction {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Where an outbox item is (S5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// The provider took it.
    Sent,
    /// Given up after its last try; admins see it.
    Failed,
}

impl OutboxState {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }
}

/// What an attachment is, as the connector named it (the WIT
/// `attachment-kind`, stored).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Audio,
    Video,
    File,
    Location,
    Sticker,
    /// Anything the connector could not name.
    #[default]
    Other,
}

impl AttachmentKind {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Image => "image",
            AttachmentKind::Audio => "audio",
            AttachmentKind::Video => "video",
            AttachmentKind::File => "file",
            AttachmentKind::Location => "location",
            AttachmentKind::Sticker => "sticker",
            AttachmentKind::Other => "other",
        }
    }
}

/// The connector's kind, as stored.
impl From<frontdesk_plugin_host::types::AttachmentKind> for AttachmentKind {
    fn from(kind: frontdesk_plugin_host::types::AttachmentKind) -> Self {
        use frontdesk_plugin_host::types::AttachmentKind as Wit;
        match kind {
            Wit::Image => AttachmentKind::Image,
            Wit::Audio => AttachmentKind::Audio,
            Wit::Video => AttachmentKind::Video,
            Wit::File => AttachmentKind::File,
            Wit::Location => AttachmentKind::Location,
            Wit::Sticker => AttachmentKind::Sticker,
            Wit::Other => AttachmentKind::Other,
        }
    }
}

/// The stored kind, as the connector's `fetch-attachment` export is told it.
impl From<AttachmentKind> for frontdesk_plugin_host::types::AttachmentKind {
    fn from(kind: AttachmentKind) -> Self {
        use frontdesk_plugin_host::types::AttachmentKind as Wit;
        match kind {
            AttachmentKind::Image => Wit::Image,
            AttachmentKind::Audio => Wit::Audio,
            AttachmentKind::Video => Wit::Video,
            AttachmentKind::File => Wit::File,
            AttachmentKind::Location => Wit::Location,
            AttachmentKind::Sticker => Wit::Sticker,
            AttachmentKind::Other => Wit::Other,
        }
    }
}

/// Where an attachment's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AttachmentState {
    /// Waiting for the fetch worker.
    Pending,
    /// In the database.
    Stored,
    /// Never to be fetched: refused, nothing to fetch from, or the last try failed.
    Failed,
}

impl AttachmentState {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentState::Pending => "pending",
            AttachmentState::Stored => "stored",
            AttachmentState::Failed => "failed",
        }
    }
}

/// Who rated a session (Q1, Q3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Rater {
    /// The customer, answering the rating question (Q1).
    Customer,
    /// A supervisor (Q3).
    Supervisor,
}

impl Rater {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Rater::Customer => "customer",
            Rater::Supervisor => "supervisor",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` (what SQL and logs see) is serde's name (what the API shows).
    #[test]
    fn stored_names_are_the_api_names() {
        fn same<T: Serialize>(value: T, name: &str) {
            assert_eq!(serde_json::to_value(value).unwrap(), name);
        }
        for d in [Direction::In, Direction::Out] {
            same(d, d.as_str());
        }
        for s in [OutboxState::Pending, OutboxState::Sent, OutboxState::Failed] {
            same(s, s.as_str());
        }
        for s in [
            AttachmentState::Pending,
            AttachmentState::Stored,
            AttachmentState::Failed,
        ] {
            same(s, s.as_str());
        }
        for k in [
            AttachmentKind::Image,
            AttachmentKind::Audio,
            AttachmentKind::Video,
            AttachmentKind::File,
            AttachmentKind::Location,
            AttachmentKind::Sticker,
            AttachmentKind::Other,
        ] {
            same(k, k.as_str());
            let wit: frontdesk_plugin_host::types::AttachmentKind = k.into();
            assert_eq!(AttachmentKind::from(wit), k, "{k:?} survives the WIT type");
        }
        for r in [Rater::Customer, Rater::Supervisor] {
            same(r, r.as_str());
        }
    }

    /// The names stored and shown are serde's, for every variant the core has.
    #[test]
    fn session_states_keep_the_routing_core_names() {
        use frontdesk_routing::State;
        for state in [
            State::Bot,
            State::Queued,
            State::Offered,
            State::Assigned,
            State::Answered,
            State::Waiting,
            State::Closing,
            State::Rating,
            State::Closed,
        ] {
            assert_eq!(
                serde_json::to_value(SessionState::from(state)).unwrap(),
                serde_json::to_value(state).unwrap()
            );
            assert_eq!(SessionState::from(state).as_str(), state.to_string());
        }
    }
}
