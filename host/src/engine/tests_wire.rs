//! The routing inbox's wire form: every event kind and answer comes back as
//! it went, and what another version wrote is an error, never a panic.

use frontdesk_routing::{AgentId, Error as Refusal, Interval, QueueId, SessionId, Span, State};

use super::*;
use crate::store::{Accepted, Queue, SessionContact};

fn every_event() -> Vec<Event> {
    let (s, a, q) = (SessionId(7), AgentId(3), QueueId(2));
    vec![
        Event::SessionOpened {
            session: s,
            channel: q,
            contact: 11,
            responsible: Some(a),
        },
        Event::SessionOpened {
            session: s,
            channel: q,
            contact: 11,
            responsible: None,
        },
        Event::CustomerMessage { session: s },
        Event::AgentMessage {
            session: s,
            agent: a,
            text: "hello \"there\" ✓".into(),
        },
        Event::Accept {
            session: s,
            agent: a,
        },
        Event::Take {
            session: s,
            agent: a,
        },
        Event::TransferToAgent {
            session: s,
            agent: a,
        },
        Event::TransferToQueue {
            session: s,
            channel: q,
        },
        Event::Close { session: s },
        Event::Activity { agent: a },
        Event::Disconnected { agent: a },
        Event::ChannelChanged { channel: q },
        Event::BotHandover { session: s },
    ]
}

#[test]
fn every_event_with_ids_only_comes_back_as_it_went() {
    let actor = Actor {
        user: 3,
        oversees: true,
    };
    for event in every_event() {
        for actor in [None, Some(actor)] {
            let json = encode(&event, actor);
            let (wire, read_actor) = decode(&json).unwrap();
            assert_eq!(read_actor, actor, "{json}");
            assert_eq!(wire, WireEvent::of(&event), "{json}");
            let back = wire.into_event().expect("ids only");
            assert_eq!(WireEvent::of(&back), WireEvent::of(&event), "{json}");
        }
    }
}

#[test]
fn a_user_or_a_queue_goes_by_its_id_and_the_leader_reads_it() {
    let user = crate::store::User {
        id: 5,
        name: "ann".into(),
        role: crate::store::Role::Agent,
        disabled: false,
        dismissed: false,
        vacation: false,
        clocked_in: true,
        on_break: false,
        last_activity_at: None,
        created_at: 0,
        display_name: Some("Ann".into()),
        avatar_url: None,
    };
    let json = encode(&Event::AgentChanged(user), None);
    assert!(
        !json.contains("ann"),
        "the user's data stays in the store: {json}"
    );
    assert_eq!(decode(&json).unwrap().0.into_event().unwrap_err(), 5);

    let queue = Event::QueueChanged {
        channel: QueueId(2),
        queue: Queue::default(),
    };
    let (wire, _) = decode(&encode(&queue, None)).unwrap();
    assert_eq!(wire, WireEvent::QueueChanged { channel: 2 });
    // The leader reads the queue as stored, as for a channel change.
    assert!(matches!(
        wire.into_event(),
        Ok(Event::ChannelChanged {
            channel: QueueId(2)
        })
    ));
}

#[test]
fn an_unknown_kind_or_version_is_an_error_naming_it() {
    let unknown = r#"{"v":1,"event":{"kind":"teleport","session":1}}"#;
    assert_eq!(
        decode(unknown).unwrap_err(),
        WireError::UnknownKind("teleport".into())
    );
    let newer = r#"{"v":2,"event":{"kind":"close","session":1}}"#;
    assert_eq!(decode(newer).unwrap_err(), WireError::Version(2));
    assert!(
        decode(newer)
            .unwrap_err()
            .to_string()
            .contains("same frontdesk version")
    );
    for bad in [
        "",
        "[]",
        r#"{"event":{"kind":"close","session":1}}"#,
        r#"{"v":1}"#,
        r#"{"v":1,"event":{"kind":"close"}}"#,
        r#"{"v":1,"event":{"kind":"close","session":1},"actor":{"user":"x"}}"#,
    ] {
        assert!(
            matches!(decode(bad), Err(WireError::Malformed(_))),
            "{bad}: {:?}",
            decode(bad)
        );
    }
}

#[test]
fn ingest_writes_a_row_only_for_what_routing_must_hear() {
    let contact = SessionContact {
        id: 4,
        responsible: Some(9),
    };
    let opened = Accepted {
        message_id: 1,
        session_id: 7,
        duplicate: false,
        new_session: true,
        contact: Some(contact),
    };
    let (wire, actor) = decode(&inbound(2, &opened).unwrap()).unwrap();
    assert_eq!(actor, None);
    assert_eq!(
        wire,
        WireEvent::SessionOpened {
            session: 7,
            channel: 2,
            contact: 4,
            responsible: Some(9)
        }
    );
    let next = Accepted {
        new_session: false,
        contact: None,
        ..opened
    };
    let (wire, _) = decode(&inbound(2, &next).unwrap()).unwrap();
    assert_eq!(wire, WireEvent::CustomerMessage { session: 7 });
    let repeat = Accepted {
        duplicate: true,
        ..next
    };
    assert_eq!(inbound(2, &repeat), None);
}

fn every_refusal() -> Vec<Refusal> {
    let (s, a, q) = (SessionId(7), AgentId(3), QueueId(2));
    vec![
        Refusal::IntervalOutOfRange {
            which: Interval::Unanswered,
            given: Span::seconds(1),
            min: Span::minutes(1),
            max: Span::hours(12),
        },
        Refusal::ZeroLimit { queue: q },
        Refusal::NegativeCloseDelay {
            queue: q,
            given: Span::seconds(-1),
        },
        Refusal::NonPositiveTimeout {
            queue: q,
            given: Span::seconds(0),
        },
        Refusal::DuplicateMember { queue: q, agent: a },
        Refusal::UnknownAgent(a),
        Refusal::UnknownQueue(q),
        Refusal::UnknownSession(s),
        Refusal::SessionExists(s),
        Refusal::NotOffered {
            session: s,
            agent: a,
        },
        Refusal::AlreadyTaken {
            session: s,
            holder: a,
        },
        Refusal::WrongState {
            session: s,
            state: State::Closed,
        },
        Refusal::AgentDismissed(a),
        Refusal::LimitReached { agent: a, queue: q },
        Refusal::BadSnapshot("torn".into()),
    ]
}

#[test]
fn every_answer_comes_back_as_the_leader_gave_it() {
    for refusal in every_refusal() {
        let json = encode_answer(&Err(EngineError::Refused(refusal.clone())));
        match decode_answer(&json) {
            Answer::Ready(Err(EngineError::Refused(back))) => assert_eq!(back, refusal, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    for outcome in [
        MessageOutcome::Delivered,
        MessageOutcome::Reopened,
        MessageOutcome::StartNewSession,
    ] {
        let json = encode_answer(&Ok(Outcome::Message(outcome)));
        assert!(matches!(
            decode_answer(&json),
            Answer::Ready(Ok(Outcome::Message(back))) if back == outcome
        ));
    }
    assert!(matches!(
        decode_answer(&encode_answer(&Ok(Outcome::Done))),
        Answer::Ready(Ok(Outcome::Done))
    ));
    let errors = [
        EngineError::NotStored("disk full".into()),
        EngineError::Store(crate::store::StoreError::NotFound("user")),
        EngineError::Stopped,
        EngineError::NotRouting("lost the lease".into()),
    ];
    for err in errors {
        let text = err.to_string();
        let back = match decode_answer(&encode_answer(&Err(err))) {
            Answer::Ready(Err(back)) => back,
            other => panic!("{text}: {other:?}"),
        };
        assert!(
            back.to_string()
                .ends_with(text.trim_start_matches("database error: ")),
            "{back} for {text}"
        );
    }
}

#[test]
fn an_answer_from_another_version_says_refresh_instead_of_panicking() {
    for json in [
        r#"{"v":2,"answer":{"kind":"done"}}"#,
        r#"{"v":1,"answer":{"kind":"teleported"}}"#,
        "not json",
    ] {
        match decode_answer(json) {
            Answer::Ready(Err(EngineError::NotStored(why))) => {
                assert!(why.contains("refresh"), "{why}")
            }
            other => panic!("{json}: {other:?}"),
        }
    }
}
