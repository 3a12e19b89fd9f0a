//! The invariants, checked as the simulation goes and at its end. Each
//! failure message says what broke, in terms of the protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::StepDownReason;
use crate::model::{Commit, Db, Holder, Lease, Refused, TimerId, Write};
use crate::token::Token;

/// What happened in a run, so the seed sweep can show the faults were real.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    /// Routing writes the lease token refused.
    pub fenced: u64,
    /// Routing writes whose outcome the writer never learned.
    pub uncertain: u64,
    /// Writes a paused leader sent after it resumed.
    pub held_writes: u64,
    /// Terms started (`BecomeLeader`).
    pub terms: u64,
    /// Terms ended, by reason.
    pub step_downs: BTreeMap<&'static str, u64>,
    /// Client events acknowledged.
    pub acked: u64,
    /// Events applied.
    pub applied: u64,
    /// Timers fired.
    pub fired: u64,
    /// The latest a timer fired after its deadline.
    pub max_timer_lateness: Duration,
}

/// Who sent a routing write, and what it believed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Writer {
    pub node: usize,
    pub holder: Holder,
    pub token: Token,
    /// The routing tables' version the writer's memory is at.
    pub expect: u64,
}

#[derive(Debug, Default)]
pub(super) struct Checker {
    last_write: Option<(Token, Holder)>,
    writers: BTreeMap<Token, Holder>,
    applied: BTreeMap<u64, u32>,
    acked: BTreeSet<u64>,
    fired: BTreeMap<TimerId, u32>,
    /// A leader was crashed in a calm phase at this time; a takeover is due
    /// within the bound.
    crash: Option<(Duration, Duration)>,
    /// In a calm phase once the chaos has settled: timers due from then on
    /// fire within this much of their deadline (a takeover included).
    calm: Option<(Duration, Duration)>,
    pub handovers: Vec<Duration>,
    pub counters: Counters,
}

impl Checker {
    /// Invariants (a), (b), (f) and the at-most-once halves of (c), (d), on
    /// every routing transaction the database ran. `before` is the lease row
    /// and version it ran against.
    pub(super) fn on_write(
        &mut self,
        now: Duration,
        writer: Writer,
        write: &Write,
        before: (Lease, u64),
        timer_deadline: Option<Duration>,
        result: &Result<Commit, Refused>,
    ) -> Result<(), String> {
        let (lease, version) = before;
        let commit = match result {
            Err(Refused::Fenced { .. }) => {
                self.counters.fenced += 1;
                return Ok(());
            }
            // The writer's memory was wrong; its node reports that.
            Err(_) => return Ok(()),
            Ok(commit) => commit,
        };
        let Writer {
            node,
            holder,
            token,
            expect,
        } = writer;
        if token != lease.token {
            return Err(format!(
                "(a) node {node} committed a routing write under {token} while the lease row holds {}: \
                 a leader that was taken over from still wrote",
                lease.token
            ));
        }
        if let Some((last, _)) = self.last_write
            && token < last
        {
            return Err(format!(
                "(a) node {node} committed a routing write under {token} after one under {last}: tokens went back"
            ));
        }
        if let Some(&other) = self.writers.get(&token)
            && other != holder
        {
            return Err(format!(
                "(b) processes {other} and {holder} (node {node}) both committed routing writes under {token}"
            ));
        }
        self.writers.insert(token, holder);
        self.last_write = Some((token, holder));
        if expect != version {
            return Err(format!(
                "(f) node {node} under {token} wrote from a memory of version {expect} while the store was at \
                 {version}: a write it did not know of landed (a lost update; two writers in effect)"
            ));
        }
        match write {
            Write::Apply { .. } => {
                let payload = commit
                    .payload
                    .expect("an apply commits its event's payload");
                let count = self.applied.entry(payload).or_default();
                *count += 1;
                self.counters.applied += 1;
                if *count > 1 {
                    return Err(format!("(c) event {payload} was applied {count} times"));
                }
            }
            Write::Fire { timer } => {
                let count = self.fired.entry(*timer).or_default();
                *count += 1;
                self.counters.fired += 1;
                if *count > 1 {
                    return Err(format!("(d) timer {timer} fired {count} times"));
                }
                let deadline = timer_deadline.expect("a fired timer has a row");
                if now < deadline {
                    return Err(format!(
                        "(d) timer {timer} fired at {now:?}, before its deadline {deadline:?}"
                    ));
                }
                let late = now - deadline;
                if let Some((since, allowed)) = self.calm
                    && deadline >= since
                    && late > allowed
                {
                    return Err(format!(
                        "(d) timer {timer} fired {late:?} after its deadline {deadline:?} in a calm phase \
                         (allowed {allowed:?}): a leader did not resume it on time"
                    ));
                }
                self.counters.max_timer_lateness = self.counters.max_timer_lateness.max(late);
            }
        }
        Ok(())
    }

    /// A client got its acknowledgement: the event must be applied.
    pub(super) fn acked(&mut self, payload: u64) {
        self.acked.insert(payload);
        self.counters.acked += 1;
    }

    /// Invariant (g): a node that would write now really holds the lease.
    pub(super) fn belief(
        &self,
        now: Duration,
        node: usize,
        holder: Holder,
        token: Token,
        lease: Lease,
    ) -> Result<(), String> {
        if lease.token == token && lease.holder == Some(holder) && lease.expires_at > now {
            return Ok(());
        }
        Err(format!(
            "(g) node {node} (process {holder}) believes it leads under {token} at {now:?}, but the lease row is \
             {lease:?}: its own clock let it outlive the lease"
        ))
    }

    pub(super) fn became_leader(&mut self, now: Duration) -> Result<(), String> {
        self.counters.terms += 1;
        if let Some((crashed_at, bound)) = self.crash.take() {
            let took = now - crashed_at;
            if took > bound {
                return Err(format!(
                    "(e) the takeover after the leader crashed at {crashed_at:?} took {took:?}, above the bound {bound:?}"
                ));
            }
            self.handovers.push(took);
        }
        Ok(())
    }

    pub(super) fn stepped_down(&mut self, reason: StepDownReason) {
        let name = match reason {
            StepDownReason::Lost => "lost",
            StepDownReason::Expired => "expired",
            StepDownReason::Fenced => "fenced",
            StepDownReason::WriteUncertain => "write_uncertain",
            StepDownReason::Shutdown => "shutdown",
        };
        *self.counters.step_downs.entry(name).or_default() += 1;
    }

    /// Invariant (e) starts: the leader was killed at `now` with no other
    /// fault to follow.
    pub(super) fn leader_crashed(&mut self, now: Duration, bound: Duration) {
        self.crash = Some((now, bound));
    }

    /// From `since` on, timers due must fire within `allowed`; `None` in
    /// chaos.
    pub(super) fn calm_from(&mut self, calm: Option<(Duration, Duration)>) {
        self.calm = calm;
    }

    /// A calm phase ends: a takeover it was waiting for is overdue.
    pub(super) fn calm_ended(&self, now: Duration) -> Result<(), String> {
        match self.crash {
            Some((crashed_at, bound)) => Err(format!(
                "(e) the leader crashed at {crashed_at:?} and no node took over by {now:?} (bound {bound:?})"
            )),
            None => Ok(()),
        }
    }

    /// The exactly-once halves of (c) and (d), once the cluster has drained.
    pub(super) fn at_end(&self, db: &Db) -> Result<(), String> {
        if let Some((seq, payload)) = db.inbox().iter().next() {
            return Err(format!(
                "(c) {} events are still in the inbox at the end, the first seq {seq} (event {payload})",
                db.inbox().len()
            ));
        }
        if let Some(payload) = self.acked.iter().find(|p| self.applied.get(p) != Some(&1)) {
            return Err(format!(
                "(c) event {payload} was acknowledged to its client but applied {} times",
                self.applied.get(payload).copied().unwrap_or(0)
            ));
        }
        for (timer, row) in db.timers() {
            if row.fired_at.is_none() || self.fired.get(timer) != Some(&1) {
                return Err(format!(
                    "(d) timer {timer} (deadline {:?}) fired {} times by the end",
                    row.deadline,
                    self.fired.get(timer).copied().unwrap_or(0)
                ));
            }
        }
        Ok(())
    }
}
