//! Strict order (R3): the first qualifying agent in queue order, then the next
//! one after each forward interval (R5), wrapping round after the last.

use std::ops::Bound;

use crate::ids::AgentId;
use crate::queue::Queue;

/// The first qualifying agent after `after` in queue order, wrapping round to
/// the top. With no `after` (or one no longer in the queue) it starts at the
/// top. May return `after` itself when nobody else qualifies.
pub(crate) fn pick(q: &Queue, after: Option<AgentId>) -> Option<AgentId> {
    let start = after.and_then(|a| q.position.get(&a).copied());
    let next = match start {
        Some(pos) => q
            .by_order
            .range((Bound::Excluded((pos, AgentId(i64::MAX))), Bound::Unbounded))
            .next(),
        None => None,
    };
    next.or_else(|| q.by_order.first()).map(|(_, a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentSnapshot, AgentStatus};
    use crate::config::QueueConfig;
    use crate::ids::QueueId;

    #[test]
    fn forwards_in_order_and_wraps() {
        // Queue order 30, 10, 20: order is the list, not the id.
        let members = vec![AgentId(30), AgentId(10), AgentId(20)];
        let mut q = Queue::new(QueueConfig::new(QueueId(1), members.clone()));
        for a in &members {
            q.index(&AgentSnapshot::new(*a, AgentStatus::default()));
        }
        assert_eq!(pick(&q, None), Some(AgentId(30)));
        assert_eq!(pick(&q, Some(AgentId(30))), Some(AgentId(10)));
        assert_eq!(pick(&q, Some(AgentId(10))), Some(AgentId(20)));
        assert_eq!(pick(&q, Some(AgentId(20))), Some(AgentId(30)));
        assert_eq!(pick(&q, Some(AgentId(99))), Some(AgentId(30)));
        q.unindex(&AgentSnapshot::new(AgentId(10), AgentStatus::default()));
        assert_eq!(
            pick(&q, Some(AgentId(30))),
            Some(AgentId(20)),
            "skips who does not qualify"
        );
    }
}
