//! The [`Router`]: the state of every queue, agent and open session, and the
//! rules that move sessions between them.

mod agents;
mod route;
mod sessions;
mod snapshot;
mod state;
mod timeouts;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::agent::AgentSnapshot;
use crate::command::Command;
use crate::config::{QueueConfig, SWEEP_INTERVAL};
use crate::hash::IdMap;
use crate::ids::{AgentId, QueueId, SessionId};
use crate::queue::Queue;
use crate::session::SessionSnapshot;
use crate::time::Timestamp;
use crate::timers::{Timer, TimerTable};

pub use sessions::{MessageOutcome, NewSession};
pub use snapshot::Snapshot;

/// Routing state and logic for every queue of one frontdesk installation.
///
/// A `Router` receives events through `handle_*` methods and emits
/// [`Command`]s for the engine to carry out. It performs no IO and never reads
/// a clock: every input carries `now`, and deadlines are data the engine
/// sleeps on. One `Router` serves all queues, because agents (their presence,
/// idle time and load) are shared between them.
///
/// The methods fall into these groups:
///
/// - **Configuration**: [`handle_agent_upsert`](Self::handle_agent_upsert) and
///   [`handle_queue_config`](Self::handle_queue_config) tell the router who the
///   agents are and how each queue works (R1–R11, R14). Queue settings are
///   validated ([`QueueConfig::validate`]).
/// - **Presence** (R12): [`handle_agent_activity`](Self::handle_agent_activity)
///   and [`handle_agent_disconnected`](Self::handle_agent_disconnected).
/// - **Sessions**: [`handle_session_opened`](Self::handle_session_opened),
///   [`handle_bot_handover`](Self::handle_bot_handover),
///   [`handle_customer_message`](Self::handle_customer_message),
///   [`handle_agent_message`](Self::handle_agent_message),
///   [`handle_back_to_queue`](Self::handle_back_to_queue) (A2/R17) and
///   [`handle_rating`](Self::handle_rating).
/// - **Agents' actions** (R4, R18): [`handle_accept`](Self::handle_accept),
///   [`handle_take`](Self::handle_take),
///   [`handle_transfer_to_agent`](Self::handle_transfer_to_agent),
///   [`handle_transfer_to_queue`](Self::handle_transfer_to_queue) and
///   [`handle_close`](Self::handle_close).
/// - **Time**: [`poll_timeout`](Self::poll_timeout) gives the next deadline;
///   call [`handle_timeout`](Self::handle_timeout) once the clock reaches it.
/// - **Output**: [`poll_command`](Self::poll_command) yields the commands each
///   call produced. Drain it after every `handle_*` call.
/// - **Persistence**: [`snapshot`](Self::snapshot) and
///   [`restore`](Self::restore), plus read-only getters such as
///   [`session`](Self::session) and [`agent`](Self::agent).
///
/// A `handle_*` call that returns an error has changed nothing.
///
/// # Persisting and restoring
///
/// Everything the router knows reaches the engine as commands:
/// [`Command::SaveSession`], [`Command::ForgetSession`],
/// [`Command::SaveAgent`], [`Command::SetTimer`] and [`Command::ClearTimer`]
/// are upserts and deletes of plain serde values. Applied in the same
/// transaction as the rest of the batch, they leave the store holding exactly
/// a [`Snapshot`]; after a restart, [`Router::restore`] rebuilds the same
/// router from it. A timer that fired is cleared in the batch its effects are
/// in, so it fires at its original deadline and never twice.
#[derive(Debug, Clone)]
pub struct Router {
    agents: IdMap<AgentId, AgentRec>,
    queues: BTreeMap<QueueId, Queue>,
    sessions: IdMap<SessionId, SessionSnapshot>,
    timers: TimerTable,
    commands: VecDeque<Command>,
    /// Entities touched by the current call; saved once at its end, so a call
    /// that moves a session three times emits one `SaveSession`.
    dirty_sessions: Vec<SessionId>,
    dirty_agents: Vec<AgentId>,
    /// Queues where an agent may have become available; their waiting sessions
    /// are routed at the end of the call rather than from deep inside an
    /// update, which would re-enter the update.
    pending_drains: Vec<QueueId>,
}

/// An agent plus what the router derives about them.
#[derive(Debug, Clone)]
struct AgentRec {
    snap: AgentSnapshot,
    /// Queues the agent is a member of.
    queues: Vec<QueueId>,
    /// Sessions the agent holds (in any state), for R15's sweep.
    held: BTreeSet<SessionId>,
}

impl Router {
    /// An empty router. The first daily sweep (R15) is due 24 hours from `now`.
    pub fn new(now: Timestamp) -> Self {
        let mut router = Self::empty();
        router.set_timer(Timer::Sweep, now + SWEEP_INTERVAL);
        router
    }

    fn empty() -> Self {
        Self {
            agents: IdMap::default(),
            queues: BTreeMap::new(),
            sessions: IdMap::default(),
            timers: TimerTable::default(),
            commands: VecDeque::new(),
            dirty_sessions: Vec::new(),
            dirty_agents: Vec::new(),
            pending_drains: Vec::new(),
        }
    }

    /// The next command for the engine, oldest first.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The earliest pending deadline. The engine sleeps until then and calls
    /// [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.next()
    }

    /// An open session.
    pub fn session(&self, id: SessionId) -> Option<&SessionSnapshot> {
        self.sessions.get(&id)
    }

    /// Every open session, in no particular order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionSnapshot> {
        self.sessions.values()
    }

    /// An agent.
    pub fn agent(&self, id: AgentId) -> Option<&AgentSnapshot> {
        self.agents.get(&id).map(|r| &r.snap)
    }

    /// Every agent, in no particular order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentSnapshot> {
        self.agents.values().map(|r| &r.snap)
    }

    /// A queue's configuration.
    pub fn queue(&self, id: QueueId) -> Option<&QueueConfig> {
        self.queues.get(&id).map(|q| &q.cfg)
    }

    /// Sessions the agent holds, in any state.
    pub fn held_by(&self, agent: AgentId) -> impl Iterator<Item = SessionId> + '_ {
        self.agents
            .get(&agent)
            .into_iter()
            .flat_map(|r| r.held.iter().copied())
    }

    /// How many of the agent's sessions count toward R10's limit in `queue`
    /// (0 when the queue has no limit).
    pub fn limit_count(&self, agent: AgentId, queue: QueueId) -> u32 {
        self.queues.get(&queue).map_or(0, |q| q.count(agent))
    }

    /// Sessions waiting for an agent in `queue` (R11), first come first served.
    pub fn waiting(&self, queue: QueueId) -> impl Iterator<Item = SessionId> + '_ {
        self.queues
            .get(&queue)
            .into_iter()
            .flat_map(|q| q.waiting.iter().map(|(_, s)| *s))
    }

    /// When `timer` is due, if it is pending.
    pub fn timer(&self, timer: Timer) -> Option<Timestamp> {
        self.timers.get(timer)
    }

    /// Number of pending timers.
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }
}
