//! The engine: drives the sans-IO routing core from the server.
//!
//! One task owns the [`Router`]. It takes events from ingest, the REST API and
//! presence, feeds them to the core stamped with the injected clock's `now`,
//! writes every resulting change (session states and history, the core's
//! snapshots, timers, customer notices) in one transaction, and only then lets
//! the effects out: console events and answers to the callers. Between events
//! it sleeps until the core's next deadline, read from the same clock.
//!
//! Timers are rows, written with the step that set them and deleted with the
//! step that fired them, so a restart resumes a forward interval at its
//! original deadline and never fires it twice.
//!
//! Like the ingest writer, the task takes every event that queued up while the
//! previous step was being written and writes them together (group commit).
//!
//! On PostgreSQL, several nodes share the database and one routes. Events
//! reach it through the routing inbox table (issue 18): ingest writes a row
//! with each stored message, a node that does not route forwards its
//! events there and waits for the answer (`inbox.rs`), and the routing node
//! applies and deletes rows in its steps (`driver/drain.rs`), so each is
//! applied exactly once. [`Engine`] decides in one place which way an event
//! goes; on SQLite, one node, events stay in memory.

mod bots;
mod closing;
mod consent;
mod convert;
mod driver;
mod holder;
mod hooks;
mod inbox;
mod refusal;
mod restore;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_closing;
#[cfg(test)]
mod tests_consent;
#[cfg(test)]
mod tests_lease;
#[cfg(test)]
mod tests_reply;
#[cfg(test)]
mod tests_stats;
pub mod wire;
mod written;

use std::sync::Arc;

use frontdesk_plugin_host::PluginHost;
use frontdesk_routing::{AgentId, QueueId, SessionId};
use tokio::sync::{Notify, mpsc, oneshot};

pub use bots::DEFAULT_BOT_TIMEOUT_SECS;
pub use convert::{agent_status, channel_queue_config, queue_config};
pub use frontdesk_routing::{Command, MessageOutcome};
pub use inbox::ANSWER_WITHIN;

use crate::clock::Clock;
use crate::node::Workers;
use crate::routing_lock::RoutingLease;
use crate::store::{Message, OutboxItem, Queue, Store, StoreError, User};

/// Something that happened, for the routing core to act on.
///
/// It names sessions, agents and queues with the core's own ids, which
/// callers wrap at their edge; a channel goes by its queue's id, which is
/// the channel's id (one queue per channel).
#[derive(Debug, Clone)]
pub enum Event {
    /// Ingest opened a session for a chat (S1) of `contact`; `responsible`
    /// is the contact's agent (R14).
    SessionOpened {
        session: SessionId,
        channel: QueueId,
        contact: i64,
        responsible: Option<AgentId>,
    },
    /// The customer wrote in an open session (R9, S2).
    CustomerMessage { session: SessionId },
    /// An agent's reply to the customer: stored with the step that lets it
    /// through (S5), or not at all when routing refuses it (R18).
    AgentMessage {
        session: SessionId,
        agent: AgentId,
        text: String,
    },
    /// An agent accepts an offer (R3, R4).
    Accept { session: SessionId, agent: AgentId },
    /// An agent takes a session by hand (R18).
    Take { session: SessionId, agent: AgentId },
    /// Transfer to another agent (R18).
    TransferToAgent { session: SessionId, agent: AgentId },
    /// Transfer to another channel's queue (R18).
    TransferToQueue {
        session: SessionId,
        channel: QueueId,
    },
    /// An agent closes the session (R18).
    Close { session: SessionId },
    /// The user's status changed (R13, R15, R7).
    AgentChanged(User),
    /// The agent's console showed activity (R12).
    Activity { agent: AgentId },
    /// The agent's console disconnected (R12).
    Disconnected { agent: AgentId },
    /// An admin changed a channel's settings (working hours, language, ...).
    ChannelChanged { channel: QueueId },
    /// An admin saved a channel's queue (R1–R10).
    QueueChanged { channel: QueueId, queue: Queue },
    /// The channel's bot hands the session to the queue (B1).
    BotHandover { session: SessionId },
}

impl Event {
    /// What a message ingest stored means for routing: a new session (with
    /// the contact ingest read in the message's transaction), a customer
    /// message, or nothing for a repeat.
    pub fn inbound(channel: i64, accepted: &crate::store::Accepted) -> Option<Event> {
        if accepted.duplicate {
            return None;
        }
        let session = SessionId(accepted.session_id);
        Some(match (accepted.new_session, accepted.contact) {
            (true, Some(contact)) => Event::SessionOpened {
                session,
                channel: QueueId(channel),
                contact: contact.id,
                responsible: contact.responsible.map(AgentId),
            },
            _ => Event::CustomerMessage { session },
        })
    }
}

/// Why the engine refused or failed an event.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The routing rules refuse it; the message says why and what to do.
    #[error(transparent)]
    Refused(#[from] frontdesk_routing::Error),
    /// Writing the step failed; nothing of it took effect.
    #[error("the routing change could not be stored: {0}")]
    Store(#[from] StoreError),
    /// The step this event was part of could not be stored, or routing is
    /// paused after such a step; nothing of it took effect, and the caller
    /// may try again.
    #[error("the routing change could not be stored: {0}")]
    NotStored(String),
    /// The engine has stopped (the server is shutting down).
    #[error("the routing engine is not running; try again")]
    Stopped,
    /// This node does not route (another node holds the routing lease,
    /// this one lost it, or another node took over and fenced its step);
    /// the message says why and what to do.
    #[error("this node does not route: {0}")]
    NotRouting(String),
}

/// What an accepted event returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// For a customer message: where it went (S2).
    Message(MessageOutcome),
    /// For an agent's reply: the message and its outbox entry, as stored.
    Replied(Box<(Message, OutboxItem)>),
}

/// Who asks for an agent's action on a session, for R18's holder rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user acting.
    pub user: i64,
    /// An admin, or a supervisor of the session's channel: may act on a
    /// session someone else holds.
    pub oversees: bool,
}

/// Where a job's answer goes.
enum Reply {
    /// A caller on this node waits for it.
    Caller(oneshot::Sender<Result<Outcome, EngineError>>),
    /// The routing inbox row the job came from (PostgreSQL): deleted in the
    /// step that applies it, and answered in it if a node waits (`answer`).
    Inbox { id: i64, answer: bool },
}

type Job = (Event, Option<Actor>, Option<Reply>);

/// The most jobs one step takes from the inbox; bounds how long a caller waits.
const MAX_STEP: usize = 256;

/// How often an engine that does not route (paused after a storage fault,
/// or without the routing lease) looks again whether it may.
const RECOVER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Handle to the engine task; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    /// Wakes the outbox worker after a step that queued customer notices,
    /// so a notice goes out at once instead of at the worker's next poll.
    outbox: Arc<Notify>,
    /// Where session and message changes go for the agent consoles.
    live: crate::live::Live,
    /// Whether this process may route (one engine per database).
    lease: RoutingLease,
    /// On PostgreSQL, how events reach the routing leader when this node
    /// does not lead; `None` on SQLite, where a node that does not route
    /// refuses.
    inbox: Option<inbox::Inbox>,
}

impl Engine {
    /// Rebuilds the router from the store and starts the engine task, with
    /// nothing else competing for the database and no bots (in-process use
    /// and tests). Its tasks stop when the last handle goes. It reads no
    /// routing inbox: its caller hands it every event itself.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rules: Arc<frontdesk_rules::Rules>,
    ) -> Result<Engine, EngineError> {
        let lease = RoutingLease::unguarded();
        let workers = Workers::default();
        Self::start_with(store, clock, rules, lease, None, None, &workers).await
    }

    /// Builds the engine with everything it drives, in one go, and starts
    /// its tasks under `workers`: the engine task, the live publisher and,
    /// given a plugin host, the bot worker (B1). It routes only while
    /// `lease` allows it. A follower loads the router (loading writes: it
    /// fires due timers and routes sessions it never heard of) and starts
    /// the bots only once it leads; one that loses the lease stops before
    /// its next step, and its writes are fenced (issue 18). When `workers`
    /// stop, the engine finishes the step it is in and takes no more events.
    ///
    /// Given `node` (this node's id) and a store with a routing inbox
    /// (PostgreSQL), events reach the routing leader through the inbox: the
    /// engine drains it while this node leads and forwards to it while it
    /// does not (see `inbox.rs`).
    pub async fn start_with(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rules: Arc<frontdesk_rules::Rules>,
        lease: RoutingLease,
        bots: Option<PluginHost>,
        node: Option<&str>,
        workers: &Workers,
    ) -> Result<Engine, EngineError> {
        let (jobs, rx) = mpsc::channel(8192);
        let inbox = node.and_then(|node| inbox::Inbox::start(store.clone(), node, workers));
        let engine = Engine {
            jobs,
            outbox: Arc::new(Notify::new()),
            live: crate::live::Live::start(store.clone(), workers),
            lease: lease.clone(),
            inbox,
        };
        // Bots talk for the routing engine, so only a node that leads runs
        // them: the driver starts them when it first routes.
        let bots = match bots {
            Some(host) => {
                bots::Bots::new(host, store.clone(), clock.clone(), engine.clone(), workers)
            }
            None => bots::Bots::none(),
        };
        let leads = lease.refusal().is_none();
        let mut driver = driver::Driver::new(driver::Parts {
            store,
            clock,
            outbox: engine.outbox.clone(),
            rules,
            bots,
            live: engine.live.clone(),
            lease,
            workers: workers.clone(),
        });
        driver.inbox = engine.inbox.as_ref().map(|inbox| driver::DriverInbox {
            store: inbox.store().clone(),
            wake: inbox.wake().clone(),
        });
        if leads {
            // Loaded now, so a store the leader cannot read fails the start;
            // a follower loads when it takes the routing lease over.
            driver.recover().await?;
        }
        workers.tracker.spawn(driver.run(rx, workers.stop.clone()));
        Ok(engine)
    }

    /// Why this node does not route, if it does not (for `/healthz`).
    pub fn refusal(&self) -> Option<String> {
        self.lease.refusal()
    }

    /// The routing lease this node routes under (for `/healthz`).
    pub fn lease(&self) -> &RoutingLease {
        &self.lease
    }

    /// `Err(NotRouting)` when this node does not route and cannot hand
    /// events to the node that does: for handlers that store a change the
    /// engine must hear of, to refuse before storing. On PostgreSQL every
    /// node may: one that does not lead forwards.
    pub fn routes(&self) -> Result<(), EngineError> {
        match self.lease.refusal() {
            Some(reason) if self.inbox.is_none() => Err(EngineError::NotRouting(reason)),
            _ => Ok(()),
        }
    }

    /// The one place that decides where an event goes: to this node's
    /// engine task while it leads, to the routing leader through the
    /// routing inbox while it does not (PostgreSQL), or nowhere (SQLite's
    /// second process, which refuses).
    fn forwards(&self) -> Result<Option<&inbox::Inbox>, EngineError> {
        match (self.lease.refusal(), &self.inbox) {
            (None, _) => Ok(None),
            (Some(_), Some(inbox)) => Ok(Some(inbox)),
            (Some(reason), None) => Err(EngineError::NotRouting(reason)),
        }
    }

    /// Sends an event and waits until its effects are stored.
    pub async fn send(&self, event: Event) -> Result<Outcome, EngineError> {
        self.submit(event, None).await
    }

    /// Like [`Engine::send`], for a person's action on a session (R18): it
    /// is refused when someone else holds the session, unless `actor`
    /// oversees its channel. The check runs in the same step that applies
    /// the event, so a take by a colleague in between cannot slip past it.
    pub async fn send_as(&self, actor: Actor, event: Event) -> Result<Outcome, EngineError> {
        self.submit(event, Some(actor)).await
    }

    async fn submit(&self, event: Event, actor: Option<Actor>) -> Result<Outcome, EngineError> {
        if let Some(inbox) = self.forwards()? {
            return inbox.forward(&event, actor).await;
        }
        // Kept to forward it after all if this node stops leading before
        // its engine task takes it (nothing of it is stored then).
        let again = self.inbox.as_ref().map(|_| event.clone());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((event, actor, Some(Reply::Caller(reply))))
            .await
            .map_err(|_| EngineError::Stopped)?;
        match (answer.await.map_err(|_| EngineError::Stopped)?, again) {
            (Err(EngineError::NotRouting(_)), Some(event)) => match self.forwards()? {
                Some(inbox) => inbox.forward(&event, actor).await,
                None => Err(EngineError::NotStored(
                    "the routing lock was taken again meanwhile; try again".into(),
                )),
            },
            (answer, _) => answer,
        }
    }

    /// Queues an event without waiting for it to be handled, but waits for
    /// room in the inbox rather than dropping it: for events that must not be
    /// lost while the process runs. On a node that does not lead it is
    /// written to the routing inbox (PostgreSQL).
    pub async fn enqueue(&self, event: Event) -> Result<(), EngineError> {
        if let Some(inbox) = self.forwards()? {
            return inbox.hand_over(&event).await;
        }
        self.jobs
            .send((event, None, None))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    /// Sends an event without waiting, dropping it when the inbox is full:
    /// only for signals the store never acknowledged and the next one
    /// repeats (console activity and disconnects, R12). A stored message
    /// goes through [`Engine::enqueue`], which waits for room instead.
    pub fn notify(&self, event: Event) {
        match self.forwards() {
            Ok(None) => {}
            Ok(Some(inbox)) => return inbox.hand_over_later(&event),
            // SQLite's second process: the node that routes hears of the
            // agent's next activity on its own.
            Err(_) => return,
        }
        if let Err(err) = self.jobs.try_send((event, None, None)) {
            metrics::counter!("frontdesk_engine_events_dropped_total").increment(1);
            tracing::warn!(error = %err, "routing engine inbox full; event dropped (a restart re-routes open sessions)");
        }
    }

    /// After ingest stored messages: `true` when their routing events went
    /// into the routing inbox in the same transaction (PostgreSQL), and this
    /// node's engine task is woken to drain it if it leads (no `NOTIFY`
    /// round trip); `false` when the caller must hand them over itself.
    pub fn inbox_written(&self) -> bool {
        match &self.inbox {
            Some(inbox) => {
                if self.lease.refusal().is_none() {
                    inbox.wake().notify_one();
                }
                true
            }
            None => false,
        }
    }

    /// The live event hub the engine publishes its session changes to.
    pub fn live(&self) -> &crate::live::Live {
        &self.live
    }

    /// What wakes the outbox worker: the engine after a step with notices,
    /// and anyone else who queues an outbound message.
    pub fn outbox(&self) -> &Arc<Notify> {
        &self.outbox
    }
}
