//! An agent's reply through the engine (R18, S5): the step that lets it
//! through stores the message and its outbox entry in its own transaction,
//! so routing never counts a session answered without its reply stored.

use std::sync::Arc;

use frontdesk_routing::{AgentId, SessionId};
use sqlx::Connection;

use super::tests::{Setup, channel_with_queue, open, outbound};
use super::{EngineError, Event, Outcome};
use crate::store::{Role, Store, Viewer};

/// The agent every setup creates (user 2, `bo`).
const AGENT: i64 = 2;
const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

/// A channel whose queue has nobody in it, so a new session waits queued
/// until an agent's reply takes it.
async fn queued() -> (Setup, i64) {
    let setup = channel_with_queue("{}", Arc::default(), |_| false).await;
    let (store, _, channel, engine, _) = &setup;
    let session = open(store, engine, *channel, "1").await;
    (setup, session)
}

fn reply(session: i64, text: &str) -> Event {
    Event::AgentMessage {
        session: SessionId(session),
        agent: AgentId(AGENT),
        text: text.into(),
    }
}

async fn state(store: &Arc<dyn Store>, session: i64) -> String {
    let row = store.session(ADMIN, session).await.unwrap().unwrap();
    row.state.as_str().to_string()
}

#[tokio::test]
async fn s5_a_reply_is_stored_and_queued_with_the_routing_step_that_lets_it_through() {
    let ((store, _dir, _, engine, _), session) = queued().await;
    assert_eq!(state(&store, session).await, "queued");

    let outcome = engine.send(reply(session, "On it!")).await.unwrap();
    let Outcome::Replied(stored) = outcome else {
        panic!("a reply is answered with what was stored, not {outcome:?}");
    };
    let (message, item) = *stored;
    assert_eq!(
        (message.body.as_str(), message.author_id),
        ("On it!", Some(AGENT))
    );
    assert_eq!(item.message_id, message.id);
    // R18: the reply took the queued session (now waiting for the customer), in the same step.
    assert_eq!(state(&store, session).await, "waiting");
    assert!(outbound(&store, session).await.contains(&"On it!".into()));
    let pending = store.list_outbox(Some("pending"), 100).await.unwrap();
    assert!(pending.contains(&item), "{pending:?}");
}

#[tokio::test]
async fn s5_a_reply_step_that_cannot_be_stored_leaves_neither_reply_nor_routing_change() {
    let ((store, dir, _, engine, _), session) = queued().await;
    let before = outbound(&store, session).await;
    let queued_items = store.list_outbox(None, 100).await.unwrap().len();
    // Another connection makes the outbox insert fail, as a full disk would:
    // the message before it in the step's transaction must go with it.
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let refused = engine.send(reply(session, "On it!")).await;
    assert!(
        matches!(refused, Err(EngineError::NotStored(_))),
        "{refused:?}"
    );
    assert_eq!(outbound(&store, session).await, before);
    assert_eq!(
        store.list_outbox(None, 100).await.unwrap().len(),
        queued_items
    );
    assert_eq!(state(&store, session).await, "queued");

    // The disk has room again: the sender's retry is stored once.
    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut retried = engine.send(reply(session, "On it!")).await;
    // Routing may still be rebuilding from the store after the fault.
    for _ in 0..100 {
        if !matches!(retried, Err(EngineError::NotStored(_))) {
            break;
        }
        tokio::task::yield_now().await;
        retried = engine.send(reply(session, "On it!")).await;
    }
    assert!(matches!(retried, Ok(Outcome::Replied(_))), "{retried:?}");
    let mut want = before;
    want.push("On it!".into());
    assert_eq!(outbound(&store, session).await, want);
    assert_eq!(state(&store, session).await, "waiting");
}

#[tokio::test]
async fn r18_a_refused_reply_stores_nothing() {
    let ((store, _dir, _, engine, _), session) = queued().await;
    let before = outbound(&store, session).await;
    let mut dismissed = store.user(AGENT).await.unwrap().unwrap();
    dismissed.dismissed = true;
    engine.send(Event::AgentChanged(dismissed)).await.unwrap();

    let refused = engine.send(reply(session, "On it!")).await;
    assert!(
        matches!(refused, Err(EngineError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(outbound(&store, session).await, before);
    assert_eq!(state(&store, session).await, "queued");
}
