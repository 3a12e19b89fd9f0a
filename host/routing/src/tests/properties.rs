//! Property tests over random agents, queue settings and event sequences.
//!
//! After every call the harness already checks that the store equals the
//! router and that no session is held by two agents; here we add the routing
//! guarantees of R2a, R10, R13 and "no session is lost", and that restarting
//! from the store at any point changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::harness::{Sim, T0};
use crate::eligibility::qualifies;
use crate::{
    AgentId, AgentStatus, Cause, Command, LimitExclusion, Mode, NewSession, QueueConfig, QueueId,
    SessionId, SessionLimit, Span, State, Timer,
};

#[derive(Clone, Debug)]
enum Op {
    Open {
        queue: u8,
        responsible: Option<u8>,
        bot: bool,
    },
    Customer(u8),
    Reply(u8, u8),
    Accept(u8, u8),
    Take(u8, u8),
    TransferAgent(u8, u8),
    TransferQueue(u8, u8),
    Close(u8),
    Rating(u8),
    BackToQueue(u8),
    Handover(u8),
    Status(u8, AgentStatus),
    Activity(u8),
    Disconnect(u8),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let idx = any::<u8>;
    prop_oneof![
        4 => (idx(), proptest::option::weighted(0.3, idx()), proptest::bool::weighted(0.2))
            .prop_map(|(queue, responsible, bot)| Op::Open { queue, responsible, bot }),
        3 => idx().prop_map(Op::Customer),
        3 => (idx(), idx()).prop_map(|(s, a)| Op::Reply(s, a)),
        2 => (idx(), idx()).prop_map(|(s, a)| Op::Accept(s, a)),
        1 => (idx(), idx()).prop_map(|(s, a)| Op::Take(s, a)),
        1 => (idx(), idx()).prop_map(|(s, a)| Op::TransferAgent(s, a)),
        1 => (idx(), idx()).prop_map(|(s, q)| Op::TransferQueue(s, q)),
        2 => idx().prop_map(Op::Close),
        1 => idx().prop_map(Op::Rating),
        1 => idx().prop_map(Op::BackToQueue),
        1 => idx().prop_map(Op::Handover),
        2 => (idx(), status()).prop_map(|(a, s)| Op::Status(a, s)),
        3 => idx().prop_map(Op::Activity),
        1 => idx().prop_map(Op::Disconnect),
        4 => prop_oneof![10 => 0u32..5, 10 => 0u32..60, 4 => 0u32..1500, 1 => Just(7 * 24 * 60)].prop_map(Op::Advance),
    ]
}

fn status() -> impl Strategy<Value = AgentStatus> {
    (
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.8),
        any::<bool>(),
    )
        .prop_map(|(dismissed, vacation, clocked_in, on_break)| AgentStatus {
            dismissed,
            vacation,
            clocked_in,
            on_break: on_break && clocked_in,
        })
}

fn queue_cfg(id: i64, agents: usize) -> impl Strategy<Value = QueueConfig> {
    let members =
        proptest::sample::subsequence((1..=agents as i64).collect::<Vec<_>>(), 0..=agents)
            .prop_shuffle();
    let limit = proptest::option::of((
        1u32..4,
        prop_oneof![
            Just(LimitExclusion::Replied),
            Just(LimitExclusion::WaitingForCustomer),
            Just(LimitExclusion::ClosedOnly)
        ],
    ));
    let mode = prop_oneof![
        Just(Mode::Evenly),
        Just(Mode::Strict),
        Just(Mode::Everybody)
    ];
    (
        members,
        mode,
        limit,
        any::<[bool; 6]>(),
        1i64..30,
        1i64..60,
        prop_oneof![Just(0i64), 1i64..10],
    )
        .prop_map(
            move |(members, mode, limit, flags, forward, unanswered, delay)| {
                let mut cfg =
                    QueueConfig::new(QueueId(id), members.into_iter().map(AgentId).collect());
                cfg.mode = mode;
                cfg.limit = limit.map(|(max, exclude)| SessionLimit { max, exclude });
                cfg.require_clocked_in = flags[0];
                cfg.require_online = flags[1];
                cfg.watch_availability = flags[2];
                cfg.route_to_responsible = flags[3];
                cfg.ask_rating = flags[4];
                cfg.close_on_rating = flags[5];
                cfg.forward_interval = Span::minutes(forward);
                cfg.unanswered_interval = Span::minutes(unanswered);
                cfg.close_delay = Span::minutes(delay);
                cfg
            },
        )
}

#[derive(Clone, Debug)]
struct World {
    statuses: Vec<(AgentStatus, bool)>,
    queues: Vec<QueueConfig>,
    ops: Vec<Op>,
}

fn world() -> impl Strategy<Value = World> {
    (1usize..7).prop_flat_map(|n| {
        (
            proptest::collection::vec((status(), any::<bool>()), n),
            proptest::collection::vec(queue_cfg(1, n), 1..=1),
            queue_cfg(2, n),
            proptest::collection::vec(op(), 1..150),
        )
            .prop_map(|(statuses, mut queues, q2, ops)| {
                queues.push(q2);
                World {
                    statuses,
                    queues,
                    ops,
                }
            })
    })
}

struct Run {
    sim: Sim,
    opened: Vec<SessionId>,
    /// Sessions whose move to `closed` was recorded.
    closed: BTreeSet<SessionId>,
    /// R10 counts before the last op, per (agent, queue).
    counts_before: BTreeMap<(AgentId, QueueId), u32>,
    agents: Vec<AgentId>,
}

impl Run {
    fn new(w: &World) -> Run {
        let mut sim = Sim::new();
        let mut agents = Vec::new();
        for (i, (status, online)) in w.statuses.iter().enumerate() {
            let id = AgentId(i as i64 + 1);
            sim.router.handle_agent_upsert(sim.now, id, *status);
            sim.collect();
            if *online {
                sim.activity(id);
            }
            agents.push(id);
        }
        for cfg in &w.queues {
            sim.queue(cfg.clone());
        }
        Run {
            sim,
            opened: Vec::new(),
            counts_before: BTreeMap::new(),
            closed: BTreeSet::new(),
            agents,
        }
    }

    fn session(&self, i: u8) -> Option<SessionId> {
        (!self.opened.is_empty()).then(|| self.opened[i as usize % self.opened.len()])
    }

    /// Applies one op; an op the router refuses must change nothing.
    fn apply(&mut self, op: &Op) {
        let before = self.sim.router.snapshot();
        self.counts_before = self.counts();
        let now = self.sim.now;
        let target = match *op {
            Op::Customer(s)
            | Op::Reply(s, _)
            | Op::Accept(s, _)
            | Op::Take(s, _)
            | Op::TransferAgent(s, _)
            | Op::TransferQueue(s, _)
            | Op::Close(s)
            | Op::Rating(s)
            | Op::BackToQueue(s)
            | Op::Handover(s) => match self.session(s) {
                Some(sid) => sid,
                None => return,
            },
            _ => SessionId(0),
        };
        let back_from = match op {
            Op::BackToQueue(_) => self.free_others(target),
            _ => None,
        };
        let agents = &self.agents;
        let agent = |i: u8| agents[i as usize % agents.len()];
        let r = &mut self.sim.router;
        let result = match *op {
            Op::Open {
                queue,
                responsible,
                bot,
            } => {
                let id = SessionId(self.opened.len() as i64 + 1);
                let queue = QueueId(queue as i64 % 2 + 1);
                let responsible = responsible.map(agent);
                let result = r.handle_session_opened(
                    now,
                    NewSession {
                        id,
                        queue,
                        responsible,
                        bot,
                    },
                );
                self.opened.push(id);
                result
            }
            Op::Advance(minutes) => {
                self.sim
                    .advance(Span::minutes(minutes as i64) + Span::seconds(7));
                return;
            }
            Op::Status(a, status) => {
                r.handle_agent_upsert(now, agent(a), status);
                Ok(())
            }
            Op::Activity(a) => r.handle_agent_activity(now, agent(a)),
            Op::Disconnect(a) => r.handle_agent_disconnected(now, agent(a)),
            Op::Customer(_) => r.handle_customer_message(now, target).map(|_| ()),
            Op::Reply(_, a) => r.handle_agent_message(now, target, agent(a)),
            Op::Accept(_, a) => r.handle_accept(now, target, agent(a)),
            Op::Take(_, a) => r.handle_take(now, target, agent(a)),
            Op::TransferAgent(_, a) => r.handle_transfer_to_agent(now, target, agent(a)),
            // Queue 3 does not exist: a refused transfer must change nothing.
            Op::TransferQueue(_, q) => {
                r.handle_transfer_to_queue(now, target, QueueId(q as i64 % 3 + 1))
            }
            Op::Close(_) => r.handle_close(now, target),
            Op::Rating(_) => r.handle_rating(now, target),
            Op::BackToQueue(_) => r.handle_back_to_queue(now, target),
            Op::Handover(_) => r.handle_bot_handover(now, target),
        };
        if result.is_err() {
            assert_eq!(
                self.sim.router.snapshot(),
                before,
                "a refused {op:?} changed the state"
            );
            assert!(
                self.sim.router.poll_command().is_none(),
                "a refused {op:?} emitted commands"
            );
        }
        self.sim.collect();
        // R17: in evenly mode, back to the queue never means back to the
        // agent who just had it while another member is free for it.
        if let (Ok(()), Some((had, free))) = (&result, back_from) {
            let now = self.sim.router.session(target).and_then(|s| s.holder);
            assert!(
                now != Some(had) || free.is_empty(),
                "{target} went back to {had} while {free:?} were free"
            );
        }
    }

    /// For an evenly session with a holder: the holder, and the other members
    /// who could get it now (R13 and R2a, as the router would pick).
    fn free_others(&self, sid: SessionId) -> Option<(AgentId, Vec<AgentId>)> {
        let r = &self.sim.router;
        let s = r.session(sid)?;
        let had = s.holder?;
        let q = r.queue(s.queue)?;
        if q.mode != Mode::Evenly {
            return None;
        }
        let any_online = q.members.iter().any(|m| r.agent(*m).unwrap().online);
        let free = q
            .members
            .iter()
            .copied()
            .filter(|m| *m != had)
            .filter(|m| {
                let a = r.agent(*m).unwrap();
                qualifies(a, q, r.limit_count(*m, s.queue)) && (a.online || !any_online)
            })
            .collect();
        Some((had, free))
    }

    fn counts(&self) -> BTreeMap<(AgentId, QueueId), u32> {
        let mut counts = BTreeMap::new();
        for a in &self.agents {
            for q in [QueueId(1), QueueId(2)] {
                counts.insert((*a, q), self.sim.router.limit_count(*a, q));
            }
        }
        counts
    }

    /// The routing guarantees, checked against the commands of the last call.
    fn check(&mut self, from: usize) {
        let r = &self.sim.router;
        let calls = &self.sim.log[from..];
        let expired: BTreeSet<AgentId> = calls
            .iter()
            .filter_map(|(_, c)| match c {
                Command::ClearTimer {
                    timer: Timer::Presence(a),
                } => Some(*a),
                _ => None,
            })
            .collect();
        for (_, c) in calls {
            let (session, agent, cause) = match c {
                Command::Transition(t) => match (t.cause, t.holder) {
                    (
                        Cause::Evenly | Cause::StrictOrder | Cause::Forwarded | Cause::Accepted,
                        Some(a),
                    ) => (t.session, a, t.cause),
                    _ => continue,
                },
                Command::Offer { session, agent } => (*session, *agent, Cause::Everybody),
                _ => continue,
            };
            // The session may have closed later in the same call.
            let Some(s) = r.session(session) else {
                continue;
            };
            let q = r.queue(s.queue).unwrap();
            let a = r.agent(agent).unwrap();
            // R10: a routing decision or an accept never takes an agent over
            // the limit. Manual takes and transfers may (R18), and then
            // accepting a strict offer they already hold adds nothing.
            if let Some(limit) = q.limit
                && s.holder == Some(agent)
            {
                let count = r.limit_count(agent, s.queue);
                let before = self
                    .counts_before
                    .get(&(agent, s.queue))
                    .copied()
                    .unwrap_or(0);
                assert!(
                    count <= limit.max || count <= before,
                    "{agent} went over the limit via {cause:?}"
                );
            }
            // Accepting is the agent's own act (R4); the rest is about the
            // router's choices.
            if cause == Cause::Accepted {
                continue;
            }
            // R13: an ineligible agent never gets a session.
            assert!(
                !a.status.dismissed && !a.status.vacation,
                "{agent} got {session} while away"
            );
            if q.require_clocked_in {
                assert!(
                    a.status.clocked_in && !a.status.on_break,
                    "{agent} off shift got {session}"
                );
            }
            let was_online = a.online || expired.contains(&agent);
            if q.require_online {
                assert!(was_online, "{agent} offline got {session} with R8 on");
            }
            assert!(q.members.contains(&agent), "{agent} is not in {}", s.queue);
            // R2a: in evenly mode an offline agent only when all are offline.
            if cause == Cause::Evenly && !was_online {
                let online: Vec<&AgentId> = q
                    .members
                    .iter()
                    .filter(|m| r.agent(**m).unwrap().online)
                    .collect();
                assert!(
                    online.is_empty(),
                    "offline {agent} got {session} while {online:?} online"
                );
            }
        }
        // No session is lost: every opened session is either closed (recorded)
        // or open with somewhere to be, and a waiting one will be retried.
        for (_, c) in calls {
            if let Command::Transition(t) = c
                && t.to == State::Closed
            {
                self.closed.insert(t.session);
            }
        }
        let closed = &self.closed;
        for sid in &self.opened {
            let Some(s) = r.session(*sid) else { continue };
            assert!(!closed.contains(sid), "{sid} closed but still open");
            assert!(
                r.timer(Timer::AutoClose(*sid)).is_some(),
                "{sid} can never auto-close"
            );
            match s.state {
                State::Queued => {
                    assert!(
                        r.waiting(s.queue).any(|x| x == *sid),
                        "{sid} queued but not waiting"
                    );
                    assert!(
                        r.timer(Timer::Retry(*sid)).is_some(),
                        "{sid} waits with no retry"
                    );
                }
                State::Offered => {
                    assert!(
                        s.holder.is_some() || !s.offered_to.is_empty(),
                        "{sid} offered to nobody"
                    );
                }
                State::Closing => assert!(r.timer(Timer::CloseDelay(*sid)).is_some()),
                _ => {}
            }
        }
        let open: BTreeSet<SessionId> = r.sessions().map(|s| s.id).collect();
        let expected: BTreeSet<SessionId> = self
            .opened
            .iter()
            .copied()
            .filter(|s| !closed.contains(s))
            .collect();
        assert_eq!(
            open, expected,
            "sessions appeared or vanished without a recorded close"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn routing_guarantees_hold_for_random_traffic(w in world()) {
        let mut run = Run::new(&w);
        for op in &w.ops {
            let mark = run.sim.mark();
            run.apply(op);
            run.check(mark);
        }
    }

}

proptest! {
    // Two runs per case and a restore every few ops: fewer cases, same reach.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn restarting_from_the_store_at_any_point_changes_nothing(w in world(), every in 1usize..10) {
        let mut plain = Run::new(&w);
        let mut restarted = Run::new(&w);
        for (i, op) in w.ops.iter().enumerate() {
            plain.apply(op);
            if i % every == 0 {
                restarted.sim.restart();
            }
            restarted.apply(op);
        }
        prop_assert_eq!(&plain.sim.log, &restarted.sim.log);
        prop_assert!(plain.sim.now > T0 || w.ops.iter().all(|o| !matches!(o, Op::Advance(_))));
    }
}
