//! The live-chat widget's rows (issue 7), shared by both backends (see `sql.rs`):
//! the server's own secrets, visitors' contacts and a visitor's chat log.

use std::sync::LazyLock;

use async_trait::async_trait;

use super::{Direction, Millis, Result, SessionState};

/// One message of a visitor's chat, as the widget is shown it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatMessage {
    pub id: i64,
    pub session_id: i64,
    /// `in` from the customer, `out` to the customer.
    pub direction: Direction,
    /// The agent who wrote it; `None` for the customer, bots and notices.
    pub author_id: Option<i64>,
    /// The agent's user name, when there is an agent.
    pub author_name: Option<String>,
    /// The agent's display name and avatar (I1), if they set them.
    pub author_display_name: Option<String>,
    pub author_avatar: Option<String>,
    /// The connector's id: `{visitor}/{client_id}` for the widget's own messages.
    pub external_id: Option<String>,
    pub body: String,
    pub created_at: Millis,
    /// The session's state now: `rating` when it waits for the customer's score (Q1).
    pub session_state: SessionState,
}

/// Contact details a visitor gave in the widget (C2).
#[derive(Debug, Clone, Default)]
pub struct VisitorDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What the webchat endpoints keep.
#[async_trait]
pub trait WebchatStore: Send + Sync + 'static {
    /// The server secret called `name`; `fresh` becomes it if there is none
    /// yet. The first writer wins, so every node reads the same value.
    async fn server_secret(&self, name: &str, fresh: &str, now: Millis) -> Result<String>;
    /// The contact of a channel's visitor, linked to the visitor id if there
    /// is none yet; the ingest path finds it by the same link. Only a
    /// `verified` visitor (the site's identity HMAC) is matched to a known
    /// contact by email or phone and may write details on one; an anonymous
    /// visitor's details are claims, kept on a contact of their own that is
    /// marked unverified (C1).
    async fn visitor_contact(
        &self,
        channel_id: i64,
        visitor_id: &str,
        verified: bool,
        details: &VisitorDetails,
        now: Millis,
    ) -> Result<i64>;
    /// The messages of a chat (all its sessions) after message `after`, oldest first.
    async fn chat_messages(
        &self,
        channel_id: i64,
        chat_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChatMessage>>;
    /// One message of a chat, for a frame the outbox pushes.
    async fn chat_message(&self, message_id: i64) -> Result<Option<ChatMessage>>;
    /// The newest session of a chat (O3: the transcript the visitor asks for).
    async fn latest_chat_session(&self, channel_id: i64, chat_id: &str) -> Result<Option<i64>>;
}

/// The columns of a [`ChatMessage`], selected from its message, session and author.
const CHAT_COLUMNS: &str = "SELECT m.id, m.session_id, m.direction, m.author_id, \
     u.name AS author_name, u.display_name AS author_display_name, u.avatar_url AS author_avatar, \
     m.external_id, m.body, m.created_at, s.state AS session_state \
     FROM messages m JOIN sessions s ON s.id = m.session_id \
     LEFT JOIN users u ON u.id = m.author_id";

/// A chat's log: every session of the chat, after a message id.
pub(super) static CHAT_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{CHAT_COLUMNS} WHERE s.channel_id = $1 AND s.chat_id = $2 AND m.id > $3 \
         ORDER BY m.id LIMIT $4"
    )
});

/// One message with its chat's details.
pub(super) static CHAT_ONE: LazyLock<String> =
    LazyLock::new(|| format!("{CHAT_COLUMNS} WHERE m.id = $1"));
