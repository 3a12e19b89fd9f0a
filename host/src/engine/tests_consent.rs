//! G1 through the engine: the notice before the chat goes on, the answer
//! recorded on the contact, and a restart that keeps waiting.

use std::sync::Arc;

use frontdesk_routing::{AgentId, SessionId};
use frontdesk_rules::{Hook, Rules};

use super::tests::{T0, channel_with_queue, message, open, outbound};
use super::{Engine, Event};
use crate::clock::ManualClock;
use crate::store::{Role, Store, Viewer};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};
const CONFIG: &str = r#"{"consent": {"text": "We keep your messages for 90 days.", "version": 1}}"#;

/// The customer writes `text` into the open chat.
async fn answer(store: &Arc<dyn Store>, engine: &Engine, channel: i64, id: &str, text: &str) {
    let mut item = message(channel, id);
    item.message.text = text.into();
    let accepted = store.ingest(&[item], T0).await.unwrap()[0];
    engine
        .send(Event::CustomerMessage {
            session: SessionId(accepted.session_id),
        })
        .await
        .unwrap();
}

async fn state(store: &Arc<dyn Store>, session: i64) -> String {
    store
        .session(ADMIN, session)
        .await
        .unwrap()
        .unwrap()
        .state
        .to_string()
}

#[tokio::test]
async fn g1_the_notice_comes_first_and_a_yes_is_recorded_and_lets_routing_go_on() {
    // Scripts read the answer as `contact.consent`.
    let rules = Arc::new(Rules::new());
    rules
        .save(
            frontdesk_rules::ScriptScope::AllChannels,
            Hook::Closed,
            r#"reply(`consent: ${contact.consent}`)"#,
        )
        .unwrap();
    let (store, _dir, channel, engine, _clock) = channel_with_queue(CONFIG, rules, |_| true).await;
    let session = open(&store, &engine, channel, "1").await;
    let out = outbound(&store, session).await;
    assert_eq!(
        out.len(),
        1,
        "only the notice, no greeting or routing: {out:?}"
    );
    assert!(out[0].starts_with("We keep your messages") && out[0].contains("YES"));
    assert_eq!(state(&store, session).await, "queued");
    assert!(store.session_events(session).await.unwrap().len() == 1);

    // Something that is not an answer gets the notice again.
    answer(&store, &engine, channel, "2", "what?").await;
    assert_eq!(outbound(&store, session).await.len(), 2);

    answer(&store, &engine, channel, "3", "Yes").await;
    let contact = store
        .session(ADMIN, session)
        .await
        .unwrap()
        .unwrap()
        .contact_id;
    let consent = store.consent(contact).await.unwrap().unwrap();
    assert_eq!(
        (consent.accepted, consent.notice_version, consent.at),
        (true, 1, T0)
    );
    // Routed now: the queue's one agent has it.
    assert_eq!(state(&store, session).await, "assigned");
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    let out = outbound(&store, session).await;
    assert_eq!(out.last().unwrap(), "consent: accepted");
}

#[tokio::test]
async fn g1_a_no_is_recorded_routes_nothing_and_survives_a_restart() {
    let (store, _dir, channel, engine, _clock) =
        channel_with_queue(CONFIG, Arc::default(), |_| true).await;
    let session = open(&store, &engine, channel, "1").await;
    answer(&store, &engine, channel, "2", "nein").await;
    let contact = store
        .session(ADMIN, session)
        .await
        .unwrap()
        .unwrap()
        .contact_id;
    assert!(!store.consent(contact).await.unwrap().unwrap().accepted);
    assert_eq!(outbound(&store, session).await.len(), 2, "offered again");
    drop(engine);

    // A restart does not route the held session behind the customer's back.
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::start(store.clone(), clock, Arc::default())
        .await
        .unwrap();
    engine
        .send(Event::Activity { agent: AgentId(2) })
        .await
        .unwrap();
    assert_eq!(state(&store, session).await, "queued");
    // They change their mind.
    answer(&store, &engine, channel, "3", "ok").await;
    assert_eq!(state(&store, session).await, "assigned");
    assert!(store.consent(contact).await.unwrap().unwrap().accepted);
}
