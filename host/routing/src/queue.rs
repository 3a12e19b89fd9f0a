//! One queue's configuration and the indexes that make a routing decision a
//! lookup instead of a scan over every agent.

use std::collections::BTreeSet;

use crate::agent::AgentSnapshot;
use crate::config::QueueConfig;
use crate::eligibility::qualifies;
use crate::hash::IdMap;
use crate::ids::{AgentId, SessionId};
use crate::time::Timestamp;

/// A queue with its indexes. Only members who qualify (R13) are in the
/// candidate sets, so the first entry of a set is the answer.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    pub(crate) cfg: QueueConfig,
    /// Member → place in queue order (R1).
    pub(crate) position: IdMap<AgentId, u32>,
    /// Qualifying members in queue order: strict (R3) and everybody (R4).
    pub(crate) by_order: BTreeSet<(u32, AgentId)>,
    /// Qualifying online members, idlest first (R2).
    pub(crate) idle_online: BTreeSet<(Option<Timestamp>, AgentId)>,
    /// Qualifying offline members, idlest first; used only when no member at
    /// all is online (R2a).
    pub(crate) idle_offline: BTreeSet<(Option<Timestamp>, AgentId)>,
    /// Members online, qualifying or not: R2a asks whether *every* agent in
    /// the queue is offline.
    pub(crate) online_members: u32,
    /// Sessions waiting for an agent, first come first served (R11).
    pub(crate) waiting: BTreeSet<(Timestamp, SessionId)>,
    /// R10: sessions counted toward each holder's limit in this queue. Holders
    /// need not be members (R14, transfers), so this is not member-only.
    pub(crate) counts: IdMap<AgentId, u32>,
}

impl Queue {
    /// An empty index for `cfg`; members are added with [`Queue::index`].
    pub(crate) fn new(cfg: QueueConfig) -> Self {
        let position = cfg
            .members
            .iter()
            .enumerate()
            .map(|(i, a)| (*a, i as u32))
            .collect();
        Self {
            cfg,
            position,
            by_order: BTreeSet::new(),
            idle_online: BTreeSet::new(),
            idle_offline: BTreeSet::new(),
            online_members: 0,
            waiting: BTreeSet::new(),
            counts: IdMap::default(),
        }
    }

    /// How many of the agent's sessions count toward R10 here.
    pub(crate) fn count(&self, agent: AgentId) -> u32 {
        self.counts.get(&agent).copied().unwrap_or(0)
    }

    /// Adds the agent to the indexes as they are now. Must be paired with
    /// [`Queue::unindex`] called with the same agent state.
    pub(crate) fn index(&mut self, agent: &AgentSnapshot) {
        let Some(&pos) = self.position.get(&agent.id) else {
            return;
        };
        if agent.online {
            self.online_members += 1;
        }
        if qualifies(agent, &self.cfg, self.count(agent.id)) {
            self.by_order.insert((pos, agent.id));
            let idle = if agent.online {
                &mut self.idle_online
            } else {
                &mut self.idle_offline
            };
            idle.insert((agent.idle_since, agent.id));
        }
    }

    /// Removes the agent from the indexes, given the state they were indexed with.
    pub(crate) fn unindex(&mut self, agent: &AgentSnapshot) {
        let Some(&pos) = self.position.get(&agent.id) else {
            return;
        };
        if agent.online {
            self.online_members -= 1;
        }
        self.by_order.remove(&(pos, agent.id));
        let idle = if agent.online {
            &mut self.idle_online
        } else {
            &mut self.idle_offline
        };
        idle.remove(&(agent.idle_since, agent.id));
    }

    /// Changes the agent's R10 count by `delta`, keeping the indexes right.
    /// Most changes don't cross the limit, so the sets are only touched when
    /// the agent's qualification flips.
    pub(crate) fn add_count(&mut self, agent: &AgentSnapshot, delta: i32) {
        let before = self.count(agent.id);
        let after = before
            .checked_add_signed(delta)
            .expect("R10 count went below zero");
        let flips = self.position.contains_key(&agent.id)
            && qualifies(agent, &self.cfg, before) != qualifies(agent, &self.cfg, after);
        if flips {
            self.unindex(agent);
        }
        if after == 0 {
            self.counts.remove(&agent.id);
        } else {
            self.counts.insert(agent.id, after);
        }
        if flips {
            self.index(agent);
        }
    }

    /// Moves a qualifying member to a new idle time (R2) without touching the
    /// other indexes. `agent` is their state before the change.
    pub(crate) fn set_idle(&mut self, agent: &AgentSnapshot, idle_since: Option<Timestamp>) {
        if !self.position.contains_key(&agent.id)
            || !qualifies(agent, &self.cfg, self.count(agent.id))
        {
            return;
        }
        let idle = if agent.online {
            &mut self.idle_online
        } else {
            &mut self.idle_offline
        };
        idle.remove(&(agent.idle_since, agent.id));
        idle.insert((idle_since, agent.id));
    }

    /// Whether any member could be picked right now, in this queue's mode.
    pub(crate) fn has_candidate(&self) -> bool {
        !self.by_order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentStatus;
    use crate::config::{LimitExclusion, SessionLimit};
    use crate::ids::QueueId;

    #[test]
    fn index_follows_eligibility_and_limit() {
        let mut cfg = QueueConfig::new(QueueId(1), vec![AgentId(1), AgentId(2)]);
        cfg.limit = Some(SessionLimit {
            max: 1,
            exclude: LimitExclusion::ClosedOnly,
        });
        let mut q = Queue::new(cfg);
        let mut a = AgentSnapshot::new(AgentId(2), AgentStatus::default());
        a.online = true;
        q.index(&a);
        assert_eq!(q.online_members, 1);
        assert_eq!(q.by_order.first(), Some(&(1, AgentId(2))));
        q.add_count(&a, 1);
        assert!(!q.has_candidate(), "at the limit the agent drops out");
        assert_eq!(q.online_members, 1, "still online though");
        q.add_count(&a, -1);
        assert!(q.has_candidate());
        q.unindex(&a);
        assert_eq!(q.online_members, 0);
        assert!(q.idle_online.is_empty());
        // Not a member: never indexed, but counted.
        let stranger = AgentSnapshot::new(AgentId(9), AgentStatus::default());
        q.add_count(&stranger, 1);
        assert_eq!(q.count(AgentId(9)), 1);
        assert!(!q.has_candidate());
    }
}
