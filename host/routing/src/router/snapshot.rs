//! The router as plain data, and back.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::state::counted;
use super::{AgentRec, Router};
use crate::agent::AgentSnapshot;
use crate::config::QueueConfig;
use crate::error::Error;
use crate::queue::Queue;
use crate::session::{SessionSnapshot, State};
use crate::time::Timestamp;
use crate::timers::Timer;

/// Everything a router knows, as the rows the engine keeps: one per agent,
/// queue, open session and pending timer. Sorted by id, so two snapshots of
/// the same state compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every agent (`Command::SaveAgent`).
    pub agents: Vec<AgentSnapshot>,
    /// Every queue's configuration (what was given to `handle_queue_config`).
    pub queues: Vec<QueueConfig>,
    /// Every open session (`Command::SaveSession` minus `ForgetSession`).
    pub sessions: Vec<SessionSnapshot>,
    /// Every pending timer (`Command::SetTimer` minus `ClearTimer`).
    pub timers: Vec<(Timer, Timestamp)>,
}

impl Router {
    /// The whole state as plain data.
    pub fn snapshot(&self) -> Snapshot {
        let mut sessions: Vec<SessionSnapshot> = self.sessions.values().cloned().collect();
        sessions.sort_unstable_by_key(|s| s.id);
        let mut agents: Vec<AgentSnapshot> = self.agents.values().map(|r| r.snap.clone()).collect();
        agents.sort_unstable_by_key(|a| a.id);
        let mut timers: Vec<(Timer, Timestamp)> = self.timers.iter().collect();
        timers.sort_unstable();
        Snapshot {
            agents,
            queues: self.queues.values().map(|q| q.cfg.clone()).collect(),
            sessions,
            timers,
        }
    }

    /// Rebuilds a router from what the engine stored. Timers keep their
    /// deadlines: one already past fires at the next
    /// [`handle_timeout`](Self::handle_timeout), once. Emits no commands, since
    /// the store already holds this state.
    pub fn restore(snapshot: Snapshot) -> Result<Router, Error> {
        let bad = |msg: String| Err(Error::BadSnapshot(msg));
        let mut r = Router::empty();
        for agent in snapshot.agents {
            let id = agent.id;
            let rec = AgentRec {
                snap: agent,
                queues: Vec::new(),
                held: BTreeSet::new(),
            };
            if r.agents.insert(id, rec).is_some() {
                return bad(format!("{id} appears twice"));
            }
        }
        for cfg in snapshot.queues {
            cfg.validate()?;
            let qid = cfg.id;
            for member in &cfg.members {
                let Some(rec) = r.agents.get_mut(member) else {
                    return bad(format!("{qid} lists {member}, who is not among the agents"));
                };
                rec.queues.push(qid);
            }
            if r.queues.insert(qid, Queue::new(cfg)).is_some() {
                return bad(format!("{qid} appears twice"));
            }
        }
        for s in snapshot.sessions {
            let sid = s.id;
            let Some(queue) = r.queues.get_mut(&s.queue) else {
                return bad(format!(
                    "{sid} is in {}, which is not among the queues",
                    s.queue
                ));
            };
            for agent in s.holder.iter().chain(&s.offered_to) {
                if !r.agents.contains_key(agent) {
                    return bad(format!(
                        "{sid} refers to {agent}, who is not among the agents"
                    ));
                }
            }
            if s.state == State::Closed {
                return bad(format!(
                    "{sid} is closed; closed sessions are not part of the routing state"
                ));
            }
            if s.state == State::Queued {
                queue
                    .waiting
                    .insert((s.queued_since.unwrap_or(s.state_since), sid));
            }
            if let Some(h) = s.holder {
                r.agents.get_mut(&h).expect("checked").held.insert(sid);
            }
            if let Some((qid, agent)) = counted(&r.queues, &s) {
                *r.queues
                    .get_mut(&qid)
                    .expect("checked")
                    .counts
                    .entry(agent)
                    .or_insert(0) += 1;
            }
            if r.sessions.insert(sid, s).is_some() {
                return bad(format!("{sid} appears twice"));
            }
        }
        for rec in r.agents.values() {
            for q in &rec.queues {
                r.queues.get_mut(q).expect("checked").index(&rec.snap);
            }
        }
        let mut seen = HashSet::new();
        for (timer, at) in snapshot.timers {
            if !seen.insert(timer) {
                return bad(format!("timer {timer} appears twice"));
            }
            let known = match timer {
                Timer::Presence(a) => r.agents.contains_key(&a),
                Timer::Sweep => true,
                other => other.session().is_some_and(|s| r.sessions.contains_key(&s)),
            };
            if !known {
                return bad(format!(
                    "timer {timer} is about something that is not in the snapshot"
                ));
            }
            r.timers.set(timer, at);
        }
        if r.timers.get(Timer::Sweep).is_none() {
            return bad("the daily sweep timer (R15) is missing".to_owned());
        }
        Ok(r)
    }
}
