//! Everybody mode (R4): offer to every qualifying agent at once.

use crate::ids::AgentId;
use crate::queue::Queue;

/// Every qualifying member, in queue order.
pub(crate) fn candidates(q: &Queue) -> Vec<AgentId> {
    q.by_order.iter().map(|(_, a)| *a).collect()
}
