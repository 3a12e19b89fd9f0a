//! The core's one error type. Every message says what was wrong and, where a
//! person can fix it, what is allowed.

use std::fmt;

use thiserror::Error;

use crate::ids::{AgentId, QueueId, SessionId};
use crate::session::State;
use crate::time::Span;

/// Which of a queue's two timing settings an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// R5, the forward interval.
    Forward,
    /// R6, the unanswered interval.
    Unanswered,
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Interval::Forward => "forward interval (R5)",
            Interval::Unanswered => "unanswered interval (R6)",
        })
    }
}

/// Everything the core refuses to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A forward or unanswered interval outside 1 minute to 12 hours.
    #[error("the {which} must be between {min} and {max}, but it is {given}")]
    IntervalOutOfRange {
        /// Which setting.
        which: Interval,
        /// The value that was given.
        given: Span,
        /// Shortest allowed.
        min: Span,
        /// Longest allowed.
        max: Span,
    },
    /// A session limit (R10) of zero would make every agent ineligible.
    #[error(
        "{queue}: the session limit (R10) must be at least 1; turn the limit off instead of setting it to 0"
    )]
    ZeroLimit {
        /// The queue being configured.
        queue: QueueId,
    },
    /// A close delay (A4) below zero.
    #[error(
        "{queue}: the close delay (A4) can't be negative (it is {given}); use 0 to close at once"
    )]
    NegativeCloseDelay {
        /// The queue being configured.
        queue: QueueId,
        /// The value that was given.
        given: Span,
    },
    /// A5's conversation timeout must be a positive time.
    #[error(
        "{queue}: the conversation timeout (A5) must be longer than zero (it is {given}); leave it out to never time out"
    )]
    NonPositiveTimeout {
        /// The queue being configured.
        queue: QueueId,
        /// The value that was given.
        given: Span,
    },
    /// The same agent listed twice in one queue, which would make queue order
    /// (R1) ambiguous.
    #[error(
        "{queue}: {agent} is listed twice; each agent can hold only one place in the queue order"
    )]
    DuplicateMember {
        /// The queue being configured.
        queue: QueueId,
        /// The repeated agent.
        agent: AgentId,
    },
    /// An agent the core has not been told about (see `Router::handle_agent_upsert`).
    #[error("{0} is not known to the router; add the agent before using them")]
    UnknownAgent(AgentId),
    /// A queue the core has not been told about (see `Router::handle_queue_config`).
    #[error("{0} is not known to the router; configure the queue first")]
    UnknownQueue(QueueId),
    /// A session that is not open in the core. Closed sessions are forgotten,
    /// so a customer writing to one needs a new session (S2).
    #[error("{0} is not open; if it was closed, a customer message starts a new session (S2)")]
    UnknownSession(SessionId),
    /// A session id that is already open.
    #[error("{0} is already open")]
    SessionExists(SessionId),
    /// An agent tried to accept a session that was not offered to them.
    #[error("{session} was not offered to {agent}; take it by hand instead (R18)")]
    NotOffered {
        /// The session.
        session: SessionId,
        /// The agent who tried to accept.
        agent: AgentId,
    },
    /// Another agent already holds the session (R4: the first accept wins).
    #[error("{session} is already held by {holder}; ask them to transfer it (R18)")]
    AlreadyTaken {
        /// The session.
        session: SessionId,
        /// Who holds it.
        holder: AgentId,
    },
    /// The action does not apply in the session's current state.
    #[error("{session} is {state}, which does not allow this")]
    WrongState {
        /// The session.
        session: SessionId,
        /// Its current state.
        state: State,
    },
    /// A dismissed agent can't take or be given sessions (R13).
    #[error("{0} is dismissed and can't be given sessions")]
    AgentDismissed(AgentId),
    /// Accepting would put the agent over the queue's session limit (R10).
    #[error("{agent} already has the most sessions {queue} allows (R10); close one first")]
    LimitReached {
        /// The agent.
        agent: AgentId,
        /// The queue whose limit applies.
        queue: QueueId,
    },
    /// A snapshot handed to `Router::restore` contradicts itself.
    #[error("the routing snapshot is inconsistent: {0}")]
    BadSnapshot(String),
}
