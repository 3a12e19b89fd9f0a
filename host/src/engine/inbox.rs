//! Routing events across nodes on PostgreSQL (issue 18): a node that does
//! not route hands its events to the routing leader through the routing
//! inbox (`store/inbox_store.rs`), and waits for the answer of the ones a
//! person waits for.
//!
//! - [`Inbox::forward`]: an agent's action (accept, take, transfer, close,
//!   a reply with its text) or an admin's change, written with
//!   `wants_answer`; the leader applies it in a step whose transaction also
//!   writes the answer and `NOTIFY`s it, and this node returns exactly what
//!   the leader's engine gave (a reply's stored message and outbox entry
//!   included). After [`ANSWER_WITHIN`] it gives up with a 503 that says
//!   the action may still take effect.
//! - [`Inbox::hand_over`] and [`Inbox::hand_over_later`]: events nobody
//!   waits for (console activity and disconnects, R12).
//! - One task per node listens on both channels: `frontdesk_routing` wakes
//!   this node's engine task (which drains the inbox only while it leads,
//!   see `driver/drain.rs`), `frontdesk_answers` wakes the caller waiting
//!   for that row. A second task wakes the engine now and then in case a
//!   notification was lost, and sweeps answers nobody read.
//!
//! Ingest writes its rows itself, in the message's transaction; the node
//! that stored the message only wakes its own engine task, which saves the
//! `NOTIFY` round trip when it leads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::wire::{self, Answer};
use super::{Actor, EngineError, Event, Outcome};
use crate::node::Workers;
use crate::store::{Heard, RoutingInboxStore, StoredAnswer};

/// How long a forwarded action waits for the leader's answer.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// How often a waiting caller reads its answer even without a notification.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// How often the engine task looks at the inbox without a notification
/// (one may be lost while the listener reconnects).
const RECHECK_EVERY: Duration = Duration::from_secs(5);

/// How often answers nobody read are swept, and how old they must be.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const ANSWER_KEPT_SECS: i64 = 3600;

/// How long the listener waits before connecting again after an error.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Events nobody waits for that may queue up before they are written.
const LATER_QUEUE: usize = 1024;

/// The forwarding side of the routing inbox; cheap to clone.
#[derive(Clone)]
pub(super) struct Inbox {
    store: Arc<dyn RoutingInboxStore>,
    /// This node's id, written with each row for the logs.
    origin: Arc<str>,
    waiters: Arc<Waiters>,
    /// Wakes this node's engine task to drain the inbox.
    wake: Arc<Notify>,
    later: mpsc::Sender<String>,
}

impl Inbox {
    /// The inbox of `store` if it has one (PostgreSQL), with its listener
    /// and writer tasks started under `workers`.
    pub(super) fn start(
        store: Arc<dyn RoutingInboxStore>,
        origin: &str,
        workers: &Workers,
    ) -> Option<Inbox> {
        if !store.has_routing_inbox() {
            return None;
        }
        let (later, rx) = mpsc::channel(LATER_QUEUE);
        let inbox = Inbox {
            store,
            origin: origin.into(),
            waiters: Arc::default(),
            wake: Arc::new(Notify::new()),
            later,
        };
        // Rows left from before this process started are drained at once.
        inbox.wake.notify_one();
        let stop = workers.stop.clone();
        workers.tracker.spawn(inbox.clone().listen(stop.clone()));
        workers.tracker.spawn(inbox.clone().tick(stop.clone()));
        workers.tracker.spawn(inbox.clone().write_later(rx, stop));
        Some(inbox)
    }

    /// What wakes this node's engine task to drain the inbox.
    pub(super) fn wake(&self) -> &Arc<Notify> {
        &self.wake
    }

    /// What the engine task drains from.
    pub(super) fn store(&self) -> &Arc<dyn RoutingInboxStore> {
        &self.store
    }

    /// Hands `event` to the leader and waits for its answer, at most
    /// [`ANSWER_WITHIN`].
    pub(super) async fn forward(
        &self,
        event: &Event,
        actor: Option<Actor>,
    ) -> Result<Outcome, EngineError> {
        let id = self
            .store
            .push_inbox(&self.origin, &wire::encode(event, actor), true)
            .await?;
        let woken = self.waiters.register(id);
        let answer = self.wait(id, &woken).await;
        self.waiters.forget(id);
        match answer? {
            Some(answer) => self.read(answer).await,
            None => {
                metrics::counter!("frontdesk_routing_forward_timeouts_total").increment(1);
                tracing::warn!(
                    inbox = id,
                    "the routing node did not answer a forwarded action in time"
                );
                Err(EngineError::NotRouting(format!(
                    "it handed the action to the routing node, which did not answer within {} s; \
                     the action may still take effect: refresh the console to see whether it did before trying again",
                    ANSWER_WITHIN.as_secs()
                )))
            }
        }
    }

    /// Reads the answer to row `id` until it is there or the time is up.
    /// Wall time, not the injected clock: a test clock nobody moves must
    /// not make a caller wait forever.
    async fn wait(&self, id: i64, woken: &Notify) -> Result<Option<StoredAnswer>, EngineError> {
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            // Read before waiting: the answer may have come before the
            // waiter was registered.
            if let Some(answer) = self.store.take_answer(id).await? {
                return Ok(Some(answer));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let _ = tokio::time::timeout((deadline - now).min(LOOK_AGAIN), woken.notified()).await;
        }
    }

    /// The leader's answer as the engine's result.
    async fn read(&self, answer: StoredAnswer) -> Result<Outcome, EngineError> {
        match wire::decode_answer(&answer.outcome) {
            Answer::Ready(result) => result,
            Answer::Replied => {
                let stored = match answer.message_id {
                    Some(message) => self.store.stored_reply(message).await?,
                    None => None,
                };
                stored.map(|row| Outcome::Replied(Box::new(row))).ok_or_else(|| {
                    EngineError::NotStored(format!(
                        "the routing node stored the reply (message {:?}) but it cannot be read back; refresh to see it",
                        answer.message_id
                    ))
                })
            }
        }
    }

    /// Hands `event` to the leader durably, without waiting for it to be applied.
    pub(super) async fn hand_over(&self, event: &Event) -> Result<(), EngineError> {
        self.store
            .push_inbox(&self.origin, &wire::encode(event, None), false)
            .await?;
        Ok(())
    }

    /// Like [`Inbox::hand_over`] without waiting at all, dropping the event
    /// when too many queue up: only for signals the next one repeats (R12).
    pub(super) fn hand_over_later(&self, event: &Event) {
        if self.later.try_send(wire::encode(event, None)).is_err() {
            metrics::counter!("frontdesk_engine_events_dropped_total").increment(1);
            tracing::warn!(
                "too many routing events wait to be handed to the routing node; one was dropped"
            );
        }
    }

    async fn write_later(self, mut rx: mpsc::Receiver<String>, stop: CancellationToken) {
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => return,
                event = rx.recv() => match event {
                    Some(event) => event,
                    None => return,
                },
            };
            if let Err(err) = self.store.push_inbox(&self.origin, &event, false).await {
                tracing::warn!(error = %err, "a routing event could not be handed to the routing node; dropped");
            }
        }
    }

    /// Dispatches the inbox's notifications until `stop`.
    async fn listen(self, stop: CancellationToken) {
        tokio::select! {
            () = stop.cancelled() => {}
            () = self.dispatch() => {}
        }
    }

    async fn dispatch(&self) {
        loop {
            let mut listener = match self.store.inbox_listener().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for routing events; trying again");
                    tokio::time::sleep(RETRY_AFTER).await;
                    continue;
                }
            };
            // Whatever was sent before it listened is read now.
            self.wake_everyone();
            loop {
                match listener.recv().await {
                    Ok(Heard::Routing) => self.wake.notify_one(),
                    Ok(Heard::Answer(id)) => self.waiters.wake(id),
                    Ok(Heard::Reconnected) => self.wake_everyone(),
                    Err(err) => {
                        tracing::warn!(error = %err, "listening for routing events failed; connecting again");
                        tokio::time::sleep(RETRY_AFTER).await;
                        break;
                    }
                }
            }
        }
    }

    fn wake_everyone(&self) {
        self.wake.notify_one();
        self.waiters.wake_all();
    }

    /// Wakes the engine task now and then, and sweeps old answers.
    async fn tick(self, stop: CancellationToken) {
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = recheck.tick() => self.wake.notify_one(),
                _ = sweep.tick() => match self.store.sweep_answers(ANSWER_KEPT_SECS).await {
                    Ok(0) => {}
                    Ok(swept) => tracing::info!(swept, "swept routing answers nobody read"),
                    Err(err) => tracing::warn!(error = %err, "cannot sweep old routing answers"),
                },
            }
        }
    }
}

/// Callers waiting for answers, by inbox row id.
#[derive(Default)]
struct Waiters(Mutex<HashMap<i64, Arc<Notify>>>);

impl Waiters {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Notify>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, id: i64) -> Arc<Notify> {
        self.map().entry(id).or_default().clone()
    }

    fn forget(&self, id: i64) {
        self.map().remove(&id);
    }

    fn wake(&self, id: i64) {
        if let Some(waiter) = self.map().get(&id) {
            waiter.notify_one();
        }
    }

    fn wake_all(&self) {
        for waiter in self.map().values() {
            waiter.notify_one();
        }
    }
}
