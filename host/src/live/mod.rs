//! The live event hub: session and message changes for agent consoles.
//!
//! The places where things happen (ingest's group commit, the routing
//! engine's step, the bot worker, agent replies) drop a small *hint* here:
//! "session 12 changed", "session 12 has messages from id 340". One publisher
//! task (see [`publisher`]) turns hints into events: it reads the rows back
//! from the store, so a frame has exactly the shape the REST API returns,
//! serialises each one once into a [`Utf8Bytes`] text, and broadcasts it.
//! Every `/api/v1/live` WebSocket subscribes and forwards what its user may
//! see (P1); the text goes out on each socket as is, shared, never copied.
//!
//! Each socket reads the broadcast at its own pace: the ring of the last
//! [`BROADCAST_DEPTH`] events is its bounded queue, and a socket that cannot
//! keep up (a console on a slow link) holds up nobody else. Nothing is lost
//! silently: a hint that finds the inbox full, or a socket that falls more
//! than the ring behind, gets a `resync` event instead of what it missed
//! ([`Subscription::recv`]), and the console refetches its lists.
//!
//! Several nodes on one PostgreSQL database share their hints over the
//! live bus ([`bus`]): each node sends its own hints with `NOTIFY` (a few
//! bytes each, batched per publisher round) and feeds the hints others send
//! into its own publisher as if they were local, so each node reads the
//! rows back and its consoles see what happened on every node. The same
//! bus wakes the widget sockets whose chat got a message through another
//! node. After the bus's listener reconnects, every console here gets a
//! `resync` (what was sent meanwhile is lost). On SQLite there is no bus.
//!
//! Presence (R12) is still counted per node ([`Live::socket_opened`]): an
//! agent whose only console is on a node that does not route is not seen
//! online by the routing node (see docs/architecture.md, known debts).

mod access;
pub mod bus;
mod publisher;
#[cfg(test)]
mod tests;

pub use access::AccessWatch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

use crate::node::Workers;
use crate::store::{Millis, Store};

/// How many hints may wait for the publisher before they overflow into a resync.
const HINT_DEPTH: usize = 65_536;

/// How many events a socket may fall behind before it gets a resync.
const BROADCAST_DEPTH: usize = 4096;

/// Each WebSocket's read buffer, the widget's and the console's. Tungstenite's
/// default, 128 KiB, is zero-filled at the first read, so 1,100 idle sockets
/// held 140 MiB of it (docs/benchmarks.md); clients send small frames, and a
/// larger one grows the buffer while it is read.
pub const SOCKET_READ_BUFFER: usize = 8 * 1024;

/// The `resync` frame's text (docs/console.md).
pub const RESYNC_FRAME: &str = r#"{"type":"resync"}"#;

/// What changed, as the place where it happened knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// The session's row changed (state, holder).
    Session(i64),
    /// The session has new messages, the first with id `from`.
    Messages { session: i64, from: i64 },
    /// The session has new messages written at `since` or later, ids unknown
    /// (routing notices and bot replies are written inside larger steps).
    Tail { session: i64, since: Millis },
}

/// A hint in the publisher's inbox, and whether this node made it: only
/// this node's own hints go out on the bus, so none travels twice.
#[derive(Debug, Clone, Copy)]
struct Queued {
    hint: Hint,
    local: bool,
}

/// One event, serialised once for every socket.
#[derive(Debug)]
pub enum LiveEvent {
    /// Something was lost (an overflow): every console refetches.
    Resync,
    /// A `session` or `message` frame.
    Frame(Frame),
}

/// A frame and what deciding who may see it needs.
#[derive(Debug)]
pub struct Frame {
    pub session_id: i64,
    pub channel_id: i64,
    /// The agent holding the session now.
    pub agent_id: Option<i64>,
    /// The agent who held it before this event, so they see it leave.
    pub previous_agent_id: Option<i64>,
    /// Its channel before this event (a transfer to another queue), so
    /// that channel's people see it leave.
    pub previous_channel_id: i64,
    /// The JSON text, built once and sent as is by every socket (cloning
    /// it shares the bytes).
    pub json: Utf8Bytes,
}

/// One socket's place in the broadcast: what it has not read yet, at most
/// [`BROADCAST_DEPTH`] events.
pub struct Subscription {
    events: broadcast::Receiver<Arc<LiveEvent>>,
}

impl Subscription {
    /// The next event; `None` once the hub is gone (the publisher stopped
    /// and every handle went). A subscriber that fell
    /// more than [`BROADCAST_DEPTH`] events behind gets one
    /// [`LiveEvent::Resync`] in place of everything it missed, then the
    /// oldest event still held; the publisher never waits for it.
    pub async fn recv(&mut self) -> Option<Arc<LiveEvent>> {
        match self.events.recv().await {
            Ok(event) => Some(event),
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "a live socket fell behind; resync");
                Some(Arc::new(LiveEvent::Resync))
            }
            Err(RecvError::Closed) => None,
        }
    }
}

/// Handle to the hub; cheap to clone.
#[derive(Clone)]
pub struct Live {
    hints: mpsc::Sender<Queued>,
    overflow: Arc<AtomicBool>,
    events: broadcast::Sender<Arc<LiveEvent>>,
    /// Open sockets per user, for presence (R12): the last one closing is a disconnect.
    sockets: Arc<Mutex<HashMap<i64, usize>>>,
    /// Wakes the sockets when who may see what changed (P1).
    access: AccessWatch,
    /// Where this node's hints go to the other nodes (PostgreSQL only).
    bus: bus::Link,
}

impl Live {
    /// Starts the publisher task and the access poll on `store`, under
    /// `workers`: when they stop, the publisher sends what it was told of
    /// so far and ends, and so does the poll.
    pub fn start(store: Arc<dyn Store>, workers: &Workers) -> Live {
        let (hints, rx) = mpsc::channel(HINT_DEPTH);
        let (events, _) = broadcast::channel(BROADCAST_DEPTH);
        let overflow = Arc::new(AtomicBool::new(false));
        let access = AccessWatch::start(store.clone(), workers);
        let bus = bus::Link::default();
        let publisher = publisher::Publisher {
            store,
            events: events.clone(),
            overflow: overflow.clone(),
            bus: bus.clone(),
        };
        workers
            .tracker
            .spawn(publisher.run(rx, workers.stop.clone()));
        Live {
            hints,
            overflow,
            events,
            sockets: Arc::default(),
            access,
            bus,
        }
    }

    /// Where this node's hints leave for the other nodes; the webchat hub
    /// sends its chats' news the same way.
    pub fn bus(&self) -> &bus::Link {
        &self.bus
    }

    /// Every console refetches: something may have been missed (the bus
    /// was cut, or another node asked).
    pub fn resync(&self) {
        // No socket open is fine.
        let _ = self.events.send(Arc::new(LiveEvent::Resync));
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            events: self.events.subscribe(),
        }
    }

    /// Access changes: the API pokes it, sockets subscribe to it.
    pub fn access(&self) -> &AccessWatch {
        &self.access
    }

    /// The session's state or holder changed.
    pub fn session_changed(&self, session: i64) {
        self.hint(Hint::Session(session));
    }

    /// A message with id `message` was stored in `session`.
    pub fn message_added(&self, session: i64, message: i64) {
        self.hint(Hint::Messages {
            session,
            from: message,
        });
    }

    /// Messages were stored in `session` at `since` or later, ids unknown.
    pub fn messages_since(&self, session: i64, since: Millis) {
        self.hint(Hint::Tail { session, since });
    }

    fn hint(&self, hint: Hint) {
        self.queue(Queued { hint, local: true });
    }

    /// A hint another node sent over the bus: published here as if it
    /// happened here, and not sent on again.
    fn remote(&self, hint: Hint) {
        self.queue(Queued { hint, local: false });
    }

    fn queue(&self, queued: Queued) {
        // Never wait: the callers are the hot paths. A full inbox means the
        // publisher is far behind; everyone refetches instead.
        if self.hints.try_send(queued).is_err() {
            self.overflow.store(true, Ordering::Relaxed);
        }
    }

    /// Counts a user's socket; true if it is their first.
    pub fn socket_opened(&self, user: i64) -> bool {
        let mut sockets = self.sockets.lock().expect("live sockets lock");
        let n = sockets.entry(user).or_default();
        *n += 1;
        *n == 1
    }

    /// Uncounts a user's socket; true if it was their last.
    pub fn socket_closed(&self, user: i64) -> bool {
        let mut sockets = self.sockets.lock().expect("live sockets lock");
        match sockets.get_mut(&user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                sockets.remove(&user);
                true
            }
        }
    }
}
