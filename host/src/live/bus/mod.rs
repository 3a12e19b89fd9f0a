//! The live bus: hints travel between nodes on one PostgreSQL by
//! `LISTEN`/`NOTIFY`, so a console or widget socket on any node hears of
//! what happened on every other (issue 18).
//!
//! Each node sends its own hints (and its webchat hub's "this chat has a
//! new message") with `pg_notify` on [`CHANNEL`]: one payload per round of
//! the publisher, a few bytes per item ([`payload`]). Each node holds one
//! dedicated listening connection ([`LISTENER_NAME`] in
//! `pg_stat_activity`) and feeds what others sent into its own publisher
//! exactly as a local hint; the publisher reads the rows back from the
//! store, so the payloads stay tiny and a frame is built the same way on
//! every node. A widget socket whose chat is named wakes and reads what it
//! has not sent from the store: no socket polls.
//!
//! `NOTIFY` is not durable: what is sent while a listener is disconnected
//! never reaches it. So every time the listener (re)connects, after it
//! listens again, every console on this node gets a `resync` and every
//! widget socket catches up; and when this node could not send (the
//! database was away, or its outgoing queue was full) its next payload
//! starts with `r`, which makes every other node do the same.
//!
//! On SQLite (one node) none of this runs: [`options`] gives `None` and
//! the [`Link`] stays unattached, so sending on it costs nothing.

pub mod payload;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) use payload::Item;
pub use payload::chat_tag;

use super::Live;
use crate::node::Workers;
use crate::webchat::Hub;

/// The PostgreSQL channel every node listens on and notifies.
pub const CHANNEL: &str = "frontdesk_live";

/// The listening connection's `application_name` (`pg_stat_activity`).
pub const LISTENER_NAME: &str = "frontdesk-live-listen";

/// The sending connection's `application_name`.
pub const NOTIFIER_NAME: &str = "frontdesk-live-notify";

/// Items that may wait to be sent before they overflow into a resync.
const OUTGOING_DEPTH: usize = 65_536;

/// The most items the sender takes at once (one round of NOTIFYs).
const MAX_ITEMS: usize = 4096;

/// How long the listener waits before it tries the database again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// How long a send waits for its connection before it gives up (and the
/// next payload asks everyone to resync).
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Where this node's items leave for the others; cheap to clone. Until the
/// bus is started (and forever on SQLite) sending on it does nothing but
/// remember that something was not sent.
#[derive(Clone, Default)]
pub struct Link {
    inner: Arc<LinkInner>,
}

#[derive(Default)]
struct LinkInner {
    outgoing: Mutex<Option<mpsc::Sender<Item>>>,
    /// Something was not sent: the next payload starts with a resync.
    missed: AtomicBool,
}

impl Link {
    /// Queues `items` for the other nodes without waiting.
    pub(crate) fn send(&self, items: impl Iterator<Item = Item>) {
        let outgoing = self
            .inner
            .outgoing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(outgoing) = outgoing.as_ref() else {
            // Before the bus starts: the others resync once it does.
            if items.count() > 0 {
                self.inner.missed.store(true, Ordering::Relaxed);
            }
            return;
        };
        for item in items {
            if outgoing.try_send(item).is_err() {
                self.inner.missed.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    /// A webchat chat has a new message: the other nodes' sockets of that
    /// visitor read it from the store.
    pub fn chat(&self, channel: i64, visitor: &str) {
        let tag = chat_tag(visitor);
        self.send(std::iter::once(Item::Chat { channel, tag }));
    }

    /// Connects the link to the sender task. What was sent before (the
    /// engine's first steps at start) is owed as a resync.
    pub(super) fn attach(&self, outgoing: mpsc::Sender<Item>) {
        let mut slot = self
            .inner
            .outgoing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.inner.missed.load(Ordering::Relaxed) {
            // The sender takes the flag with its first batch.
            let _ = outgoing.try_send(Item::Resync);
        }
        *slot = Some(outgoing);
    }

    fn take_missed(&self) -> bool {
        self.inner.missed.swap(false, Ordering::Relaxed)
    }
}

/// The connection settings for the bus when `database_url` is PostgreSQL;
/// `None` for SQLite, which is one node and needs no bus.
pub fn options(database_url: &str) -> Result<Option<PgConnectOptions>, sqlx::Error> {
    if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
        return Ok(None);
    }
    PgConnectOptions::from_str(database_url).map(Some)
}

/// Starts the bus for this process (`origin`, unique per process) under
/// `workers`: a sender task with a connection of its own, and the listener
/// feeding `live` and `hub`. Connections are made in the tasks, which retry
/// on their own, so a database that is away at start only delays the bus.
pub fn start(
    options: &PgConnectOptions,
    origin: Arc<str>,
    live: Live,
    hub: Arc<Hub>,
    workers: &Workers,
) {
    let (outgoing, rx) = mpsc::channel(OUTGOING_DEPTH);
    let link = live.bus().clone();
    let sender = Sender {
        pool: pool(options, NOTIFIER_NAME, 1),
        origin: origin.clone(),
        link: link.clone(),
    };
    workers.tracker.spawn(sender.run(rx, workers.stop.clone()));
    // Two, so a listener dropped after an error can hand its connection
    // back while the next one connects.
    let pool = pool(options, LISTENER_NAME, 2);
    let receiver = Receiver { origin, live, hub };
    workers
        .tracker
        .spawn(listen(pool, receiver, workers.stop.clone()));
    link.attach(outgoing);
}

/// A pool of long-lived connections named `name` in `pg_stat_activity`,
/// connected on first use: no lifetimes, as PgListener's own.
fn pool(options: &PgConnectOptions, name: &str, connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(connections)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(SEND_TIMEOUT)
        .connect_lazy_with(options.clone().application_name(name))
}

/// Sends this node's items, batched: everything queued while the previous
/// NOTIFY ran goes in the next.
struct Sender {
    pool: PgPool,
    origin: Arc<str>,
    link: Link,
}

impl Sender {
    async fn run(self, mut rx: mpsc::Receiver<Item>, stop: CancellationToken) {
        let mut items = Vec::with_capacity(MAX_ITEMS);
        loop {
            let received = tokio::select! {
                received = rx.recv_many(&mut items, MAX_ITEMS) => received,
                () = stop.cancelled() => break,
            };
            if received == 0 {
                return;
            }
            self.round(&mut items).await;
        }
        // What was queued before the stop still goes out, once.
        rx.close();
        while let Ok(item) = rx.try_recv() {
            items.push(item);
        }
        self.round(&mut items).await;
    }

    async fn round(&self, items: &mut Vec<Item>) {
        if self.link.take_missed() {
            items.push(Item::Resync);
        }
        for payload in payload::encode(&self.origin, items.drain(..)) {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&payload)
                .execute(&self.pool)
                .await;
            match sent {
                Ok(_) => metrics::counter!("frontdesk_live_bus_sent_total").increment(1),
                Err(err) => {
                    tracing::warn!(
                        error = %err,
                        "live bus: cannot notify the other nodes; their consoles and widgets catch up with the next payload"
                    );
                    // The rest would fail the same way; one resync covers it all.
                    self.link.inner.missed.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

/// Listens until `stop`, on one connection at a time: after every
/// (re)connect, once it listens, this node's sockets catch up.
async fn listen(pool: PgPool, receiver: Receiver, stop: CancellationToken) {
    loop {
        let subscribed = tokio::select! {
            () = stop.cancelled() => return,
            subscribed = subscribe(&pool) => subscribed,
        };
        match subscribed {
            Ok(mut listener) => {
                tracing::info!(channel = CHANNEL, "live bus listening");
                // Whatever was sent before now never reaches this node.
                receiver.resync();
                loop {
                    let next = tokio::select! {
                        () = stop.cancelled() => return,
                        next = listener.try_recv() => next,
                    };
                    match next {
                        Ok(Some(notification)) => receiver.payload(notification.payload()),
                        Ok(None) => {
                            // sqlx connected and listens again already.
                            metrics::counter!("frontdesk_live_bus_reconnects_total").increment(1);
                            tracing::warn!(
                                "live bus: the listening connection was lost and is back; consoles resync, widgets catch up"
                            );
                            receiver.resync();
                        }
                        Err(err) => {
                            metrics::counter!("frontdesk_live_bus_reconnects_total").increment(1);
                            tracing::warn!(error = %err, "live bus: listening failed; connecting again");
                            break;
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(
                error = %err,
                "live bus: cannot listen on the database; other nodes' events wait until it can"
            ),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RETRY_EVERY) => {}
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// What the listener feeds: this node's publisher and widget sockets.
pub(crate) struct Receiver {
    origin: Arc<str>,
    live: Live,
    hub: Arc<Hub>,
}

impl Receiver {
    /// Hands one payload's items to this node; its own payloads, and
    /// payloads it cannot read (logged), change nothing.
    pub(crate) fn payload(&self, payload: &str) {
        let decoded = match payload::decode(payload) {
            Ok(decoded) => decoded,
            Err(err) => {
                tracing::warn!(error = %err, payload, "live bus payload ignored");
                return;
            }
        };
        if decoded.origin == &*self.origin {
            return;
        }
        if !decoded.skipped.is_empty() {
            tracing::warn!(skipped = ?decoded.skipped, "live bus items not understood were skipped");
        }
        for item in decoded.items {
            match item {
                Item::Hint(hint) => self.live.remote(hint),
                Item::Chat { channel, tag } => self.hub.catch_up_chat(channel, tag),
                Item::Resync => self.resync(),
            }
        }
    }

    /// Something may have been missed: every console refetches and every
    /// widget socket reads what it has not sent.
    pub(crate) fn resync(&self) {
        self.live.resync();
        self.hub.catch_up_all();
    }
}

#[cfg(test)]
mod tests;
