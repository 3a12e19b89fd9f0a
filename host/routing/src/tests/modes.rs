//! The three routing modes and their intervals: R1–R6, R17.

use super::harness::{Sim, T0, queue};
use crate::{AgentId, Cause, Command, Error, Hook, Interval, Mode, QueueId, Span, State};

fn strict_sim(members: &[i64], forward: Span) -> (Sim, Vec<AgentId>) {
    let mut sim = Sim::new();
    let agents: Vec<AgentId> = members.iter().map(|id| sim.agent(*id, true)).collect();
    let mut cfg = queue(1, &agents);
    cfg.mode = Mode::Strict;
    cfg.forward_interval = forward;
    cfg.unanswered_interval = Span::hours(12);
    sim.queue(cfg);
    (sim, agents)
}

#[test]
fn r1_queue_order_not_agent_id_decides() {
    let (mut sim, _) = strict_sim(&[30, 10, 20], Span::minutes(3));
    let s = sim.open(1, QueueId(1));
    assert_eq!(
        sim.holder(s),
        Some(AgentId(30)),
        "first in queue order, not lowest id"
    );
    // Reordering the queue changes who is first.
    let mut cfg = sim.router.queue(QueueId(1)).unwrap().clone();
    cfg.members = vec![AgentId(20), AgentId(30), AgentId(10)];
    sim.queue(cfg);
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.holder(s2), Some(AgentId(20)));
}

#[test]
fn r2_evenly_goes_to_the_agent_idle_longest_and_restarts_their_idle_time() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let c = sim.agent(3, true);
    sim.queue(queue(1, &[a, b, c]));
    // Give everyone an idle time: c replied last, a first.
    for (i, agent) in [a, b, c].into_iter().enumerate() {
        let s = sim.open(100 + i as i64, QueueId(1));
        sim.act(|r, now| r.handle_transfer_to_agent(now, s, agent))
            .unwrap();
        sim.advance(Span::minutes(1));
        sim.reply(s, agent);
    }
    sim.advance(Span::seconds(1));
    let s1 = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s1), Some(a), "a has been idle longest");
    assert_eq!(
        sim.router.agent(a).unwrap().idle_since,
        Some(sim.now),
        "assignment restarts idle time"
    );
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.holder(s2), Some(b));
    // A reply also restarts idle time: b replies, so c (idle since earlier) is next, then a.
    sim.advance(Span::seconds(5));
    sim.reply(s2, b);
    let s3 = sim.open(3, QueueId(1));
    assert_eq!(sim.holder(s3), Some(c));
    let s4 = sim.open(4, QueueId(1));
    assert_eq!(
        sim.holder(s4),
        Some(a),
        "equal chat counts don't matter, idle time does"
    );
}

#[test]
fn r2a_evenly_online_agents_first_offline_only_when_all_offline() {
    let mut sim = Sim::new();
    let off = sim.agent(1, false); // idle since forever, but offline
    let on = sim.agent(2, true);
    sim.queue(queue(1, &[off, on]));
    for i in 0..3 {
        let s = sim.open(i, QueueId(1));
        assert_eq!(sim.holder(s), Some(on), "an online agent is in the queue");
    }
    sim.act(|r, now| r.handle_agent_disconnected(now, on))
        .unwrap();
    let s = sim.open(10, QueueId(1));
    assert_eq!(
        sim.holder(s),
        Some(off),
        "everybody is offline: the idlest offline agent"
    );
    // An online but ineligible agent still blocks offline routing (R2a is about
    // every agent in the queue).
    sim.activity(on);
    sim.status(on, |st| st.on_break = true);
    let mut cfg = sim.router.queue(QueueId(1)).unwrap().clone();
    cfg.require_clocked_in = true;
    sim.queue(cfg);
    let s = sim.open(11, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Queued));
}

#[test]
fn r3_strict_order_forwards_and_wraps() {
    let (mut sim, agents) = strict_sim(&[1, 2, 3], Span::minutes(3));
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::minutes(10));
    let m = Span::minutes(1);
    let expected = vec![
        (T0, agents[0]),
        (T0 + m * 3, agents[1]),
        (T0 + m * 6, agents[2]),
        (T0 + m * 9, agents[0]),
    ];
    assert_eq!(
        sim.offers(s),
        expected,
        "to the next agent each 3 minutes, wrapping round"
    );
    assert!(sim.causes(s).contains(&(State::Offered, Cause::Forwarded)));
    // The offered agent answers: that accepts, and forwarding stops for good.
    let m = sim.mark();
    sim.reply(s, agents[0]);
    assert!(sim.since(m).any(|c| *c
        == Command::Assign {
            session: s,
            agent: agents[0]
        }));
    sim.advance(Span::hours(5));
    assert_eq!(sim.offers(s).len(), 4);
    assert_eq!(sim.holder(s), Some(agents[0]));
}

#[test]
fn r3_strict_order_skips_agents_who_do_not_qualify_and_keeps_a_lone_agent() {
    let (mut sim, agents) = strict_sim(&[1, 2, 3], Span::minutes(3));
    sim.status(agents[1], |st| st.vacation = true);
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::minutes(3));
    assert_eq!(sim.holder(s), Some(agents[2]), "2 is on vacation");
    sim.status(agents[0], |st| st.dismissed = true);
    sim.advance(Span::minutes(3));
    assert_eq!(
        sim.holder(s),
        Some(agents[2]),
        "nobody else qualifies: 3 keeps it"
    );
    assert_eq!(sim.offers(s).len(), 2);
    assert_eq!(
        sim.router.timer(crate::Timer::Forward(s)),
        Some(sim.now + Span::minutes(3))
    );
}

#[test]
fn r4_everybody_offers_to_all_and_the_first_accept_wins() {
    let mut sim = Sim::new();
    let agents: Vec<AgentId> = (1..=3).map(|i| sim.agent(i, true)).collect();
    sim.status(agents[2], |st| st.dismissed = true);
    let mut cfg = queue(1, &agents);
    cfg.mode = Mode::Everybody;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Offered));
    let offered: Vec<AgentId> = sim.offers(s).into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        offered,
        vec![agents[0], agents[1]],
        "every eligible agent, at once"
    );
    assert_eq!(sim.holder(s), None, "an offer to all is held by nobody");
    let m = sim.mark();
    sim.act(|r, now| r.handle_accept(now, s, agents[1]))
        .unwrap();
    assert_eq!(sim.holder(s), Some(agents[1]));
    assert!(sim.since(m).any(|c| *c
        == Command::WithdrawOffer {
            session: s,
            agent: agents[0]
        }));
    let late = sim.act(|r, now| r.handle_accept(now, s, agents[0]));
    assert_eq!(
        late,
        Err(Error::AlreadyTaken {
            session: s,
            holder: agents[1]
        })
    );
    let stranger = sim.agent(9, true);
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(
        sim.act(|r, now| r.handle_accept(now, s2, stranger)),
        Err(Error::NotOffered {
            session: s2,
            agent: stranger
        })
    );
}

#[test]
fn r5_forward_interval_between_one_minute_and_twelve_hours() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    for bad in [
        Span::seconds(59),
        Span::hours(12) + Span::from_millis(1),
        Span::ZERO,
    ] {
        cfg.forward_interval = bad;
        let err = sim
            .router
            .handle_queue_config(sim.now, cfg.clone())
            .unwrap_err();
        assert!(
            matches!(err, Error::IntervalOutOfRange { which: Interval::Forward, given, .. } if given == bad)
        );
        assert!(
            err.to_string().contains("between 1 minute and 12 hours"),
            "{err}"
        );
    }
    assert!(
        sim.router.queue(QueueId(1)).is_none(),
        "a refused config changes nothing"
    );
    // At the edges it is accepted and used to the millisecond.
    let (mut sim, agents) = strict_sim(&[1, 2], Span::hours(12));
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::hours(12) - Span::from_millis(1));
    assert_eq!(sim.holder(s), Some(agents[0]));
    sim.advance(Span::from_millis(1));
    assert_eq!(sim.holder(s), Some(agents[1]));
}

#[test]
fn r5_accepting_without_answering_still_forwards() {
    let (mut sim, agents) = strict_sim(&[1, 2], Span::minutes(1));
    let s = sim.open(1, QueueId(1));
    sim.act(|r, now| r.handle_accept(now, s, agents[0]))
        .unwrap();
    assert_eq!(sim.state(s), Some(State::Assigned));
    sim.advance(Span::minutes(1));
    assert_eq!(
        sim.holder(s),
        Some(agents[1]),
        "R5 is about answering, not accepting"
    );
}

#[test]
fn r6_unanswered_interval_marks_the_session_and_runs_a2() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.unanswered_interval = Span::minutes(5);
    sim.queue(cfg.clone());
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::minutes(5) - Span::from_millis(1));
    assert!(sim.hooks(s).is_empty());
    sim.advance(Span::from_millis(1));
    assert_eq!(sim.hooks(s), vec![(T0 + Span::minutes(5), Hook::NoAnswer)]);
    assert!(sim.router.session(s).unwrap().unanswered);
    assert!(
        sim.log
            .iter()
            .any(|(_, c)| *c == Command::MarkUnanswered { session: s })
    );
    // It fires once, not every interval.
    sim.advance(Span::hours(1));
    assert_eq!(sim.hooks(s).len(), 1);
    // An answer in time prevents it.
    let s2 = sim.open(2, QueueId(1));
    sim.advance(Span::minutes(4));
    sim.reply(s2, a);
    sim.advance(Span::hours(1));
    assert!(sim.hooks(s2).is_empty());
    // And the range is checked like R5's.
    cfg.unanswered_interval = Span::hours(13);
    assert!(matches!(
        sim.router.handle_queue_config(sim.now, cfg),
        Err(Error::IntervalOutOfRange {
            which: Interval::Unanswered,
            ..
        })
    ));
}

#[test]
fn r17_back_to_queue_cycles_an_unanswered_session_until_someone_answers() {
    let mut sim = Sim::new();
    let agents: Vec<AgentId> = (1..=3).map(|i| sim.agent(i, true)).collect();
    let mut cfg = queue(1, &agents);
    cfg.unanswered_interval = Span::minutes(2);
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    let mut holders = vec![sim.holder(s).unwrap()];
    // Play A2 = "back to queue" every time the no-answer hook runs.
    for _ in 0..4 {
        let hooks = sim.hooks(s).len();
        sim.advance(Span::minutes(2));
        assert_eq!(
            sim.hooks(s).len(),
            hooks + 1,
            "R6 starts over after each requeue"
        );
        sim.act(|r, now| r.handle_back_to_queue(now, s)).unwrap();
        holders.push(sim.holder(s).unwrap());
    }
    assert_eq!(
        holders,
        vec![agents[0], agents[1], agents[2], agents[0], agents[1]],
        "cycles through the queue"
    );
    assert!(sim.causes(s).contains(&(State::Queued, Cause::BackToQueue)));
    let who = sim.holder(s).unwrap();
    sim.reply(s, who);
    let hooks = sim.hooks(s).len();
    sim.advance(Span::hours(1));
    assert_eq!(sim.hooks(s).len(), hooks, "answered: the cycle ends");
    assert_eq!(sim.now, T0 + Span::minutes(8) + Span::hours(1));
}

#[test]
fn r3_leaving_strict_order_mid_offer_routes_the_session_by_the_new_mode() {
    let (mut sim, agents) = strict_sim(&[1, 2], Span::minutes(3));
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s), Some(agents[0]));
    let mut cfg = sim.router.queue(QueueId(1)).unwrap().clone();
    cfg.mode = Mode::Evenly;
    sim.queue(cfg);
    sim.advance(Span::minutes(3));
    assert_eq!(
        (sim.state(s), sim.holder(s)),
        (Some(State::Assigned), Some(agents[1]))
    );
    assert_eq!(
        sim.causes(s).last(),
        Some(&(State::Assigned, Cause::Evenly))
    );
}
