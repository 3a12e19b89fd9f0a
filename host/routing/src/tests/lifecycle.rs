//! The session lifecycle (S1, S2) and agents' manual actions (R18).

use super::harness::{Sim, T0, queue};
use crate::{
    AgentId, Cause, Command, Error, Hook, MessageOutcome, NewSession, QueueId, SessionId, Span,
    State,
};

#[test]
fn s1_every_move_is_recorded_with_time_and_cause() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.mode = crate::Mode::Strict;
    cfg.close_delay = Span::minutes(5);
    cfg.ask_rating = true;
    cfg.close_on_rating = true;
    sim.queue(cfg);
    let s = sim.open_with(NewSession {
        id: SessionId(1),
        queue: QueueId(1),
        responsible: None,
        bot: true,
    });
    sim.advance(Span::minutes(1));
    sim.act(|r, now| r.handle_bot_handover(now, s)).unwrap();
    sim.advance(Span::seconds(30));
    sim.act(|r, now| r.handle_accept(now, s, a)).unwrap();
    sim.advance(Span::seconds(30));
    sim.reply(s, a);
    sim.advance(Span::minutes(1));
    sim.customer(s);
    sim.advance(Span::minutes(1));
    sim.reply(s, a);
    sim.act(|r, now| r.handle_close(now, s)).unwrap();
    sim.advance(Span::minutes(5));
    sim.act(|r, now| r.handle_rating(now, s)).unwrap();
    let moves: Vec<(Option<State>, State, Cause, i64)> = sim
        .transitions(s)
        .into_iter()
        .map(|t| (t.from, t.to, t.cause, (t.at - T0).as_millis() / 1000))
        .collect();
    use Cause::*;
    use State::*;
    assert_eq!(
        moves,
        vec![
            (None, Bot, Opened, 0),
            (Some(Bot), Queued, BotHandover, 60),
            (Some(Queued), Offered, StrictOrder, 60),
            (Some(Offered), Assigned, Accepted, 90),
            (Some(Assigned), Answered, AgentReplied, 120),
            (Some(Answered), Waiting, AgentReplied, 120),
            (Some(Waiting), Answered, CustomerMessage, 180),
            (Some(Answered), Waiting, AgentReplied, 240),
            (Some(Waiting), Closing, ClosedByAgent, 240),
            (Some(Closing), Rating, CloseDelayElapsed, 540),
            (Some(Rating), Closed, Rated, 540),
        ]
    );
    assert!(
        sim.transitions(s)
            .iter()
            .skip(2)
            .all(|t| t.holder == Some(a) || t.to == Queued)
    );
    assert_eq!(
        sim.hooks(s).into_iter().map(|(_, h)| h).collect::<Vec<_>>(),
        vec![Hook::Closed, Hook::AskRating]
    );
    assert_eq!(sim.router.session(s), None);
}

#[test]
fn s2_customer_message_during_closing_reopens_and_after_close_starts_anew() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.close_delay = Span::minutes(5);
    cfg.ask_rating = true;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.reply(s, a);
    sim.act(|r, now| r.handle_close(now, s)).unwrap();
    sim.advance(Span::minutes(4));
    assert_eq!(sim.customer(s), MessageOutcome::Reopened);
    assert_eq!(
        (sim.state(s), sim.holder(s)),
        (Some(State::Answered), Some(a))
    );
    assert_eq!(
        sim.causes(s).last(),
        Some(&(State::Answered, Cause::Reopened))
    );
    sim.advance(Span::hours(1));
    assert_eq!(
        sim.state(s),
        Some(State::Answered),
        "the close delay was cancelled"
    );
    assert!(sim.hooks(s).is_empty(), "A3 never ran: it did not close");
    // Closed (waiting for a rating): a new session for the same chat.
    sim.act(|r, now| r.handle_close(now, s)).unwrap();
    sim.advance(Span::minutes(5));
    assert_eq!(sim.state(s), Some(State::Rating));
    assert_eq!(sim.customer(s), MessageOutcome::StartNewSession);
    assert_eq!(
        sim.state(s),
        Some(State::Rating),
        "the old session is untouched"
    );
    // Closed for good: the core has forgotten it and says so.
    sim.advance(Span::days(7));
    assert_eq!(sim.state(s), None);
    assert_eq!(
        sim.router.handle_customer_message(sim.now, s),
        Err(Error::UnknownSession(s))
    );
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(sim.holder(s2), Some(a));
}

#[test]
fn r18_take_by_hand_from_the_queue_or_an_offer_but_not_from_a_colleague() {
    let mut sim = Sim::new();
    let a = sim.agent(1, false);
    let b = sim.agent(2, true);
    let mut cfg = queue(1, &[a]);
    cfg.require_online = true;
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    assert_eq!(sim.state(s), Some(State::Queued));
    sim.act(|r, now| r.handle_take(now, s, b)).unwrap();
    assert_eq!(
        (sim.state(s), sim.holder(s)),
        (Some(State::Assigned), Some(b)),
        "b is not even in the queue"
    );
    assert_eq!(sim.router.waiting(QueueId(1)).count(), 0);
    assert_eq!(sim.router.timer(crate::Timer::Retry(s)), None);
    assert_eq!(
        sim.act(|r, now| r.handle_take(now, s, a)),
        Err(Error::AlreadyTaken {
            session: s,
            holder: b
        })
    );
    sim.status(a, |st| st.dismissed = true);
    let s2 = sim.open(2, QueueId(1));
    assert_eq!(
        sim.act(|r, now| r.handle_take(now, s2, a)),
        Err(Error::AgentDismissed(a))
    );
    assert_eq!(
        sim.act(|r, now| r.handle_take(now, s2, AgentId(99))),
        Err(Error::UnknownAgent(AgentId(99)))
    );
}

#[test]
fn r18_transfer_to_an_agent_or_another_queue_and_close() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let b = sim.agent(2, true);
    let c = sim.agent(3, true);
    sim.queue(queue(1, &[a]));
    sim.queue(queue(2, &[c]));
    let s = sim.open(1, QueueId(1));
    sim.reply(s, a);
    let m = sim.mark();
    sim.act(|r, now| r.handle_transfer_to_agent(now, s, b))
        .unwrap();
    assert_eq!(
        (sim.state(s), sim.holder(s)),
        (Some(State::Assigned), Some(b))
    );
    assert!(sim.since(m).any(|c| *c
        == Command::Release {
            session: s,
            agent: a
        }));
    assert!(sim.since(m).any(|c| *c
        == Command::Assign {
            session: s,
            agent: b
        }));
    assert!(
        !sim.router.session(s).unwrap().holder_replied,
        "b has not replied yet"
    );
    sim.act(|r, now| r.handle_transfer_to_queue(now, s, QueueId(2)))
        .unwrap();
    let session = sim.router.session(s).unwrap();
    assert_eq!((session.queue, session.holder), (QueueId(2), Some(c)));
    assert_eq!(
        sim.causes(s)[sim.causes(s).len() - 2],
        (State::Queued, Cause::TransferredToQueue)
    );
    assert_eq!(
        sim.act(|r, now| r.handle_transfer_to_queue(now, s, QueueId(9))),
        Err(Error::UnknownQueue(QueueId(9)))
    );
    sim.act(|r, now| r.handle_close(now, s)).unwrap();
    assert_eq!(
        sim.state(s),
        None,
        "no close delay, no rating: closed at once"
    );
    assert_eq!(
        sim.causes(s).last(),
        Some(&(State::Closed, Cause::ClosedByAgent))
    );
    assert_eq!(sim.router.held_by(c).count(), 0);
    assert_eq!(
        sim.router.timer_count(),
        4,
        "sweep and three presence timers; nothing of s"
    );
}

#[test]
fn s1_bot_sessions_wait_for_the_handover() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    sim.queue(queue(1, &[a]));
    let s = sim.open_with(NewSession {
        id: SessionId(1),
        queue: QueueId(1),
        responsible: None,
        bot: true,
    });
    sim.customer(s);
    sim.advance(Span::hours(1));
    assert_eq!(
        (sim.state(s), sim.holder(s)),
        (Some(State::Bot), None),
        "no routing, no R6 while the bot talks"
    );
    assert!(sim.hooks(s).is_empty());
    sim.act(|r, now| r.handle_bot_handover(now, s)).unwrap();
    assert_eq!(sim.holder(s), Some(a));
    assert_eq!(
        sim.act(|r, now| r.handle_bot_handover(now, s)),
        Err(Error::WrongState {
            session: s,
            state: State::Assigned
        })
    );
}

#[test]
fn a5_timeout_hook_runs_after_the_quiet_time_and_moves_with_every_message() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.conversation_timeout = Some(Span::hours(2));
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.act(|r, now| r.handle_accept(now, s, a)).unwrap();
    sim.advance(Span::hours(1));
    sim.reply(s, a);
    // Two hours after the reply, not after the first message.
    sim.advance(Span::hours(1) + Span::minutes(59));
    assert!(sim.hooks(s).iter().all(|(_, h)| *h != Hook::Timeout));
    sim.advance(Span::minutes(1));
    let timeouts: Vec<_> = sim
        .hooks(s)
        .into_iter()
        .filter(|(_, h)| *h == Hook::Timeout)
        .map(|(at, _)| (at - T0).as_millis() / 60_000)
        .collect();
    assert_eq!(timeouts, vec![180]);
    // The hook decides: until it closes, the session stays as it was.
    assert_eq!(sim.state(s), Some(State::Waiting));
    sim.act(|r, now| r.handle_close(now, s)).unwrap();
    assert_eq!(sim.router.session(s), None);
    assert_eq!(sim.router.timer(crate::Timer::Timeout(s)), None);
}

#[test]
fn a5_without_a_timeout_no_hook_and_a_zero_timeout_is_refused() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    sim.queue(queue(1, &[a]));
    let s = sim.open(1, QueueId(1));
    sim.advance(Span::days(6));
    assert!(sim.hooks(s).iter().all(|(_, h)| *h != Hook::Timeout));
    let mut cfg = queue(1, &[a]);
    cfg.conversation_timeout = Some(Span::ZERO);
    let err = sim
        .act(|r, now| r.handle_queue_config(now, cfg))
        .unwrap_err();
    assert!(matches!(err, Error::NonPositiveTimeout { .. }), "{err}");
    assert!(err.to_string().contains("A5"));
}

#[test]
fn a4_a_scripted_delay_replaces_the_queue_default() {
    let mut sim = Sim::new();
    let a = sim.agent(1, true);
    let mut cfg = queue(1, &[a]);
    cfg.close_delay = Span::minutes(5);
    sim.queue(cfg);
    let s = sim.open(1, QueueId(1));
    sim.act(|r, now| r.handle_accept(now, s, a)).unwrap();
    sim.reply(s, a);
    sim.act(|r, now| r.handle_close_after(now, s, Span::minutes(30)))
        .unwrap();
    sim.advance(Span::minutes(29));
    assert_eq!(sim.state(s), Some(State::Closing));
    // A customer message in the delay reopens it with the same agent (A4, S2).
    assert_eq!(sim.customer(s), MessageOutcome::Reopened);
    assert_eq!(sim.holder(s), Some(a));
    sim.act(|r, now| r.handle_close_after(now, s, Span::ZERO))
        .unwrap();
    assert_eq!(sim.router.session(s), None);
}
