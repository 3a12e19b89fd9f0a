//! One node's routing leadership: follower, acquiring, leader, stepping down.
//!
//! The node makes at most one lease call at a time. Each call is one SQL
//! statement on the `routing_lease` row (see the crate docs for the exact
//! text), so the driver maps [`Action`]s to statements and their outcomes to
//! [`Reply`]s one to one.

use std::collections::VecDeque;
use std::time::Instant;

use crate::error::Error;
use crate::settings::Settings;
use crate::token::Token;

/// What the driver must do next. Lease calls go to the database; the other two
/// tell the routing engine to start or stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the acquire statement with `$led` = `led` (0 for `None`).
    ///
    /// `led` is the newest token this process has routed under. If the row
    /// still names this process with exactly that token, a write of that term
    /// may still be on its way to the database, so the statement must bump the
    /// token to fence it off; with a newer token (an earlier acquire of ours
    /// landed but its answer was lost) it keeps it, because nothing was ever
    /// written under it.
    Acquire {
        /// The newest token this process has been leader under.
        led: Option<Token>,
    },
    /// Run the renew statement with `token`.
    Renew {
        /// The token being renewed.
        token: Token,
    },
    /// Run the release statement with `token` (clean shutdown).
    Release {
        /// The token being given up.
        token: Token,
    },
    /// Start routing under `token`: rebuild the router from the store (read
    /// after the acquire committed, so every write of an older term is either
    /// in it or can no longer commit), then drain the inbox and resume timers.
    /// Every routing transaction checks this token.
    BecomeLeader {
        /// The fencing token of this term.
        token: Token,
    },
    /// Stop routing under `token` now: drop the router and abandon its
    /// in-flight writes (fencing refuses them if they arrive after a takeover).
    StepDown {
        /// The token of the term that ended.
        token: Token,
        /// Why it ended.
        reason: StepDownReason,
    },
}

/// Why a leader stopped routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepDownReason {
    /// A renew updated no row: another node took the lease over.
    Lost,
    /// No renew succeeded in time: the lease may have expired in the database.
    Expired,
    /// A routing write found a newer token: another node took over.
    Fenced,
    /// A routing write's outcome is unknown (error or timeout at commit), so
    /// the router no longer knows what the store holds. The node re-acquires
    /// at once, which starts a new term and a rebuild.
    WriteUncertain,
    /// [`Node::shutdown`] was called.
    Shutdown,
}

/// The outcome of one lease call, as the driver saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Acquire returned a row: this node holds the lease with `token`.
    Acquired {
        /// The `RETURNING token` value.
        token: Token,
    },
    /// Acquire updated no row: another process holds a live lease.
    Busy,
    /// Renew updated the row.
    Renewed,
    /// Release updated the row.
    Released,
    /// Renew or release updated no row: the lease is no longer ours.
    Lost,
    /// The call failed or timed out ([`Settings::call_timeout`]): whether it
    /// took effect is unknown.
    Failed,
}

/// What a routing write's failure means for leadership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// The write read a token other than its own and rolled back.
    Fenced,
    /// The commit's outcome is unknown (connection lost, timeout).
    Uncertain,
}

/// The node's role, for `/healthz` and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not leading, and no acquire in flight.
    Follower,
    /// Not leading; an acquire is in flight.
    Acquiring,
    /// Routing under `token` until `valid_until` unless renewed.
    Leader {
        /// The fencing token of this term.
        token: Token,
        /// When it stops on its own (monotonic clock).
        valid_until: Instant,
    },
    /// Shut down; a last call or the release is still in flight.
    SteppingDown,
    /// Shut down, nothing in flight: the driver can exit.
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Follower,
    Leader {
        token: Token,
        valid_until: Instant,
    },
    /// `release` is the token to give up once the call in flight is answered.
    Stopped {
        release: Option<Token>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Acquire,
    Renew(Token),
    Release,
}

impl CallKind {
    fn name(self) -> &'static str {
        match self {
            CallKind::Acquire => "acquire",
            CallKind::Renew(_) => "renew",
            CallKind::Release => "release",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Call {
    kind: CallKind,
    /// Validity is counted from here, not from the answer: the database set
    /// `expires_at` no earlier than this moment.
    sent_at: Instant,
}

/// The leadership state machine of one node (sans-IO).
///
/// - Input: [`handle_timeout`](Self::handle_timeout) when
///   [`poll_timeout`](Self::poll_timeout) is reached,
///   [`handle_reply`](Self::handle_reply) with each lease call's outcome,
///   [`handle_write_failure`](Self::handle_write_failure) when a routing
///   write is fenced or uncertain, and [`shutdown`](Self::shutdown).
/// - Output: [`poll_action`](Self::poll_action) until `None`, then
///   [`poll_timeout`](Self::poll_timeout).
/// - Queries: [`write_token`](Self::write_token) before each routing
///   transaction, [`role`](Self::role) for `/healthz`.
#[derive(Debug)]
pub struct Node {
    settings: Settings,
    state: State,
    call: Option<Call>,
    /// When the next acquire (follower) or renew (leader) is due.
    next_call: Instant,
    led: Option<Token>,
    actions: VecDeque<Action>,
}

impl Node {
    /// A follower that tries to acquire at once. The driver must give each
    /// process its own holder id (a restart is a new holder), so a restarted
    /// node never inherits the writes of its previous life.
    pub fn new(now: Instant, settings: Settings) -> Result<Self, Error> {
        settings.validate()?;
        Ok(Self {
            settings,
            state: State::Follower,
            call: None,
            next_call: now,
            led: None,
            actions: VecDeque::new(),
        })
    }

    /// The settings this node runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The token to check in a routing transaction started at `now`, or `None`
    /// if this node must not route now.
    pub fn write_token(&self, now: Instant) -> Option<Token> {
        match self.state {
            State::Leader { token, valid_until } if now < valid_until => Some(token),
            _ => None,
        }
    }

    /// The node's role.
    pub fn role(&self) -> Role {
        match (self.state, self.call) {
            (State::Leader { token, valid_until }, _) => Role::Leader { token, valid_until },
            (State::Follower, Some(_)) => Role::Acquiring,
            (State::Follower, None) => Role::Follower,
            (State::Stopped { release }, call) if release.is_some() || call.is_some() => {
                Role::SteppingDown
            }
            (State::Stopped { .. }, _) => Role::Stopped,
        }
    }

    /// The next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next. While a
    /// call is in flight only the leader's expiry counts: the driver answers
    /// the call within [`Settings::call_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let next_call = match self.state {
            State::Stopped { .. } => None,
            _ if self.call.is_some() => None,
            _ => Some(self.next_call),
        };
        let expiry = match self.state {
            State::Leader { valid_until, .. } => Some(valid_until),
            _ => None,
        };
        next_call.into_iter().chain(expiry).min()
    }

    /// Time has reached `now`: step down if the lease ran out, start the next
    /// acquire or renew if one is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Leader { token, valid_until } = self.state
            && now >= valid_until
        {
            self.step_down(now, token, StepDownReason::Expired);
        }
        if self.call.is_some() || now < self.next_call {
            return;
        }
        match self.state {
            State::Follower => {
                self.start(now, CallKind::Acquire, Action::Acquire { led: self.led });
                self.next_call = now + self.settings.acquire_every;
            }
            State::Leader { token, .. } => {
                self.start(now, CallKind::Renew(token), Action::Renew { token });
                self.next_call = now + self.settings.renew_every;
            }
            State::Stopped { .. } => {}
        }
    }

    /// The outcome of the lease call in flight.
    pub fn handle_reply(&mut self, now: Instant, reply: Reply) -> Result<(), Error> {
        let Some(call) = self.call.take() else {
            return Err(Error::NoCallInFlight { reply });
        };
        match (call.kind, reply) {
            (CallKind::Acquire, Reply::Acquired { token }) => {
                self.acquired(now, call.sent_at, token)
            }
            (CallKind::Acquire, Reply::Busy | Reply::Failed) => {}
            (CallKind::Renew(token), Reply::Renewed) => {
                let renewed_until = self.valid_from(call.sent_at);
                if let State::Leader {
                    token: ours,
                    valid_until,
                } = &mut self.state
                    && *ours == token
                {
                    *valid_until = (*valid_until).max(renewed_until);
                }
            }
            (CallKind::Renew(token), Reply::Lost) => match self.state {
                State::Leader { token: ours, .. } if ours == token => {
                    self.step_down(now, token, StepDownReason::Lost);
                }
                // Nothing left to release.
                State::Stopped {
                    release: Some(ours),
                } if ours == token => {
                    self.state = State::Stopped { release: None };
                }
                _ => {}
            },
            (CallKind::Renew(_), Reply::Failed) => {}
            (CallKind::Release, Reply::Released | Reply::Lost | Reply::Failed) => {}
            (kind, reply) => {
                self.call = Some(call);
                return Err(Error::ReplyMismatch {
                    call: kind.name(),
                    reply,
                });
            }
        }
        self.release_if_idle(now);
        Ok(())
    }

    /// A routing write under `token` was fenced or its outcome is unknown.
    /// Ignored if that term already ended.
    pub fn handle_write_failure(&mut self, now: Instant, token: Token, failure: WriteFailure) {
        if let State::Leader { token: ours, .. } = self.state
            && ours == token
        {
            let reason = match failure {
                WriteFailure::Fenced => StepDownReason::Fenced,
                WriteFailure::Uncertain => StepDownReason::WriteUncertain,
            };
            self.step_down(now, token, reason);
        }
    }

    /// Stop for good: a leader steps down and releases the lease so a
    /// follower takes over at its next attempt instead of after the ttl.
    /// Wait for [`Role::Stopped`] before exiting.
    pub fn shutdown(&mut self, now: Instant) {
        let release = match self.state {
            State::Leader { token, .. } => {
                self.actions.push_back(Action::StepDown {
                    token,
                    reason: StepDownReason::Shutdown,
                });
                Some(token)
            }
            State::Follower => None,
            State::Stopped { .. } => return,
        };
        self.state = State::Stopped { release };
        self.release_if_idle(now);
    }

    fn acquired(&mut self, now: Instant, sent_at: Instant, token: Token) {
        match self.state {
            State::Follower => {
                let valid_until = self.valid_from(sent_at);
                if now >= valid_until {
                    // The answer came too late to use; the next acquire
                    // keeps this token if the lease is still ours.
                    self.next_call = now;
                    return;
                }
                self.state = State::Leader { token, valid_until };
                self.led = Some(token);
                self.next_call = (sent_at + self.settings.renew_every).max(now);
                self.actions.push_back(Action::BecomeLeader { token });
            }
            // Shut down while acquiring: give back what we just got.
            State::Stopped { .. } => {
                self.state = State::Stopped {
                    release: Some(token),
                }
            }
            // Unreachable: a leader never acquires, and one call is in flight
            // at a time. Keep the term we have.
            State::Leader { .. } => {}
        }
    }

    fn step_down(&mut self, now: Instant, token: Token, reason: StepDownReason) {
        self.state = State::Follower;
        self.actions.push_back(Action::StepDown { token, reason });
        self.next_call = match reason {
            // Someone else holds a live lease: try again on the usual rhythm.
            StepDownReason::Lost | StepDownReason::Fenced => now + self.settings.acquire_every,
            // The lease is probably still ours: take it back at once, as a new
            // term.
            StepDownReason::Expired | StepDownReason::WriteUncertain | StepDownReason::Shutdown => {
                now
            }
        };
    }

    fn start(&mut self, now: Instant, kind: CallKind, action: Action) {
        self.call = Some(Call { kind, sent_at: now });
        self.actions.push_back(action);
    }

    fn release_if_idle(&mut self, now: Instant) {
        if self.call.is_none()
            && let State::Stopped {
                release: Some(token),
            } = self.state
        {
            self.state = State::Stopped { release: None };
            self.start(now, CallKind::Release, Action::Release { token });
        }
    }

    fn valid_from(&self, sent_at: Instant) -> Instant {
        sent_at + self.settings.ttl.saturating_sub(self.settings.margin)
    }
}

#[cfg(test)]
mod tests;
