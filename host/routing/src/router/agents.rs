//! Agent and queue events: who the agents are, their shift and presence
//! (R7, R12, R13, R15), and how each queue is configured (R1–R11, R14).

use std::collections::BTreeSet;

use super::state::counted;
use super::{AgentRec, Router};
use crate::agent::{AgentSnapshot, AgentStatus};
use crate::config::{PRESENCE_TIMEOUT, QueueConfig};
use crate::error::Error;
use crate::ids::AgentId;
use crate::queue::Queue;
use crate::time::Timestamp;
use crate::timers::Timer;

impl Router {
    /// Adds an agent or changes their status (dismissed, vacation, clock,
    /// break). An agent who starts qualifying picks up waiting sessions at once
    /// instead of at the next 2-minute retry.
    pub fn handle_agent_upsert(&mut self, now: Timestamp, id: AgentId, status: AgentStatus) {
        match self.agents.get(&id) {
            Some(rec) if rec.snap.status == status => return,
            Some(_) => self.update_agent(id, |a| a.status = status),
            None => {
                let rec = AgentRec {
                    snap: AgentSnapshot::new(id, status),
                    queues: Vec::new(),
                    held: BTreeSet::new(),
                };
                self.agents.insert(id, rec);
                self.dirty_agents.push(id);
            }
        }
        self.finish(now);
    }

    /// R12: the agent's console is connected and active. They count as online
    /// for the next 10 minutes.
    pub fn handle_agent_activity(&mut self, now: Timestamp, id: AgentId) -> Result<(), Error> {
        self.known_agent(id)?;
        if !self.agents[&id].snap.online {
            self.update_agent(id, |a| a.online = true);
        }
        self.set_timer(Timer::Presence(id), now + PRESENCE_TIMEOUT);
        self.finish(now);
        Ok(())
    }

    /// R12: the agent's console disconnected; they are offline at once.
    pub fn handle_agent_disconnected(&mut self, now: Timestamp, id: AgentId) -> Result<(), Error> {
        self.known_agent(id)?;
        self.go_offline(id);
        self.finish(now);
        Ok(())
    }

    pub(super) fn go_offline(&mut self, id: AgentId) {
        if self.agents[&id].snap.online {
            self.update_agent(id, |a| a.online = false);
        }
        self.clear_timer(Timer::Presence(id));
    }

    /// Adds or replaces a queue's configuration after validating it. Sessions
    /// already in the queue stay where they are; waiting ones are routed under
    /// the new rules.
    pub fn handle_queue_config(&mut self, now: Timestamp, cfg: QueueConfig) -> Result<(), Error> {
        cfg.validate()?;
        if let Some(missing) = cfg.members.iter().find(|a| !self.agents.contains_key(a)) {
            return Err(Error::UnknownAgent(*missing));
        }
        let qid = cfg.id;
        let waiting = match self.queues.remove(&qid) {
            Some(old) => {
                for member in &old.cfg.members {
                    if let Some(rec) = self.agents.get_mut(member) {
                        rec.queues.retain(|q| *q != qid);
                    }
                }
                old.waiting
            }
            None => BTreeSet::new(),
        };
        let mut queue = Queue::new(cfg);
        queue.waiting = waiting;
        self.queues.insert(qid, queue);
        // Counts depend on the exclusion mode, so they are rebuilt, not kept.
        let held: Vec<AgentId> = self
            .sessions
            .values()
            .filter_map(|s| counted(&self.queues, s))
            .map(|(_, a)| a)
            .collect();
        let queue = self.queues.get_mut(&qid).expect("just inserted");
        for agent in held {
            *queue.counts.entry(agent).or_insert(0) += 1;
        }
        for member in queue.cfg.members.clone() {
            let rec = self.agents.get_mut(&member).expect("checked above");
            rec.queues.push(qid);
            queue.index(&rec.snap);
        }
        self.pending_drains.push(qid);
        self.finish(now);
        Ok(())
    }
}
