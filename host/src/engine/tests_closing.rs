//! Scenario tests for the auto-actions around a session's end, through the
//! engine on a real store and a manual clock: A4, A5, Q1 and Q2.

use std::sync::Arc;

use frontdesk_routing::{AgentId, SessionId};
use frontdesk_rules::{Hook, Rules};

use super::tests::{DAY, T0, channel_with_queue, message, open, outbound, state_of};
use super::{Engine, Event};
use crate::store::{IngestItem, Store};

/// The agent every setup creates (user 2, `bo`).
const AGENT: i64 = 2;

/// The customer writes `text` in the chat `open` started; returns the
/// session ingest put it in.
async fn customer_writes(
    store: &Arc<dyn Store>,
    engine: &Engine,
    channel: i64,
    id: &str,
    text: &str,
    at: i64,
) -> i64 {
    let mut item: IngestItem = message(channel, id);
    item.message.text = text.into();
    let accepted = store.ingest(&[item], at).await.unwrap()[0];
    let event = Event::inbound(channel, &accepted).expect("a new message");
    engine.send(event).await.unwrap();
    accepted.session_id
}

/// The agent takes the session and answers it.
async fn agent_answers(engine: &Engine, session: i64) {
    engine
        .send(Event::Take {
            session: SessionId(session),
            agent: AgentId(AGENT),
        })
        .await
        .unwrap();
    engine
        .send(Event::AgentMessage {
            session: SessionId(session),
            agent: AgentId(AGENT),
            text: "On it!".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a4_a_customer_message_during_the_close_delay_reopens_the_session() {
    let (store, _dir, channel, engine, clock) = channel_with_queue("{}", Arc::default(), |queue| {
        queue.options.close_delay_secs = 300;
        true
    })
    .await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "closing").await);

    clock.advance(299_000);
    let again = customer_writes(
        &store,
        &engine,
        channel,
        "2",
        "one more thing",
        T0 + 299_000,
    )
    .await;
    assert_eq!(
        again, session,
        "the last word belongs to the same session (S2)"
    );
    assert!(state_of(&store, session, "answered").await);

    // Closed again; this time nobody writes, and it closes after the delay.
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    clock.advance(300_000);
    assert!(state_of(&store, session, "closed").await);
    // A3 runs in the round after the close is written.
    let out = outbound_with(&store, session, 3).await;
    assert_eq!(out.len(), 3, "greeting, reply and A3's goodbye: {out:?}");
    assert!(out[2].contains("now closed"), "{out:?}");
}

/// The texts sent to the customer once there are at least `n` (the engine
/// writes hook replies in the round after the step that made them due).
async fn outbound_with(store: &Arc<dyn Store>, session: i64, n: usize) -> Vec<String> {
    // Bounded by wall time, as `state_of` is.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let out = outbound(store, session).await;
        if out.len() >= n {
            return out;
        }
        tokio::task::yield_now().await;
    }
    outbound(store, session).await
}

#[tokio::test]
async fn a4_the_close_delay_script_overrides_the_queue_setting() {
    let rules = Arc::new(Rules::new());
    rules
        .save(
            frontdesk_rules::ScriptScope::AllChannels,
            Hook::CloseDelay,
            "close_after(minutes(30))",
        )
        .unwrap();
    let (store, _dir, channel, engine, clock) = channel_with_queue("{}", rules, |queue| {
        queue.options.close_delay_secs = 60;
        true
    })
    .await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    clock.advance(29 * 60_000);
    engine
        .send(Event::Activity {
            agent: AgentId(AGENT),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "closing").await);
    clock.advance(60_000);
    assert!(state_of(&store, session, "closed").await);
}

#[tokio::test]
async fn a5_a_quiet_conversation_closes_after_a_six_day_timeout() {
    // Six days, so R16's seven would not be what closes it. The default
    // script closes only when the agent wrote last.
    let config = r#"{"timeout_secs": 518400}"#;
    let (store, _dir, channel, engine, clock) =
        channel_with_queue(config, Arc::default(), |_| true).await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;

    clock.advance(6 * DAY - 1);
    engine
        .send(Event::Activity {
            agent: AgentId(AGENT),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "waiting").await);
    clock.advance(1);
    assert!(state_of(&store, session, "closed").await);
    let history = store.session_events(session).await.unwrap();
    assert_eq!(history.last().unwrap().at, T0 + 6 * DAY);
}

#[tokio::test]
async fn a5_the_timeout_leaves_a_session_alone_while_the_customer_waits_for_an_answer() {
    let config = r#"{"timeout_secs": 3600}"#;
    let (store, _dir, channel, engine, clock) =
        channel_with_queue(config, Arc::default(), |_| true).await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;
    customer_writes(&store, &engine, channel, "2", "still broken", T0 + 60_000).await;
    clock.advance(2 * 3_600_000);
    engine
        .send(Event::Activity {
            agent: AgentId(AGENT),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "answered").await);
}

#[tokio::test]
async fn q1_q2_the_customers_score_is_stored_and_closes_the_session() {
    let (store, _dir, channel, engine, _clock) =
        channel_with_queue("{}", Arc::default(), |queue| {
            queue.options.ask_rating = true;
            queue.options.close_on_rating = true;
            true
        })
        .await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "rating").await);
    let asked = outbound(&store, session).await;
    assert!(asked.last().unwrap().contains("rate"), "{asked:?}");

    let rated = customer_writes(&store, &engine, channel, "2", "5", T0 + 1).await;
    assert_eq!(
        rated, session,
        "a score answers the session that asked for it"
    );
    assert!(state_of(&store, session, "closed").await);
    let ratings = store.ratings(session).await.unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(
        (ratings[0].rater.as_str(), ratings[0].score),
        ("customer", 5)
    );
    let out = outbound(&store, session).await;
    assert_eq!(out.last().unwrap(), "Thank you for your rating!");
    let history = store.session_events(session).await.unwrap();
    assert_eq!(history.last().unwrap().cause, "rated");
}

#[tokio::test]
async fn q1_without_close_on_rating_the_session_waits_and_other_text_starts_anew() {
    let (store, _dir, channel, engine, _clock) =
        channel_with_queue("{}", Arc::default(), |queue| {
            queue.options.ask_rating = true;
            true
        })
        .await;
    let session = open(&store, &engine, channel, "1").await;
    agent_answers(&engine, session).await;
    engine
        .send(Event::Close {
            session: SessionId(session),
        })
        .await
        .unwrap();
    assert!(state_of(&store, session, "rating").await);

    let rated = customer_writes(&store, &engine, channel, "2", "2/5", T0 + 1).await;
    assert_eq!(rated, session);
    assert!(state_of(&store, session, "rating").await);
    let ratings = store.ratings(session).await.unwrap();
    assert_eq!(ratings[0].score, 2);
    let out = outbound(&store, session).await;
    assert!(
        out.last().unwrap().contains("sorry"),
        "a low score gets an apology: {out:?}"
    );

    // Text that is not a score is a new conversation (S2).
    let next = customer_writes(&store, &engine, channel, "3", "Hi again", T0 + 2).await;
    assert_ne!(next, session);
}
