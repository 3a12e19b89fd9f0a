//! A1–A5, W2, Q1, Q2: the default scripts in whole scenarios.

use super::harness::{Sim, at, channel};
use crate::{Action, AfterClose, ClosingWindow, Hook, RunError, ScriptScope};
use frontdesk_routing::{Mode, Span, State};

const MONDAY_10: &str = "2026-01-05T10:00:00+01:00";

#[test]
fn a1_first_message_gets_a_greeting_once() {
    let mut sim = Sim::new(channel());
    sim.event.contact.name = Some("Jonas".into());
    let t = at(MONDAY_10);
    assert_eq!(sim.customer_writes(t, "Hi"), vec![Hook::FirstMessage]);
    assert_eq!(
        sim.texts(),
        ["Hello Jonas! Thanks for writing to Support. An agent will be with you shortly."]
    );
    // The next line of the same chat is not greeted again.
    assert!(
        sim.customer_writes(t + Span::seconds(20), "my order")
            .is_empty()
    );
    assert_eq!(sim.sent.len(), 1);
}

#[test]
fn a1_and_w2_stay_quiet_while_a_bot_has_the_session() {
    let mut sim = Sim::new(channel());
    sim.event.session.state = State::Bot;
    assert!(sim.customer_writes(at(MONDAY_10), "Hi").is_empty());
    assert!(
        sim.customer_writes(at("2026-01-10T19:00:00+01:00"), "Hi")
            .is_empty()
    );
    assert!(sim.sent.is_empty());
}

#[test]
fn a1_greets_without_a_name_when_the_contact_is_unknown() {
    let mut sim = Sim::new(channel());
    sim.customer_writes(at(MONDAY_10), "Hi");
    assert!(sim.texts()[0].starts_with("Hello! Thanks for writing to Support."));
}

#[test]
fn a2_no_answer_in_evenly_mode_goes_back_to_the_queue() {
    let mut sim = Sim::new(channel());
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.event.session.state = State::Assigned;
    sim.event.session.unanswered = true;
    let out = sim.fire(Hook::NoAnswer, t + Span::minutes(10));
    assert_eq!(out.actions, vec![Action::BackToQueue]);
    assert_eq!(sim.event.session.state, State::Queued);
    // R17: it cycles; the customer is not spammed on each round.
    sim.fire(Hook::NoAnswer, t + Span::minutes(20));
    assert_eq!(sim.sent.len(), 1, "only the A1 greeting");
}

#[test]
fn a2_no_answer_in_strict_mode_tells_the_customer_instead() {
    let mut c = channel();
    c.mode = Mode::Strict;
    let mut sim = Sim::new(c);
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    let out = sim.fire(Hook::NoAnswer, t + Span::minutes(10));
    assert!(
        matches!(&out.actions[..], [Action::Reply { text }] if text.starts_with("Sorry for the wait"))
    );
    assert_eq!(out.error, None);
}

#[test]
fn a2_back_to_queue_outside_evenly_is_refused_and_the_default_goes_on() {
    let mut c = channel();
    c.mode = Mode::Everybody;
    let mut sim = Sim::new(c);
    sim.rules
        .save(ScriptScope::AllChannels, Hook::NoAnswer, "back_to_queue()")
        .unwrap();
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    let out = sim.fire(Hook::NoAnswer, t + Span::minutes(10));
    let err = out.error.expect("refused");
    assert_eq!(
        err,
        RunError::BackToQueueNeedsEvenly {
            mode: Mode::Everybody
        }
    );
    assert!(err.to_string().contains("only evenly mode"), "{err}");
    assert!(matches!(&out.actions[..], [Action::Reply { .. }]));
}

#[test]
fn a2_a_script_may_choose_to_do_nothing() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::NoAnswer,
            "// leave it be\n()",
        )
        .unwrap();
    let out = sim.fire(Hook::NoAnswer, at(MONDAY_10));
    assert_eq!(out.actions, vec![]);
    assert_eq!(out.error, None);
}

#[test]
fn a3_closing_says_goodbye() {
    let mut sim = Sim::new(channel());
    let out = sim.fire(Hook::Closed, at(MONDAY_10));
    assert!(matches!(&out.actions[..], [Action::Reply { text }]
        if text.starts_with("Thanks for contacting Support. This conversation is now closed")));
}

#[test]
fn a4_default_close_delay_is_the_channel_setting() {
    let mut c = channel();
    c.close_delay_ms = Span::minutes(3).as_millis();
    let mut sim = Sim::new(c);
    let out = sim.fire(Hook::CloseDelay, at(MONDAY_10));
    assert_eq!(out.actions, vec![Action::CloseAfter { delay_ms: 180_000 }]);
}

#[test]
fn a4_customer_message_during_close_delay_reopens() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::CloseDelay,
            "if session.agent_messages > 0 { close_after(minutes(5)) } else { close_after(0) }",
        )
        .unwrap();
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.agent_writes(t + Span::minutes(1), "Ana");
    let closed_at = t + Span::minutes(2);
    let out = sim.fire(Hook::CloseDelay, closed_at);
    assert_eq!(sim.event.session.state, State::Closing);
    let window = ClosingWindow::from_actions(closed_at, &out.actions, Span::ZERO);
    assert_eq!(window.deadline(), closed_at + Span::minutes(5));
    assert_eq!(
        window.on_customer_message(closed_at + Span::minutes(4)),
        AfterClose::Reopen
    );
    // At the deadline the router has already closed it: a new session.
    assert_eq!(
        window.on_customer_message(window.deadline()),
        AfterClose::NewSession
    );
}

#[test]
fn a4_close_delay_out_of_range_falls_back_to_the_setting() {
    let mut c = channel();
    c.close_delay_ms = 60_000;
    let mut sim = Sim::new(c);
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::CloseDelay,
            "close_after(days(7))",
        )
        .unwrap();
    let out = sim.fire(Hook::CloseDelay, at(MONDAY_10));
    assert!(matches!(
        out.error,
        Some(RunError::CloseDelayOutOfRange { .. })
    ));
    assert_eq!(out.actions, vec![Action::CloseAfter { delay_ms: 60_000 }]);
    let window = ClosingWindow::from_actions(at(MONDAY_10), &[], Span::minutes(1));
    assert_eq!(window.delay, Span::minutes(1));
}

#[test]
fn a5_week_long_timeout_closes() {
    let mut c = channel();
    c.timeout_ms = Some(Span::days(7).as_millis());
    let mut sim = Sim::new(c);
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Where is my parcel?");
    let answered = t + Span::minutes(5);
    sim.agent_writes(answered, "Ana");
    let due = sim.event.channel.timeout_due(&sim.event.session);
    assert_eq!(due, Some(answered + Span::days(7)));
    // A stale timer (a day in) finds the session still young: nothing.
    assert_eq!(
        sim.fire(Hook::Timeout, answered + Span::days(1)).actions,
        vec![]
    );
    assert_eq!(sim.event.session.state, State::Waiting);
    // A week of silence from the customer: closed, and A3 says goodbye.
    let out = sim.fire(Hook::Timeout, due.unwrap());
    assert_eq!(out.actions, vec![Action::Close { message: None }]);
    assert_eq!(sim.event.session.state, State::Closed);
    assert!(sim.texts().last().unwrap().contains("now closed"));
}

#[test]
fn a5_timeout_keeps_a_session_the_agent_still_owes_an_answer() {
    let mut c = channel();
    c.timeout_ms = Some(Span::hours(4).as_millis());
    let mut sim = Sim::new(c);
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hello?");
    let out = sim.fire(Hook::Timeout, t + Span::days(7));
    assert_eq!(out.actions, vec![]);
    assert_ne!(sim.event.session.state, State::Closed);
}

#[test]
fn a5_timeout_can_send_its_own_message() {
    let mut c = channel();
    c.timeout_ms = Some(Span::hours(1).as_millis());
    let mut sim = Sim::new(c);
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::Timeout,
            r#"close("Closing this chat as it's been quiet.")"#,
        )
        .unwrap();
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.agent_writes(t, "Ana");
    sim.fire(Hook::Timeout, t + Span::hours(1));
    let texts = sim.texts();
    assert_eq!(texts[1], "Closing this chat as it's been quiet.");
    assert!(texts[2].contains("now closed"), "A3 follows");
}

#[test]
fn a5_timeout_off_when_the_channel_sets_none() {
    let mut sim = Sim::new(channel());
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.agent_writes(t, "Ana");
    assert_eq!(sim.event.channel.timeout_due(&sim.event.session), None);
    assert_eq!(sim.fire(Hook::Timeout, t + Span::days(30)).actions, vec![]);
}

#[test]
fn w2_off_hours_reply_names_the_next_opening() {
    let mut sim = Sim::new(channel());
    // Saturday evening.
    let sat = at("2026-01-10T19:00:00+01:00");
    assert_eq!(sim.customer_writes(sat, "Hello"), vec![Hook::OffHours]);
    assert_eq!(
        sim.texts(),
        [
            "Thanks for your message! We're closed right now and will be back Monday 12 January, 09:00. We'll answer you then."
        ]
    );
    // Further lines of the same visit get no second notice...
    sim.customer_writes(sat + Span::minutes(2), "it's urgent");
    assert_eq!(sim.sent.len(), 1);
    // ...but coming back the next day does.
    sim.customer_writes(sat + Span::hours(15), "anyone?");
    assert_eq!(sim.sent.len(), 2);
    // Monday morning the channel is open: no off-hours reply, no second A1.
    assert!(
        sim.customer_writes(at("2026-01-12T09:05:00+01:00"), "hi")
            .is_empty()
    );
}

#[test]
fn w2_the_channels_own_off_hours_text_names_the_opening() {
    let mut c = channel();
    c.off_hours_text = Some("Closed. Back {opens}!".into());
    let mut sim = Sim::new(c);
    sim.customer_writes(at("2026-01-10T19:00:00+01:00"), "Hello");
    assert_eq!(sim.texts(), ["Closed. Back Monday 12 January, 09:00!"]);
}

#[test]
fn w2_always_open_channel_never_runs_off_hours() {
    let mut c = channel();
    c.working_hours = None;
    let mut sim = Sim::new(c);
    let hooks = sim.customer_writes(at("2026-01-10T03:00:00+01:00"), "Hi");
    assert_eq!(hooks, vec![Hook::FirstMessage]);
}

#[test]
fn q1_rating_request_names_the_agent() {
    let mut sim = Sim::new(channel());
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.agent_writes(t, "Ana");
    sim.event.session.state = State::Rating;
    let out = sim.fire(Hook::AskRating, t + Span::minutes(9));
    assert!(matches!(&out.actions[..], [Action::AskRating { text }]
        if text.starts_with("How did Ana do?")));
}

#[test]
fn q2_rating_closes_the_session() {
    let mut c = channel();
    c.close_on_rating = true;
    let mut sim = Sim::new(c);
    let t = at(MONDAY_10);
    sim.customer_writes(t, "Hi");
    sim.agent_writes(t, "Ana");
    sim.event.session.state = State::Rating;
    let out = sim.customer_rates(t + Span::minutes(1), 5);
    assert_eq!(
        out.actions,
        vec![
            Action::Reply {
                text: "Thank you for your rating!".into()
            },
            Action::Close { message: None }
        ]
    );
    assert_eq!(sim.event.session.state, State::Closed);
    // Already past A3 when it entered `rating`: no second goodbye.
    assert_eq!(sim.texts().last(), Some(&"Thank you for your rating!"));
}

#[test]
fn q2_without_close_on_rating_the_session_waits_and_low_scores_get_an_apology() {
    let mut sim = Sim::new(channel());
    sim.event.session.state = State::Rating;
    let out = sim.customer_rates(at(MONDAY_10), 1);
    assert!(matches!(&out.actions[..], [Action::Reply { text }] if text.contains("sorry")));
    assert_eq!(sim.event.session.state, State::Rating);
}

#[test]
fn o3_defaults_speak_the_channel_language_and_fall_back_to_english() {
    let mut c = channel();
    c.language = "de".into();
    let mut sim = Sim::new(c);
    sim.customer_writes(at("2026-01-10T19:00:00+01:00"), "Hallo");
    assert_eq!(
        sim.texts(),
        [
            "Danke für Ihre Nachricht! Wir sind gerade nicht da und ab 12.01. um 09:00 Uhr wieder erreichbar. Dann antworten wir Ihnen."
        ]
    );
    let out = sim.fire(Hook::Closed, at(MONDAY_10));
    assert!(
        matches!(&out.actions[..], [Action::Reply { text }] if text.starts_with("Danke, dass Sie Support"))
    );

    let mut c = channel();
    c.language = "pt".into();
    let mut sim = Sim::new(c);
    sim.customer_writes(at(MONDAY_10), "Olá");
    assert!(sim.texts()[0].starts_with("Hello! Thanks for writing"));
}

#[test]
fn w1_local_time_with_a_bad_format_is_a_script_error_not_a_panic() {
    let mut sim = Sim::new(channel());
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            r#"reply(channel.local_time(now, "%H:%M %"))"#,
        )
        .unwrap();
    let out = sim.fire(Hook::FirstMessage, at(MONDAY_10));
    assert!(
        matches!(&out.error, Some(RunError::Script { message, .. }) if message.contains("bad format")),
        "{:?}",
        out.error
    );
}
