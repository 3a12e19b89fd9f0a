//! Chat bots (B1): a channel's new sessions go to its bot first.
//!
//! The engine decides, when a session opens, whether its channel has a bot;
//! if so the core opens it in state `bot` and waits for the handover. The
//! bots themselves run in a worker of their own ([`worker`]), so a slow or
//! broken bot never holds up the engine's loop for other sessions. The engine
//! only wakes the worker (after the step that put a session in `bot` or
//! stored a customer message for one is written); the worker reads what to do
//! from the store:
//!
//! - `bot_sessions` holds each conversation's progress: whether
//!   `session-started` was delivered and the last inbound message the bot saw.
//!   Messages are already durable in `messages`, so nothing waits in memory
//!   only, and a restart hands the bot exactly what it had not seen.
//! - A bot event's results (replies through the outbox, data, contact fields,
//!   the lead, timers, the routing move) are written in one transaction with
//!   what the event consumed.
//! - The routing move (hand-over, transfer, close) is written as `leaving`
//!   first and applied through the engine afterwards; a restart applies a
//!   `leaving` move again, so a handover is never lost.
//! - A bot that traps, times out, returns an error, or stays silent past the
//!   channel's bot timeout when it is its turn hands the session to the queue,
//!   with a note saying why.
//!
//! Each session's events run in order (one task per session at a time);
//! different sessions run in parallel, up to [`worker::MAX_PARALLEL`] calls.

mod actions;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_plugin_host::PluginHost;
use frontdesk_routing::{Router, SessionId, State};
use tokio::sync::mpsc;

use super::{Engine, Event};
use crate::clock::Clock;
use crate::node::Workers;
use crate::store::{BotStore, BotWorkerStore, ChannelBot};

/// The default for how long a bot may stay silent on its turn (B1).
pub const DEFAULT_BOT_TIMEOUT_SECS: i64 = 60;

/// The engine's line to the bot worker, made with it (no line: no bots, and
/// every new session goes to the queue).
#[derive(Clone)]
pub(crate) struct Link {
    wakes: Option<mpsc::UnboundedSender<i64>>,
}

impl Link {
    /// No bot worker: no session is given to a bot.
    pub(crate) fn none() -> Link {
        Link { wakes: None }
    }

    /// A line to a bot worker and the worker's end of it.
    fn new() -> (Link, mpsc::UnboundedReceiver<i64>) {
        let (wakes, inbox) = mpsc::unbounded_channel();
        (Link { wakes: Some(wakes) }, inbox)
    }

    /// Asks the worker to look at a session.
    pub(crate) fn wake(&self, session: i64) {
        // Only fails once the worker is gone, i.e. while shutting down; a
        // restart resumes every live bot conversation from the store.
        if let Some(wakes) = &self.wakes {
            let _ = wakes.send(session);
        }
    }
}

/// The bot worker (B1), made with the engine that hands it sessions: the
/// engine's line to it, and the worker itself until the engine starts it.
pub(crate) struct Bots {
    pub(crate) link: Link,
    worker: Option<(Arc<worker::Worker>, mpsc::UnboundedReceiver<i64>)>,
}

impl Bots {
    /// No bots: the engine routes every new session to the queue.
    pub(crate) fn none() -> Bots {
        Bots {
            link: Link::none(),
            worker: None,
        }
    }

    /// A bot worker on `host`, talking for `engine`; it starts with [`Bots::start`].
    pub(crate) fn new(
        host: PluginHost,
        store: Arc<dyn BotWorkerStore>,
        clock: Arc<dyn Clock>,
        engine: Engine,
        workers: &Workers,
    ) -> Bots {
        let (link, inbox) = Link::new();
        let outbox = engine.outbox().clone();
        let worker = worker::Worker::new(
            store,
            clock,
            engine,
            host,
            outbox,
            link.clone(),
            workers.clone(),
        );
        Bots {
            link,
            worker: Some((worker, inbox)),
        }
    }

    /// Starts the worker under `workers`: it stops taking sessions when
    /// they stop, and its steps in flight are waited for.
    pub(crate) fn start(self, workers: &Workers) {
        if let Some((worker, inbox)) = self.worker {
            workers.tracker.spawn(worker.run(inbox));
        }
    }
}

/// The driver's bot router: which channels have a bot, and the sessions to
/// hand to the worker once the step is written.
pub(crate) struct BotRouter {
    link: Link,
    store: Arc<dyn BotStore>,
    /// Each channel's bot, read once; forgotten when the channel changes.
    channels: HashMap<i64, Option<ChannelBot>>,
    /// Sessions to wake once the current step is written.
    pending: Vec<i64>,
}

impl BotRouter {
    pub(crate) fn new(link: Link, store: Arc<dyn BotStore>) -> BotRouter {
        BotRouter {
            link,
            store,
            channels: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// Forgets a channel's bot after an admin changed the channel.
    pub(crate) fn forget(&mut self, channel: i64) {
        self.channels.remove(&channel);
    }

    /// A customer message (or a new session) in a session the bot holds
    /// goes to the bot, not to the auto-actions: returns whether it did.
    pub(crate) fn takes(&mut self, router: &Router, session: i64) -> bool {
        let in_bot = router
            .session(SessionId(session))
            .is_some_and(|s| s.state == State::Bot);
        if in_bot {
            self.pending.push(session);
        }
        in_bot
    }

    /// Wakes the worker for what the step just written gave the bots.
    pub(crate) fn flush(&mut self) {
        for session in self.pending.drain(..) {
            self.link.wake(session);
        }
    }

    /// Whether a new session opened by `event` goes to its channel's bot first (B1).
    pub(crate) async fn opens_with_bot(&mut self, event: &Event) -> bool {
        let Event::SessionOpened { channel, .. } = event else {
            return false;
        };
        let channel = channel.0;
        if self.link.wakes.is_none() {
            return false;
        }
        if let Some(bot) = self.channels.get(&channel) {
            return bot.is_some();
        }
        match self.store.channel_bot(channel).await {
            Ok(bot) => {
                let has = bot.is_some();
                self.channels.insert(channel, bot);
                has
            }
            Err(err) => {
                // The queue is the safe default: a customer is never stuck.
                tracing::warn!(channel, error = %err, "cannot read the channel's bot; the session goes to the queue");
                false
            }
        }
    }
}
