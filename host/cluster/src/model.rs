//! The routing tables in memory: `routing_lease`, `routing_inbox`,
//! `routing_timer`, with the semantics of the SQL in the crate docs, one
//! method per statement or transaction.
//!
//! The simulation runs nodes against this; the PostgreSQL store is meant to
//! behave exactly like it. Each call is atomic, as each statement or
//! transaction is in PostgreSQL, and `now` is the database's clock: time since
//! an arbitrary epoch, which only needs to move forward.
//!
//! The routing tables proper (sessions, assignments) are stood in for by a
//! `version` that every committed routing write increments, so a test can
//! tell whether a writer's memory matched the store when it wrote.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::token::Token;

/// A process's holder id (`text` in SQL). Unique per process start.
pub type Holder = u64;
/// An inbox row's `seq` (`bigserial`).
pub type Seq = u64;
/// A timer row's id.
pub type TimerId = u64;

/// The one `routing_lease` row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Who took it last; `None` for the migration's empty holder.
    pub holder: Option<Holder>,
    /// The fencing token.
    pub token: Token,
    /// When it ends on the database's clock. Zero stands for `-infinity`: the
    /// clock is after it from the first call on.
    pub expires_at: Duration,
}

/// A `routing_timer` row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerRow {
    /// When it is due (wall clock, set by the leader that created it).
    pub deadline: Duration,
    /// When a routing transaction fired it.
    pub fired_at: Option<Duration>,
}

/// What one fenced routing transaction does besides checking the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Apply an inbox event: delete its row, store the timers it starts.
    Apply {
        /// The inbox row.
        seq: Seq,
        /// Timers the event starts, with their deadlines.
        timers: Vec<(TimerId, Duration)>,
    },
    /// Fire a timer: set its `fired_at`.
    Fire {
        /// The timer row.
        timer: TimerId,
    },
}

/// A committed routing transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The routing tables' version after it.
    pub version: u64,
    /// The applied event's payload, for [`Write::Apply`].
    pub payload: Option<u64>,
}

/// Why a routing transaction rolled back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The lease row holds another token: a newer leader took over.
    Fenced {
        /// The row's token.
        current: Token,
    },
    /// The event's delete found no row: it was already applied.
    EventGone {
        /// The inbox row.
        seq: Seq,
    },
    /// The timer's update found no unfired row.
    TimerGone {
        /// The timer row.
        timer: TimerId,
    },
    /// A timer with this id already exists (primary key).
    TimerExists {
        /// The timer row.
        timer: TimerId,
    },
}

/// What a new leader reads to rebuild, and what it polls for after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The routing tables' version.
    pub version: u64,
    /// Pending inbox rows, `(seq, payload)` in `seq` order.
    pub inbox: Vec<(Seq, u64)>,
    /// Unfired timers, `(id, deadline)`.
    pub timers: Vec<(TimerId, Duration)>,
}

/// Deliberate bugs, so the simulation can show its invariants catch them.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// Routing writes skip the token check.
    NoFencing,
    /// Acquire keeps the token whenever the live lease is already ours,
    /// ignoring `led`.
    ReacquireKeepsToken,
}

/// The three tables.
#[derive(Clone, Debug)]
pub struct Db {
    lease: Lease,
    inbox: BTreeMap<Seq, u64>,
    next_seq: Seq,
    timers: BTreeMap<TimerId, TimerRow>,
    version: u64,
    #[cfg(test)]
    flaw: Option<Flaw>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// The tables as the migration leaves them.
    pub fn new() -> Self {
        Self {
            lease: Lease {
                holder: None,
                token: Token(0),
                expires_at: Duration::ZERO,
            },
            inbox: BTreeMap::new(),
            next_seq: 1,
            timers: BTreeMap::new(),
            version: 0,
            #[cfg(test)]
            flaw: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_flaw(flaw: Option<Flaw>) -> Self {
        Self {
            flaw,
            ..Self::new()
        }
    }

    /// The lease row.
    pub fn lease(&self) -> Lease {
        self.lease
    }

    /// The routing tables' version: the number of committed routing writes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every timer row.
    pub fn timers(&self) -> &BTreeMap<TimerId, TimerRow> {
        &self.timers
    }

    /// Pending inbox rows, seq → payload.
    pub fn inbox(&self) -> &BTreeMap<Seq, u64> {
        &self.inbox
    }

    /// The acquire statement: the token if `holder` now holds the lease.
    pub fn acquire(
        &mut self,
        now: Duration,
        holder: Holder,
        led: Option<Token>,
        ttl: Duration,
    ) -> Option<Token> {
        let ours = self.lease.holder == Some(holder);
        let live = self.lease.expires_at >= now;
        if live && !ours {
            return None;
        }
        let led = led.unwrap_or(Token(0));
        let keep = ours && live && (self.lease.token > led || self.keeps_led_token());
        if !keep {
            self.lease.token = Token(self.lease.token.0 + 1);
        }
        self.lease.holder = Some(holder);
        self.lease.expires_at = now + ttl;
        Some(self.lease.token)
    }

    #[cfg(test)]
    fn keeps_led_token(&self) -> bool {
        self.flaw == Some(Flaw::ReacquireKeepsToken)
    }

    #[cfg(not(test))]
    fn keeps_led_token(&self) -> bool {
        false
    }

    /// The renew statement: whether a row was updated.
    pub fn renew(&mut self, now: Duration, holder: Holder, token: Token, ttl: Duration) -> bool {
        let ours = self.lease.holder == Some(holder) && self.lease.token == token;
        if ours {
            self.lease.expires_at = now + ttl;
        }
        ours
    }

    /// The release statement: whether a row was updated.
    pub fn release(&mut self, now: Duration, holder: Holder, token: Token) -> bool {
        let ours = self.lease.holder == Some(holder) && self.lease.token == token;
        if ours {
            self.lease.expires_at = now;
        }
        ours
    }

    /// `INSERT INTO routing_inbox (payload) VALUES ($1) RETURNING seq`, done in
    /// the transaction that stores the message; any node, no fencing.
    pub fn insert_event(&mut self, payload: u64) -> Seq {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.inbox.insert(seq, payload);
        seq
    }

    /// What a leader reads: the version, the pending events, the unfired
    /// timers.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: self.version,
            inbox: self
                .inbox
                .iter()
                .map(|(&seq, &payload)| (seq, payload))
                .collect(),
            timers: self
                .timers
                .iter()
                .filter(|(_, row)| row.fired_at.is_none())
                .map(|(&id, row)| (id, row.deadline))
                .collect(),
        }
    }

    /// One fenced routing transaction under `token`: all of it or nothing.
    pub fn write(&mut self, now: Duration, token: Token, write: &Write) -> Result<Commit, Refused> {
        if token != self.lease.token && !self.skips_fencing() {
            return Err(Refused::Fenced {
                current: self.lease.token,
            });
        }
        let payload = match write {
            Write::Apply { seq, timers } => {
                if !self.inbox.contains_key(seq) {
                    return Err(Refused::EventGone { seq: *seq });
                }
                for (i, (timer, _)) in timers.iter().enumerate() {
                    if self.timers.contains_key(timer)
                        || timers[..i].iter().any(|(t, _)| t == timer)
                    {
                        return Err(Refused::TimerExists { timer: *timer });
                    }
                }
                for &(timer, deadline) in timers {
                    self.timers.insert(
                        timer,
                        TimerRow {
                            deadline,
                            fired_at: None,
                        },
                    );
                }
                self.inbox.remove(seq)
            }
            Write::Fire { timer } => {
                let row = self
                    .timers
                    .get_mut(timer)
                    .filter(|row| row.fired_at.is_none());
                let Some(row) = row else {
                    return Err(Refused::TimerGone { timer: *timer });
                };
                row.fired_at = Some(now);
                None
            }
        };
        self.version += 1;
        Ok(Commit {
            version: self.version,
            payload,
        })
    }

    #[cfg(test)]
    fn skips_fencing(&self) -> bool {
        self.flaw == Some(Flaw::NoFencing)
    }

    #[cfg(not(test))]
    fn skips_fencing(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(3);

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_free_lease_goes_to_the_first_and_stays_busy_until_it_expires() {
        let mut db = Db::new();
        assert_eq!(db.acquire(s(1), 10, None, TTL), Some(Token(1)));
        assert_eq!(
            db.lease(),
            Lease {
                holder: Some(10),
                token: Token(1),
                expires_at: s(4)
            }
        );
        assert_eq!(db.acquire(s(2), 20, None, TTL), None);
        // Expiry is strict: at expires_at the lease is still live.
        assert_eq!(db.acquire(s(4), 20, None, TTL), None);
        assert_eq!(
            db.acquire(s(4) + Duration::from_millis(1), 20, None, TTL),
            Some(Token(2))
        );
        assert_eq!(db.lease().holder, Some(20));
    }

    #[test]
    fn reacquiring_our_live_lease_keeps_the_token_unless_we_led_under_it() {
        let mut db = Db::new();
        assert_eq!(db.acquire(s(1), 10, None, TTL), Some(Token(1)));
        // Our earlier answer was lost: same token, extended.
        assert_eq!(db.acquire(s(2), 10, None, TTL), Some(Token(1)));
        assert_eq!(db.lease().expires_at, s(5));
        // We routed under token 1: a new term, fencing that term's writes.
        assert_eq!(db.acquire(s(3), 10, Some(Token(1)), TTL), Some(Token(2)));
        // A late acquire sent before we led under 2 keeps it.
        assert_eq!(db.acquire(s(4), 10, Some(Token(1)), TTL), Some(Token(2)));
        // Our own expired lease is a new term too.
        assert_eq!(db.acquire(s(20), 10, None, TTL), Some(Token(3)));
    }

    #[test]
    fn the_flawed_acquire_keeps_a_token_we_led_under() {
        let mut db = Db::with_flaw(Some(Flaw::ReacquireKeepsToken));
        assert_eq!(db.acquire(s(1), 10, None, TTL), Some(Token(1)));
        assert_eq!(db.acquire(s(2), 10, Some(Token(1)), TTL), Some(Token(1)));
    }

    #[test]
    fn renew_and_release_need_holder_and_token() {
        let mut db = Db::new();
        db.acquire(s(1), 10, None, TTL);
        assert!(!db.renew(s(2), 20, Token(1), TTL));
        assert!(!db.renew(s(2), 10, Token(0), TTL));
        assert!(db.renew(s(2), 10, Token(1), TTL));
        assert_eq!(db.lease().expires_at, s(5));
        assert!(!db.release(s(3), 10, Token(7)));
        assert!(db.release(s(3), 10, Token(1)));
        // Released means expired a moment later: the next one gets a new term.
        assert_eq!(
            db.acquire(s(3) + Duration::from_millis(1), 20, None, TTL),
            Some(Token(2))
        );
    }

    #[test]
    fn a_write_with_an_old_token_rolls_back_whole() {
        let mut db = Db::new();
        db.acquire(s(1), 10, None, TTL);
        let seq = db.insert_event(77);
        db.acquire(s(9), 20, None, TTL);
        let apply = Write::Apply {
            seq,
            timers: vec![(77, s(20))],
        };
        assert_eq!(
            db.write(s(9), Token(1), &apply),
            Err(Refused::Fenced { current: Token(2) })
        );
        assert_eq!(db.version(), 0);
        assert_eq!(db.inbox().len(), 1);
        assert!(db.timers().is_empty());
        assert_eq!(
            db.write(s(9), Token(2), &apply),
            Ok(Commit {
                version: 1,
                payload: Some(77)
            })
        );
        assert!(db.inbox().is_empty());
        assert_eq!(
            db.snapshot(),
            Snapshot {
                version: 1,
                inbox: vec![],
                timers: vec![(77, s(20))]
            }
        );
    }

    #[test]
    fn without_fencing_an_old_token_writes() {
        let mut db = Db::with_flaw(Some(Flaw::NoFencing));
        db.acquire(s(1), 10, None, TTL);
        db.acquire(s(9), 20, None, TTL);
        let seq = db.insert_event(5);
        let apply = Write::Apply {
            seq,
            timers: vec![],
        };
        assert_eq!(
            db.write(s(9), Token(1), &apply),
            Ok(Commit {
                version: 1,
                payload: Some(5)
            })
        );
    }

    #[test]
    fn an_event_applies_once_and_a_timer_fires_once() {
        let mut db = Db::new();
        db.acquire(s(1), 10, None, TTL);
        let seq = db.insert_event(5);
        let apply = Write::Apply {
            seq,
            timers: vec![(5, s(4))],
        };
        assert!(db.write(s(2), Token(1), &apply).is_ok());
        assert_eq!(
            db.write(s(2), Token(1), &apply),
            Err(Refused::EventGone { seq })
        );
        let fire = Write::Fire { timer: 5 };
        assert_eq!(
            db.write(s(4), Token(1), &fire),
            Ok(Commit {
                version: 2,
                payload: None
            })
        );
        assert_eq!(
            db.timers()[&5],
            TimerRow {
                deadline: s(4),
                fired_at: Some(s(4))
            }
        );
        assert_eq!(
            db.write(s(5), Token(1), &fire),
            Err(Refused::TimerGone { timer: 5 })
        );
        assert_eq!(
            db.write(s(5), Token(1), &Write::Fire { timer: 6 }),
            Err(Refused::TimerGone { timer: 6 })
        );
        assert_eq!(db.version(), 2);
    }

    #[test]
    fn a_duplicate_timer_rolls_the_apply_back() {
        let mut db = Db::new();
        db.acquire(s(1), 10, None, TTL);
        let first = db.insert_event(1);
        let second = db.insert_event(2);
        db.write(
            s(2),
            Token(1),
            &Write::Apply {
                seq: first,
                timers: vec![(9, s(3))],
            },
        )
        .unwrap();
        let again = Write::Apply {
            seq: second,
            timers: vec![(8, s(3)), (9, s(3))],
        };
        assert_eq!(
            db.write(s(2), Token(1), &again),
            Err(Refused::TimerExists { timer: 9 })
        );
        let twice = Write::Apply {
            seq: second,
            timers: vec![(8, s(3)), (8, s(3))],
        };
        assert_eq!(
            db.write(s(2), Token(1), &twice),
            Err(Refused::TimerExists { timer: 8 })
        );
        assert_eq!(db.inbox().len(), 1);
        assert_eq!(db.timers().len(), 1);
    }
}
