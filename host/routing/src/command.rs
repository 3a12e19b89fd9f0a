//! What the core asks the engine to do.

use serde::{Deserialize, Serialize};

use crate::agent::AgentSnapshot;
use crate::ids::{AgentId, SessionId};
use crate::session::{SessionSnapshot, Transition};
use crate::time::Timestamp;
use crate::timers::Timer;

/// A message to the customer that the core decides on; the engine renders it
/// in the channel's language (O3) and sends it through the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// R11: nobody can answer right now.
    NobodyAvailable,
}

/// An auto-action hook the engine runs (Rhai, section A).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// A2: nobody answered within the unanswered interval (R6). The script may
    /// send a text, call `Router::handle_back_to_queue` (R17), or do nothing.
    NoAnswer,
    /// A3: the session closed (after any A4 delay, or by R16).
    Closed,
    /// Q1: ask the customer for a rating.
    AskRating,
    /// A5: the session has been quiet for the queue's conversation timeout;
    /// the script may close it.
    Timeout,
}

/// One thing for the engine to do, from [`Router::poll_command`].
///
/// The engine applies every command produced by one `handle_*` call in one
/// transaction: the `Save*`/`Forget*`/`*Timer` commands are the state to
/// persist, the rest are effects to carry out after the commit.
///
/// [`Router::poll_command`]: crate::Router::poll_command
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Record a session's move (S1) in its history.
    Transition(Transition),
    /// Show the session to the agent as an offer (R3, R4).
    Offer {
        /// The session.
        session: SessionId,
        /// The agent it is offered to.
        agent: AgentId,
    },
    /// Take back an offer: someone else accepted, or the session moved on.
    WithdrawOffer {
        /// The session.
        session: SessionId,
        /// The agent whose offer ends.
        agent: AgentId,
    },
    /// The agent now holds the session.
    Assign {
        /// The session.
        session: SessionId,
        /// The new holder.
        agent: AgentId,
    },
    /// C5, R14: make the agent responsible for the session's contact. Only
    /// when the contact has nobody responsible yet, unless `replace` (a
    /// transfer by hand in a queue with C5 on).
    MakeResponsible {
        /// The session whose contact it is.
        session: SessionId,
        /// The agent who becomes responsible.
        agent: AgentId,
        /// Replace an agent already responsible.
        replace: bool,
    },
    /// The agent no longer holds the session: it went back to the queue, was
    /// forwarded, transferred or swept.
    Release {
        /// The session.
        session: SessionId,
        /// The former holder.
        agent: AgentId,
    },
    /// Tell the customer something.
    NotifyCustomer {
        /// The session.
        session: SessionId,
        /// What to say.
        notice: Notice,
    },
    /// R6: mark the session unanswered (statistics, O6).
    MarkUnanswered {
        /// The session.
        session: SessionId,
    },
    /// Run an auto-action hook.
    RunHook {
        /// The session.
        session: SessionId,
        /// Which hook.
        hook: Hook,
    },
    /// Store (insert or move) a pending timer.
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// Its deadline.
        at: Timestamp,
    },
    /// Delete a stored timer: it was cancelled or has just fired. Persisting
    /// this with the rest of the batch is what keeps a timer from firing twice
    /// across a restart.
    ClearTimer {
        /// Which timer.
        timer: Timer,
    },
    /// Store the session's routing state (upsert).
    SaveSession(SessionSnapshot),
    /// The session closed for good; drop its routing state.
    ForgetSession(SessionId),
    /// Store the agent's routing state (upsert).
    SaveAgent(AgentSnapshot),
}
