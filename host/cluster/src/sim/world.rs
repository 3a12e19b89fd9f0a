//! The simulated world: a clock that jumps to the next event, a network to
//! the database that delays and loses, the database model, the phases and
//! the faults.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::checker::{Checker, Writer};
use super::member::{Member, Status, holder};
use super::{Config, Failure, Op, OpReply, Report, Rng};
use crate::model::{Db, Flaw, Write};
use crate::node::Reply;

/// Identifies one database call, so a late answer finds (or misses) its
/// caller.
pub(super) type CallId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Chaos,
    Calm,
    Final,
}

#[derive(Debug)]
enum Event {
    /// A call reaches the database (even if its sender has died since).
    Request {
        node: usize,
        incarnation: u32,
        call: CallId,
        op: Op,
    },
    /// An answer reaches the process that sent the call.
    Response {
        node: usize,
        incarnation: u32,
        call: CallId,
        reply: OpReply,
    },
    Submit,
    Fault,
    Restart {
        node: usize,
        incarnation: u32,
    },
    Resume {
        node: usize,
        pause: u64,
    },
    Phase(Phase),
    /// Kill the leader of a calm cluster and time the takeover.
    CalmCrash,
    End,
}

/// Everything a member needs besides itself.
pub(super) struct Ctx {
    /// True time, which is also the database's clock.
    pub now: Duration,
    /// What every process's monotonic clock is offset from.
    pub base: Instant,
    pub rng: Rng,
    pub config: Config,
    pub checker: Checker,
    /// Per client event (the payload is the index): the timer applying it
    /// starts, if any.
    pub events: Vec<Option<Duration>>,
    phase: Phase,
    queue: BTreeMap<(Duration, u64), Event>,
    order: u64,
    calls: u64,
    pauses: u64,
    trace: bool,
}

impl Ctx {
    pub(super) fn chaos(&self) -> bool {
        self.phase == Phase::Chaos
    }

    pub(super) fn trace(&self, line: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("{:>12?} {}", self.now, line());
        }
    }

    fn at(&mut self, at: Duration, event: Event) {
        self.order += 1;
        self.queue.insert((at, self.order), event);
    }

    pub(super) fn new_call(&mut self) -> CallId {
        self.calls += 1;
        self.calls
    }

    /// Sends `op` as a new call; the answer comes back as that call's.
    pub(super) fn send(
        &mut self,
        node: usize,
        incarnation: u32,
        cut_until: Duration,
        op: Op,
    ) -> CallId {
        let call = self.new_call();
        self.send_as(call, node, incarnation, cut_until, op);
        call
    }

    pub(super) fn send_as(
        &mut self,
        call: CallId,
        node: usize,
        incarnation: u32,
        cut_until: Duration,
        op: Op,
    ) {
        match self.delay(cut_until) {
            Some(delay) => self.at(
                self.now + delay,
                Event::Request {
                    node,
                    incarnation,
                    call,
                    op,
                },
            ),
            None => self.trace(|| format!("node {node}'s call {call} is lost: {op:?}")),
        }
    }

    fn respond(
        &mut self,
        node: usize,
        incarnation: u32,
        cut_until: Duration,
        call: CallId,
        reply: OpReply,
    ) {
        match self.delay(cut_until) {
            Some(delay) => self.at(
                self.now + delay,
                Event::Response {
                    node,
                    incarnation,
                    call,
                    reply,
                },
            ),
            None => self.trace(|| format!("the answer to node {node}'s call {call} is lost")),
        }
    }

    /// One message's trip: `None` if it is lost.
    fn delay(&mut self, cut_until: Duration) -> Option<Duration> {
        if self.now < cut_until {
            return None;
        }
        if self.phase != Phase::Chaos {
            return Some(
                self.rng
                    .millis(1, self.config.calm_delay.as_millis() as u64),
            );
        }
        if self.rng.chance(self.config.loss) {
            return None;
        }
        if self.rng.chance(self.config.slow) {
            return Some(self.rng.millis(1, self.config.slow_max.as_millis() as u64));
        }
        Some(self.rng.millis(1, 20))
    }

    /// Schedules the end of a pause of `node`; returns its id.
    pub(super) fn pause(&mut self, node: usize, length: Duration) -> u64 {
        self.pauses += 1;
        let pause = self.pauses;
        self.at(self.now + length, Event::Resume { node, pause });
        pause
    }
}

pub(super) struct World {
    seed: u64,
    ctx: Ctx,
    members: Vec<Member>,
    db: Db,
    steps: u64,
}

impl World {
    pub(super) fn new(seed: u64, flaw: Option<Flaw>, trace: bool) -> Self {
        let mut rng = Rng::new(seed);
        let config = Config::from_seed(&mut rng);
        let members = (0..config.nodes)
            .map(|index| Member::new(index, rng.millis(0, 3_600_000)))
            .collect();
        let ctx = Ctx {
            now: Duration::ZERO,
            base: Instant::now(),
            rng,
            config,
            checker: Checker::default(),
            events: Vec::new(),
            phase: Phase::Calm,
            queue: BTreeMap::new(),
            order: 0,
            calls: 0,
            pauses: 0,
            trace,
        };
        Self {
            seed,
            ctx,
            members,
            db: Db::with_flaw(flaw),
            steps: 0,
        }
    }

    pub(super) fn run(mut self) -> Result<Report, Failure> {
        self.ctx
            .trace(|| format!("seed {}: {:?}", self.seed, self.ctx.config));
        self.plan();
        match self.step_until_end() {
            Ok(()) => Ok(Report {
                steps: self.steps,
                handovers: std::mem::take(&mut self.ctx.checker.handovers),
                counters: std::mem::take(&mut self.ctx.checker.counters),
            }),
            Err(what) => Err(Failure {
                seed: self.seed,
                at: self.ctx.now,
                step: self.steps,
                what,
            }),
        }
    }

    fn plan(&mut self) {
        let config = &self.ctx.config;
        let mut at = Duration::ZERO;
        let mut phases = Vec::new();
        for _ in 0..config.rounds {
            phases.push((at, Phase::Chaos));
            at += config.chaos_len;
            phases.push((at, Phase::Calm));
            at += config.calm_len;
        }
        phases.push((at, Phase::Final));
        let end = at + config.final_len;
        for (at, phase) in phases {
            self.ctx.at(at, Event::Phase(phase));
        }
        self.ctx.at(end, Event::End);
        self.ctx.at(Duration::ZERO, Event::Submit);
    }

    fn step_until_end(&mut self) -> Result<(), String> {
        loop {
            self.steps += 1;
            if self.steps > self.ctx.config.max_steps {
                return Err(format!(
                    "no end after {} steps: something loops without letting time pass (livelock)",
                    self.ctx.config.max_steps
                ));
            }
            let event_at = self.ctx.queue.first_key_value().map(|(&(at, _), _)| at);
            let wake = (self.members.iter().enumerate())
                .filter_map(|(i, member)| {
                    member
                        .next_wake(&self.ctx)
                        .map(|at| (at.max(self.ctx.now), i))
                })
                .min();
            let event_first = match (event_at, wake) {
                (Some(event_at), Some((wake_at, _))) => event_at <= wake_at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return Err("nothing left to happen before the end".into()),
            };
            if event_first {
                let ((at, _), event) = self.ctx.queue.pop_first().expect("peeked");
                self.ctx.now = at;
                if self.handle(event)? {
                    return Ok(());
                }
            } else if let Some((wake_at, i)) = wake {
                self.ctx.now = wake_at;
                self.members[i].wake(&mut self.ctx)?;
                self.after(i);
            }
            self.check_beliefs()?;
        }
    }

    fn check_beliefs(&self) -> Result<(), String> {
        for member in &self.members {
            if let Some(token) = member.write_token(&self.ctx) {
                self.ctx.checker.belief(
                    self.ctx.now,
                    member.index,
                    member.holder(),
                    token,
                    self.db.lease(),
                )?;
            }
        }
        Ok(())
    }

    /// Handles one event; true at the end.
    fn handle(&mut self, event: Event) -> Result<bool, String> {
        match event {
            Event::Request {
                node,
                incarnation,
                call,
                op,
            } => self.execute(node, incarnation, call, op)?,
            Event::Response {
                node,
                incarnation,
                call,
                reply,
            } => {
                if self.members[node].incarnation == incarnation {
                    self.members[node].deliver(call, reply, &mut self.ctx)?;
                    self.after(node);
                }
            }
            Event::Submit => self.submit(),
            Event::Fault => self.fault()?,
            Event::Restart { node, incarnation } => {
                let member = &mut self.members[node];
                if matches!(member.status, Status::Down) && member.incarnation == incarnation {
                    member.start(&mut self.ctx);
                }
            }
            Event::Resume { node, pause } => {
                self.members[node].resume(pause, &mut self.ctx)?;
                self.after(node);
            }
            Event::Phase(phase) => self.enter(phase)?,
            Event::CalmCrash => {
                let settle = self.ctx.config.settle();
                let Some(leader) = self
                    .members
                    .iter()
                    .position(|m| m.write_token(&self.ctx).is_some())
                else {
                    return Err(format!("(e) {settle:?} into a calm phase, no node leads"));
                };
                self.ctx
                    .trace(|| format!("node {leader} (the leader) is killed; timing the takeover"));
                self.members[leader].crash();
                let bound = self
                    .ctx
                    .config
                    .settings
                    .takeover_within(self.ctx.config.calm_delay);
                self.ctx.checker.leader_crashed(self.ctx.now, bound);
            }
            Event::End => {
                self.ctx.checker.at_end(&self.db)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The database runs one call, atomically, at `now`.
    fn execute(
        &mut self,
        node: usize,
        incarnation: u32,
        call: CallId,
        op: Op,
    ) -> Result<(), String> {
        let now = self.ctx.now;
        let ttl = self.ctx.config.settings.ttl;
        let db = &mut self.db;
        let reply = match &op {
            Op::Acquire { holder, led } => {
                OpReply::Lease(match db.acquire(now, *holder, *led, ttl) {
                    Some(token) => Reply::Acquired { token },
                    None => Reply::Busy,
                })
            }
            Op::Renew { holder, token } => OpReply::Lease(if db.renew(now, *holder, *token, ttl) {
                Reply::Renewed
            } else {
                Reply::Lost
            }),
            Op::Release { holder, token } => OpReply::Lease(if db.release(now, *holder, *token) {
                Reply::Released
            } else {
                Reply::Lost
            }),
            Op::Insert { payload } => {
                db.insert_event(*payload);
                OpReply::Inserted
            }
            Op::Read => OpReply::Read(db.snapshot()),
            Op::Write {
                token,
                expect,
                write,
            } => {
                let before = (db.lease(), db.version());
                let deadline = match write {
                    Write::Fire { timer } => db.timers().get(timer).map(|row| row.deadline),
                    Write::Apply { .. } => None,
                };
                let result = db.write(now, *token, write);
                let writer = Writer {
                    node,
                    holder: holder(node, incarnation),
                    token: *token,
                    expect: *expect,
                };
                self.ctx
                    .checker
                    .on_write(now, writer, write, before, deadline, &result)?;
                OpReply::Wrote(result)
            }
        };
        self.ctx
            .trace(|| format!("db runs node {node}'s call {call} {op:?} -> {reply:?}"));
        let cut_until = self.members[node].cut_until;
        self.ctx.respond(node, incarnation, cut_until, call, reply);
        Ok(())
    }

    /// A process that finished shutting down exits, and comes back later.
    fn after(&mut self, node: usize) {
        let member = &mut self.members[node];
        if !member.shut_down() {
            return;
        }
        member.crash();
        let delay = if self.ctx.chaos() {
            self.ctx.rng.millis(1_000, 8_000)
        } else {
            Duration::ZERO
        };
        let incarnation = member.incarnation;
        self.ctx.trace(|| format!("node {node} has shut down"));
        self.ctx
            .at(self.ctx.now + delay, Event::Restart { node, incarnation });
    }

    fn submit(&mut self) {
        if self.ctx.phase == Phase::Final {
            return;
        }
        let node = self.ctx.rng.below(self.members.len() as u64) as usize;
        if self.members[node].is_up() {
            let payload = self.ctx.events.len() as u64;
            let timer_max = self.ctx.config.timer_max.as_millis() as u64;
            let timer = self
                .ctx
                .rng
                .chance(0.5)
                .then(|| self.ctx.rng.millis(100, timer_max));
            self.ctx.events.push(timer);
            self.members[node].submit(payload, &mut self.ctx);
        }
        let mean = self.ctx.config.submit_every.as_millis() as u64;
        let next = self.ctx.now + self.ctx.rng.millis(1, 2 * mean);
        self.ctx.at(next, Event::Submit);
    }

    fn enter(&mut self, phase: Phase) -> Result<(), String> {
        self.ctx.checker.calm_ended(self.ctx.now)?;
        self.ctx.phase = phase;
        self.ctx.trace(|| format!("--- {phase:?} ---"));
        for node in 0..self.members.len() {
            let member = &mut self.members[node];
            match member.status {
                Status::Down => member.start(&mut self.ctx),
                Status::Paused { pause, .. } if phase != Phase::Chaos => {
                    member.resume(pause, &mut self.ctx)?
                }
                _ => {}
            }
            member.cut_until = Duration::ZERO;
            self.after(node);
        }
        // A takeover, its rebuild, and a few writes ahead of the timer.
        let settled = self.ctx.now + self.ctx.config.settle();
        let allowed = self
            .ctx
            .config
            .settings
            .takeover_within(self.ctx.config.calm_delay)
            + Duration::from_secs(1);
        let calm = (phase != Phase::Chaos).then_some((settled, allowed));
        self.ctx.checker.calm_from(calm);
        match phase {
            Phase::Chaos => {
                let next = self.ctx.now + self.ctx.config.fault_every;
                self.ctx.at(next, Event::Fault);
            }
            Phase::Calm => self.ctx.at(settled, Event::CalmCrash),
            Phase::Final => {}
        }
        Ok(())
    }

    /// One random fault, aimed at the leader half the time.
    fn fault(&mut self) -> Result<(), String> {
        if !self.ctx.chaos() {
            return Ok(());
        }
        let mean = self.ctx.config.fault_every.as_millis() as u64;
        let next = self.ctx.now + self.ctx.rng.millis(1, 2 * mean);
        self.ctx.at(next, Event::Fault);
        let up: Vec<usize> = (0..self.members.len())
            .filter(|&i| self.members[i].is_up())
            .collect();
        if up.is_empty() {
            return Ok(());
        }
        let leader = up
            .iter()
            .copied()
            .find(|&i| self.members[i].write_token(&self.ctx).is_some());
        let victim = match leader {
            Some(leader) if self.ctx.rng.chance(0.5) => leader,
            _ => up[self.ctx.rng.below(up.len() as u64) as usize],
        };
        let ctx = &mut self.ctx;
        let member = &mut self.members[victim];
        match ctx.rng.below(100) {
            0..30 => {
                ctx.trace(|| format!("node {victim} is killed"));
                member.crash();
                let at = ctx.now + ctx.rng.millis(1_000, 8_000);
                ctx.at(
                    at,
                    Event::Restart {
                        node: victim,
                        incarnation: member.incarnation,
                    },
                );
            }
            30..45 => {
                ctx.trace(|| format!("node {victim} shuts down"));
                member.shutdown(ctx)?;
                self.after(victim);
            }
            45..75 => {
                let length = ctx.rng.millis(200, 8_000);
                ctx.trace(|| format!("node {victim} is paused for {length:?}"));
                let pause = ctx.pause(victim, length);
                member.pause(pause);
            }
            _ => {
                let length = ctx.rng.millis(500, 6_000);
                ctx.trace(|| format!("node {victim} is cut off from the database for {length:?}"));
                member.cut_until = ctx.now + length;
            }
        }
        Ok(())
    }
}
