//! Rows and inputs the store reads and writes. Times are unix milliseconds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::channel_config::ChannelConfig;
use super::kinds::{Direction, OutboxState, Rater, SessionState};

/// Unix time in milliseconds: the one time type every backend stores.
pub type Millis = i64;

/// What a user may do (P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Configures channels, queues, scripts and plugins (O5).
    Admin,
    /// Sees and rates every session of their channels (Q3).
    Supervisor,
    /// Answers the sessions of the queues they are in.
    Agent,
}

impl Role {
    /// The name stored in the database and shown in errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    /// Parses the stored name; unknown names are a corrupt row, not user input.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

/// A console user: admin, supervisor or agent, with the status routing reads (R13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// A disabled user can no longer sign in; their token is refused.
    pub disabled: bool,
    /// Dismissed agents get no sessions, and their sessions go back to the queue (R15).
    pub dismissed: bool,
    /// Agents on vacation get no sessions either (R13, R15).
    pub vacation: bool,
    pub clocked_in: bool,
    pub on_break: bool,
    pub last_activity_at: Option<Millis>,
    pub created_at: Millis,
    /// I1: the name customers see on channels that show agents' profiles;
    /// the user name when unset.
    pub display_name: Option<String>,
    /// I1: the avatar that goes with it.
    pub avatar_url: Option<String>,
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Role::parse(&s).ok_or_else(|| format!("unknown role {s:?} in the users table"))
    }
}

/// Status flags an admin sets on a user; `None` leaves a flag as it is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserStatusPatch {
    pub disabled: Option<bool>,
    pub dismissed: Option<bool>,
    pub vacation: Option<bool>,
}

/// An open channel: one network connection (an `api` endpoint, a Telegram bot, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Channel {
    pub id: i64,
    /// Shown to customers, e.g. in the chat window header (O1).
    pub name: String,
    /// Which connector handles it: `api` is built in (X3).
    pub kind: String,
    /// Shared secret the provider signs webhooks with (P3). Only admins see it.
    #[serde(skip)]
    pub secret: String,
    /// Connector and channel settings, parsed once when read.
    #[schema(value_type = Object)]
    #[sqlx(try_from = "String")]
    pub config: ChannelConfig,
    pub enabled: bool,
    pub created_at: Millis,
}

fn raw_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    value.serialize(s)
}

/// Input for a new channel.
#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: String,
    pub kind: String,
    pub secret: String,
    pub config: String,
}

/// How a queue hands out sessions (R2–R4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueMode {
    /// Longest-idle agent first (R2).
    Evenly,
    /// Queue order, forwarding after the forward interval (R3).
    Strict,
    /// Offered to every eligible agent, first to accept takes it (R4).
    Everybody,
}

impl QueueMode {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueMode::Evenly => "evenly",
            QueueMode::Strict => "strict",
            QueueMode::Everybody => "everybody",
        }
    }

    pub fn parse(s: &str) -> Option<QueueMode> {
        match s {
            "evenly" => Some(QueueMode::Evenly),
            "strict" => Some(QueueMode::Strict),
            "everybody" => Some(QueueMode::Everybody),
            _ => None,
        }
    }
}

/// A channel's queue: its mode, intervals and ordered agents (R1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    pub mode: QueueMode,
    /// R5, in seconds (60..=43200).
    pub forward_interval_secs: i64,
    /// R6, in seconds (60..=43200).
    pub unanswered_interval_secs: i64,
    /// User ids in queue order; the order matters for strict mode (R3).
    pub agents: Vec<i64>,
    /// Everything else; each option defaults to off.
    #[serde(default)]
    pub options: QueueOptions,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            mode: QueueMode::Evenly,
            forward_interval_secs: 180,
            unanswered_interval_secs: 600,
            agents: Vec::new(),
            options: QueueOptions::default(),
        }
    }
}

/// A queue's options (R7–R10, R14, A4, Q1, Q2); all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QueueOptions {
    /// R7: only agents who are clocked in and not on a break get sessions.
    pub require_clocked_in: bool,
    /// R8: only online agents get sessions.
    pub require_online: bool,
    /// R9: a customer message to an offline agent's session requeues it.
    pub watch_availability: bool,
    /// R10: at most this many open sessions per agent.
    pub session_limit: Option<u32>,
    /// R10: which sessions the limit leaves out.
    #[schema(value_type = String, example = "closed_only")]
    pub limit_exclusion: frontdesk_routing::LimitExclusion,
    /// R14: a known contact's session goes to their responsible agent first.
    pub route_to_responsible: bool,
    /// A4: seconds between an agent closing a session and it closing for good.
    pub close_delay_secs: i64,
    /// Q1: ask the customer for a rating when the session closes.
    pub ask_rating: bool,
    /// Q2: close the session as soon as the rating arrives.
    pub close_on_rating: bool,
    /// C5: a transfer by hand makes the new agent responsible for the
    /// contact; off, the first agent who took a session stays responsible.
    pub transfer_makes_responsible: bool,
}

/// A known customer, matched by channel identity, email or phone (C1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The agent responsible for this contact (R14, C5).
    pub responsible_user_id: Option<i64>,
    pub created_at: Millis,
    /// C1: its details are only what the customer claimed (a widget
    /// visitor's pre-chat email or phone, say); it is never matched
    /// automatically, and an agent decides whether it is `possible_match_id`.
    pub unverified: bool,
    /// For an unverified contact: the oldest verified contact, among those
    /// the caller may see, with the same email or phone. Merge it by hand
    /// (`POST /contacts/{possible_match_id}/merge {"from": id}`) if it is them.
    #[sqlx(default)]
    pub possible_match_id: Option<i64>,
}

/// Input for a contact an agent or admin records by hand.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub responsible_user_id: Option<i64>,
}

/// One conversation with a customer in one channel (S1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub channel_id: i64,
    pub contact_id: i64,
    /// The provider's chat id (Telegram chat, email thread, widget visitor).
    pub chat_id: String,
    /// The network the customer wrote from (C3).
    pub source: String,
    /// S1 state: bot, queued, offered, assigned, answered, waiting, closing, rating, closed.
    pub state: SessionState,
    pub agent_id: Option<i64>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_message_at: Millis,
}

/// One recorded move of a session between states (S1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SessionEvent {
    pub from_state: Option<SessionState>,
    pub to_state: SessionState,
    pub cause: String,
    pub actor_id: Option<i64>,
    pub at: Millis,
}

/// A message in a session's log (O2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub session_id: i64,
    /// `in` from the customer, `out` to the customer.
    pub direction: Direction,
    pub author_id: Option<i64>,
    pub external_id: Option<String>,
    /// The text as the customer wrote it: empty for a message of attachments only.
    pub body: String,
    pub created_at: Millis,
    /// Set when this message is a customer's edit of an earlier one: the
    /// provider's id of the edited message (its `external_id`).
    pub edit_of: Option<String>,
    /// Files and media that came with it, in the order the provider gave them.
    #[sqlx(skip)]
    pub attachments: Vec<super::AttachmentInfo>,
}

/// A normalized inbound message, as a connector hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InboundMessage {
    /// The provider's message id: with the channel, the idempotency key (S3).
    pub external_id: String,
    /// The provider's chat id: all messages of one chat share a session.
    pub chat_id: String,
    pub sender: Sender,
    /// The customer's text; empty for a message of attachments only.
    pub text: String,
    /// Stored with the message, in the same transaction.
    #[serde(default)]
    pub attachments: Vec<super::NewAttachment>,
    /// The provider's id of the message this one edits, if it is an edit.
    #[serde(default)]
    pub edit_of: Option<String>,
}

/// Who wrote an inbound message, as far as the provider tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Sender {
    /// The sender's id on the network (used to match contacts, C1).
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// C1: the channel vouches for this sender's id, email and phone (a
    /// provider-authenticated id, an email channel's sender, a widget user
    /// the site's HMAC proved, a signed `api` call), so they may match a
    /// known contact. Set by the host only, never read from a payload.
    #[serde(skip)]
    pub verified: bool,
}

/// Where an inbound message landed; a retry of it gets the same answer (S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub message_id: i64,
    pub session_id: i64,
    /// True when this message was stored before and nothing new was written.
    #[serde(skip)]
    pub duplicate: bool,
    /// True when this message opened the session (the engine routes it).
    #[serde(skip)]
    pub new_session: bool,
    /// With `new_session`: the session's contact and its responsible agent
    /// (R14), read in the message's transaction so routing reads neither.
    #[serde(skip)]
    pub contact: Option<SessionContact>,
}

/// The contact a session opened for, as the routing engine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionContact {
    pub id: i64,
    /// The contact's responsible agent (C5), whom R14 offers the session first.
    pub responsible: Option<i64>,
}

/// An outbound message waiting in (or done with) the durable outbox (S5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: i64,
    pub channel_id: i64,
    /// pending, sent or failed (after its last try).
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
}

/// One admin change (P4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    #[serde(serialize_with = "raw_json")]
    pub detail: String,
    pub at: Millis,
}

/// Which audit entries to list (P4); `None` matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Changes made by this user.
    pub actor_id: Option<i64>,
    /// An exact action (`user.status`), or a prefix ending in `.` (`user.`
    /// for every change to users).
    pub action: Option<String>,
    /// At or after this time.
    pub since: Option<Millis>,
    /// Before this time.
    pub until: Option<Millis>,
    pub limit: i64,
}

/// Who is asking, for every read and write that depends on it (P1, P2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
}

impl Viewer {
    /// Admins see everything; others only the channels they belong to.
    pub fn sees_all(self) -> bool {
        self.role == Role::Admin
    }
}

/// Filters for listing sessions; every value is bound, never spliced into SQL.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    pub channel_id: Option<i64>,
    pub state: Option<String>,
    /// Matches the contact's name, email or phone (substring).
    pub q: Option<String>,
    /// At most this many rows (default 100, at most 500).
    pub limit: Option<i64>,
}

/// One saved version of an auto-action script (P4: who saved it, when).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ScriptVersion {
    pub id: i64,
    /// The hook's name, e.g. `first_message`.
    pub hook: String,
    /// `None` when this version removed the scope's own script (a reset).
    pub source: Option<String>,
    pub saved_by: Option<i64>,
    pub saved_at: Millis,
    /// The channel it belongs to; `None` for the script every channel
    /// without its own runs (U1).
    pub channel_id: Option<i64>,
}

/// A rating of a session (Q1, Q3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct RatingRow {
    /// `customer`, or `supervisor` (Q3).
    pub rater: Rater,
    /// 1 to 5.
    pub score: i64,
    pub comment: Option<String>,
    /// The supervisor who rated.
    pub rated_by: Option<i64>,
    pub at: Millis,
}

/// A contact's answer to the consent notice (G1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConsentRow {
    pub accepted: bool,
    /// The notice version answered; a newer notice asks again.
    pub notice_version: i64,
    pub at: Millis,
}

/// An admin's change to a channel; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// Connector and channel settings, replaced whole (e.g. `working_hours`, `language`).
    #[schema(value_type = Object)]
    pub config: Option<serde_json::Value>,
}

/// An outbox item the worker may claim now (see [`super::OutboxStore::due_outbox`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueOutbox {
    pub id: i64,
    /// Deliveries run side by side with a bound per channel.
    pub channel_id: i64,
}

/// An outbox item claimed for delivery, with what to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundJob {
    /// The outbox item; also the delivery id receivers can dedupe on.
    pub id: i64,
    pub message_id: i64,
    /// The agent who wrote it (I1); `None` for bots and the host's notices.
    pub author_id: Option<i64>,
    pub channel_id: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The provider's chat to send to.
    pub chat_id: String,
    pub text: String,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The provider took it; it is never sent again.
    Sent,
    /// Try again at `at` (backoff, or the provider's `Retry-After`).
    Retry { at: Millis, error: String },
    /// Given up: a permanent refusal or the last try; admins see it (S5).
    Failed { error: String },
}

/// What the channel list shows of a channel's traffic (U1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelActivity {
    /// When the newest customer message arrived; `None` before the first.
    pub last_inbound_at: Option<Millis>,
    /// Replies that failed after their last try and still wait for an admin.
    pub failed_outbox: i64,
}
