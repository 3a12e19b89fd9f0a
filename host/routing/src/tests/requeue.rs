//! Issue 22 item 4: R6 counts from when a session reaches an agent, so A2's
//! back-to-queue (R17) gives every agent who gets it the whole unanswered
//! interval, and never hands it straight back to the agent who just had it
//! while another agent is free.

use super::harness::{Sim, T0, queue};
use crate::{AgentId, Hook, Mode, QueueId, SessionId, Span, Timer};

const R6: Span = Span::seconds(60);

/// An evenly queue of two agents who require to be online (R8), both offline
/// at T0, with a 60 s unanswered interval.
fn two_agents_offline() -> (Sim, AgentId, AgentId) {
    let mut sim = Sim::new();
    let a = sim.agent(1, false);
    let b = sim.agent(2, false);
    let mut cfg = queue(1, &[a, b]);
    cfg.require_online = true;
    cfg.unanswered_interval = R6;
    sim.queue(cfg);
    (sim, a, b)
}

fn no_answer_hooks(sim: &Sim, sessions: &[SessionId]) -> Vec<(SessionId, crate::Timestamp)> {
    sessions
        .iter()
        .flat_map(|s| {
            sim.hooks(*s)
                .into_iter()
                .filter(|(_, h)| *h == Hook::NoAnswer)
                .map(move |(at, _)| (*s, at))
        })
        .collect()
}

#[test]
fn r6_counts_from_the_assignment_not_from_the_wait_in_the_queue() {
    let (mut sim, a, b) = two_agents_offline();
    // Eight customers write while nobody is online: they wait (R11).
    let sessions: Vec<SessionId> = (1..=8).map(|i| sim.open(i, QueueId(1))).collect();
    assert!(sessions.iter().all(|s| sim.holder(*s).is_none()));
    // 59.7 s later both agents come online and get them, evenly.
    sim.advance(Span::from_millis(59_700));
    sim.activity(a);
    sim.activity(b);
    let assigned_at = T0 + Span::from_millis(59_700);
    for s in &sessions {
        assert!(sim.holder(*s).is_some(), "{s} was not assigned");
        assert_eq!(
            sim.router.timer(Timer::Unanswered(*s)),
            Some(assigned_at + R6),
            "R6 restarts at the assignment"
        );
    }
    // At 60 s (the old deadline, counted from the queue) nothing happens:
    // the agents have had 0.3 s.
    sim.advance(Span::from_millis(300));
    assert_eq!(no_answer_hooks(&sim, &sessions), vec![]);
    // A full interval after the assignment, A2 runs for each, once.
    sim.advance(R6 - Span::from_millis(300) - Span::from_millis(1));
    assert_eq!(no_answer_hooks(&sim, &sessions), vec![]);
    sim.advance(Span::from_millis(1));
    let fired = no_answer_hooks(&sim, &sessions);
    assert_eq!(fired.len(), 8, "{fired:?}");
    assert!(
        fired.iter().all(|(_, at)| *at == assigned_at + R6),
        "{fired:?}"
    );
}

#[test]
fn r17_back_to_queue_goes_to_another_free_agent_and_restarts_r6_there() {
    let (mut sim, a, b) = two_agents_offline();
    let sessions: Vec<SessionId> = (1..=8).map(|i| sim.open(i, QueueId(1))).collect();
    sim.advance(Span::from_millis(59_700));
    sim.activity(a);
    sim.activity(b);
    sim.advance(R6);
    // A2 = back to queue for each, as the default evenly script does.
    let before: Vec<AgentId> = sessions.iter().map(|s| sim.holder(*s).unwrap()).collect();
    for s in &sessions {
        sim.act(|r, now| r.handle_back_to_queue(now, *s)).unwrap();
    }
    let requeued_at = sim.now;
    for (s, had) in sessions.iter().zip(&before) {
        let now = sim.holder(*s).unwrap();
        assert_ne!(now, *had, "{s} went back to {had}, who just had it");
        assert_eq!(
            sim.router.timer(Timer::Unanswered(*s)),
            Some(requeued_at + R6),
            "the new agent gets the whole interval"
        );
    }
    // Nobody answers: the next round comes a whole interval later, not before.
    sim.advance(R6 - Span::from_millis(1));
    assert_eq!(no_answer_hooks(&sim, &sessions).len(), 8);
    sim.advance(Span::from_millis(1));
    assert_eq!(no_answer_hooks(&sim, &sessions).len(), 16);
}

#[test]
fn r17_with_nobody_else_free_the_same_agent_keeps_the_session() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.unanswered_interval = R6;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.advance(R6);
    sim.act(|r, now| r.handle_back_to_queue(now, s)).unwrap();
    assert_eq!(sim.holder(s), Some(a), "better than leaving it waiting");
}

#[test]
fn r6_restarts_for_an_agent_who_is_handed_the_session_by_transfer_or_take() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let mut cfg = queue(1, &[a, b]);
    cfg.unanswered_interval = R6;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s), Some(a));
    sim.advance(Span::seconds(50));
    sim.act(|r, now| r.handle_transfer_to_agent(now, s, b))
        .unwrap();
    sim.advance(Span::seconds(59));
    assert!(sim.hooks(s).is_empty(), "b has had 59 s of 60");
    sim.advance(Span::seconds(1));
    assert_eq!(
        sim.hooks(s),
        vec![(T0 + Span::seconds(110), Hook::NoAnswer)]
    );
}

#[test]
fn r6_keeps_counting_across_strict_forwards() {
    // R5 is each agent's chance in strict order; if a forward restarted R6,
    // a forward interval shorter than R6 would keep A2 from ever running.
    let mut sim = Sim::new();
    let agents: Vec<AgentId> = (1..=3).map(|i| sim.agent(i, true)).collect();
    let mut cfg = queue(1, &agents);
    cfg.mode = Mode::Strict;
    cfg.forward_interval = Span::minutes(1);
    cfg.unanswered_interval = Span::minutes(2);
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::minutes(2));
    assert_eq!(sim.holder(s), Some(agents[2]), "forwarded twice");
    assert_eq!(
        sim.hooks(s),
        vec![(T0 + Span::minutes(2), Hook::NoAnswer)],
        "R6 counts from the first offer"
    );
}

#[test]
fn r6_restarts_when_a_waiting_strict_session_is_finally_offered() {
    let mut sim = Sim::new();
    let a = sim.agent(1, false);
    let mut cfg = queue(1, &[a]);
    cfg.mode = Mode::Strict;
    cfg.require_online = true;
    cfg.unanswered_interval = Span::minutes(2);
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::seconds(100));
    sim.activity(a);
    assert_eq!(sim.holder(s), Some(a));
    sim.advance(Span::seconds(30));
    assert!(
        sim.hooks(s).is_empty(),
        "a got it 30 s ago; the 100 s in the queue are not theirs"
    );
    sim.advance(Span::seconds(90));
    assert_eq!(
        sim.hooks(s),
        vec![(T0 + Span::seconds(220), Hook::NoAnswer)]
    );
}
