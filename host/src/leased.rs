//! One loop for the work queues whose items a node claims with a lease: the
//! outbox (S5) and the attachment fetcher (issue 6).
//!
//! Both keep their items in the database, claim a few at a time for a lease
//! (so a node that dies leaves them to another), work on them side by side
//! with a cap per channel and per node, and record each outcome: done, due
//! again after a backoff, or failed for good. This module owns the part they
//! share: when to look, how many may run at once, and stopping. A queue says
//! what to claim and how to work one item ([`LeasedQueue`]).
//!
//! The loop looks when it is woken (this node queued something), when a
//! running item finishes (its lane has room again), at the next due time it
//! read from the store, and every [`POLL`] for items another node queued. On
//! shutdown it claims nothing more; items in flight run on under the
//! workers' [`TaskTracker`] and are recorded within the drain time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::node::Workers;
use crate::store::{Millis, StorageHealth, StoreError};

/// How often a queue looks for items nobody on this node told it about.
pub const POLL: Duration = Duration::from_secs(1);

/// Delay before retry number `attempts + 1`: 1 s, 2 s, 4 s, ... at most an hour.
pub fn backoff_ms(attempts: i64) -> Millis {
    (1_000_i64 << attempts.clamp(0, 12)).min(3_600_000)
}

/// A database-backed queue of leased work. `Lane` is what the per-lane cap
/// counts (a channel): one slow channel fills only its own lane.
pub trait LeasedQueue: Send + Sync + 'static {
    /// One claimed item.
    type Job: Send + 'static;

    /// Runs once before the first claim (e.g. making due again what this
    /// node's previous process claimed and never finished).
    fn on_start(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Claims items due at `now`, each with its lane, taking a place in
    /// `room` for each (an item whose lane is full is left for later).
    fn claim(
        &self,
        now: Millis,
        room: &mut Lanes,
    ) -> impl Future<Output = Result<Vec<(i64, Self::Job)>, StoreError>> + Send;

    /// The earliest time after `now` an item becomes due, if any.
    fn next_due(
        &self,
        now: Millis,
    ) -> impl Future<Output = Result<Option<Millis>, StoreError>> + Send;

    /// Works on one claimed item and records its outcome.
    fn work(&self, job: Self::Job) -> impl Future<Output = ()> + Send;

    /// Where claim and read errors are reported as storage faults.
    fn health(&self) -> &StorageHealth;
}

/// How many items may run at once: per lane, and in all.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub per_lane: usize,
    pub total: usize,
}

/// The items running now, by lane.
#[derive(Debug, Clone)]
pub struct Lanes {
    caps: Caps,
    by_lane: HashMap<i64, usize>,
    total: usize,
}

impl Lanes {
    fn new(caps: Caps) -> Self {
        Lanes {
            caps,
            by_lane: HashMap::new(),
            total: 0,
        }
    }

    /// Whether one more item may start in `lane`.
    pub fn has_room(&self, lane: i64) -> bool {
        self.total < self.caps.total
            && self.by_lane.get(&lane).copied().unwrap_or(0) < self.caps.per_lane
    }

    /// How many more items may start, across all lanes.
    pub fn free(&self) -> usize {
        self.caps.total - self.total
    }

    /// Takes a place for one more item in `lane`, if there is one.
    pub fn take(&mut self, lane: i64) -> bool {
        let room = self.has_room(lane);
        if room {
            self.started(lane);
        }
        room
    }

    /// The per-lane cap.
    pub fn per_lane(&self) -> usize {
        self.caps.per_lane
    }

    fn started(&mut self, lane: i64) {
        *self.by_lane.entry(lane).or_default() += 1;
        self.total += 1;
    }

    fn finished(&mut self, lane: i64) {
        if let Some(n) = self.by_lane.get_mut(&lane) {
            *n -= 1;
            if *n == 0 {
                self.by_lane.remove(&lane);
            }
        }
        self.total -= 1;
    }
}

/// What a queue's loop runs on: the clock, the wake-up this node's producers
/// notify, and the workers' stop signal and tracker.
pub struct Runner {
    pub name: &'static str,
    pub caps: Caps,
    pub clock: Arc<dyn Clock>,
    pub wake: Arc<Notify>,
    pub workers: Workers,
}

impl Runner {
    /// Starts `queue`'s loop under the workers' tracker.
    pub fn start<Q: LeasedQueue>(self, queue: Q) {
        let tracker = self.workers.tracker.clone();
        tracker.spawn(self.run(Arc::new(queue)));
    }

    async fn run<Q: LeasedQueue>(self, queue: Arc<Q>) {
        let Runner {
            name,
            caps,
            clock,
            wake,
            workers,
        } = self;
        let (stop, tracker) = (workers.stop, workers.tracker);
        queue.on_start().await;
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<i64>();
        let mut lanes = Lanes::new(caps);
        while !stop.is_cancelled() {
            while let Ok(lane) = done_rx.try_recv() {
                lanes.finished(lane);
            }
            let now = clock.now();
            if lanes.free() > 0 {
                match queue.claim(now, &mut lanes.clone()).await {
                    Ok(jobs) => {
                        for (lane, job) in jobs {
                            lanes.started(lane);
                            spawn_work(&tracker, &queue, job, lane, &done_tx);
                        }
                    }
                    Err(err) => {
                        queue.health().observe(&err);
                        tracing::error!(queue = name, error = %err, "cannot claim work");
                    }
                }
            }
            // Items due now that did not fit wait for a running one to
            // finish (or the poll), not for their due time.
            let next = match queue.next_due(now).await {
                Ok(next) => next.unwrap_or(Millis::MAX),
                Err(err) => {
                    queue.health().observe(&err);
                    tracing::error!(queue = name, error = %err, "cannot read when work is due");
                    Millis::MAX
                }
            };
            tokio::select! {
                () = stop.cancelled() => {}
                () = wake.notified() => {}
                Some(lane) = done_rx.recv() => lanes.finished(lane),
                () = tokio::time::sleep(POLL) => {}
                () = clock.sleep_until(next) => {}
            }
        }
    }
}

fn spawn_work<Q: LeasedQueue>(
    tracker: &TaskTracker,
    queue: &Arc<Q>,
    job: Q::Job,
    lane: i64,
    done: &mpsc::UnboundedSender<i64>,
) {
    let (queue, done) = (queue.clone(), done.clone());
    tracker.spawn(async move {
        queue.work(job).await;
        let _ = done.send(lane);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_cap_each_lane_and_the_total() {
        let mut lanes = Lanes::new(Caps {
            per_lane: 2,
            total: 3,
        });
        lanes.started(1);
        lanes.started(1);
        assert!(!lanes.has_room(1), "lane 1 is full");
        assert!(lanes.has_room(2));
        lanes.started(2);
        assert_eq!(lanes.free(), 0);
        assert!(!lanes.has_room(3), "the node is full");
        lanes.finished(1);
        assert!(lanes.has_room(1) && lanes.has_room(3));
        assert!(lanes.take(3), "a free place is taken");
        assert!(!lanes.take(1), "and then the node is full again");
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(3), 8_000);
        assert_eq!(backoff_ms(40), 3_600_000);
    }
}
