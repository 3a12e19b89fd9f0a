//! One simulated process: a [`Node`] behind a driver that also plays the
//! routing engine (rebuild, drain the inbox, fire timers), the way the real
//! driver will, with one lease call and one routing call in flight at most.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::world::{CallId, Ctx};
use super::{Op, OpReply};
use crate::model::{Holder, Seq, TimerId, Write};
use crate::node::{Action, Node, Reply, WriteFailure};
use crate::token::Token;

/// Whether the process runs.
#[derive(Debug)]
pub(super) enum Status {
    Up,
    /// Stopped like `SIGSTOP`: answers pile up unread, and `held` is a write
    /// it had prepared (token checked) but not yet sent.
    Paused {
        pause: u64,
        queued: Vec<(CallId, OpReply)>,
        held: Option<(CallId, Op)>,
    },
    Down,
}

/// The leader's routing engine, reduced to what the hand-over touches.
#[derive(Debug)]
struct Routing {
    token: Token,
    rebuilt: bool,
    /// The routing tables' version as this engine remembers them.
    version: u64,
    inbox: BTreeMap<Seq, u64>,
    timers: BTreeSet<(Duration, TimerId)>,
    call: Option<RoutingCall>,
    next_poll: Duration,
}

#[derive(Debug)]
struct RoutingCall {
    id: CallId,
    /// When the driver gives up on it.
    deadline: Duration,
    write: Option<Write>,
}

#[derive(Debug)]
pub(super) struct Member {
    pub index: usize,
    pub incarnation: u32,
    /// This process's monotonic clock reads `base + offset + t` at true time
    /// `t`: clocks disagree with each other and with the database's.
    offset: Duration,
    pub status: Status,
    /// Shutting down cleanly; goes down once its node has stopped.
    pub stopping: bool,
    node: Option<Node>,
    lease_call: Option<(CallId, Duration)>,
    routing: Option<Routing>,
    /// Client events being inserted: payload and when the client gives up.
    inserts: BTreeMap<CallId, (u64, Duration)>,
    /// Partitioned from the database until then.
    pub cut_until: Duration,
}

impl Member {
    pub(super) fn new(index: usize, offset: Duration) -> Self {
        Self {
            index,
            incarnation: 0,
            offset,
            status: Status::Down,
            stopping: false,
            node: None,
            lease_call: None,
            routing: None,
            inserts: BTreeMap::new(),
            cut_until: Duration::ZERO,
        }
    }

    /// This process's holder id: a restart is a new holder.
    pub(super) fn holder(&self) -> Holder {
        holder(self.index, self.incarnation)
    }

    fn local(&self, base: Instant, now: Duration) -> Instant {
        base + self.offset + now
    }

    fn true_time(&self, base: Instant, local: Instant) -> Duration {
        local.saturating_duration_since(base + self.offset)
    }

    pub(super) fn is_up(&self) -> bool {
        matches!(self.status, Status::Up) && !self.stopping
    }

    /// A fresh process.
    pub(super) fn start(&mut self, ctx: &mut Ctx) {
        let incarnation = self.incarnation + 1;
        self.crash();
        self.incarnation = incarnation;
        let local = self.local(ctx.base, ctx.now);
        self.node = Some(
            Node::new(local, ctx.config.settings).expect("the simulation's settings are valid"),
        );
        self.status = Status::Up;
        ctx.trace(|| format!("node {} starts as process {}", self.index, self.holder()));
    }

    /// `kill -9`: everything in memory is gone; calls on the wire still land.
    pub(super) fn crash(&mut self) {
        let incarnation = self.incarnation;
        *self = Self::new(self.index, self.offset);
        self.incarnation = incarnation;
    }

    /// Whether a clean shutdown has finished.
    pub(super) fn shut_down(&self) -> bool {
        self.stopping
            && self
                .node
                .as_ref()
                .is_some_and(|node| node.role() == crate::Role::Stopped)
    }

    /// The token this process would write under now, if any.
    pub(super) fn write_token(&self, ctx: &Ctx) -> Option<Token> {
        match self.status {
            Status::Up => self
                .node
                .as_ref()?
                .write_token(self.local(ctx.base, ctx.now)),
            _ => None,
        }
    }

    /// When this process next has something to do.
    pub(super) fn next_wake(&self, ctx: &Ctx) -> Option<Duration> {
        if !matches!(self.status, Status::Up) {
            return None;
        }
        let node = self.node.as_ref()?;
        let core = node.poll_timeout().map(|at| self.true_time(ctx.base, at));
        let lease = self.lease_call.map(|(_, deadline)| deadline);
        let routing = self
            .routing
            .as_ref()
            .and_then(|routing| routing.next_wake(ctx));
        [core, lease, routing].into_iter().flatten().min()
    }

    pub(super) fn shutdown(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        self.stopping = true;
        let local = self.local(ctx.base, ctx.now);
        if let Some(node) = self.node.as_mut() {
            node.shutdown(local);
        }
        self.drain(ctx)
    }

    /// Deadlines reached: calls given up on, the node's timers, routing work.
    pub(super) fn wake(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        let now = ctx.now;
        let local = self.local(ctx.base, now);
        let Some(node) = self.node.as_mut() else {
            return Ok(());
        };
        if let Some((_, deadline)) = self.lease_call
            && deadline <= now
        {
            self.lease_call = None;
            node.handle_reply(local, Reply::Failed)
                .map_err(|e| e.to_string())?;
        }
        if let Some(routing) = self.routing.as_mut()
            && let Some(call) = routing.call.take_if(|call| call.deadline <= now)
            && call.write.is_some()
        {
            ctx.checker.counters.uncertain += 1;
            node.handle_write_failure(local, routing.token, WriteFailure::Uncertain);
        }
        node.handle_timeout(local);
        self.drain(ctx)?;
        self.route(ctx)
    }

    /// Carry out the node's actions.
    fn drain(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        let holder = self.holder();
        while let Some(action) = self.node.as_mut().and_then(Node::poll_action) {
            ctx.trace(|| format!("node {} {action:?}", self.index));
            let op = match action {
                Action::Acquire { led } => Op::Acquire { holder, led },
                Action::Renew { token } => Op::Renew { holder, token },
                Action::Release { token } => Op::Release { holder, token },
                Action::BecomeLeader { token } => {
                    self.routing = Some(Routing::new(token, ctx.now));
                    ctx.checker.became_leader(ctx.now)?;
                    continue;
                }
                Action::StepDown { reason, .. } => {
                    self.routing = None;
                    ctx.checker.stepped_down(reason);
                    continue;
                }
            };
            let id = ctx.send(self.index, self.incarnation, self.cut_until, op);
            self.lease_call = Some((id, ctx.now + ctx.config.settings.call_timeout));
        }
        Ok(())
    }

    /// The leader's next step of routing work, if it is idle.
    fn route(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        let local = self.local(ctx.base, ctx.now);
        let Some(routing) = self.routing.as_mut() else {
            return Ok(());
        };
        if routing.call.is_some() {
            return Ok(());
        }
        // Checked before every routing transaction.
        let Some(token) = self.node.as_ref().and_then(|node| node.write_token(local)) else {
            return Ok(());
        };
        if token != routing.token {
            return Err(format!(
                "node {} routes under {} but its node leads under {token}",
                self.index, routing.token
            ));
        }
        let now = ctx.now;
        let op = match routing.next_write(ctx) {
            Some(write) => Op::Write {
                token,
                expect: routing.version,
                write,
            },
            None if !routing.rebuilt || now >= routing.next_poll => {
                routing.next_poll = now + ctx.config.poll_every;
                Op::Read
            }
            None => return Ok(()),
        };
        let write = match &op {
            Op::Write { write, .. } => Some(write.clone()),
            _ => None,
        };
        let id = ctx.new_call();
        let pause = write.is_some() && ctx.chaos() && ctx.rng.chance(ctx.config.pause_on_write);
        routing.call = Some(RoutingCall {
            id,
            deadline: now + ctx.config.settings.call_timeout,
            write,
        });
        if pause {
            // SIGSTOP between checking the token and sending the write.
            let length = ctx.rng.millis(2_000, 8_000);
            let pause = ctx.pause(self.index, length);
            ctx.trace(|| format!("node {} paused for {length:?} holding {op:?}", self.index));
            self.status = Status::Paused {
                pause,
                queued: Vec::new(),
                held: Some((id, op)),
            };
        } else {
            ctx.send_as(id, self.index, self.incarnation, self.cut_until, op);
        }
        Ok(())
    }

    /// A client event arrives at this process.
    pub(super) fn submit(&mut self, payload: u64, ctx: &mut Ctx) {
        let id = ctx.send(
            self.index,
            self.incarnation,
            self.cut_until,
            Op::Insert { payload },
        );
        self.inserts
            .insert(id, (payload, ctx.now + ctx.config.settings.call_timeout));
    }

    /// A `SIGSTOP` at a random moment.
    pub(super) fn pause(&mut self, pause: u64) {
        self.status = Status::Paused {
            pause,
            queued: Vec::new(),
            held: None,
        };
    }

    /// `SIGCONT`: the held write goes out first, then the answers that piled
    /// up are read, then time catches up (in `wake`).
    pub(super) fn resume(&mut self, pause: u64, ctx: &mut Ctx) -> Result<(), String> {
        let Status::Paused { pause: current, .. } = &self.status else {
            return Ok(());
        };
        if *current != pause {
            return Ok(());
        }
        let Status::Paused { queued, held, .. } = std::mem::replace(&mut self.status, Status::Up)
        else {
            unreachable!("matched above")
        };
        if let Some((id, op)) = held {
            ctx.checker.counters.held_writes += 1;
            ctx.trace(|| format!("node {} resumes and sends its held {op:?}", self.index));
            if let Some(call) = self
                .routing
                .as_mut()
                .and_then(|routing| routing.call.as_mut())
                .filter(|call| call.id == id)
            {
                call.deadline = ctx.now + ctx.config.settings.call_timeout;
            }
            ctx.send_as(id, self.index, self.incarnation, self.cut_until, op);
        }
        for (id, reply) in queued {
            self.deliver(id, reply, ctx)?;
        }
        Ok(())
    }

    /// A database answer reaches this process.
    pub(super) fn deliver(
        &mut self,
        id: CallId,
        reply: OpReply,
        ctx: &mut Ctx,
    ) -> Result<(), String> {
        match &mut self.status {
            Status::Down => return Ok(()),
            Status::Paused { queued, .. } => {
                queued.push((id, reply));
                return Ok(());
            }
            Status::Up => {}
        }
        let local = self.local(ctx.base, ctx.now);
        let node = self.node.as_mut().expect("an up process has a node");
        match reply {
            OpReply::Lease(reply) if self.lease_call.is_some_and(|(call, _)| call == id) => {
                self.lease_call = None;
                node.handle_reply(local, reply).map_err(|e| e.to_string())?;
            }
            OpReply::Inserted => {
                if let Some((payload, deadline)) = self.inserts.remove(&id)
                    && ctx.now <= deadline
                {
                    ctx.checker.acked(payload);
                }
            }
            OpReply::Read(snapshot) => {
                if let Some(routing) = self.routing.as_mut()
                    && routing.call.take_if(|call| call.id == id).is_some()
                {
                    if !routing.rebuilt {
                        routing.rebuilt = true;
                        routing.version = snapshot.version;
                    }
                    routing.inbox = snapshot.inbox.into_iter().collect();
                    routing.timers = snapshot
                        .timers
                        .into_iter()
                        .map(|(id, deadline)| (deadline, id))
                        .collect();
                }
            }
            OpReply::Wrote(result) => {
                if let Some(routing) = self.routing.as_mut()
                    && let Some(call) = routing.call.take_if(|call| call.id == id)
                {
                    let write = call.write.expect("a write call remembers its write");
                    match result {
                        Ok(commit) => routing.committed(&write, commit.version),
                        Err(crate::model::Refused::Fenced { .. }) => {
                            node.handle_write_failure(local, routing.token, WriteFailure::Fenced);
                        }
                        Err(refused) => {
                            return Err(format!(
                                "(f) node {} under {} had {write:?} refused with {refused:?}: its memory of the store \
                                 was wrong (a write it did not know of landed)",
                                self.index, routing.token
                            ));
                        }
                    }
                }
            }
            // An answer the driver already gave up on.
            OpReply::Lease(_) => {}
        }
        self.drain(ctx)?;
        self.route(ctx)
    }
}

/// The holder id of node `index`'s `incarnation`-th process.
pub(super) fn holder(index: usize, incarnation: u32) -> Holder {
    ((index as u64) << 32) | u64::from(incarnation)
}

impl Routing {
    fn new(token: Token, now: Duration) -> Self {
        Self {
            token,
            rebuilt: false,
            version: 0,
            inbox: BTreeMap::new(),
            timers: BTreeSet::new(),
            call: None,
            next_poll: now,
        }
    }

    fn next_wake(&self, ctx: &Ctx) -> Option<Duration> {
        if let Some(call) = &self.call {
            return Some(call.deadline);
        }
        if !self.rebuilt || !self.inbox.is_empty() {
            return Some(ctx.now);
        }
        let timer = self.timers.first().map(|&(deadline, _)| deadline);
        Some(timer.map_or(self.next_poll, |timer| timer.min(self.next_poll)))
    }

    /// Due timers first (they are late already), then the oldest event.
    fn next_write(&self, ctx: &Ctx) -> Option<Write> {
        if !self.rebuilt {
            return None;
        }
        if let Some(&(deadline, timer)) = self.timers.first()
            && deadline <= ctx.now
        {
            return Some(Write::Fire { timer });
        }
        let (&seq, &payload) = self.inbox.first_key_value()?;
        let timers = ctx.events[payload as usize]
            .map(|after| (payload, ctx.now + after))
            .into_iter()
            .collect();
        Some(Write::Apply { seq, timers })
    }

    fn committed(&mut self, write: &Write, version: u64) {
        self.version = version;
        match write {
            Write::Apply { seq, timers } => {
                self.inbox.remove(seq);
                self.timers
                    .extend(timers.iter().map(|&(id, deadline)| (deadline, id)));
            }
            Write::Fire { timer } => self.timers.retain(|&(_, id)| id != *timer),
        }
    }
}
