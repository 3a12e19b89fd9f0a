//! What a script sees: the event the engine builds before running a hook.
//!
//! The same type is the JSON format of `frontdesk rules test --event FILE`
//! (X1); `examples/*.json` has one per hook. A minimal event:
//!
//! ```json
//! {
//!   "hook": "first_message",
//!   "now": 1767603600000,
//!   "session": { "id": 7, "state": "queued", "started_at": 1767603600000,
//!                "last_message_at": 1767603600000, "customer_messages": 1 },
//!   "channel": { "name": "Support" }
//! }
//! ```
//!
//! Times are Unix milliseconds. Everything not shown has a default: no
//! contact details, channel language `en`, evenly mode, always open.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::consent::ConsentStatus;
use crate::hook::Hook;
use crate::hours::WorkingHours;
use frontdesk_routing::{Mode, SessionId, Span, State, Timestamp};

/// Everything a hook may read. Scripts get it as the variables `now`,
/// `session`, `contact`, `channel`, `message` and `rating`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookEvent {
    /// Which hook this event is for. Optional in Rust calls (the hook is an
    /// argument there), used by `rules test` when no hook is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<Hook>,
    /// The read-only clock: the time the engine handled the event.
    pub now: Timestamp,
    /// The session.
    pub session: SessionInfo,
    /// The customer.
    #[serde(default)]
    pub contact: ContactInfo,
    /// The open channel.
    pub channel: ChannelInfo,
    /// The customer message that triggered A1 or W2, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Q2: the rating that just arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingInfo>,
}

/// The session, as of the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Its id.
    pub id: SessionId,
    /// Its state (S1).
    pub state: State,
    /// When it opened.
    pub started_at: Timestamp,
    /// Its latest message from anyone.
    pub last_message_at: Timestamp,
    /// The customer's latest message.
    #[serde(default)]
    pub last_customer_message_at: Option<Timestamp>,
    /// The customer's message before that one: lets W2 tell a new visit from
    /// the next line of the same burst.
    #[serde(default)]
    pub previous_customer_message_at: Option<Timestamp>,
    /// An agent's latest message.
    #[serde(default)]
    pub last_agent_message_at: Option<Timestamp>,
    /// How many messages the customer has sent, the current one included.
    #[serde(default)]
    pub customer_messages: u32,
    /// How many messages agents have sent.
    #[serde(default)]
    pub agent_messages: u32,
    /// Who wrote last.
    #[serde(default)]
    pub last_author: Option<Author>,
    /// R6 marked it unanswered.
    #[serde(default)]
    pub unanswered: bool,
    /// The agent's name as the channel shows it to customers (I1), if any.
    #[serde(default)]
    pub agent_name: Option<String>,
}

impl SessionInfo {
    /// A session that opened at `started_at` with nothing else known yet;
    /// set the other fields from the stored session.
    pub fn new(id: SessionId, state: State, started_at: Timestamp) -> Self {
        Self {
            id,
            state,
            started_at,
            last_message_at: started_at,
            last_customer_message_at: None,
            previous_customer_message_at: None,
            last_agent_message_at: None,
            customer_messages: 0,
            agent_messages: 0,
            last_author: None,
            unanswered: false,
            agent_name: None,
        }
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// An agent.
    Agent,
    /// A bot (B1).
    Bot,
}

impl Author {
    /// The name scripts compare against.
    pub fn name(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Agent => "agent",
            Author::Bot => "bot",
        }
    }
}

/// The customer as far as the channel knows them (C1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactInfo {
    /// Display name, if known.
    pub name: Option<String>,
    /// Email address, if known.
    pub email: Option<String>,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// G1 consent, for the channel's current notice.
    pub consent: ConsentStatus,
    /// Matched a known contact (C1) rather than being a new lead.
    pub known: bool,
}

/// The open channel and the settings scripts read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelInfo {
    /// Its name, as customers see it (O1).
    pub name: String,
    /// The language for messages to customers (O3), e.g. `en`, `de`.
    #[serde(default = "english")]
    pub language: String,
    /// The queue's routing mode: A2 may only requeue in `evenly`.
    #[serde(default)]
    pub mode: Mode,
    /// W1; `None` means always open.
    #[serde(default)]
    pub working_hours: Option<Arc<WorkingHours>>,
    /// A4: the configured close delay, which the default script returns.
    #[serde(default)]
    pub close_delay_ms: i64,
    /// A5: close a session quiet for this long; `None` turns A5 off.
    #[serde(default)]
    pub timeout_ms: Option<i64>,
    /// Q2: the admin wants a rated session closed at once.
    #[serde(default)]
    pub close_on_rating: bool,
    /// W2: the channel's own reply outside working hours (`{opens}` stands
    /// for the next opening); `None` keeps the catalogue's text (O3).
    #[serde(default)]
    pub off_hours_text: Option<String>,
}

fn english() -> String {
    "en".to_owned()
}

impl ChannelInfo {
    /// A channel with this name and every setting at its default.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            language: english(),
            mode: Mode::Evenly,
            working_hours: None,
            close_delay_ms: 0,
            timeout_ms: None,
            close_on_rating: false,
            off_hours_text: None,
        }
    }

    /// W1: open at `at` (always, without working hours).
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.working_hours.as_ref().is_none_or(|h| h.is_open(at))
    }

    /// A5: when to run the timeout hook for `session`: its last message plus
    /// the channel's timeout. Move the timer on every message; `None` (no
    /// timeout set) means no timer.
    pub fn timeout_due(&self, session: &SessionInfo) -> Option<Timestamp> {
        self.timeout_ms
            .map(|ms| session.last_message_at + Span::from_millis(ms))
    }
}

/// Q2: the customer's rating, as the hook sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingInfo {
    /// 1 to 5.
    pub score: u8,
    /// The customer's comment, if any.
    #[serde(default)]
    pub comment: Option<String>,
}
