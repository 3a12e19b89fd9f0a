//! G1 consent, Q1–Q3 ratings as data, A6 canned responses.

use super::harness::{Sim, at, channel};
use crate::{
    CannedError, CannedList, CannedResponse, ConsentGate, ConsentNotice, ConsentRecord,
    ConsentStatus, Hook, Rater, Rating, ScriptScope, parse_score,
};
use frontdesk_routing::{SessionId, Span};

fn notice(version: u32) -> ConsentNotice {
    ConsentNotice {
        text: "We store this chat to answer you. OK?".into(),
        version,
    }
}

#[test]
fn g1_chat_waits_for_consent_then_goes_on() {
    let n = notice(1);
    let t = at("2026-01-05T10:00:00+01:00");
    // First message: held, notice shown.
    let gate = ConsentGate::decide(Some(&n), None);
    assert_eq!(
        gate,
        ConsentGate::AskFirst {
            text: n.text.clone()
        }
    );
    assert!(!gate.proceeds());
    // The customer accepts: recorded with its time, and the chat goes on.
    let record = ConsentRecord::answer(&n, true, t + Span::seconds(30));
    assert_eq!(record.at, t + Span::seconds(30));
    assert!(ConsentGate::decide(Some(&n), Some(&record)).proceeds());
    // Scripts see the answer.
    let mut sim = Sim::new(channel());
    sim.event.contact.consent = ConsentStatus::of(Some(&n), Some(&record));
    sim.rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            r#"if contact.consent == "accepted" { reply("Thanks for agreeing!") }"#,
        )
        .unwrap();
    sim.customer_writes(t + Span::minutes(1), "Hi");
    assert_eq!(sim.texts(), ["Thanks for agreeing!"]);
}

#[test]
fn g1_declined_consent_stops_the_chat_and_a_new_notice_asks_again() {
    let t = at("2026-01-05T10:00:00+01:00");
    let declined = ConsentRecord::answer(&notice(1), false, t);
    assert!(matches!(
        ConsentGate::decide(Some(&notice(1)), Some(&declined)),
        ConsentGate::Declined { .. }
    ));
    let accepted = ConsentRecord::answer(&notice(1), true, t);
    // The admin changed the notice: version 2 needs a fresh answer.
    assert_eq!(
        ConsentStatus::of(Some(&notice(2)), Some(&accepted)),
        ConsentStatus::Pending
    );
    // Without a notice nobody is asked.
    assert_eq!(ConsentGate::decide(None, None), ConsentGate::Proceed);
    assert_eq!(ConsentStatus::of(None, None), ConsentStatus::NotRequired);
}

#[test]
fn q1_plain_text_answer_becomes_a_customer_rating() {
    let t = at("2026-01-05T10:00:00+01:00");
    let score = parse_score("4 - quick and friendly").expect("a rating");
    let rating = Rating::customer(SessionId(1), score.into(), None, t).unwrap();
    assert_eq!(rating.rater, Rater::Customer);
    assert_eq!(rating.score, 4);
    assert_eq!(parse_score("thanks, bye"), None, "a normal message");
}

#[test]
fn q3_supervisor_rates_a_session_with_a_comment() {
    let t = at("2026-01-05T10:00:00+01:00");
    let customer = Rating::customer(SessionId(1), 5, None, t).unwrap();
    let review = Rating::supervisor(
        SessionId(1),
        42,
        3,
        Some("Friendly, but the refund policy was quoted wrong.".into()),
        t + Span::days(1),
    )
    .unwrap();
    assert_ne!(customer.key(), review.key(), "both are kept");
    let json = serde_json::to_string(&review).unwrap();
    assert_eq!(
        json,
        r#"{"session":1,"by":"supervisor","user":42,"score":3,"comment":"Friendly, but the refund policy was quoted wrong.","at":1767690000000}"#
    );
    assert_eq!(serde_json::from_str::<Rating>(&json).unwrap(), review);
}

fn list() -> CannedList {
    CannedList {
        name: "Billing".into(),
        responses: vec![
            CannedResponse {
                name: "Refund policy".into(),
                shortcut: "/refund".into(),
                text: "Refunds are possible within 30 days of purchase.".into(),
            },
            CannedResponse {
                name: "Invoice copy".into(),
                shortcut: "/invoice".into(),
                text: "I've sent a copy of your invoice to your email address.".into(),
            },
        ],
    }
}

#[test]
fn a6_canned_list_validates_and_finds_by_shortcut() {
    let l = list();
    l.validate().unwrap();
    assert_eq!(l.find("/invoice").unwrap().name, "Invoice copy");
    assert!(l.find("/nope").is_none());
    let picked: Vec<_> = l.complete("/re").map(|r| r.shortcut.as_str()).collect();
    assert_eq!(picked, ["/refund"]);
    let picked: Vec<_> = l.complete("inv").map(|r| r.shortcut.as_str()).collect();
    assert_eq!(picked, ["/invoice"]);
}

#[test]
fn a6_canned_list_errors_name_the_field() {
    let mut l = list();
    l.responses[1].shortcut = "/refund".into();
    let err = l.validate().unwrap_err();
    assert_eq!(
        err,
        CannedError::DuplicateShortcut {
            field: "responses[1].shortcut".into(),
            shortcut: "/refund".into(),
            first: 0
        }
    );
    for bad in [
        "refund",
        "/Refund",
        "/",
        "/re fund",
        &format!("/{}", "a".repeat(33)),
    ] {
        let mut l = list();
        l.responses[0].shortcut = bad.to_string();
        let err = l.validate().unwrap_err().to_string();
        assert!(err.starts_with("responses[0].shortcut"), "{bad}: {err}");
    }
    let mut l = list();
    l.responses[1].text = "  ".into();
    assert!(
        l.validate()
            .unwrap_err()
            .to_string()
            .starts_with("responses[1].text")
    );
    let mut l = list();
    l.name = String::new();
    assert!(l.validate().unwrap_err().to_string().starts_with("name:"));
    let mut l = list();
    l.responses[0].name = "x".repeat(101);
    assert!(matches!(l.validate(), Err(CannedError::BadName { .. })));
}
