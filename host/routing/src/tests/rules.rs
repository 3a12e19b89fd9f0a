//! Eligibility, presence and the periodic rules: R7–R9, R11–R16.

use super::harness::{Sim, T0, queue};
use crate::{
    AgentId, Cause, Command, Hook, NewSession, Notice, QueueId, SessionId, Span, State, Timer,
};

#[test]
fn r7_clocked_out_or_on_break_agents_get_no_sessions() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let mut cfg = queue(1, &[a, b]);
    cfg.require_clocked_in = true;
    sim.queue(cfg.clone());
    sim.status(a, |st| st.clocked_in = false);
    sim.status(b, |st| st.on_break = true);
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Queued));
    sim.status(b, |st| st.on_break = false);
    assert_eq!(
        sim.holder(s),
        Some(b),
        "back from the break: takes the waiting session at once"
    );
    // With the option off, shift status does not matter.
    cfg.require_clocked_in = false;
    sim.queue(cfg);
    sim.act(|r, now| r.handle_agent_disconnected(now, b))
        .unwrap();
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.holder(s2), Some(a));
}

#[test]
fn r8_online_check_when_routing() {
    let mut sim = Sim::new();
    let a = sim.agent(1, false);
    let mut cfg = queue(1, &[a]);
    cfg.require_online = true;
    sim.queue(cfg.clone());
    let s = sim.open(1, QueueId(1));
    assert_eq!(
        sim.state(s),
        Some(State::Queued),
        "offline agents don't qualify with R8 on"
    );
    sim.activity(a);
    assert_eq!(sim.holder(s), Some(a));
    cfg.require_online = false;
    sim.queue(cfg);
    sim.act(|r, now| r.handle_agent_disconnected(now, a))
        .unwrap();
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(
        sim.holder(s2),
        Some(a),
        "without R8 (and all offline, R2a) they do"
    );
}

#[test]
fn r9_availability_watch_requeues_when_the_agent_is_offline() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let mut cfg = queue(1, &[a, b]);
    cfg.watch_availability = true;
    sim.queue(cfg.clone());
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s), Some(a));
    sim.reply(s, a);
    sim.customer(s);
    assert_eq!(sim.holder(s), Some(a), "online: stays");
    sim.act(|r, now| r.handle_agent_disconnected(now, a))
        .unwrap();
    assert_eq!(
        sim.holder(s),
        Some(a),
        "R9 checks on customer messages, not on disconnect"
    );
    let m = sim.mark();
    sim.customer(s);
    assert_eq!(sim.holder(s), Some(b));
    assert!(sim.since(m).any(|c| *c
        == Command::Release {
            session: s,
            agent: a
        }));
    assert!(
        sim.causes(s)
            .contains(&(State::Queued, Cause::AgentUnavailable))
    );
    // Option off: an offline holder keeps the session.
    cfg.watch_availability = false;
    sim.queue(cfg);
    sim.act(|r, now| r.handle_agent_disconnected(now, b))
        .unwrap();
    sim.customer(s);
    assert_eq!(sim.holder(s), Some(b));
}

#[test]
fn r11_no_agent_tells_the_customer_once_and_retries_every_two_minutes() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.require_clocked_in = true;
    cfg.unanswered_interval = Span::hours(12);
    sim.queue(cfg);
    sim.status(a, |st| st.clocked_in = false);
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Queued));
    assert_eq!(sim.router.waiting(QueueId(1)).collect::<Vec<_>>(), vec![s]);
    assert_eq!(
        sim.router.timer(Timer::Retry(s)),
        Some(T0 + Span::minutes(2))
    );
    let steps = sim.advance(Span::minutes(10));
    assert_eq!(steps, 5, "a retry every 2 minutes");
    assert_eq!(
        sim.router.timer(Timer::Retry(s)),
        Some(T0 + Span::minutes(12))
    );
    let notices = sim
        .log
        .iter()
        .filter(|(_, c)| {
            *c == Command::NotifyCustomer {
                session: s,
                notice: Notice::NobodyAvailable,
            }
        })
        .count();
    assert_eq!(notices, 1, "the customer is told once, not every retry");
    // Going back to the queue while waiting keeps the place in line.
    sim.advance(Span::seconds(1));
    let later = sim.open(2, QueueId(1));
    sim.act(|r, now| r.handle_back_to_queue(now, s)).unwrap();
    assert_eq!(
        sim.router.waiting(QueueId(1)).collect::<Vec<_>>(),
        vec![s, later]
    );
    // The agent clocks in without anything else happening: the next retry
    // would find them, but the change itself routes at once.
    sim.status(a, |st| st.clocked_in = true);
    assert_eq!(sim.holder(s), Some(a));
    assert_eq!(sim.router.timer(Timer::Retry(s)), None);
}

#[test]
fn r11_a_freed_place_routes_the_waiting_session_without_waiting_for_the_retry() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.limit = Some(crate::SessionLimit {
        max: 1,
        exclude: crate::LimitExclusion::ClosedOnly,
    });
    sim.queue(cfg);
    let s1 = sim.open(1, QueueId(1));
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.state(s2), Some(State::Queued));
    sim.act(|r, now| r.handle_close(now, s1)).unwrap();
    assert_eq!(
        sim.holder(s2),
        Some(a),
        "a closed session frees a place immediately"
    );
}

#[test]
fn r12_presence_ten_minutes_without_activity_is_offline() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    sim.advance(Span::minutes(9));
    sim.activity(a);
    sim.advance(Span::minutes(9));
    assert!(
        sim.router.agent(a).unwrap().online,
        "activity keeps the agent online"
    );
    sim.advance(Span::minutes(1) - Span::from_millis(1));
    assert!(sim.router.agent(a).unwrap().online);
    sim.advance(Span::from_millis(1));
    assert!(
        !sim.router.agent(a).unwrap().online,
        "10 minutes after the last activity"
    );
    assert_eq!(sim.router.timer(Timer::Presence(a)), None);
    sim.activity(a);
    sim.act(|r, now| r.handle_agent_disconnected(now, a))
        .unwrap();
    assert!(
        !sim.router.agent(a).unwrap().online,
        "a disconnect is offline at once"
    );
    // Presence feeds R2a: the idle-timeout makes the other online agent the only choice.
    let b = sim.agent(2, true);
    sim.activity(a);
    sim.queue(queue(1, &[a, b]));
    sim.advance(Span::minutes(5));
    sim.activity(b);
    sim.advance(Span::minutes(5));
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s), Some(b));
}

#[test]
fn r13_dismissed_and_vacation_agents_never_qualify() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let c = sim.agent(3, true);
    sim.queue(queue(1, &[a, b, c]));
    sim.status(a, |st| st.dismissed = true);
    sim.status(b, |st| st.vacation = true);
    for i in 0..5 {
        let s = sim.open(i, QueueId(1));
        assert_eq!(sim.holder(s), Some(c));
    }
    sim.status(c, |st| st.vacation = true);
    let s = sim.open(9, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Queued));
    sim.status(b, |st| st.vacation = false);
    assert_eq!(sim.holder(s), Some(b), "back from vacation");
}

#[test]
fn r14_responsible_agent_gets_the_session_even_offline_outside_the_queue_and_at_the_limit() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let owner = sim.agent(7, false);
    let mut cfg = queue(1, &[a]);
    cfg.route_to_responsible = true;
    cfg.require_online = true;
    cfg.limit = Some(crate::SessionLimit {
        max: 1,
        exclude: crate::LimitExclusion::ClosedOnly,
    });
    sim.queue(cfg.clone());
    let known = |id| NewSession {
        id: SessionId(id),
        queue: QueueId(1),
        responsible: Some(owner),
        bot: false,
    };
    let s1 = sim.open_with(known(1));
    let s2 = sim.open_with(known(2));
    assert_eq!(sim.holder(s1), Some(owner));
    assert_eq!(
        sim.holder(s2),
        Some(owner),
        "no online check and no limit for R14"
    );
    assert_eq!(
        sim.causes(s2).last(),
        Some(&(State::Assigned, Cause::Responsible))
    );
    // The rest of R13 applies: on vacation, the normal queue takes over.
    sim.status(owner, |st| st.vacation = true);
    let s3 = sim.open_with(known(3));
    assert_eq!(sim.holder(s3), Some(a));
    assert_eq!(
        sim.causes(s3).last(),
        Some(&(State::Assigned, Cause::Evenly))
    );
    // Option off: the queue decides.
    sim.status(owner, |st| st.vacation = false);
    cfg.route_to_responsible = false;
    cfg.limit = None;
    sim.queue(cfg);
    let s4 = sim.open_with(known(4));
    assert_eq!(sim.holder(s4), Some(a));
}

#[test]
fn r14_with_r7_the_responsible_agent_must_be_on_shift() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let owner = sim.agent(7, true);
    let mut cfg = queue(1, &[a]);
    cfg.route_to_responsible = true;
    cfg.require_clocked_in = true;
    sim.queue(cfg);
    sim.status(owner, |st| st.on_break = true);
    let s = sim.open_with(NewSession {
        id: SessionId(1),
        queue: QueueId(1),
        responsible: Some(owner),
        bot: false,
    });
    assert_eq!(sim.holder(s), Some(a));
}

#[test]
fn r15_daily_sweep_returns_sessions_of_dismissed_and_vacation_agents() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let c = sim.agent(3, true);
    sim.queue(queue(1, &[a, b, c]));
    let s1 = sim.open(1, QueueId(1));
    let s2 = sim.open(2, QueueId(1));
    let s3 = sim.open(3, QueueId(1));
    assert_eq!(
        [sim.holder(s1), sim.holder(s2), sim.holder(s3)],
        [Some(a), Some(b), Some(c)]
    );
    sim.advance(Span::hours(2));
    for agent in [a, b, c] {
        sim.activity(agent);
    }
    sim.status(a, |st| st.dismissed = true);
    sim.status(b, |st| st.vacation = true);
    assert_eq!(sim.holder(s1), Some(a), "not at once: the sweep does it");
    sim.advance(Span::hours(22) - Span::from_millis(1));
    assert_eq!(sim.holder(s1), Some(a));
    sim.advance(Span::from_millis(1));
    assert_eq!(sim.holder(s1), Some(c));
    assert_eq!(sim.holder(s2), Some(c));
    assert_eq!(sim.holder(s3), Some(c));
    assert!(sim.causes(s1).contains(&(State::Queued, Cause::Sweep)));
    assert_eq!(
        sim.router.timer(Timer::Sweep),
        Some(T0 + Span::hours(48)),
        "once every 24 hours"
    );
}

#[test]
fn r16_auto_close_seven_days_after_the_last_message() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    sim.queue(queue(1, &[a]));
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::days(3));
    sim.reply(s, a);
    sim.advance(Span::days(2));
    sim.customer(s);
    let last = sim.now;
    sim.advance(Span::days(7) - Span::from_millis(1));
    assert!(sim.state(s).is_some(), "still open a millisecond before");
    sim.advance(Span::from_millis(1));
    assert_eq!(sim.state(s), None, "closed and forgotten");
    let t = sim.transitions(s).pop().unwrap();
    assert_eq!(
        (t.to, t.cause, t.at),
        (State::Closed, Cause::AutoClosed, last + Span::days(7))
    );
    assert!(sim.hooks(s).contains(&(last + Span::days(7), Hook::Closed)));
    assert!(sim.log.iter().any(|(_, c)| *c == Command::ForgetSession(s)));
    assert!(
        sim.router.timer_count() <= 2,
        "only the sweep and presence remain: {:?}",
        sim.router.snapshot().timers
    );
}

/// The `MakeResponsible` commands one call emitted, as (agent, replace).
fn responsibility(sim: &Sim, mark: usize) -> Vec<(AgentId, bool)> {
    sim.since(mark)
        .filter_map(|c| match c {
            Command::MakeResponsible { agent, replace, .. } => Some((*agent, *replace)),
            _ => None,
        })
        .collect()
}

#[test]
fn c5_without_the_option_a_transfer_leaves_the_first_agent_responsible() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    sim.queue(queue(1, &[a]));
    let mark = sim.mark();
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.holder(s), Some(a));
    assert_eq!(
        responsibility(&sim, mark),
        vec![(a, false)],
        "the first agent becomes responsible if nobody is"
    );
    let mark = sim.mark();
    sim.act(|r, now| r.handle_transfer_to_agent(now, s, b))
        .unwrap();
    assert_eq!(sim.holder(s), Some(b));
    assert_eq!(responsibility(&sim, mark), vec![(b, false)]);
}

#[test]
fn c5_with_the_option_a_transfer_by_hand_makes_the_new_agent_responsible() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let mut cfg = queue(1, &[a]);
    cfg.transfer_makes_responsible = true;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    let mark = sim.mark();
    sim.act(|r, now| r.handle_transfer_to_agent(now, s, b))
        .unwrap();
    assert_eq!(responsibility(&sim, mark), vec![(b, true)]);
}
