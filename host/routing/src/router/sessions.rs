//! Session events: opening, messages both ways, bot handover, agents' actions
//! (R4, R18), closing and rating (S1, S2).

use serde::{Deserialize, Serialize};

use super::Router;
use crate::command::{Command, Hook};
use crate::config::AUTO_CLOSE_AFTER;
use crate::error::Error;
use crate::ids::{AgentId, QueueId, SessionId};
use crate::session::{Cause, SessionSnapshot, State, Transition};
use crate::time::{Span, Timestamp};
use crate::timers::Timer;

/// A session that has just started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSession {
    /// Its id, chosen by the store.
    pub id: SessionId,
    /// The channel's queue.
    pub queue: QueueId,
    /// R14: the agent responsible for the customer's contact (C1), if known.
    pub responsible: Option<AgentId>,
    /// B1: a bot gets the session first; routing waits for its handover.
    pub bot: bool,
}

/// What a customer message did to its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageOutcome {
    /// The message joined the open session.
    Delivered,
    /// The session was in its close delay and is open again (S2, A4).
    Reopened,
    /// The session is closed (waiting for a rating): the engine starts a new
    /// session for this chat with [`Router::handle_session_opened`] (S2).
    StartNewSession,
}

impl Router {
    /// A new session: the bot gets it (B1) or it is routed at once. Its first
    /// customer message counts as "now" for R6 and R16.
    pub fn handle_session_opened(&mut self, now: Timestamp, new: NewSession) -> Result<(), Error> {
        if !self.queues.contains_key(&new.queue) {
            return Err(Error::UnknownQueue(new.queue));
        }
        if self.sessions.contains_key(&new.id) {
            return Err(Error::SessionExists(new.id));
        }
        let state = if new.bot { State::Bot } else { State::Queued };
        let sid = new.id;
        self.sessions.insert(
            sid,
            SessionSnapshot {
                id: sid,
                queue: new.queue,
                state,
                holder: None,
                offered_to: Vec::new(),
                responsible: new.responsible,
                opened_at: now,
                state_since: now,
                last_message_at: now,
                queued_since: None,
                cursor: None,
                answered: false,
                holder_replied: false,
                unanswered: false,
                customer_notified: false,
            },
        );
        self.emit(Command::Transition(Transition {
            session: sid,
            queue: new.queue,
            from: None,
            to: state,
            holder: None,
            at: now,
            cause: Cause::Opened,
        }));
        self.dirty_sessions.push(sid);
        self.arm_quiet_timers(now, sid);
        if !new.bot {
            self.start_queue(now, sid, Cause::Opened);
        }
        self.finish(now);
        Ok(())
    }

    /// B1: the bot hands the session over to the queue.
    pub fn handle_bot_handover(&mut self, now: Timestamp, sid: SessionId) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        if s.state != State::Bot {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        self.start_queue(now, sid, Cause::BotHandover);
        self.finish(now);
        Ok(())
    }

    /// The customer wrote. Runs the availability watch (R9), reopens a session
    /// in its close delay (S2), and restarts the 7-day auto-close (R16).
    pub fn handle_customer_message(
        &mut self,
        now: Timestamp,
        sid: SessionId,
    ) -> Result<MessageOutcome, Error> {
        let s = self.open_session(sid)?;
        let (state, holder, queue) = (s.state, s.holder, s.queue);
        let outcome = match state {
            State::Rating | State::Closed => return Ok(MessageOutcome::StartNewSession),
            State::Closing => {
                self.clear_timer(Timer::CloseDelay(sid));
                if holder.is_some() {
                    self.edit_session(now, sid, Cause::Reopened, |s| {
                        s.state = if s.holder_replied {
                            State::Answered
                        } else {
                            State::Assigned
                        };
                    });
                } else {
                    self.start_queue(now, sid, Cause::Reopened);
                }
                MessageOutcome::Reopened
            }
            _ => {
                let watch = self.queues[&queue].cfg.watch_availability;
                let holder_offline = holder.is_some_and(|a| !self.agents[&a].snap.online);
                let with_agent = state.is_held() || state == State::Offered;
                if watch && with_agent && holder_offline {
                    self.requeue(now, sid, Cause::AgentUnavailable);
                } else if state == State::Waiting {
                    self.edit_session(now, sid, Cause::CustomerMessage, |s| {
                        s.state = State::Answered
                    });
                }
                MessageOutcome::Delivered
            }
        };
        self.touch(now, sid);
        self.finish(now);
        Ok(outcome)
    }

    /// An agent wrote to the customer. That answers the session (stopping R5
    /// and R6), restarts the agent's idle time (R2), and takes or accepts the
    /// session if it was not yet theirs.
    pub fn handle_agent_message(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        agent: AgentId,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        self.known_agent(agent)?;
        let (state, holder) = (s.state, s.holder);
        if matches!(state, State::Bot | State::Queued | State::Offered) && holder != Some(agent) {
            // The message takes the session, which a dismissed agent may not.
            self.usable_agent(agent)?;
        }
        match state {
            State::Closing | State::Rating | State::Closed => {
                self.touch(now, sid);
                self.finish(now);
                return Ok(());
            }
            State::Bot | State::Queued => self.assign(now, sid, agent, Cause::Taken),
            // Writing to an offer is accepting it, under the same limit (R10).
            State::Offered if holder.is_none() && s.offered_to.contains(&agent) => {
                let q = &self.queues[&s.queue];
                if q.cfg.limit.is_some_and(|l| q.count(agent) >= l.max) {
                    return Err(Error::LimitReached {
                        agent,
                        queue: s.queue,
                    });
                }
                self.assign(now, sid, agent, Cause::Accepted)
            }
            State::Offered if holder != Some(agent) => self.assign(now, sid, agent, Cause::Taken),
            // The offered agent answering is accepting (R3).
            State::Offered => self.emit_assign(sid, agent, false),
            _ => {}
        }
        self.clear_timer(Timer::Forward(sid));
        self.clear_timer(Timer::Unanswered(sid));
        let own = self.sessions[&sid].holder == Some(agent);
        self.edit_session(now, sid, Cause::AgentReplied, |s| {
            s.answered = true;
            if own {
                s.holder_replied = true;
            }
            if matches!(s.state, State::Offered | State::Assigned) {
                s.state = State::Answered;
            }
        });
        // Recorded as its own move: `answered` marks the first answer (O6),
        // `waiting` that the agent wrote last (R10 b).
        self.edit_session(now, sid, Cause::AgentReplied, |s| s.state = State::Waiting);
        self.restart_idle(agent, now);
        self.touch(now, sid);
        self.finish(now);
        Ok(())
    }

    /// R4 (and R3's offered agent): the agent accepts an offer. The first
    /// accept wins; later ones get [`Error::AlreadyTaken`].
    pub fn handle_accept(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        agent: AgentId,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        self.usable_agent(agent)?;
        match (s.state, s.holder) {
            (State::Offered, Some(h)) if h == agent => {
                // Strict order: accepting claims the session but does not stop
                // the forward interval; only an answer does (R5).
                self.edit_session(now, sid, Cause::Accepted, |s| s.state = State::Assigned);
                self.emit_assign(sid, agent, false);
            }
            (State::Offered, None) if s.offered_to.contains(&agent) => {
                let q = &self.queues[&s.queue];
                if q.cfg.limit.is_some_and(|l| q.count(agent) >= l.max) {
                    return Err(Error::LimitReached {
                        agent,
                        queue: s.queue,
                    });
                }
                self.assign(now, sid, agent, Cause::Accepted);
            }
            (state, Some(h)) if state.is_held() && h == agent => {}
            (state, Some(h)) if state.is_held() => {
                return Err(Error::AlreadyTaken {
                    session: sid,
                    holder: h,
                });
            }
            (State::Offered, _) | (State::Queued | State::Bot, _) => {
                return Err(Error::NotOffered {
                    session: sid,
                    agent,
                });
            }
            (state, _) => {
                return Err(Error::WrongState {
                    session: sid,
                    state,
                });
            }
        }
        self.finish(now);
        Ok(())
    }

    /// R18: an agent takes a session by hand, from the bot, the queue or an
    /// offer. Limits and presence don't apply to a deliberate choice; a
    /// session another agent already holds needs a transfer instead.
    pub fn handle_take(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        agent: AgentId,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        self.usable_agent(agent)?;
        if !s.state.is_open() {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        match s.holder {
            Some(h) if s.state.is_held() && h != agent => {
                return Err(Error::AlreadyTaken {
                    session: sid,
                    holder: h,
                });
            }
            Some(h) if s.state.is_held() && h == agent => {}
            _ => self.assign(now, sid, agent, Cause::Taken),
        }
        self.finish(now);
        Ok(())
    }

    /// R18: gives the session to another agent, who need not be in the queue.
    pub fn handle_transfer_to_agent(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        to: AgentId,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        self.usable_agent(to)?;
        if !s.state.is_open() {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        if !(s.state.is_held() && s.holder == Some(to)) {
            self.assign(now, sid, to, Cause::TransferredToAgent);
        }
        self.finish(now);
        Ok(())
    }

    /// R18: moves the session to another queue, which routes it by its own
    /// rules.
    pub fn handle_transfer_to_queue(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        queue: QueueId,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        if !self.queues.contains_key(&queue) {
            return Err(Error::UnknownQueue(queue));
        }
        if !s.state.is_open() {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        self.enter_queue(now, sid, Cause::TransferredToQueue, Some(queue), false);
        self.finish(now);
        Ok(())
    }

    /// A2/R17: the no-answer action sends the session back to the queue, away
    /// from its current holder, and R6 starts over so it keeps cycling until
    /// somebody answers.
    pub fn handle_back_to_queue(&mut self, now: Timestamp, sid: SessionId) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        if !s.state.is_open() || s.state == State::Bot {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        self.arm_unanswered(now, sid);
        self.requeue(now, sid, Cause::BackToQueue);
        self.finish(now);
        Ok(())
    }

    /// R18 (or a bot, B1): closes the session. With an A4 delay it waits in
    /// `closing`, where a customer message reopens it; then `rating` (Q1) or
    /// `closed`.
    pub fn handle_close(&mut self, now: Timestamp, sid: SessionId) -> Result<(), Error> {
        let delay = self.queues[&self.open_session(sid)?.queue].cfg.close_delay;
        self.handle_close_after(now, sid, delay)
    }

    /// A4 as a script decides it: closes the session like
    /// [`handle_close`](Self::handle_close), with `delay` in place of the
    /// queue's close delay (zero closes at once).
    pub fn handle_close_after(
        &mut self,
        now: Timestamp,
        sid: SessionId,
        delay: Span,
    ) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        if !s.state.is_open() {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        let holder = s.holder;
        self.unwait(sid);
        self.release_all(sid, holder);
        for timer in [Timer::Forward, Timer::Unanswered] {
            self.clear_timer(timer(sid));
        }
        if delay > Span::ZERO {
            self.edit_session(now, sid, Cause::ClosedByAgent, |s| {
                s.state = State::Closing;
                s.offered_to.clear();
                s.queued_since = None;
            });
            self.set_timer(Timer::CloseDelay(sid), now + delay);
        } else {
            self.finish_close(now, sid, Cause::ClosedByAgent);
        }
        self.finish(now);
        Ok(())
    }

    /// Q1/Q2: the customer's rating arrived.
    pub fn handle_rating(&mut self, now: Timestamp, sid: SessionId) -> Result<(), Error> {
        let s = self.open_session(sid)?;
        if s.state != State::Rating {
            return Err(Error::WrongState {
                session: sid,
                state: s.state,
            });
        }
        if self.queues[&s.queue].cfg.close_on_rating {
            self.close_for_good(now, sid, Cause::Rated);
        }
        self.finish(now);
        Ok(())
    }

    /// Leaves `closing` (or an open state): runs A3, then asks for a rating
    /// (Q1) or closes for good.
    pub(super) fn finish_close(&mut self, now: Timestamp, sid: SessionId, cause: Cause) {
        self.clear_timer(Timer::CloseDelay(sid));
        self.emit(Command::RunHook {
            session: sid,
            hook: Hook::Closed,
        });
        if self.queues[&self.sessions[&sid].queue].cfg.ask_rating {
            self.edit_session(now, sid, cause, |s| {
                s.state = State::Rating;
                s.offered_to.clear();
                s.queued_since = None;
            });
            self.emit(Command::RunHook {
                session: sid,
                hook: Hook::AskRating,
            });
        } else {
            self.close_for_good(now, sid, cause);
        }
    }

    /// A message either way: R16's seven days and A5's timeout start again.
    fn touch(&mut self, now: Timestamp, sid: SessionId) {
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.last_message_at = now;
            self.dirty_sessions.push(sid);
            self.arm_quiet_timers(now, sid);
        }
    }

    /// The timers that count from the last message: R16's auto-close and,
    /// where the queue has one, A5's conversation timeout.
    fn arm_quiet_timers(&mut self, now: Timestamp, sid: SessionId) {
        self.set_timer(Timer::AutoClose(sid), now + AUTO_CLOSE_AFTER);
        let queue = self.sessions[&sid].queue;
        match self.queues[&queue].cfg.conversation_timeout {
            Some(timeout) => self.set_timer(Timer::Timeout(sid), now + timeout),
            None => self.clear_timer(Timer::Timeout(sid)),
        }
    }

    pub(super) fn open_session(&self, sid: SessionId) -> Result<&SessionSnapshot, Error> {
        self.sessions.get(&sid).ok_or(Error::UnknownSession(sid))
    }

    pub(super) fn known_agent(&self, agent: AgentId) -> Result<(), Error> {
        self.agents
            .get(&agent)
            .map(|_| ())
            .ok_or(Error::UnknownAgent(agent))
    }

    /// Known and not dismissed: may be given a session by hand.
    fn usable_agent(&self, agent: AgentId) -> Result<(), Error> {
        let rec = self.agents.get(&agent).ok_or(Error::UnknownAgent(agent))?;
        if rec.snap.status.dismissed {
            return Err(Error::AgentDismissed(agent));
        }
        Ok(())
    }
}
