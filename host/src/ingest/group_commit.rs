//! Group commit: many concurrent inbound messages, one durable transaction.
//!
//! One fsync costs about as much as thousands of row inserts, so committing
//! each message alone caps durable ingest at the disk's fsync rate (~5,800/s
//! here). The writer task takes whatever has queued up while the previous
//! commit ran (up to [`MAX_BATCH`]) and commits it together. Under light load a
//! batch is one message and nothing waits; under heavy load batches grow by
//! themselves. No timer is involved, so latency never waits for a batch to fill.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::live::Live;
use crate::store::{Accepted, IngestItem, Store, StoreError};

/// The most messages one transaction takes; bounds the latency a batch adds.
pub const MAX_BATCH: usize = 512;

/// How many messages may wait for the writer before senders wait too.
const QUEUE_DEPTH: usize = 8192;

/// Why a message was not stored; the sender must not be acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The batch's transaction failed; nothing of it was stored.
    #[error("the message could not be stored: {0}")]
    Store(Arc<StoreError>),
    /// The writer is gone because the server is shutting down.
    #[error("the server is shutting down; send the message again")]
    ShuttingDown,
}

type Job = (IngestItem, oneshot::Sender<Result<Accepted, IngestError>>);

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer task under `workers`. Each stored message is
    /// announced to the consoles through `live`.
    ///
    /// It stops once every handle is dropped, or when the workers stop: then
    /// it takes no new message (a sender is told to send again,
    /// [`IngestError::ShuttingDown`]) but commits and answers every message
    /// already queued before it ends, so the drain waits for them and no
    /// sender that was waiting goes unanswered.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        live: Live,
        workers: &crate::node::Workers,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        let stop = workers.stop.clone();
        workers
            .tracker
            .spawn(write_batches(store, clock, live, rx, stop));
        GroupCommit { jobs }
    }

    /// Stores the message durably and returns where it landed (S3, S4).
    pub async fn submit(&self, item: IngestItem) -> Result<Accepted, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((item, reply))
            .await
            .map_err(|_| IngestError::ShuttingDown)?;
        answer.await.map_err(|_| IngestError::ShuttingDown)?
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    live: Live,
    mut rx: mpsc::Receiver<Job>,
    stop: CancellationToken,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut closed = false;
    loop {
        let received = tokio::select! {
            received = rx.recv_many(&mut jobs, MAX_BATCH) => received,
            // Closing keeps what is queued: the next receives return it,
            // then 0, which ends the loop.
            () = stop.cancelled(), if !closed => {
                rx.close();
                closed = true;
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let (items, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        metrics::histogram!("frontdesk_ingest_batch_size").record(items.len() as f64);
        match store.ingest(&items, clock.now()).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    announce(&live, &answer);
                    answer_one(reply, Ok(answer));
                }
            }
            // One bad message must not fail the others, and a race with
            // another node is worth another try: retry them one by one.
            // A storage fault fails each of them the same way: refuse them all
            // now instead of hammering a full disk once per message.
            Err(err) if err.is_unavailable() => {
                store.health().observe(&err);
                let err = Arc::new(err);
                tracing::error!(error = %err, batch = items.len(), "inbound messages not stored; their senders are told to retry");
                for reply in replies {
                    let _ = reply.send(Err(IngestError::Store(err.clone())));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, batch = items.len(), "ingest batch failed; retrying its messages one by one");
                for (item, reply) in items.into_iter().zip(replies) {
                    let answer = ingest_alone(store.as_ref(), clock.as_ref(), item).await;
                    match &answer {
                        Ok(accepted) => {
                            announce(&live, accepted);
                        }
                        Err(err) => store.health().observe(err),
                    }
                    answer_one(reply, answer);
                }
            }
        }
    }
}

/// Tells the consoles about a newly stored message (a repeat stored nothing).
fn announce(live: &Live, accepted: &Accepted) {
    if !accepted.duplicate {
        live.message_added(accepted.session_id, accepted.message_id);
    }
}

/// How often a message that lost a race with another node is tried again.
const CONFLICT_RETRIES: usize = 3;

/// Stores one message in its own transaction. On PostgreSQL two nodes can
/// open a session for the same chat, or record the same sender, at the same
/// moment; the loser's transaction fails on the unique index, and on the
/// next try it finds the winner's rows.
async fn ingest_alone(
    store: &dyn Store,
    clock: &dyn Clock,
    item: IngestItem,
) -> Result<Accepted, StoreError> {
    let mut tries = 0;
    loop {
        match store.ingest(std::slice::from_ref(&item), clock.now()).await {
            Ok(mut answers) => return Ok(answers.remove(0)),
            Err(err) if err.is_conflict() && tries < CONFLICT_RETRIES => tries += 1,
            Err(err) => return Err(err),
        }
    }
}

fn answer_one(
    reply: oneshot::Sender<Result<Accepted, IngestError>>,
    answer: Result<Accepted, StoreError>,
) {
    let answer = match answer {
        Ok(accepted) if accepted.duplicate => {
            metrics::counter!("frontdesk_inbound_duplicates_total").increment(1);
            Ok(accepted)
        }
        Ok(accepted) => {
            metrics::counter!("frontdesk_inbound_messages_total").increment(1);
            Ok(accepted)
        }
        Err(err) => {
            tracing::error!(error = %err, "inbound message could not be stored");
            Err(IngestError::Store(Arc::new(err)))
        }
    };
    // A sender that gave up still had its message stored; its retry finds it (S3).
    let _ = reply.send(answer);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::node::Workers;
    use crate::store::{InboundMessage, NewChannel, Role, Sender};
    use crate::test_support::sqlite_store;

    /// S4 at shutdown: once the workers stop, the writer answers every
    /// message that reached its queue (stored, so its sender may be told so)
    /// and tells later senders to send again; then it ends, so the drain
    /// does not wait for the last handle to go.
    #[tokio::test]
    async fn s4_at_stop_queued_messages_are_stored_and_later_ones_told_to_send_again() {
        let (store, _dir) = sqlite_store().await;
        let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
        let new = NewChannel {
            name: "Site".into(),
            kind: "api".into(),
            secret: "s3cret".into(),
            config: "{}".into(),
        };
        let channel = store.create_channel(admin.id, &new, 0).await.unwrap().id;
        let workers = Workers::default();
        let clock = Arc::new(ManualClock::new(0));
        let ingest = GroupCommit::start(
            store.clone(),
            clock,
            Live::start(store.clone(), &workers),
            &workers,
        );
        let item = |n: usize| IngestItem {
            channel_id: channel,
            source: "api".into(),
            message: InboundMessage {
                external_id: n.to_string(),
                chat_id: format!("chat-{n}"),
                sender: Sender {
                    verified: true,
                    id: format!("v{n}"),
                    ..Sender::default()
                },
                text: "hi".into(),
                ..Default::default()
            },
        };
        let senders: Vec<_> = (0..50)
            .map(|n| {
                let ingest = ingest.clone();
                let item = item(n);
                tokio::spawn(async move { ingest.submit(item).await })
            })
            .collect();
        workers.stop.cancel();
        workers.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), workers.tracker.wait())
            .await
            .expect("the writer ends on stop while a handle is still alive");
        for sender in senders {
            match sender.await.unwrap() {
                Ok(accepted) => {
                    let messages = store.messages(accepted.session_id, 0, 10).await.unwrap();
                    assert_eq!(messages.len(), 1, "an answered message is stored");
                }
                Err(IngestError::ShuttingDown) => {}
                Err(other) => panic!("a sender got {other}"),
            }
        }
        assert!(
            matches!(
                ingest.submit(item(99)).await,
                Err(IngestError::ShuttingDown)
            ),
            "after the stop a sender is told to send again"
        );
    }
}
