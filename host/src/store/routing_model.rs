//! The rows the routing engine restores from and the batch one routing step
//! writes (one transaction per step). Times are unix milliseconds.

use super::kinds::SessionState;
use super::model::{ConsentRow, Millis};

/// The routing engine's persisted state, as stored rows (see `frontdesk_routing::Snapshot`).
#[derive(Debug, Clone, Default)]
pub struct RoutingRows {
    /// Agent snapshots as JSON.
    pub agents: Vec<String>,
    /// Open sessions' snapshots as JSON.
    pub sessions: Vec<String>,
    /// Pending timers: kind, subject, due time.
    pub timers: Vec<(String, i64, Millis)>,
    /// The last message time of every session routing knows, from `sessions`,
    /// which ingest keeps current in the message's own transaction.
    pub last_messages: Vec<(i64, Millis)>,
    /// Sessions the store has open that routing does not know yet: opened
    /// before a crash let the engine hear of them. Channel id and session id.
    pub unrouted: Vec<(i64, i64)>,
}

/// One move of a session, to record in `sessions` and its history (S1).
#[derive(Debug, Clone)]
pub struct TransitionRow {
    pub session_id: i64,
    pub channel_id: i64,
    pub from_state: Option<SessionState>,
    pub to_state: SessionState,
    pub agent_id: Option<i64>,
    pub cause: String,
    pub at: Millis,
}

/// Everything one routing step changes, written in one transaction. Maps hold
/// the final state of each row after the step, so a timer set and cleared in
/// one step is simply absent.
#[derive(Debug, Clone, Default)]
pub struct RoutingBatch {
    /// Session snapshot to save, or `None` to forget the session.
    pub sessions: std::collections::BTreeMap<i64, Option<String>>,
    pub agents: std::collections::BTreeMap<i64, String>,
    /// Timer (kind, subject) due time, or `None` to clear it.
    pub timers: std::collections::BTreeMap<(String, i64), Option<Millis>>,
    pub transitions: Vec<TransitionRow>,
    /// Texts for customers (e.g. R11's notice), queued in the outbox (S5).
    pub notices: Vec<(i64, String)>,
    /// C5: (session, agent, replace) — the agent becomes responsible for the
    /// session's contact if nobody is, or in any case with `replace`.
    pub responsible: Vec<(i64, i64, bool)>,
    /// Sessions R6 marked unanswered in this step (statistics, O6).
    pub unanswered: Vec<i64>,
    /// G1: (contact, answer) — consent answers read in this step.
    pub consents: Vec<(i64, ConsentRow)>,
    /// Q1: (session, score) — customers' ratings read in this step.
    pub ratings: Vec<(i64, i64)>,
    /// Agents' replies routing let through in this step (R18), stored and
    /// queued in the outbox (S5) with it.
    pub replies: Vec<AgentReply>,
    /// Routing inbox rows this step applied (PostgreSQL, issue 18): deleted
    /// with it, and a row already gone rolls the step back.
    pub inbox_applied: Vec<i64>,
    /// Answers to forwarded events, written with the step.
    pub inbox_answers: Vec<super::InboxAnswer>,
    /// The routing lease's fencing token the writer holds (issue 18); the
    /// write is refused if the lease moved on. `None`: no lease to check.
    pub fence: Option<i64>,
}

/// What scripts read of a session's transcript (A1–A4, W2, Q1): customers'
/// messages and agents' replies counted, and the newest ones' times, in
/// message order. Texts without an author (notices, bots) do not count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscriptFigures {
    pub customer_messages: i64,
    pub agent_messages: i64,
    pub last_customer_message_at: Option<Millis>,
    /// The customer's message before their last one.
    pub previous_customer_message_at: Option<Millis>,
    pub last_agent_message_at: Option<Millis>,
    /// Who wrote the newest counted message: `Some(true)` the customer,
    /// `Some(false)` an agent, `None` nobody yet.
    pub last_from_customer: Option<bool>,
}

/// An agent's reply to a customer, for the step that lets it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReply {
    pub session_id: i64,
    pub author_id: i64,
    pub body: String,
}

impl RoutingBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
            && self.agents.is_empty()
            && self.timers.is_empty()
            && self.transitions.is_empty()
            && self.notices.is_empty()
            && self.responsible.is_empty()
            && self.unanswered.is_empty()
            && self.consents.is_empty()
            && self.ratings.is_empty()
            && self.replies.is_empty()
            && self.inbox_applied.is_empty()
            && self.inbox_answers.is_empty()
    }
}
