//! What happens when a deadline passes (R3/R5, R6, R11, R12, R15, R16, A4).

use super::Router;
use crate::command::{Command, Hook};
use crate::config::{Mode, RETRY_INTERVAL, SWEEP_INTERVAL};
use crate::ids::SessionId;
use crate::session::{Cause, State};
use crate::strict;
use crate::time::Timestamp;
use crate::timers::Timer;

impl Router {
    /// Fires every timer due at or before `now`, earliest first.
    ///
    /// Each timer takes effect at its own deadline rather than at `now`, so
    /// an engine that calls late (after a restart, or a clock jump in a test)
    /// gets the same outcome as one that called on time. Call this before
    /// feeding other events stamped `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some((at, timer)) = self.timers.pop_due(now) {
            self.emit(Command::ClearTimer { timer });
            match timer {
                Timer::Forward(sid) => self.forward(at, sid),
                Timer::Unanswered(sid) => self.unanswered(at, sid),
                Timer::Retry(sid) => self.retry(at, sid),
                Timer::CloseDelay(sid) => {
                    if self
                        .sessions
                        .get(&sid)
                        .is_some_and(|s| s.state == State::Closing)
                    {
                        self.finish_close(at, sid, Cause::CloseDelayElapsed);
                    }
                }
                Timer::AutoClose(sid) => self.auto_close(at, sid),
                Timer::Timeout(sid) => self.conversation_timeout(sid),
                Timer::Presence(agent) => {
                    if self.agents.contains_key(&agent) {
                        self.go_offline(agent);
                    }
                }
                Timer::Sweep => self.sweep(at),
            }
            // Drains and saves per timer, so a later timer in the same call
            // sees the state the earlier one left.
            self.finish(at);
        }
    }

    /// R3/R5: the offered agent did not answer in time; on to the next
    /// qualifying agent in queue order, wrapping round.
    fn forward(&mut self, at: Timestamp, sid: SessionId) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        let q = &self.queues[&s.queue];
        let Some(holder) = s.holder else { return };
        if s.answered || !matches!(s.state, State::Offered | State::Assigned) {
            return;
        }
        if q.cfg.mode != Mode::Strict {
            // The queue left strict order while the offer ran: an open offer
            // is routed again under the new mode; an accepted one stays.
            if s.state == State::Offered {
                self.enter_queue(at, sid, Cause::Forwarded, None, false);
            }
            return;
        }
        match strict::pick(q, Some(holder)) {
            // Nobody else qualifies: the same agent keeps it for another round.
            Some(next) if next == holder => {
                let interval = q.cfg.forward_interval;
                self.set_timer(Timer::Forward(sid), at + interval);
            }
            Some(next) => self.offer_one(at, sid, next, Cause::Forwarded),
            None => self.enter_queue(at, sid, Cause::Forwarded, None, false),
        }
    }

    /// R6: nobody answered in time. Marked once; A2 decides what follows.
    fn unanswered(&mut self, at: Timestamp, sid: SessionId) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        if s.answered || !s.state.is_open() {
            return;
        }
        self.edit_session(at, sid, Cause::NoAgent, |s| s.unanswered = true);
        self.emit(Command::MarkUnanswered { session: sid });
        self.emit(Command::RunHook {
            session: sid,
            hook: Hook::NoAnswer,
        });
    }

    /// R11: try a waiting session again, and again in 2 minutes if still
    /// nobody qualifies.
    fn retry(&mut self, at: Timestamp, sid: SessionId) {
        if self
            .sessions
            .get(&sid)
            .is_none_or(|s| s.state != State::Queued)
        {
            return;
        }
        if !self.route_once(at, sid, None) {
            self.set_timer(Timer::Retry(sid), at + RETRY_INTERVAL);
        }
    }

    /// R16: seven days without a message close the session, whatever its state.
    fn auto_close(&mut self, at: Timestamp, sid: SessionId) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        if s.state != State::Rating {
            self.emit(Command::RunHook {
                session: sid,
                hook: Hook::Closed,
            });
        }
        self.close_for_good(at, sid, Cause::AutoClosed);
    }

    /// A5: quiet for the queue's timeout. The script decides whether to
    /// close; sessions already closing or rating, or with a bot, are left alone.
    fn conversation_timeout(&mut self, sid: SessionId) {
        let runs = self
            .sessions
            .get(&sid)
            .is_some_and(|s| s.state.is_open() && s.state != State::Bot);
        if runs {
            self.emit(Command::RunHook {
                session: sid,
                hook: Hook::Timeout,
            });
        }
    }

    /// R15: sessions held by dismissed agents or agents on vacation go back to
    /// the queue. Runs once every 24 hours.
    fn sweep(&mut self, at: Timestamp) {
        let mut swept: Vec<SessionId> = self
            .agents
            .values()
            .filter(|r| r.snap.status.dismissed || r.snap.status.vacation)
            .flat_map(|r| r.held.iter().copied())
            .filter(|sid| {
                self.sessions[sid].state.is_open() && self.sessions[sid].state != State::Bot
            })
            .collect();
        // Agents are hashed; sorting keeps the outcome independent of that.
        swept.sort_unstable();
        for sid in swept {
            self.requeue(at, sid, Cause::Sweep);
        }
        self.set_timer(Timer::Sweep, at + SWEEP_INTERVAL);
    }
}
