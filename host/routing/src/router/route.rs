//! Routing decisions: who gets a waiting session, and how it is handed over.

use super::Router;
use crate::command::{Command, Notice};
use crate::config::{Mode, RETRY_INTERVAL};
use crate::eligibility::qualifies_as_responsible;
use crate::ids::{AgentId, QueueId, SessionId};
use crate::session::{Cause, State};
use crate::time::Timestamp;
use crate::timers::Timer;
use crate::{evenly, everybody, strict};

impl Router {
    /// Arms R6 for a session that starts looking for an agent, then queues it
    /// with R14 tried first.
    pub(super) fn start_queue(&mut self, now: Timestamp, sid: SessionId, cause: Cause) {
        self.enter_queue(now, sid, cause, None, true);
        // Handed to an agent, it was armed there; waiting, it starts now.
        if self.sessions[&sid].state == State::Queued {
            self.arm_unanswered(now, sid);
        }
    }

    /// (Re)starts R6 for an unanswered session. Called when it enters the
    /// queue and again whenever it reaches an agent (assigned, or offered by
    /// routing), so each agent who gets it has the whole unanswered interval
    /// to answer: time spent waiting for somebody to be free does not count
    /// against them, and A2's back-to-queue (R17) never fires moments after
    /// an assignment (issue 22).
    pub(super) fn arm_unanswered(&mut self, now: Timestamp, sid: SessionId) {
        let s = &self.sessions[&sid];
        if !s.answered {
            let interval = self.queues[&s.queue].cfg.unanswered_interval;
            self.set_timer(Timer::Unanswered(sid), now + interval);
        }
    }

    /// Takes the session from whoever has it, puts it in the queue (`to_queue`
    /// for a transfer) and routes it. `responsible_first` tries R14 before
    /// the queue's own mode.
    pub(super) fn enter_queue(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        cause: Cause,
        to_queue: Option<QueueId>,
        responsible_first: bool,
    ) {
        let avoid = self.sessions[&sid].holder;
        self.release_all(sid, None);
        self.unwait(sid);
        self.clear_timer(Timer::Forward(sid));
        self.edit_session(now, sid, cause, |s| {
            if let Some(q) = to_queue {
                s.queue = q;
                // Strict order starts again at the top of the new queue.
                s.cursor = None;
            }
            s.holder = None;
            s.holder_replied = false;
            s.offered_to.clear();
            // A session already waiting in this queue keeps its place (R11).
            let keep = s.state == State::Queued && to_queue.is_none();
            s.queued_since = s.queued_since.filter(|_| keep).or(Some(now));
            s.state = State::Queued;
        });
        if responsible_first && self.route_responsible(now, sid) {
            return;
        }
        if !self.route_once(now, sid, avoid) {
            self.no_agent(now, sid);
        }
    }

    /// R14: hands the session to the contact's responsible agent if the queue
    /// asks for it and that agent qualifies (R13 minus presence and limit).
    fn route_responsible(&mut self, now: Timestamp, sid: SessionId) -> bool {
        let s = &self.sessions[&sid];
        let q = &self.queues[&s.queue];
        if !q.cfg.route_to_responsible {
            return false;
        }
        let Some(agent) = s.responsible else {
            return false;
        };
        let Some(rec) = self.agents.get(&agent) else {
            return false;
        };
        if !qualifies_as_responsible(&rec.snap, &q.cfg) {
            return false;
        }
        self.assign(now, sid, agent, Cause::Responsible);
        true
    }

    /// One routing decision in the queue's mode. Changes nothing when nobody
    /// qualifies, so callers decide what failure means.
    pub(super) fn route_once(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        avoid: Option<AgentId>,
    ) -> bool {
        let s = &self.sessions[&sid];
        let q = &self.queues[&s.queue];
        match q.cfg.mode {
            Mode::Evenly => match evenly::pick(q, avoid) {
                Some(agent) => {
                    self.assign(now, sid, agent, Cause::Evenly);
                    true
                }
                None => false,
            },
            Mode::Strict => match strict::pick(q, s.cursor) {
                Some(agent) => {
                    self.offer_one(now, sid, agent, Cause::StrictOrder);
                    true
                }
                None => false,
            },
            Mode::Everybody => {
                let agents = everybody::candidates(q);
                if agents.is_empty() {
                    return false;
                }
                self.offer_all(now, sid, agents);
                true
            }
        }
    }

    /// R11: nobody qualifies. The session waits, the customer hears so once,
    /// and routing is tried again in 2 minutes.
    pub(super) fn no_agent(&mut self, now: Timestamp, sid: SessionId) {
        let s = &self.sessions[&sid];
        let since = s.queued_since.unwrap_or(now);
        let notify = !s.customer_notified;
        let qid = s.queue;
        self.queues
            .get_mut(&qid)
            .expect("queue exists")
            .waiting
            .insert((since, sid));
        self.edit_session(now, sid, Cause::NoAgent, |s| {
            s.queued_since = Some(since);
            s.customer_notified = true;
        });
        if notify {
            self.emit(Command::NotifyCustomer {
                session: sid,
                notice: Notice::NobodyAvailable,
            });
        }
        self.set_timer(Timer::Retry(sid), now + RETRY_INTERVAL);
    }

    /// Gives the session to `agent` as its holder.
    pub(super) fn assign(&mut self, now: Timestamp, sid: SessionId, agent: AgentId, cause: Cause) {
        self.unwait(sid);
        self.clear_timer(Timer::Forward(sid));
        self.release_all(sid, Some(agent));
        self.edit_session(now, sid, cause, |s| {
            if s.holder != Some(agent) {
                s.holder_replied = false;
            }
            s.state = State::Assigned;
            s.holder = Some(agent);
            s.offered_to.clear();
            s.queued_since = None;
            s.customer_notified = false;
        });
        let replace = cause == Cause::TransferredToAgent
            && self.queues[&self.sessions[&sid].queue]
                .cfg
                .transfer_makes_responsible;
        self.emit_assign(sid, agent, replace);
        // R2: an assignment restarts the agent's idle time.
        self.restart_idle(agent, now);
        self.arm_unanswered(now, sid);
    }

    /// The agent holds the session now; the first agent to hold a contact's
    /// session becomes responsible for it (C5) unless someone already is.
    pub(super) fn emit_assign(&mut self, sid: SessionId, agent: AgentId, replace: bool) {
        self.emit(Command::Assign {
            session: sid,
            agent,
        });
        self.emit(Command::MakeResponsible {
            session: sid,
            agent,
            replace,
        });
    }

    /// Strict order (R3): offers the session to one agent, who holds it until
    /// they answer or the forward interval (R5) runs out.
    pub(super) fn offer_one(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        agent: AgentId,
        cause: Cause,
    ) {
        self.unwait(sid);
        self.release_all(sid, Some(agent));
        self.edit_session(now, sid, cause, |s| {
            if s.holder != Some(agent) {
                s.holder_replied = false;
            }
            s.state = State::Offered;
            s.holder = Some(agent);
            s.cursor = Some(agent);
            s.offered_to.clear();
            s.queued_since = None;
            s.customer_notified = false;
        });
        self.emit(Command::Offer {
            session: sid,
            agent,
        });
        let s = &self.sessions[&sid];
        let interval = self.queues[&s.queue].cfg.forward_interval;
        self.set_timer(Timer::Forward(sid), now + interval);
        // A forward (R5) is each agent's chance in strict order; R6 keeps
        // counting across forwards, or it could never run out when the
        // forward interval is the shorter one.
        if cause != Cause::Forwarded {
            self.arm_unanswered(now, sid);
        }
    }

    /// Everybody mode (R4): offers the session to all of `agents` at once.
    fn offer_all(&mut self, now: Timestamp, sid: SessionId, agents: Vec<AgentId>) {
        self.unwait(sid);
        self.release_all(sid, None);
        let offers: Vec<Command> = agents
            .iter()
            .map(|a| Command::Offer {
                session: sid,
                agent: *a,
            })
            .collect();
        self.edit_session(now, sid, Cause::Everybody, |s| {
            s.state = State::Offered;
            s.holder = None;
            s.holder_replied = false;
            s.offered_to = agents;
            s.queued_since = None;
            s.customer_notified = false;
        });
        self.commands.extend(offers);
        self.arm_unanswered(now, sid);
    }

    /// Routes waiting sessions of `qid`, oldest first, until one finds nobody.
    /// Waiting sessions share one queue's rules, so once one fails the rest
    /// would too.
    pub(super) fn drain(&mut self, now: Timestamp, qid: QueueId) {
        loop {
            let Some(q) = self.queues.get(&qid) else {
                return;
            };
            if !q.has_candidate() {
                return;
            }
            let Some(&(_, sid)) = q.waiting.first() else {
                return;
            };
            if !self.route_once(now, sid, None) {
                return;
            }
        }
    }

    /// Sends the session back to the queue, away from its current holder if
    /// anyone else qualifies (R9, R15, R17).
    pub(super) fn requeue(&mut self, now: Timestamp, sid: SessionId, cause: Cause) {
        self.enter_queue(now, sid, cause, None, false);
    }
}
