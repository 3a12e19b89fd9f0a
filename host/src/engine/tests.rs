//! The engine against a real store and a manual clock: what a restart brings back.

use std::sync::Arc;

use super::{Engine, Event};
use crate::clock::ManualClock;
use crate::store::{InboundMessage, IngestItem, NewChannel, Role, Sender, Store, Viewer};
use crate::test_support::sqlite_store;

const T0: i64 = 1_795_503_600_000;
const DAY: i64 = 86_400_000;
const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

fn message(channel_id: i64, id: &str) -> IngestItem {
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: id.into(),
            chat_id: "chat".into(),
            sender: Sender {
                id: "visitor".into(),
                ..Sender::default()
            },
            text: "hello".into(),
        },
    }
}

/// Waits for the engine task to write what the clock made due.
async fn state_of(store: &Arc<dyn Store>, session: i64, want: &str) -> bool {
    for _ in 0..10_000 {
        if store.session(ADMIN, session).await.unwrap().unwrap().state == want {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test]
async fn r16_auto_close_counts_from_the_last_message_across_a_restart() {
    let (store, _dir) = sqlite_store().await;
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store
        .create_channel(admin.id, &channel, 0)
        .await
        .unwrap()
        .id;

    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::start(store.clone(), clock.clone()).await.unwrap();
    let first = store.ingest(&[message(channel, "1")], T0).await.unwrap()[0];
    engine
        .send(Event::SessionOpened {
            session: first.session_id,
            channel,
            responsible: None,
        })
        .await
        .unwrap();

    // A second message a day later moves R16's deadline; it is not written by
    // the engine, only by ingest (see `Driver::needs_writing`).
    clock.advance(DAY);
    store
        .ingest(&[message(channel, "2")], T0 + DAY)
        .await
        .unwrap();
    engine
        .send(Event::CustomerMessage {
            session: first.session_id,
        })
        .await
        .unwrap();
    drop(engine);

    // Restart: a new engine on the same database, at the same time.
    let clock = Arc::new(ManualClock::new(T0 + DAY));
    let _engine = Engine::start(store.clone(), clock.clone()).await.unwrap();
    clock.advance(7 * DAY - 1);
    assert!(
        !state_of(&store, first.session_id, "closed").await,
        "closed before 7 days after the last message"
    );
    clock.advance(1);
    assert!(
        state_of(&store, first.session_id, "closed").await,
        "not closed 7 days after the last message"
    );
    let history = store.session_events(first.session_id).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.cause.as_str(), last.at),
        ("auto_closed", T0 + 8 * DAY)
    );
}

#[tokio::test]
async fn r11_a_session_nobody_can_take_gets_the_notice_once_in_the_outbox() {
    let (store, _dir) = sqlite_store().await;
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store
        .create_channel(admin.id, &channel, 0)
        .await
        .unwrap()
        .id;
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::start(store.clone(), clock.clone()).await.unwrap();
    let first = store.ingest(&[message(channel, "1")], T0).await.unwrap()[0];
    engine
        .send(Event::SessionOpened {
            session: first.session_id,
            channel,
            responsible: None,
        })
        .await
        .unwrap();
    // Two retries (R11: every 2 minutes) later there is still one notice.
    clock.advance(4 * 60_000 + 1);
    engine
        .send(Event::CustomerMessage {
            session: first.session_id,
        })
        .await
        .unwrap();
    let out: Vec<_> = store
        .messages(first.session_id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == "out")
        .collect();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].body, super::convert::NOBODY_AVAILABLE);
    assert_eq!(
        store.list_outbox(Some("pending"), 10).await.unwrap().len(),
        1
    );
}
