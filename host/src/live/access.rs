//! Access changes for the open live sockets (P1).
//!
//! A socket checked its token and loaded its user's channels when it
//! opened; an admin disabling that user, changing their role or channels,
//! or replacing their token must reach it at once, not at its next
//! reconnect. The API's own changes poke [`AccessWatch::changed`] before
//! they answer; changes made elsewhere (`frontdesk user disable`, another
//! node, SQL by hand) are caught by polling a digest of the access rows
//! twice a second while any socket is open. Either way every socket wakes,
//! checks its token again and reloads what it may see.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::node::Workers;
use crate::store::UserStore;

/// How often the access rows are read while sockets are open: well within
/// the one second a change may take to reach them.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Handle to the access generation; cheap to clone.
#[derive(Clone)]
pub struct AccessWatch {
    generation: Arc<watch::Sender<u64>>,
}

impl AccessWatch {
    /// Starts the poller on `store` under `workers`; it stops with them,
    /// or when the last handle goes.
    pub fn start(store: Arc<dyn UserStore>, workers: &Workers) -> AccessWatch {
        let generation = Arc::new(watch::Sender::new(0));
        workers.tracker.spawn(poll(
            store,
            Arc::downgrade(&generation),
            workers.stop.clone(),
        ));
        AccessWatch { generation }
    }

    /// Someone's access may have changed: every socket re-checks itself.
    pub fn changed(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// A receiver that wakes on every change from now on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}

async fn poll(
    store: Arc<dyn UserStore>,
    generation: Weak<watch::Sender<u64>>,
    stop: CancellationToken,
) {
    let mut last = None;
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(generation) = generation.upgrade() else {
            return;
        };
        if generation.receiver_count() == 0 {
            // Nobody to tell. The next read is a new baseline, taken after
            // the sockets checked their tokens, so it counts as a change.
            last = None;
            continue;
        }
        match store.access_fingerprint().await {
            Ok(now) => {
                if last != Some(now) {
                    generation.send_modify(|g| *g += 1);
                }
                last = Some(now);
            }
            Err(err) => {
                tracing::warn!(error = %err, "reading access rows for the live sockets failed")
            }
        }
    }
}
