//! Evenly mode (R2, R2a): the idlest qualifying agent, online agents first.

use crate::ids::AgentId;
use crate::queue::Queue;

/// The agent to get the next session. If anyone in the queue is online, only
/// online agents are considered; offline agents only when everybody is offline
/// (R2a). `avoid` is passed over unless nobody else qualifies, which is what
/// makes a session cycle through the queue when it goes back (R9, R17).
pub(crate) fn pick(q: &Queue, avoid: Option<AgentId>) -> Option<AgentId> {
    let set = if q.online_members > 0 {
        &q.idle_online
    } else {
        &q.idle_offline
    };
    let mut iter = set.iter().map(|(_, a)| *a);
    let first = iter.next()?;
    if Some(first) != avoid {
        return Some(first);
    }
    Some(iter.next().unwrap_or(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentSnapshot, AgentStatus};
    use crate::config::QueueConfig;
    use crate::ids::QueueId;
    use crate::time::Timestamp;

    fn agent(id: i64, online: bool, idle: Option<i64>) -> AgentSnapshot {
        let mut a = AgentSnapshot::new(AgentId(id), AgentStatus::default());
        a.online = online;
        a.idle_since = idle.map(Timestamp);
        a
    }

    #[test]
    fn idlest_online_first_then_idlest_offline() {
        let mut q = Queue::new(QueueConfig::new(QueueId(1), (1..=3).map(AgentId).collect()));
        q.index(&agent(1, false, None));
        q.index(&agent(2, true, Some(50)));
        q.index(&agent(3, true, Some(10)));
        assert_eq!(pick(&q, None), Some(AgentId(3)));
        assert_eq!(pick(&q, Some(AgentId(3))), Some(AgentId(2)));
        q.unindex(&agent(2, true, Some(50)));
        assert_eq!(
            pick(&q, Some(AgentId(3))),
            Some(AgentId(3)),
            "nobody else: back to the avoided one"
        );
        q.unindex(&agent(3, true, Some(10)));
        assert_eq!(
            pick(&q, None),
            Some(AgentId(1)),
            "all offline: offline agents qualify"
        );
    }
}
