//! Sessions and their lifecycle (S1): states, causes and the recorded moves.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::LimitExclusion;
use crate::ids::{AgentId, QueueId, SessionId};
use crate::time::Timestamp;

/// Where a session is in its life (S1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A bot has it (B1); routing waits for the bot to hand over.
    Bot,
    /// Waiting for an agent (R11).
    Queued,
    /// Offered to one agent (strict order, R3) or to all (everybody, R4).
    Offered,
    /// An agent holds it but has not written yet.
    Assigned,
    /// An agent has written, and the customer wrote last: the agent's turn.
    Answered,
    /// The agent wrote last: waiting for the customer.
    Waiting,
    /// An agent closed it; the A4 delay runs and a customer message reopens it.
    Closing,
    /// Closed, waiting for the customer's rating (Q1).
    Rating,
    /// Closed for good. The core forgets the session after recording this.
    Closed,
}

impl State {
    /// Open to conversation: everything before `closing`.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Closing | State::Rating | State::Closed)
    }

    /// The session is with an agent (not in the bot, queue or offer stage).
    pub fn is_held(self) -> bool {
        matches!(self, State::Assigned | State::Answered | State::Waiting)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Bot => "bot",
            State::Queued => "queued",
            State::Offered => "offered",
            State::Assigned => "assigned",
            State::Answered => "answered",
            State::Waiting => "waiting",
            State::Closing => "closing",
            State::Rating => "rating",
            State::Closed => "closed",
        })
    }
}

/// Why a session moved (S1). Stored with every move so statistics (O6) and
/// people reading the history can tell a forward from a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A new session started (S2 included).
    Opened,
    /// The bot handed the session to the queue (B1).
    BotHandover,
    /// Routed to the agent idle longest (R2, R2a).
    Evenly,
    /// Offered to the first agent in queue order (R3).
    StrictOrder,
    /// Offered to every eligible agent (R4).
    Everybody,
    /// The forward interval ran out; on to the next agent (R3, R5).
    Forwarded,
    /// Nobody qualified; the session waits in the queue (R11).
    NoAgent,
    /// Sent to the contact's responsible agent (R14).
    Responsible,
    /// The agent accepted an offer (R4, or R3's offered agent).
    Accepted,
    /// An agent wrote to the customer.
    AgentReplied,
    /// The customer wrote.
    CustomerMessage,
    /// The agent was offline when the customer wrote (R9).
    AgentUnavailable,
    /// The daily sweep found the agent dismissed or on vacation (R15).
    Sweep,
    /// The no-answer action put the session back in the queue (A2, R17).
    BackToQueue,
    /// An agent took the session by hand (R18).
    Taken,
    /// Transferred to another agent (R18).
    TransferredToAgent,
    /// Transferred to another queue (R18).
    TransferredToQueue,
    /// Closed by an agent (R18) or by a bot.
    ClosedByAgent,
    /// The A4 close delay ran out.
    CloseDelayElapsed,
    /// The customer's rating arrived (Q2).
    Rated,
    /// Seven days without a message (R16).
    AutoClosed,
    /// A customer wrote during the close delay (S2, A4).
    Reopened,
}

/// One recorded move of a session (S1). The engine stores it as a history row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The session that moved.
    pub session: SessionId,
    /// Its queue after the move.
    pub queue: QueueId,
    /// The state before; `None` when the session was just opened.
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// Who holds it after the move.
    pub holder: Option<AgentId>,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub cause: Cause,
}

/// An open session, exactly as the core keeps it. It is also the persisted
/// form: the engine stores what `Command::SaveSession` carries and hands the
/// same values back to `Router::restore`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// The session.
    pub id: SessionId,
    /// The queue (channel) it belongs to.
    pub queue: QueueId,
    /// Its state (S1).
    pub state: State,
    /// The one agent who holds it, or has it offered in strict mode. Never two
    /// agents at once: R4's offers go in `offered_to` instead.
    pub holder: Option<AgentId>,
    /// R4: agents it is offered to; the first to accept becomes the holder.
    pub offered_to: Vec<AgentId>,
    /// R14: the agent responsible for the customer's contact, if known.
    pub responsible: Option<AgentId>,
    /// When the session started.
    pub opened_at: Timestamp,
    /// Since when it is in its current state.
    pub state_since: Timestamp,
    /// The last message either way; R16 closes the session 7 days later.
    pub last_message_at: Timestamp,
    /// Since when it waits for an agent (R11). Orders the queue first-come,
    /// first-served; `None` when no agent is being looked for.
    pub queued_since: Option<Timestamp>,
    /// The last agent strict mode offered it to, so a forward or retry goes on
    /// from there (R3) rather than restarting at the top.
    pub cursor: Option<AgentId>,
    /// Some agent has written to the customer; stops R5 and R6.
    pub answered: bool,
    /// The current holder has written at least once (R10 exclusion a).
    pub holder_replied: bool,
    /// R6 fired: the session is marked unanswered.
    pub unanswered: bool,
    /// R11's "nobody can answer right now" was sent for this wait, so the
    /// 2-minute retries don't repeat it.
    pub customer_notified: bool,
}

impl SessionSnapshot {
    /// Whether this session counts toward its holder's R10 limit under `exclude`.
    pub fn counts_toward_limit(&self, exclude: LimitExclusion) -> bool {
        if self.holder.is_none() {
            return false;
        }
        match self.state {
            // Rating and closed are always left out; bot and queued have no holder.
            State::Bot | State::Queued | State::Rating | State::Closed => false,
            State::Waiting if exclude == LimitExclusion::WaitingForCustomer => false,
            _ if exclude == LimitExclusion::Replied && self.holder_replied => false,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(state: State, replied: bool) -> SessionSnapshot {
        SessionSnapshot {
            id: SessionId(1),
            queue: QueueId(1),
            state,
            holder: Some(AgentId(1)),
            offered_to: vec![],
            responsible: None,
            opened_at: Timestamp(0),
            state_since: Timestamp(0),
            last_message_at: Timestamp(0),
            queued_since: None,
            cursor: None,
            answered: replied,
            holder_replied: replied,
            unanswered: false,
            customer_notified: false,
        }
    }

    #[test]
    fn r10_exclusion_modes_decide_what_counts() {
        use LimitExclusion::*;
        assert!(held(State::Assigned, false).counts_toward_limit(Replied));
        assert!(!held(State::Answered, true).counts_toward_limit(Replied));
        assert!(!held(State::Waiting, true).counts_toward_limit(WaitingForCustomer));
        assert!(held(State::Answered, true).counts_toward_limit(WaitingForCustomer));
        assert!(held(State::Waiting, true).counts_toward_limit(ClosedOnly));
        assert!(held(State::Closing, true).counts_toward_limit(ClosedOnly));
        for mode in [Replied, WaitingForCustomer, ClosedOnly] {
            assert!(!held(State::Rating, false).counts_toward_limit(mode));
            assert!(!held(State::Closed, false).counts_toward_limit(mode));
        }
    }
}
