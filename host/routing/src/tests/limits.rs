//! R10: the per-agent session limit and its three exclusion modes.

use super::harness::{Sim, queue};
use crate::{AgentId, Error, LimitExclusion, Mode, QueueId, SessionId, SessionLimit, State};

fn limited(exclude: LimitExclusion, ask_rating: bool) -> (Sim, AgentId) {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.limit = Some(SessionLimit { max: 2, exclude });
    cfg.ask_rating = ask_rating;
    sim.queue(cfg);
    (sim, a)
}

fn open_two(sim: &mut Sim, a: AgentId) -> (SessionId, SessionId) {
    let s1 = sim.open(1, QueueId(1));
    let s2 = sim.open(2, QueueId(1));
    assert_eq!([sim.holder(s1), sim.holder(s2)], [Some(a), Some(a)]);
    (s1, s2)
}

#[test]
fn r10_at_the_limit_the_agent_gets_no_more() {
    let (mut sim, a) = limited(LimitExclusion::ClosedOnly, false);
    let (s1, _) = open_two(&mut sim, a);
    let s3 = sim.open(3, QueueId(1));
    assert_eq!(sim.state(s3), Some(State::Queued));
    assert_eq!(sim.router.limit_count(a, QueueId(1)), 2);
    // (c) closed only: answering does not free a place, closing does.
    sim.reply(s1, a);
    assert_eq!(sim.state(s3), Some(State::Queued));
    sim.act(|r, now| r.handle_close(now, s1)).unwrap();
    assert_eq!(sim.holder(s3), Some(a));
}

#[test]
fn r10a_sessions_the_agent_replied_to_are_left_out() {
    let (mut sim, a) = limited(LimitExclusion::Replied, false);
    let (s1, s2) = open_two(&mut sim, a);
    let s3 = sim.open(3, QueueId(1));
    assert_eq!(sim.state(s3), Some(State::Queued));
    sim.reply(s1, a);
    assert_eq!(sim.holder(s3), Some(a), "a reply frees a place");
    // A customer message does not bring the replied session back into the count.
    sim.customer(s1);
    assert_eq!(sim.router.limit_count(a, QueueId(1)), 2, "s2 and s3");
    let _ = s2;
}

#[test]
fn r10b_sessions_waiting_for_the_customer_are_left_out() {
    let (mut sim, a) = limited(LimitExclusion::WaitingForCustomer, false);
    let (s1, _) = open_two(&mut sim, a);
    let s3 = sim.open(3, QueueId(1));
    sim.reply(s1, a);
    assert_eq!(sim.state(s1), Some(State::Waiting));
    assert_eq!(sim.holder(s3), Some(a), "the agent wrote last in s1");
    // The customer answers: s1 counts again and the agent is over nothing, at the limit.
    sim.customer(s1);
    assert_eq!(
        sim.router.limit_count(a, QueueId(1)),
        3,
        "a customer reply may exceed; no new ones come"
    );
    let s4 = sim.open(4, QueueId(1));
    assert_eq!(sim.state(s4), Some(State::Queued));
}

#[test]
fn r10_closed_and_rating_sessions_never_count() {
    for exclude in [
        LimitExclusion::Replied,
        LimitExclusion::WaitingForCustomer,
        LimitExclusion::ClosedOnly,
    ] {
        let (mut sim, a) = limited(exclude, true);
        let (s1, s2) = open_two(&mut sim, a);
        sim.act(|r, now| r.handle_close(now, s1)).unwrap();
        sim.act(|r, now| r.handle_close(now, s2)).unwrap();
        assert_eq!(sim.state(s1), Some(State::Rating));
        assert_eq!(sim.router.limit_count(a, QueueId(1)), 0, "{exclude:?}");
        let s3 = sim.open(3, QueueId(1));
        assert_eq!(sim.holder(s3), Some(a), "{exclude:?}");
    }
}

#[test]
fn r10_everybody_mode_refuses_an_accept_over_the_limit() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.mode = Mode::Everybody;
    cfg.limit = Some(SessionLimit {
        max: 1,
        exclude: LimitExclusion::ClosedOnly,
    });
    sim.queue(cfg);
    let s1 = sim.open(1, QueueId(1));
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.state(s2), Some(State::Offered), "offers don't count");
    sim.act(|r, now| r.handle_accept(now, s1, a)).unwrap();
    let err = sim.act(|r, now| r.handle_accept(now, s2, a));
    assert_eq!(
        err,
        Err(Error::LimitReached {
            agent: a,
            queue: QueueId(1)
        })
    );
    assert_eq!(
        sim.state(s2),
        Some(State::Offered),
        "a refused accept changes nothing"
    );
}

#[test]
fn r10_changing_the_exclusion_mode_recounts() {
    let (mut sim, a) = limited(LimitExclusion::ClosedOnly, false);
    let (s1, _) = open_two(&mut sim, a);
    sim.reply(s1, a);
    let s3 = sim.open(3, QueueId(1));
    assert_eq!(sim.state(s3), Some(State::Queued));
    let mut cfg = sim.router.queue(QueueId(1)).unwrap().clone();
    cfg.limit = Some(SessionLimit {
        max: 2,
        exclude: LimitExclusion::Replied,
    });
    sim.queue(cfg);
    assert_eq!(
        sim.holder(s3),
        Some(a),
        "under the new rule s1 does not count"
    );
}
