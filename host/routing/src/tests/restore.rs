//! Restarts: the engine rebuilds the router from what it stored.

use super::harness::{Sim, T0, queue};
use crate::{AgentId, Error, Mode, QueueId, Router, Snapshot, Span, Timer};

#[test]
fn r5_restart_in_the_middle_of_a_forward_interval_keeps_the_deadline_and_fires_once() {
    let mut sim = Sim::new();
    let agents: Vec<AgentId> = (1..=3).map(|i| sim.agent(i, true)).collect();
    let mut cfg = queue(1, &agents);
    cfg.mode = Mode::Strict;
    cfg.forward_interval = Span::minutes(3);
    cfg.unanswered_interval = Span::hours(12);
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::minutes(4));
    sim.restart();
    assert_eq!(
        sim.router.timer(Timer::Forward(s)),
        Some(T0 + Span::minutes(6))
    );
    sim.advance(Span::minutes(1));
    sim.restart();
    // The engine was down past the deadline: it fires once, at its own time.
    sim.now = T0 + Span::minutes(7);
    sim.router.handle_timeout(sim.now);
    sim.collect();
    sim.router.handle_timeout(sim.now);
    sim.collect();
    let offers = sim.offers(s);
    assert_eq!(
        offers,
        vec![
            (T0, agents[0]),
            (T0 + Span::minutes(3), agents[1]),
            (T0 + Span::minutes(7), agents[2])
        ]
    );
    let moved = sim.transitions(s).pop().unwrap();
    assert_eq!(
        moved.at,
        T0 + Span::minutes(6),
        "recorded at the deadline, not at the late call"
    );
    assert_eq!(
        sim.router.timer(Timer::Forward(s)),
        Some(T0 + Span::minutes(9)),
        "the rhythm holds"
    );
    sim.restart();
    sim.advance(Span::minutes(2));
    assert_eq!(
        sim.offers(s).last(),
        Some(&(T0 + Span::minutes(9), agents[0])),
        "wraps round after restarts"
    );
}

#[test]
fn snapshot_round_trips_through_json() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, false);
    let mut cfg = queue(1, &[a, b]);
    cfg.limit = Some(crate::SessionLimit {
        max: 1,
        exclude: crate::LimitExclusion::Replied,
    });
    sim.queue(cfg);
    for i in 0..4 {
        sim.open(i, QueueId(1));
    }
    let snap = sim.router.snapshot();
    let json = serde_json::to_string(&snap).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    let restored = Router::restore(back).unwrap();
    assert_eq!(restored.snapshot(), snap);
    assert_eq!(restored.limit_count(a, QueueId(1)), 1);
    assert_eq!(
        restored.waiting(QueueId(1)).count(),
        3,
        "b is offline while a is online (R2a)"
    );
}

#[test]
fn restore_refuses_an_inconsistent_snapshot() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    sim.queue(queue(1, &[a]));
    sim.open(1, QueueId(1));
    let good = sim.router.snapshot();
    let mut no_agent = good.clone();
    no_agent.agents.clear();
    assert!(matches!(
        Router::restore(no_agent),
        Err(Error::BadSnapshot(_))
    ));
    let mut no_sweep = good.clone();
    no_sweep.timers.retain(|(t, _)| *t != Timer::Sweep);
    let err = Router::restore(no_sweep).unwrap_err();
    assert!(err.to_string().contains("sweep"), "{err}");
    let mut orphan_timer = good.clone();
    orphan_timer.sessions.clear();
    assert!(matches!(
        Router::restore(orphan_timer),
        Err(Error::BadSnapshot(_))
    ));
    let mut bad_cfg = good;
    bad_cfg.queues[0].forward_interval = Span::seconds(1);
    assert!(matches!(
        Router::restore(bad_cfg),
        Err(Error::IntervalOutOfRange { .. })
    ));
}
