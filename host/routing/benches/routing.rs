//! Routing throughput and a simulated week.
//!
//! - `decisions/*`: one routing decision (a session goes back to the queue
//!   and is routed again, with all bookkeeping and commands) on a router with
//!   1,000 agents and 100,000 open sessions. Target: ≥ 500,000 per second.
//! - `week/50_agents`: seven simulated days of a 50-agent team in shifts,
//!   about 2,000 sessions a day with replies, presence heartbeats, the R6,
//!   R11, R12, R15 and R16 timers. Target: under one second.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use frontdesk_routing::{
    AgentId, AgentStatus, Cause, Command, Hook, LimitExclusion, Mode, NewSession, QueueConfig,
    QueueId, Router, SessionId, SessionLimit, Span, State, Timestamp,
};

const T0: Timestamp = Timestamp(1_767_603_600_000);

/// SplitMix64: a seeded generator, so every run simulates the same week.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` milliseconds.
    fn span(&mut self, lo: Span, hi: Span) -> Span {
        let width = (hi.as_millis() - lo.as_millis()).max(1) as u64;
        Span::from_millis(lo.as_millis() + (self.next() % width) as i64)
    }
}

fn drain(router: &mut Router) -> usize {
    let mut n = 0;
    while let Some(c) = router.poll_command() {
        black_box(&c);
        n += 1;
    }
    n
}

/// 1,000 online agents in one queue and 100,000 open sessions among them.
fn big_router(mode: Mode) -> (Router, Vec<SessionId>) {
    let mut r = Router::new(T0);
    let agents: Vec<AgentId> = (1..=1000).map(AgentId).collect();
    for a in &agents {
        r.handle_agent_upsert(
            T0,
            *a,
            AgentStatus {
                clocked_in: true,
                ..AgentStatus::default()
            },
        );
        r.handle_agent_activity(T0, *a).unwrap();
    }
    let mut cfg = QueueConfig::new(QueueId(1), agents);
    cfg.mode = mode;
    cfg.forward_interval = Span::hours(12);
    cfg.unanswered_interval = Span::hours(12);
    cfg.require_online = true;
    cfg.require_clocked_in = true;
    cfg.limit = Some(SessionLimit {
        max: 1_000,
        exclude: LimitExclusion::WaitingForCustomer,
    });
    r.handle_queue_config(T0, cfg).unwrap();
    let sessions: Vec<SessionId> = (1..=100_000).map(SessionId).collect();
    for (i, s) in sessions.iter().enumerate() {
        let now = T0 + Span::from_millis(i as i64);
        r.handle_session_opened(
            now,
            NewSession {
                id: *s,
                queue: QueueId(1),
                responsible: None,
                bot: false,
            },
        )
        .unwrap();
    }
    drain(&mut r);
    (r, sessions)
}

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("decisions");
    group.throughput(Throughput::Elements(1));
    for (name, mode) in [
        ("evenly_1000_agents_100k_sessions", Mode::Evenly),
        ("strict_1000_agents_100k_sessions", Mode::Strict),
    ] {
        let (mut router, sessions) = big_router(mode);
        let mut i = 0usize;
        let mut now = T0 + Span::minutes(2);
        group.bench_function(name, |b| {
            b.iter(|| {
                // Back to the queue and routed again: a full routing decision.
                let s = sessions[i % sessions.len()];
                i += 1;
                now = now + Span::from_millis(1);
                router.handle_back_to_queue(now, s).unwrap();
                drain(&mut router)
            })
        });
    }
    // Opening a new session (the common case) and closing an old one, so the
    // router stays at 100,000 open sessions.
    let (mut router, _) = big_router(Mode::Evenly);
    let mut next = 100_001i64;
    let mut now = T0 + Span::minutes(2);
    group.throughput(Throughput::Elements(1));
    group.bench_function("open_and_close_1000_agents_100k_sessions", |b| {
        b.iter(|| {
            now = now + Span::from_millis(1);
            let new = NewSession {
                id: SessionId(next),
                queue: QueueId(1),
                responsible: None,
                bot: false,
            };
            router.handle_session_opened(now, new).unwrap();
            router.handle_close(now, SessionId(next - 100_000)).unwrap();
            next += 1;
            drain(&mut router)
        })
    });
    group.finish();
}

/// What the simulated people do next.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    NewSession,
    Heartbeat(AgentId),
    ShiftEnd(AgentId),
    ShiftStart(AgentId),
    AgentReply(SessionId, AgentId),
    CustomerReply(SessionId),
    Close(SessionId),
}

/// Seven days of a 50-agent team in three shifts. Returns the number of
/// commands the router produced, so the work can't be optimised away.
fn simulate_week(seed: u64) -> usize {
    let mut rng = Rng(seed);
    let mut r = Router::new(T0);
    let agents: Vec<AgentId> = (1..=50).map(AgentId).collect();
    let mut events: BinaryHeap<Reverse<(Timestamp, u64, Ev)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |events: &mut BinaryHeap<_>, at: Timestamp, ev: Ev| {
        seq += 1;
        events.push(Reverse((at, seq, ev)));
    };
    for (i, a) in agents.iter().enumerate() {
        r.handle_agent_upsert(
            T0,
            *a,
            AgentStatus {
                clocked_in: true,
                ..AgentStatus::default()
            },
        );
        // Three 8-hour shifts, staggered.
        let start = T0 + Span::hours(8 * (i as i64 % 3));
        push(&mut events, start, Ev::ShiftStart(*a));
    }
    let mut cfg = QueueConfig::new(QueueId(1), agents.clone());
    cfg.require_online = true;
    cfg.watch_availability = true;
    cfg.limit = Some(SessionLimit {
        max: 6,
        exclude: LimitExclusion::WaitingForCustomer,
    });
    cfg.unanswered_interval = Span::minutes(10);
    r.handle_queue_config(T0, cfg).unwrap();
    let end = T0 + Span::days(7);
    push(&mut events, T0, Ev::NewSession);
    let mut next_session = 1i64;
    let mut commands = 0usize;
    let mut exchanges = std::collections::HashMap::new();
    loop {
        let next_event = events.peek().map(|Reverse((at, _, _))| *at);
        let next_timer = r.poll_timeout();
        let now = match (next_event, next_timer) {
            (Some(e), Some(t)) => e.min(t),
            (Some(e), None) => e,
            (None, Some(t)) => t,
            (None, None) => break,
        };
        if now > end {
            break;
        }
        if next_timer.is_some_and(|t| t <= now) {
            r.handle_timeout(now);
        } else {
            let Reverse((_, _, ev)) = events.pop().expect("peeked");
            match ev {
                Ev::NewSession => {
                    let id = SessionId(next_session);
                    next_session += 1;
                    r.handle_session_opened(
                        now,
                        NewSession {
                            id,
                            queue: QueueId(1),
                            responsible: None,
                            bot: false,
                        },
                    )
                    .unwrap();
                    // About 2,000 sessions a day.
                    push(
                        &mut events,
                        now + rng.span(Span::seconds(5), Span::seconds(80)),
                        Ev::NewSession,
                    );
                }
                Ev::ShiftStart(a) => {
                    r.handle_agent_activity(now, a).unwrap();
                    push(&mut events, now + Span::minutes(5), Ev::Heartbeat(a));
                    push(&mut events, now + Span::hours(8), Ev::ShiftEnd(a));
                }
                Ev::Heartbeat(a) => {
                    if r.agent(a).is_some_and(|x| x.online) {
                        r.handle_agent_activity(now, a).unwrap();
                        push(&mut events, now + Span::minutes(5), Ev::Heartbeat(a));
                    }
                }
                Ev::ShiftEnd(a) => {
                    r.handle_agent_disconnected(now, a).unwrap();
                    push(&mut events, now + Span::hours(16), Ev::ShiftStart(a));
                }
                Ev::AgentReply(s, a) => {
                    if r.session(s).is_some_and(|x| x.holder == Some(a)) {
                        r.handle_agent_message(now, s, a).unwrap();
                        let n = exchanges.entry(s).or_insert(0u32);
                        *n += 1;
                        if *n >= 3 {
                            push(
                                &mut events,
                                now + rng.span(Span::minutes(1), Span::minutes(10)),
                                Ev::Close(s),
                            );
                        } else {
                            push(
                                &mut events,
                                now + rng.span(Span::seconds(20), Span::minutes(15)),
                                Ev::CustomerReply(s),
                            );
                        }
                    }
                }
                Ev::CustomerReply(s) => {
                    if r.session(s).is_some() {
                        r.handle_customer_message(now, s).unwrap();
                    }
                }
                Ev::Close(s) => {
                    if r.session(s).is_some_and(|x| x.state.is_open()) {
                        r.handle_close(now, s).unwrap();
                        exchanges.remove(&s);
                    }
                }
            }
        }
        while let Some(c) = r.poll_command() {
            commands += 1;
            // Agents answer what they are given within a few minutes, and
            // answer customers' follow-ups the same way.
            match c {
                Command::Assign { session, agent } => {
                    push(
                        &mut events,
                        now + rng.span(Span::seconds(10), Span::minutes(4)),
                        Ev::AgentReply(session, agent),
                    );
                }
                Command::Transition(t)
                    if t.to == State::Answered && t.cause == Cause::CustomerMessage =>
                {
                    if let Some(a) = t.holder {
                        push(
                            &mut events,
                            now + rng.span(Span::seconds(10), Span::minutes(4)),
                            Ev::AgentReply(t.session, a),
                        );
                    }
                }
                // A2 = back to the queue (R17).
                Command::RunHook {
                    session,
                    hook: Hook::NoAnswer,
                } if r
                    .session(session)
                    .is_some_and(|x| x.state.is_open() && x.state != State::Bot) =>
                {
                    r.handle_back_to_queue(now, session).unwrap();
                }
                _ => {}
            }
        }
    }
    assert!(
        next_session > 10_000,
        "a week of traffic, not a quiet afternoon: {next_session}"
    );
    commands
}

fn week(c: &mut Criterion) {
    let mut group = c.benchmark_group("week");
    group.sample_size(10);
    group.bench_function("50_agents", |b| {
        b.iter_batched(
            || 7,
            |seed| simulate_week(black_box(seed)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decisions, week);
criterion_main!(benches);
