//! The few primitives every rule goes through, so the bookkeeping (history,
//! R10 counts, held sets, indexes, persistence) can't be forgotten by a rule.

use std::collections::BTreeMap;

use super::Router;
use crate::agent::AgentSnapshot;
use crate::command::Command;
use crate::ids::{AgentId, QueueId, SessionId};
use crate::queue::Queue;
use crate::session::{Cause, SessionSnapshot, State, Transition};
use crate::time::Timestamp;
use crate::timers::Timer;

/// The (queue, agent) whose R10 count this session adds to, if any.
pub(super) fn counted(
    queues: &BTreeMap<QueueId, Queue>,
    s: &SessionSnapshot,
) -> Option<(QueueId, AgentId)> {
    let limit = queues.get(&s.queue)?.cfg.limit?;
    if s.counts_toward_limit(limit.exclude) {
        Some((s.queue, s.holder?))
    } else {
        None
    }
}

impl Router {
    pub(super) fn emit(&mut self, command: Command) {
        self.commands.push_back(command);
    }

    /// Sets or moves a timer, telling the engine only when it changed.
    pub(super) fn set_timer(&mut self, timer: Timer, at: Timestamp) {
        if self.timers.set(timer, at) {
            self.emit(Command::SetTimer { timer, at });
        }
    }

    /// Cancels a timer, telling the engine only if it was pending.
    pub(super) fn clear_timer(&mut self, timer: Timer) {
        if self.timers.clear(timer).is_some() {
            self.emit(Command::ClearTimer { timer });
        }
    }

    /// Changes a session through `f` and keeps everything derived from it
    /// right. A change of state, holder or queue is recorded as a move (S1)
    /// with `cause`.
    pub(super) fn edit_session(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        cause: Cause,
        f: impl FnOnce(&mut SessionSnapshot),
    ) {
        let s = self
            .sessions
            .get_mut(&sid)
            .expect("edit of a session that is not open");
        let (state, holder, queue) = (s.state, s.holder, s.queue);
        let count_before = counted(&self.queues, s);
        f(s);
        if s.state != state {
            s.state_since = now;
        }
        if s.state != state || s.holder != holder || s.queue != queue {
            let t = Transition {
                session: sid,
                queue: s.queue,
                from: Some(state),
                to: s.state,
                holder: s.holder,
                at: now,
                cause,
            };
            self.commands.push_back(Command::Transition(t));
        }
        let count_after = counted(&self.queues, s);
        let new_holder = s.holder;
        if holder != new_holder {
            if let Some(old) = holder.and_then(|a| self.agents.get_mut(&a)) {
                old.held.remove(&sid);
            }
            if let Some(new) = new_holder.and_then(|a| self.agents.get_mut(&a)) {
                new.held.insert(sid);
            }
        }
        if count_before != count_after {
            if let Some((q, a)) = count_before {
                self.add_count(q, a, -1);
            }
            if let Some((q, a)) = count_after {
                self.add_count(q, a, 1);
            }
        }
        self.dirty_sessions.push(sid);
    }

    fn add_count(&mut self, qid: QueueId, agent: AgentId, delta: i32) {
        let snap = &self
            .agents
            .get(&agent)
            .expect("holder is a known agent")
            .snap;
        let q = self.queues.get_mut(&qid).expect("session's queue exists");
        q.add_count(snap, delta);
        // Dropping under the limit can make the agent qualify again.
        if delta < 0 && !q.waiting.is_empty() {
            self.pending_drains.push(qid);
        }
    }

    /// Changes an agent through `f`, re-indexing them in every queue they are
    /// a member of.
    pub(super) fn update_agent(&mut self, id: AgentId, f: impl FnOnce(&mut AgentSnapshot)) {
        let rec = self
            .agents
            .get_mut(&id)
            .expect("update of an unknown agent");
        for q in &rec.queues {
            self.queues
                .get_mut(q)
                .expect("member of a known queue")
                .unindex(&rec.snap);
        }
        f(&mut rec.snap);
        for q in &rec.queues {
            let queue = self.queues.get_mut(q).expect("member of a known queue");
            queue.index(&rec.snap);
            if !queue.waiting.is_empty() {
                self.pending_drains.push(*q);
            }
        }
        self.dirty_agents.push(id);
    }

    /// R2: the agent's idle time starts again at `now` (a reply or an
    /// assignment). Only the idle indexes move.
    pub(super) fn restart_idle(&mut self, id: AgentId, now: Timestamp) {
        let rec = self
            .agents
            .get_mut(&id)
            .expect("idle update of an unknown agent");
        if rec.snap.idle_since == Some(now) {
            return;
        }
        for q in &rec.queues {
            self.queues
                .get_mut(q)
                .expect("member of a known queue")
                .set_idle(&rec.snap, Some(now));
        }
        rec.snap.idle_since = Some(now);
        self.dirty_agents.push(id);
    }

    /// Removes a session from the waiting list of its queue (R11).
    pub(super) fn unwait(&mut self, sid: SessionId) {
        let s = &self.sessions[&sid];
        if let Some(t) = s.queued_since
            && let Some(q) = self.queues.get_mut(&s.queue)
        {
            q.waiting.remove(&(t, sid));
        }
        self.clear_timer(Timer::Retry(sid));
    }

    /// Emits `Release` for the holder and `WithdrawOffer` for open offers,
    /// except to `keep`. The session itself is changed by the caller.
    pub(super) fn release_all(&mut self, sid: SessionId, keep: Option<AgentId>) {
        let s = &self.sessions[&sid];
        let mut out = Vec::new();
        if let Some(h) = s.holder
            && Some(h) != keep
            && s.state.is_open()
        {
            out.push(Command::Release {
                session: sid,
                agent: h,
            });
        }
        for a in &s.offered_to {
            if Some(*a) != keep {
                out.push(Command::WithdrawOffer {
                    session: sid,
                    agent: *a,
                });
            }
        }
        self.commands.extend(out);
    }

    /// Records the final move to `closed` and forgets the session.
    pub(super) fn close_for_good(&mut self, now: Timestamp, sid: SessionId, cause: Cause) {
        self.unwait(sid);
        self.release_all(sid, self.sessions[&sid].holder);
        self.edit_session(now, sid, cause, |s| {
            s.state = State::Closed;
            s.offered_to.clear();
            s.queued_since = None;
        });
        for timer in [
            Timer::Forward,
            Timer::Unanswered,
            Timer::CloseDelay,
            Timer::AutoClose,
            Timer::Timeout,
        ] {
            self.clear_timer(timer(sid));
        }
        let s = self.sessions.remove(&sid).expect("open session");
        if let Some(rec) = s.holder.and_then(|a| self.agents.get_mut(&a)) {
            rec.held.remove(&sid);
        }
        self.emit(Command::ForgetSession(sid));
    }

    /// Ends a `handle_*` call: routes sessions that may have found an agent,
    /// then emits one save per touched session and agent.
    pub(super) fn finish(&mut self, now: Timestamp) {
        while let Some(qid) = self.pending_drains.pop() {
            self.drain(now, qid);
        }
        let mut sessions = std::mem::take(&mut self.dirty_sessions);
        sessions.sort_unstable();
        sessions.dedup();
        for sid in sessions.drain(..) {
            // A session closed in this call was forgotten and needs no save.
            if let Some(s) = self.sessions.get(&sid) {
                self.commands.push_back(Command::SaveSession(s.clone()));
            }
        }
        self.dirty_sessions = sessions;
        let mut agents = std::mem::take(&mut self.dirty_agents);
        agents.sort_unstable();
        agents.dedup();
        for id in agents.drain(..) {
            self.commands
                .push_back(Command::SaveAgent(self.agents[&id].snap.clone()));
        }
        self.dirty_agents = agents;
    }
}
