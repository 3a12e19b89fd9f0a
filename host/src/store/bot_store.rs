//! What the chat bots (B1) keep: each channel's bot, each bot conversation's
//! progress and timers, and the leads bots create (C2, C3). The SQL is in
//! `sql_bots.rs`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Millis, Result};

/// The bot a channel's new sessions go to first (B1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelBot {
    /// An installed plugin of kind `bot`.
    pub plugin: String,
    /// How long the bot may stay silent when it is its turn (after a customer
    /// message it neither answered nor asked about) before the session goes to
    /// the queue.
    pub timeout_secs: i64,
    /// The bot's own settings, checked against its manifest's config schema.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Where a bot conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotStatus {
    /// The bot holds the session.
    Active,
    /// The bot chose a routing move (`exit`) that is not applied yet.
    Leaving,
    /// The bot is finished with the session.
    Done,
}

impl BotStatus {
    fn parse(text: &str) -> BotStatus {
        match text {
            "active" => BotStatus::Active,
            "leaving" => BotStatus::Leaving,
            _ => BotStatus::Done,
        }
    }

    /// The column value.
    pub fn as_str(self) -> &'static str {
        match self {
            BotStatus::Active => "active",
            BotStatus::Leaving => "leaving",
            BotStatus::Done => "done",
        }
    }
}

/// The routing move a bot's conversation ends with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotExit {
    /// To the channel's queue (`hand-over`, or the bot failed).
    HandOver,
    /// To this agent (by user id).
    Agent(i64),
    /// To this channel's queue.
    Queue(i64),
    /// Closed.
    Close,
}

/// One session's bot conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BotSession {
    pub session_id: i64,
    pub channel_id: i64,
    /// The bot plugin.
    pub plugin: String,
    pub timeout_secs: i64,
    /// The bot's channel config as it was when the session started.
    #[serde(skip)]
    pub config: String,
    pub status: BotStatus,
    /// Whether `session-started` was delivered.
    pub started: bool,
    /// The last inbound message the bot was given.
    pub seen_message: i64,
    /// The field of an `ask` waiting for the customer's answer.
    pub pending_field: Option<String>,
    /// That question's suggested answers (a number picks one).
    pub pending_options: Vec<String>,
    /// Only messages after this one answer the pending question.
    pub ask_after: i64,
    /// What the bot stored with `set-data`, shown to agents.
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The bot's note for the agent (`hand-over`), or why it was taken off.
    pub note: Option<String>,
    /// The routing move, once chosen.
    pub exit: Option<BotExit>,
    /// Why the conversation ended, in words.
    pub reason: Option<String>,
    /// When the worker must look again: the silence deadline, or a retry.
    pub due_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A `bot_sessions` row as stored.
#[derive(sqlx::FromRow)]
pub(super) struct BotRow {
    session_id: i64,
    channel_id: i64,
    plugin: String,
    timeout_secs: i64,
    config: String,
    status: String,
    started: bool,
    seen_message: i64,
    pending_field: Option<String>,
    pending_options: String,
    ask_after: i64,
    data: String,
    note: Option<String>,
    exit: Option<String>,
    reason: Option<String>,
    due_at: Option<Millis>,
    created_at: Millis,
    updated_at: Millis,
}

/// The columns [`BotRow`] reads.
pub(super) const BOT_COLUMNS: &str = "session_id, channel_id, plugin, timeout_secs, config, status, started, \
     seen_message, pending_field, pending_options, ask_after, data, note, exit, reason, due_at, created_at, updated_at";

impl BotSession {
    pub(super) fn from_row(r: BotRow) -> BotSession {
        BotSession {
            session_id: r.session_id,
            channel_id: r.channel_id,
            plugin: r.plugin,
            timeout_secs: r.timeout_secs,
            config: r.config,
            status: BotStatus::parse(&r.status),
            started: r.started,
            seen_message: r.seen_message,
            pending_field: r.pending_field,
            pending_options: serde_json::from_str(&r.pending_options).unwrap_or_default(),
            ask_after: r.ask_after,
            data: serde_json::from_str(&r.data).unwrap_or_default(),
            note: r.note,
            exit: r.exit.and_then(|e| serde_json::from_str(&e).ok()),
            reason: r.reason,
            due_at: r.due_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What one bot event consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotConsumed {
    /// `session-started` was delivered.
    Started,
    /// This inbound message was delivered (as a message or an answer).
    Message(i64),
    /// This timer fired.
    Timer(String),
    /// Nothing (a failure or silence decided the step).
    Nothing,
}

/// Contact fields a bot set (`contact.name`, `contact.email`, `contact.phone`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactFields {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// Everything one bot event leads to, written in one transaction.
#[derive(Debug, Clone)]
pub struct BotStep {
    pub session_id: i64,
    pub consumed: BotConsumed,
    /// Texts for the customer, in order, through the outbox (S5).
    pub replies: Vec<String>,
    /// `set-data` values, in order.
    pub data: Vec<(String, String)>,
    pub contact: ContactFields,
    /// Create the session's lead (C2), if the customer can be reached again.
    pub lead: bool,
    /// `set-timer`: name and due time.
    pub timers: Vec<(String, Millis)>,
    /// `Some(None)` clears the pending question, `Some(Some(..))` sets one.
    pub ask: Option<Option<(String, Vec<String>)>>,
    /// `Some(None)` clears the silence deadline, `Some(Some(t))` sets it.
    pub due_at: Option<Option<Millis>>,
    /// The routing move, with the note for the agent and the reason.
    pub exit: Option<(BotExit, Option<String>, String)>,
}

impl BotStep {
    /// A step that consumes `consumed` and does nothing else yet.
    pub fn new(session_id: i64, consumed: BotConsumed) -> BotStep {
        BotStep {
            session_id,
            consumed,
            replies: Vec::new(),
            data: Vec::new(),
            contact: ContactFields::default(),
            lead: false,
            timers: Vec::new(),
            ask: None,
            due_at: None,
            exit: None,
        }
    }
}

/// What writing a step did that the caller reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotStepOutcome {
    /// Why a requested lead was not created (C2: the customer cannot be reached).
    pub lead_refused: Option<String>,
}

/// A lead (C2): a customer worth following up, with where they came from (C3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Lead {
    pub id: i64,
    pub contact_id: i64,
    pub session_id: Option<i64>,
    pub channel_id: i64,
    /// The network the customer wrote from (C3): `api`, `telegram`, `email`, ...
    pub source: String,
    /// The customer's name when the lead was created.
    pub name: String,
    /// Who created it, e.g. `bot:lead-form`.
    pub created_by: String,
    pub created_at: Millis,
}

/// The bots' durable state.
#[async_trait]
pub trait BotStore: Send + Sync + 'static {
    /// The channel's bot, if it has one.
    async fn channel_bot(&self, channel_id: i64) -> Result<Option<ChannelBot>>;
    /// Sets or (with `None`) removes the channel's bot, audited (P4).
    async fn set_channel_bot(
        &self,
        actor: i64,
        channel_id: i64,
        bot: Option<&ChannelBot>,
        now: Millis,
    ) -> Result<()>;
    /// A session's bot conversation.
    async fn bot_session(&self, session_id: i64) -> Result<Option<BotSession>>;
    /// Starts the bot conversation of a session in state `bot` with its
    /// channel's bot; returns the row (an existing one unchanged). A session
    /// whose channel has no bot any more starts `leaving` for the queue.
    async fn start_bot_session(&self, session_id: i64, now: Millis) -> Result<Option<BotSession>>;
    /// The name of a timer of this session that is due, if any.
    async fn due_bot_timer(&self, session_id: i64, now: Millis) -> Result<Option<String>>;
    /// Writes one bot event's results in one transaction.
    async fn apply_bot_step(&self, step: &BotStep, now: Millis) -> Result<BotStepOutcome>;
    /// Marks the conversation done (its routing move applied), or, with
    /// `retry_at`, keeps it leaving and due again then.
    async fn finish_bot_session(
        &self,
        session_id: i64,
        reason: Option<&str>,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> Result<()>;
    /// The earliest silence deadline, retry or bot timer of a live conversation.
    async fn next_bot_due(&self) -> Result<Option<Millis>>;
    /// Live conversations with something due at `now`.
    async fn due_bot_sessions(&self, now: Millis) -> Result<Vec<i64>>;
    /// Sessions a bot must look at after a restart: live conversations, and
    /// sessions in state `bot` whose conversation never started.
    async fn bot_sessions_to_resume(&self) -> Result<Vec<i64>>;
    /// Leads, newest first, optionally of one session.
    async fn leads(&self, session_id: Option<i64>, limit: i64) -> Result<Vec<Lead>>;
}
