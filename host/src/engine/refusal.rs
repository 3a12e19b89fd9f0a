//! A node that may not route (another node holds the routing lease, or this
//! one lost it) keeps its engine task alive and answers every event with
//! the reason, until the lease lets it route again.

use tokio::sync::mpsc;

use super::{EngineError, Job, MAX_STEP, RECOVER_EVERY, Reply};
use crate::routing_lock::RoutingLease;

/// While this node may not route: answers each event with the reason, and
/// looks at the lease again when it leads, or every second. `false` once
/// the engine's inbox is closed (the server stops).
pub(super) async fn wait_refusing(
    rx: &mut mpsc::Receiver<Job>,
    jobs: &mut Vec<Job>,
    reason: &str,
    lease: &RoutingLease,
) -> bool {
    tokio::select! {
        received = rx.recv_many(jobs, MAX_STEP) => {
            refuse_all(jobs, || EngineError::NotRouting(reason.to_string()));
            received > 0
        }
        () = lease.led() => true,
        () = tokio::time::sleep(RECOVER_EVERY) => true,
    }
}

/// Answers every job that waits for an answer with `refusal` (none of
/// them took effect).
pub(super) fn refuse_all(jobs: &mut Vec<Job>, refusal: impl Fn() -> EngineError) {
    for (_, _, reply) in jobs.drain(..) {
        // Only callers on this node queue jobs; inbox rows are read by the
        // engine task itself and stay in the table until a step applies them.
        if let Some(Reply::Caller(reply)) = reply {
            let _ = reply.send(Err(refusal()));
        }
    }
}
