//! Deadlines as data: an enum of timer kinds and a table ordered by deadline.
//!
//! Every timer is keyed by what it is about, so setting it again moves it
//! rather than adding a second one, and a restored table fires each deadline
//! exactly once.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hash::IdMap;
use crate::ids::{AgentId, SessionId};
use crate::time::Timestamp;

/// One pending deadline and what it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// R3/R5: the offered agent's forward interval.
    Forward(SessionId),
    /// R6: the unanswered interval.
    Unanswered(SessionId),
    /// R11: route a waiting session again.
    Retry(SessionId),
    /// A4: the close delay.
    CloseDelay(SessionId),
    /// R16: seven days after the last message.
    AutoClose(SessionId),
    /// A5: the queue's conversation timeout after the last message.
    Timeout(SessionId),
    /// R12: ten minutes after the agent's last activity.
    Presence(AgentId),
    /// R15: the daily sweep.
    Sweep,
}

impl Timer {
    /// A short stable name for the kind, for a `kind` column in the store.
    pub fn kind(self) -> &'static str {
        match self {
            Timer::Forward(_) => "forward",
            Timer::Unanswered(_) => "unanswered",
            Timer::Retry(_) => "retry",
            Timer::CloseDelay(_) => "close_delay",
            Timer::AutoClose(_) => "auto_close",
            Timer::Timeout(_) => "timeout",
            Timer::Presence(_) => "presence",
            Timer::Sweep => "sweep",
        }
    }

    /// The session or agent id the timer is about (0 for the sweep), for a
    /// `subject` column in the store.
    pub fn subject(self) -> i64 {
        match self {
            Timer::Forward(s)
            | Timer::Unanswered(s)
            | Timer::Retry(s)
            | Timer::CloseDelay(s)
            | Timer::AutoClose(s)
            | Timer::Timeout(s) => s.0,
            Timer::Presence(a) => a.0,
            Timer::Sweep => 0,
        }
    }

    /// The inverse of [`Timer::kind`] and [`Timer::subject`]; `None` for an
    /// unknown kind.
    pub fn from_parts(kind: &str, subject: i64) -> Option<Timer> {
        let s = SessionId(subject);
        Some(match kind {
            "forward" => Timer::Forward(s),
            "unanswered" => Timer::Unanswered(s),
            "retry" => Timer::Retry(s),
            "close_delay" => Timer::CloseDelay(s),
            "auto_close" => Timer::AutoClose(s),
            "timeout" => Timer::Timeout(s),
            "presence" => Timer::Presence(AgentId(subject)),
            "sweep" => Timer::Sweep,
            _ => return None,
        })
    }

    /// The session the timer belongs to, if any.
    pub fn session(self) -> Option<SessionId> {
        match self {
            Timer::Presence(_) | Timer::Sweep => None,
            _ => Some(SessionId(self.subject())),
        }
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.kind(), self.subject())
    }
}

/// Pending timers: a map for "when is X due" and an ordered set for "what is
/// due next". Both are O(log n), so a hundred thousand sessions each with a
/// few timers cost nothing per decision.
#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable {
    by_timer: IdMap<Timer, Timestamp>,
    by_deadline: BTreeSet<(Timestamp, Timer)>,
}

impl TimerTable {
    /// Sets or moves `timer` to `at`. Returns whether anything changed.
    pub(crate) fn set(&mut self, timer: Timer, at: Timestamp) -> bool {
        match self.by_timer.insert(timer, at) {
            Some(old) if old == at => false,
            Some(old) => {
                self.by_deadline.remove(&(old, timer));
                self.by_deadline.insert((at, timer));
                true
            }
            None => {
                self.by_deadline.insert((at, timer));
                true
            }
        }
    }

    /// Removes `timer`; returns its deadline if it was set.
    pub(crate) fn clear(&mut self, timer: Timer) -> Option<Timestamp> {
        let at = self.by_timer.remove(&timer)?;
        self.by_deadline.remove(&(at, timer));
        Some(at)
    }

    /// When `timer` is due, if set.
    pub(crate) fn get(&self, timer: Timer) -> Option<Timestamp> {
        self.by_timer.get(&timer).copied()
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.by_deadline.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Timer)> {
        let &(at, timer) = self.by_deadline.first()?;
        if at > now {
            return None;
        }
        self.by_deadline.pop_first();
        self.by_timer.remove(&timer);
        Some((at, timer))
    }

    /// Every pending timer, earliest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Timer, Timestamp)> + '_ {
        self.by_deadline.iter().map(|(at, t)| (*t, *at))
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.by_timer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_a_timer_keeps_one_entry_and_pops_in_order() {
        let mut t = TimerTable::default();
        assert!(t.set(Timer::Retry(SessionId(1)), Timestamp(50)));
        assert!(t.set(Timer::Sweep, Timestamp(10)));
        assert!(t.set(Timer::Retry(SessionId(1)), Timestamp(5)));
        assert!(!t.set(Timer::Retry(SessionId(1)), Timestamp(5)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.next(), Some(Timestamp(5)));
        assert_eq!(t.pop_due(Timestamp(4)), None);
        assert_eq!(
            t.pop_due(Timestamp(10)),
            Some((Timestamp(5), Timer::Retry(SessionId(1))))
        );
        assert_eq!(
            t.pop_due(Timestamp(10)),
            Some((Timestamp(10), Timer::Sweep))
        );
        assert_eq!(t.pop_due(Timestamp(10)), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn kind_and_subject_round_trip() {
        for timer in [
            Timer::Forward(SessionId(3)),
            Timer::Unanswered(SessionId(3)),
            Timer::Retry(SessionId(3)),
            Timer::CloseDelay(SessionId(3)),
            Timer::AutoClose(SessionId(3)),
            Timer::Presence(AgentId(4)),
            Timer::Sweep,
        ] {
            assert_eq!(
                Timer::from_parts(timer.kind(), timer.subject()),
                Some(timer)
            );
        }
        assert_eq!(Timer::from_parts("nope", 1), None);
    }
}
