//! The routing leader's side of the routing inbox (PostgreSQL, issue 18):
//! it reads waiting events in id order, applies a batch of them as one
//! step, and that step's transaction deletes their rows and writes the
//! answers forwarding nodes wait for (`store/shared/inbox.rs`). A row
//! another leader deleted first rolls the step back and the router is
//! rebuilt from the store, so each event is applied exactly once; a step
//! that fails leaves its rows for the next drain.

use std::sync::Arc;

use tokio::sync::Notify;

use super::super::wire::{self, WireEvent};
use super::super::{EngineError, Job, MAX_STEP, Outcome, Reply};
use super::Driver;
use crate::store::{InboxAnswer, InboxRow, RoutingBatch, RoutingInboxStore};

/// What the engine task drains from, and what wakes it to.
pub(in crate::engine) struct DriverInbox {
    pub(in crate::engine) store: Arc<dyn RoutingInboxStore>,
    pub(in crate::engine) wake: Arc<Notify>,
}

/// Waits until the inbox has news; never, without an inbox (SQLite).
pub(super) async fn woken(wake: Option<Arc<Notify>>) {
    match wake {
        Some(wake) => wake.notified().await,
        None => std::future::pending().await,
    }
}

/// A job's answer as `handle_jobs` collects it: where it goes, the outcome,
/// and for a reply the step stores, its place among the step's replies.
pub(super) type Answered = (Option<Reply>, Result<Outcome, EngineError>, Option<usize>);

/// Before the step is written: each job from the inbox has its row deleted
/// with it, and its answer written with it when a node waits for one. A
/// reply the step stores is answered with its place among the step's
/// replies, which the store turns into the stored message's id.
pub(super) fn answer_in_step(pending: &mut RoutingBatch, replies: &[Answered]) {
    for (reply, outcome, stored_reply) in replies {
        let Some(Reply::Inbox { id, answer }) = reply else {
            continue;
        };
        pending.inbox_applied.push(*id);
        if *answer {
            let (outcome, reply) = match (outcome, stored_reply) {
                (Ok(_), Some(i)) => (wire::encode_replied(), Some(*i)),
                (outcome, _) => (wire::encode_answer(outcome), None),
            };
            pending.inbox_answers.push(InboxAnswer {
                inbox_id: *id,
                outcome,
                reply,
            });
        }
    }
}

/// Where a job's answer goes after its step: to the caller on this node;
/// an inbox job's answer went with the step.
pub(super) fn answer_caller(reply: Option<Reply>, answer: Result<Outcome, EngineError>) {
    if let Some(Reply::Caller(reply)) = reply {
        let _ = reply.send(answer);
    }
}

impl Driver {
    /// The inbox's wake-up, cloned so waiting for it borrows nothing.
    pub(super) fn inbox_wake(&self) -> Option<Arc<Notify>> {
        self.inbox.as_ref().map(|inbox| inbox.wake.clone())
    }

    /// Applies waiting inbox events, a step per batch, while this node
    /// routes and the router is in step with the store.
    pub(super) async fn drain_inbox(&mut self) {
        let Some(store) = self.inbox.as_ref().map(|inbox| inbox.store.clone()) else {
            return;
        };
        loop {
            if self.stale || self.routing().is_err() {
                // Not now: the rows wait, and the next wake-up after the
                // rebuild (or on the new leader) drains them.
                self.wake_inbox_later();
                return;
            }
            let rows = match store.read_inbox(MAX_STEP as i64).await {
                Ok(rows) => rows,
                Err(err) => {
                    self.store.health().observe(&err);
                    tracing::warn!(error = %err, "cannot read the routing inbox; trying again shortly");
                    return;
                }
            };
            if rows.is_empty() {
                return;
            }
            let full = rows.len() == MAX_STEP;
            let mut jobs = Vec::with_capacity(rows.len());
            for row in rows {
                if let Some(job) = self.job_of(row).await {
                    jobs.push(job);
                }
            }
            self.handle_jobs(&mut jobs).await;
            if self.stale {
                self.wake_inbox_later();
                return;
            }
            if !full {
                return;
            }
        }
    }

    fn wake_inbox_later(&self) {
        if let Some(inbox) = &self.inbox {
            inbox.wake.notify_one();
        }
    }

    /// The job a row asks for. A row that cannot become one (another
    /// version wrote it, or it names a user who is gone) is answered with
    /// the reason and deleted in the next step: it would never apply.
    async fn job_of(&mut self, row: InboxRow) -> Option<Job> {
        let reply = Some(Reply::Inbox {
            id: row.id,
            answer: row.wants_answer,
        });
        let refused = match wire::decode(&row.event) {
            Ok((event, actor)) => match self.event_of(event).await {
                Ok(event) => return Some((event, actor, reply)),
                Err(err) => err,
            },
            Err(err) => {
                tracing::error!(inbox = row.id, origin = %row.origin, error = %err, "a routing inbox row cannot be read");
                EngineError::NotStored(err.to_string())
            }
        };
        answer_in_step(&mut self.pending, &[(reply, Err(refused), None)]);
        None
    }

    async fn event_of(&self, event: WireEvent) -> Result<super::super::Event, EngineError> {
        match event.into_event() {
            Ok(event) => Ok(event),
            Err(user) => match self.store.user(user).await? {
                Some(user) => Ok(super::super::Event::AgentChanged(user)),
                None => Err(EngineError::Store(crate::store::StoreError::NotFound(
                    "user",
                ))),
            },
        }
    }
}
