//! Queue settings (R1–R11, R14, A4, Q1, Q2) and their validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Interval};
use crate::ids::{AgentId, QueueId};
use crate::time::Span;

/// Shortest forward (R5) or unanswered (R6) interval.
pub const MIN_INTERVAL: Span = Span::minutes(1);
/// Longest forward (R5) or unanswered (R6) interval.
pub const MAX_INTERVAL: Span = Span::hours(12);
/// R11: how often a session nobody could take is routed again.
pub const RETRY_INTERVAL: Span = Span::minutes(2);
/// R12: how long an agent counts as online after their last activity.
pub const PRESENCE_TIMEOUT: Span = Span::minutes(10);
/// R15: how often sessions of dismissed agents and agents on vacation are swept.
pub const SWEEP_INTERVAL: Span = Span::hours(24);
/// R16: a session closes by itself this long after its last message.
pub const AUTO_CLOSE_AFTER: Span = Span::days(7);

/// How a queue hands out sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// R2, R2a, R17: to the eligible agent idle longest, online agents first.
    #[default]
    Evenly,
    /// R3, R5: to the first eligible agent in queue order, forwarded to the next
    /// one after the forward interval, wrapping round.
    Strict,
    /// R4: offered to every eligible agent; the first to accept takes it.
    Everybody,
}

/// Which sessions R10's per-agent limit leaves out of the count. Closed
/// sessions and sessions waiting for a rating are always left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitExclusion {
    /// (a) Sessions the agent has replied to at least once.
    Replied,
    /// (b) Sessions waiting for the customer, where the agent wrote last.
    WaitingForCustomer,
    /// (c) Only closed sessions: everything still open counts.
    #[default]
    ClosedOnly,
}

/// R10: at most `max` counted sessions per agent in this queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionLimit {
    /// Most sessions an agent may hold here; at `max` they stop qualifying.
    pub max: u32,
    /// Which sessions are left out of the count.
    pub exclude: LimitExclusion,
}

/// Everything the core needs to know about one queue.
///
/// Counting for R10 is per queue, because the exclusion mode is a queue
/// setting: counting another channel's sessions under this channel's rule would
/// mix two definitions of "open".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    /// The queue (one per open channel).
    pub id: QueueId,
    /// R1: agents in queue order; the order matters for strict mode (R3).
    pub members: Vec<AgentId>,
    /// How sessions are handed out.
    pub mode: Mode,
    /// R5: strict mode moves an unanswered session on after this long.
    pub forward_interval: Span,
    /// R6: with no agent answer for this long, the session is marked
    /// unanswered and the no-answer hook (A2) runs.
    pub unanswered_interval: Span,
    /// R7: only agents who are clocked in and not on a break qualify.
    pub require_clocked_in: bool,
    /// R8: only online agents qualify.
    pub require_online: bool,
    /// R9: on every customer message in an assigned session, requeue it if the
    /// agent is offline.
    pub watch_availability: bool,
    /// R10: the per-agent session limit, if any.
    pub limit: Option<SessionLimit>,
    /// R14: send a known contact's session to their responsible agent first.
    pub route_to_responsible: bool,
    /// A4: delay between an agent closing a session and it closing for good;
    /// zero closes at once.
    pub close_delay: Span,
    /// Q1: ask the customer for a rating once the session closes.
    pub ask_rating: bool,
    /// Q2: close the session as soon as the rating arrives (otherwise it waits
    /// in `rating` until R16's auto-close).
    pub close_on_rating: bool,
    /// A5: after this long without a message the timeout hook runs, which
    /// may close the session; `None` never runs it.
    #[serde(default)]
    pub conversation_timeout: Option<Span>,
    /// C5: a transfer by hand makes the new agent responsible for the
    /// contact; otherwise the first agent who took the session stays so.
    #[serde(default)]
    pub transfer_makes_responsible: bool,
}

impl QueueConfig {
    /// A queue with the given members and everything else at its default:
    /// evenly, 3-minute forward, 10-minute unanswered interval, no options.
    pub fn new(id: QueueId, members: Vec<AgentId>) -> Self {
        Self {
            id,
            members,
            mode: Mode::Evenly,
            forward_interval: Span::minutes(3),
            unanswered_interval: Span::minutes(10),
            require_clocked_in: false,
            require_online: false,
            watch_availability: false,
            limit: None,
            route_to_responsible: false,
            close_delay: Span::ZERO,
            ask_rating: false,
            close_on_rating: false,
            conversation_timeout: None,
            transfer_makes_responsible: false,
        }
    }

    /// Checks the settings a person typed in, so a bad value is refused with a
    /// message saying what is allowed instead of misrouting sessions later.
    pub fn validate(&self) -> Result<(), Error> {
        check_interval(Interval::Forward, self.forward_interval)?;
        check_interval(Interval::Unanswered, self.unanswered_interval)?;
        if let Some(limit) = self.limit
            && limit.max == 0
        {
            return Err(Error::ZeroLimit { queue: self.id });
        }
        if let Some(given) = self.conversation_timeout
            && given <= Span::ZERO
        {
            return Err(Error::NonPositiveTimeout {
                queue: self.id,
                given,
            });
        }
        if self.close_delay < Span::ZERO {
            return Err(Error::NegativeCloseDelay {
                queue: self.id,
                given: self.close_delay,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(self.members.len());
        for agent in &self.members {
            if !seen.insert(*agent) {
                return Err(Error::DuplicateMember {
                    queue: self.id,
                    agent: *agent,
                });
            }
        }
        Ok(())
    }
}

fn check_interval(which: Interval, given: Span) -> Result<(), Error> {
    if given < MIN_INTERVAL || given > MAX_INTERVAL {
        return Err(Error::IntervalOutOfRange {
            which,
            given,
            min: MIN_INTERVAL,
            max: MAX_INTERVAL,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> QueueConfig {
        QueueConfig::new(QueueId(1), vec![AgentId(1), AgentId(2)])
    }

    #[test]
    fn r5_r6_intervals_outside_one_minute_to_twelve_hours_are_refused() {
        let mut c = cfg();
        c.forward_interval = Span::seconds(30);
        let err = c.validate().unwrap_err();
        assert!(matches!(
            err,
            Error::IntervalOutOfRange {
                which: Interval::Forward,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "the forward interval (R5) must be between 1 minute and 12 hours, but it is 30 seconds"
        );
        let mut c = cfg();
        c.unanswered_interval = Span::hours(13);
        assert!(matches!(
            c.validate(),
            Err(Error::IntervalOutOfRange {
                which: Interval::Unanswered,
                ..
            })
        ));
        let mut c = cfg();
        c.forward_interval = MIN_INTERVAL;
        c.unanswered_interval = MAX_INTERVAL;
        c.validate().unwrap();
    }

    #[test]
    fn duplicate_members_and_zero_limits_are_refused() {
        let mut c = cfg();
        c.members.push(AgentId(1));
        assert!(matches!(c.validate(), Err(Error::DuplicateMember { .. })));
        let mut c = cfg();
        c.limit = Some(SessionLimit {
            max: 0,
            exclude: LimitExclusion::ClosedOnly,
        });
        assert!(matches!(c.validate(), Err(Error::ZeroLimit { .. })));
    }
}
