//! The seeded, deterministic simulation of the hand-over, in the style of
//! turmoil and FoundationDB's simulation.
//!
//! 3–5 [`Node`](crate::Node)s, each behind a small driver (`member.rs`) that
//! also plays the routing engine, run against [`model::Db`](crate::model::Db)
//! through a simulated network to the database. Time is simulated and jumps
//! to the next event, so a two-minute run costs milliseconds. Everything
//! random comes from one seed, so a seed replays exactly.
//!
//! A run alternates **chaos** phases (database calls lost or delayed past the
//! driver's timeout, nodes killed, shut down, partitioned from the database,
//! paused like `SIGSTOP` — sometimes right between checking the token and
//! sending a write, which they send when resumed) with **calm** phases (every
//! node up, fast database, nothing lost), in which the leader is killed and
//! the takeover timed. A final calm phase with no new client events lets the
//! cluster drain. Clients submit routing events to random nodes all along;
//! applying an event may start a timer.
//!
//! The invariants (`checker.rs`), checked on every database write, every
//! step and at the end:
//!
//! - (a) every committed routing write carries the lease row's token, and
//!   tokens of committed writes never go down;
//! - (b) one token, one writing process: no two nodes' writes interleave;
//! - (c) every acknowledged event is applied exactly once, and the inbox
//!   ends empty;
//! - (d) every timer fires exactly once, never before its deadline;
//! - (e) after a leader is killed in a calm phase, another node leads within
//!   [`Settings::takeover_within`](crate::Settings::takeover_within) (the
//!   hand-over times are recorded);
//! - (f) every committed write was prepared from a memory that matched the
//!   store: no lost updates, so the rebuild after a takeover is sound;
//! - (g) a node that would write holds the lease row (token, holder, not
//!   expired) at that moment;
//! - a bound on steps catches livelock.
//!
//! Rerun one seed with `FRONTDESK_SIM_SEED=N cargo test -p frontdesk-cluster
//! --lib sim::tests::seeds -- --nocapture`: it prints a trace of that run.

mod checker;
mod member;
mod rng;
mod tests;
mod world;

use std::time::Duration;

use crate::Settings;
use crate::model::{Commit, Flaw, Holder, Refused, Snapshot, Write};
use crate::node::Reply;
use crate::token::Token;

pub(crate) use checker::Counters;
use rng::Rng;

/// One run's shape, drawn from its seed.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub nodes: usize,
    pub settings: Settings,
    /// Chaos-then-calm rounds before the final drain.
    pub rounds: u32,
    pub chaos_len: Duration,
    pub calm_len: Duration,
    pub final_len: Duration,
    /// The longest one-way database delay when calm.
    pub calm_delay: Duration,
    /// The longest one-way delay of a slow call in chaos (beyond the driver's
    /// timeout, so the call lands after the driver gave up on it).
    pub slow_max: Duration,
    /// Per message in chaos: lost, or slow.
    pub loss: f64,
    pub slow: f64,
    /// Chance that a leader is paused right after preparing a write.
    pub pause_on_write: f64,
    /// Mean time between faults in chaos.
    pub fault_every: Duration,
    /// Mean time between client events.
    pub submit_every: Duration,
    /// How often an idle leader polls the inbox (stands for LISTEN/NOTIFY).
    pub poll_every: Duration,
    /// The longest timer an event starts.
    pub timer_max: Duration,
    pub max_steps: u64,
}

impl Config {
    /// The shape of run `seed`: the same seed always gives the same one.
    fn from_seed(rng: &mut Rng) -> Self {
        Self {
            nodes: 3 + rng.below(3) as usize,
            settings: Settings::default(),
            rounds: 2,
            chaos_len: rng.millis(20_000, 40_000),
            calm_len: Duration::from_secs(20),
            final_len: Duration::from_secs(25),
            calm_delay: Duration::from_millis(30),
            slow_max: Duration::from_secs(6),
            loss: rng.fraction() * 0.15,
            slow: rng.fraction() * 0.1,
            pause_on_write: rng.fraction() * 0.05,
            fault_every: rng.millis(1_000, 4_000),
            submit_every: Duration::from_millis(400),
            poll_every: Duration::from_millis(500),
            timer_max: Duration::from_secs(10),
            max_steps: 400_000,
        }
    }

    /// How long into a calm phase every effect of the chaos before it is
    /// over and a leader must exist: the slowest call lands, the lease it
    /// may have extended runs out, and a follower takes it.
    fn settle(&self) -> Duration {
        self.slow_max + self.settings.takeover_within(self.calm_delay) + Duration::from_secs(1)
    }
}

/// What a node asks the database.
#[derive(Clone, Debug)]
enum Op {
    Acquire {
        holder: Holder,
        led: Option<Token>,
    },
    Renew {
        holder: Holder,
        token: Token,
    },
    Release {
        holder: Holder,
        token: Token,
    },
    /// A client's event, in the transaction that stores its message.
    Insert {
        payload: u64,
    },
    /// A leader's rebuild or poll.
    Read,
    /// A fenced routing transaction.
    Write {
        token: Token,
        expect: u64,
        write: Write,
    },
}

/// What the database answers.
#[derive(Clone, Debug)]
enum OpReply {
    Lease(Reply),
    Inserted,
    Read(Snapshot),
    Wrote(Result<Commit, Refused>),
}

/// What a run did, for the seed sweep's totals.
#[derive(Clone, Debug, Default)]
pub(crate) struct Report {
    pub steps: u64,
    pub handovers: Vec<Duration>,
    pub counters: Counters,
}

/// A broken invariant, with what is needed to replay it.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub seed: u64,
    pub at: Duration,
    pub step: u64,
    pub what: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} failed at {:?} (step {}): {}\n\
             rerun exactly this seed, with a trace: \
             FRONTDESK_SIM_SEED={} cargo test -p frontdesk-cluster --lib sim::tests::seeds -- --nocapture",
            self.seed, self.at, self.step, self.what, self.seed
        )
    }
}

/// Runs seed `seed`, with `flaw` planted in the database model if given, and
/// a trace on stderr if `trace`.
pub(crate) fn run(seed: u64, flaw: Option<Flaw>, trace: bool) -> Result<Report, Failure> {
    world::World::new(seed, flaw, trace).run()
}
