//! The engine against a real store and a manual clock: what a restart brings back.

use std::sync::Arc;

use frontdesk_routing::{AgentId, SessionId};

use super::{Engine, Event};
use crate::clock::ManualClock;
use crate::store::{
    InboundMessage, IngestItem, NewChannel, Queue, QueueMode, Role, Sender, Store, Viewer,
};
use crate::test_support::sqlite_store;

pub(super) const T0: i64 = 1_795_503_600_000;
pub(super) const DAY: i64 = 86_400_000;
const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

pub(super) fn message(channel_id: i64, id: &str) -> IngestItem {
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: id.into(),
            chat_id: "chat".into(),
            sender: Sender {
                verified: true,
                id: "visitor".into(),
                ..Sender::default()
            },
            text: "hello".into(),
            ..Default::default()
        },
    }
}

/// The texts sent to the customer, oldest first.
pub(super) async fn outbound(store: &Arc<dyn Store>, session: i64) -> Vec<String> {
    let messages = store.messages(session, 0, 100).await.unwrap();
    messages
        .into_iter()
        .filter(|m| m.direction == crate::store::Direction::Out)
        .map(|m| m.body)
        .collect()
}

/// A channel with `config`, an agent, and a running engine on a manual clock.
/// With a `mode`, the agent is the queue's one member (1-minute R6);
/// without, the queue keeps its defaults and has nobody in it.
async fn channel_with(config: &str, mode: Option<QueueMode>) -> Setup {
    channel_with_queue(config, Arc::default(), |queue| match mode {
        Some(mode) => {
            queue.mode = mode;
            queue.forward_interval_secs = 3600;
            queue.unanswered_interval_secs = 60;
            true
        }
        None => false,
    })
    .await
}

/// What the engine tests start from: store, its folder, channel, engine, clock.
pub(super) type Setup = (
    Arc<dyn Store>,
    tempfile::TempDir,
    i64,
    Engine,
    Arc<ManualClock>,
);

/// A channel with `config`, the agent `bo` (user 2) and scripts `rules`;
/// `queue` edits the queue and says whether `bo` is its one member.
pub(super) async fn channel_with_queue(
    config: &str,
    rules: Arc<frontdesk_rules::Rules>,
    queue: impl FnOnce(&mut Queue) -> bool,
) -> Setup {
    let (store, dir) = sqlite_store().await;
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let agent = store.create_user("bo", Role::Agent, "a", 0).await.unwrap();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: config.into(),
    };
    let channel = store
        .create_channel(admin.id, &channel, 0)
        .await
        .unwrap()
        .id;
    let mut settings = Queue::default();
    if queue(&mut settings) {
        settings.agents = vec![agent.id];
        store
            .set_queue(admin.id, channel, &settings, 0)
            .await
            .unwrap();
    }
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::start(store.clone(), clock.clone(), rules)
        .await
        .unwrap();
    (store, dir, channel, engine, clock)
}

pub(super) async fn open(store: &Arc<dyn Store>, engine: &Engine, channel: i64, id: &str) -> i64 {
    let first = store.ingest(&[message(channel, id)], T0).await.unwrap()[0];
    let opened = Event::inbound(channel, &first).expect("a new session");
    assert!(matches!(opened, Event::SessionOpened { .. }));
    engine.send(opened).await.unwrap();
    first.session_id
}

#[tokio::test]
async fn a1_the_first_message_gets_the_default_auto_reply() {
    let (store, _dir, channel, engine, _clock) = channel_with("{}", Some(QueueMode::Evenly)).await;
    let session = open(&store, &engine, channel, "1").await;
    let out = outbound(&store, session).await;
    assert!(
        out.iter()
            .any(|text| text.contains("Thanks for writing to Site")),
        "{out:?}"
    );
}

#[tokio::test]
async fn w2_outside_working_hours_the_customer_is_told_when_we_are_back() {
    // Open only on Mondays 09:00-17:00 Berlin time; T0 is a Saturday.
    let config =
        r#"{"working_hours": {"time_zone": "Europe/Berlin", "days": {"mon": ["09:00-17:00"]}}}"#;
    let (store, _dir, channel, engine, _clock) =
        channel_with(config, Some(QueueMode::Evenly)).await;
    let session = open(&store, &engine, channel, "1").await;
    let out = outbound(&store, session).await;
    assert!(
        out.iter()
            .any(|text| text.contains("closed right now") && text.contains("Monday")),
        "{out:?}"
    );
}

#[tokio::test]
async fn a2_no_answer_in_strict_mode_tells_the_customer_and_in_evenly_mode_requeues() {
    let (store, _dir, channel, engine, clock) = channel_with("{}", Some(QueueMode::Strict)).await;
    let session = open(&store, &engine, channel, "1").await;
    let before = outbound(&store, session).await.len();
    clock.advance(60_000);
    engine
        .send(Event::Activity { agent: AgentId(2) })
        .await
        .unwrap();
    let out = outbound(&store, session).await;
    assert_eq!(out.len(), before + 1, "{out:?}");
    assert!(
        out.last().unwrap().contains("Sorry for the wait"),
        "{out:?}"
    );

    let (store, _dir, channel, engine, clock) = channel_with("{}", Some(QueueMode::Evenly)).await;
    let session = open(&store, &engine, channel, "1").await;
    clock.advance(60_000);
    engine
        .send(Event::Activity { agent: AgentId(2) })
        .await
        .unwrap();
    let history = store.session_events(session).await.unwrap();
    assert!(
        history.iter().any(|e| e.cause == "back_to_queue"),
        "{history:?}"
    );
}

/// Waits for the engine task to write what the clock made due.
pub(super) async fn state_of(store: &Arc<dyn Store>, session: i64, want: &str) -> bool {
    // Bounded by wall time, not by a count of polls: on a loaded machine the
    // engine's write (on SQLite's own thread) can take longer than any
    // fixed number of reads.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if store
            .session(ADMIN, session)
            .await
            .unwrap()
            .unwrap()
            .state
            .as_str()
            == want
        {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test]
async fn r16_auto_close_counts_from_the_last_message_across_a_restart() {
    let (store, _dir, channel, engine, clock) = channel_with("{}", None).await;
    let session = open(&store, &engine, channel, "1").await;

    // A second message a day later moves R16's deadline; it is not written by
    // the engine, only by ingest (see `Driver::needs_writing`).
    clock.advance(DAY);
    store
        .ingest(&[message(channel, "2")], T0 + DAY)
        .await
        .unwrap();
    engine
        .send(Event::CustomerMessage {
            session: SessionId(session),
        })
        .await
        .unwrap();
    drop(engine);

    // Restart: a new engine on the same database, at the same time.
    let clock = Arc::new(ManualClock::new(T0 + DAY));
    let _engine = Engine::start(store.clone(), clock.clone(), Arc::default())
        .await
        .unwrap();
    clock.advance(7 * DAY - 1);
    assert!(
        !state_of(&store, session, "closed").await,
        "closed before 7 days after the last message"
    );
    clock.advance(1);
    assert!(
        state_of(&store, session, "closed").await,
        "not closed 7 days after the last message"
    );
    let history = store.session_events(session).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.cause.as_str(), last.at),
        ("auto_closed", T0 + 8 * DAY)
    );
}

#[tokio::test]
async fn r11_a_session_nobody_can_take_gets_the_notice_once_in_the_outbox() {
    let (store, _dir, channel, engine, clock) = channel_with("{}", None).await;
    let session = open(&store, &engine, channel, "1").await;
    // Two retries (R11: every 2 minutes) later there is still one notice.
    clock.advance(4 * 60_000 + 1);
    engine
        .send(Event::CustomerMessage {
            session: SessionId(session),
        })
        .await
        .unwrap();
    let out = outbound(&store, session).await;
    let notices = out
        .iter()
        .filter(|text| **text == frontdesk_i18n::text("en", "nobody-available", &[]))
        .count();
    assert_eq!(notices, 1, "{out:?}");
    assert!(
        out[0].contains("Thanks for writing"),
        "the greeting (A1) goes first: {out:?}"
    );
    assert_eq!(
        store.list_outbox(Some("pending"), 10).await.unwrap().len(),
        out.len()
    );
}

#[tokio::test]
async fn a_step_that_queues_a_notice_wakes_the_outbox_at_once() {
    use futures_util::FutureExt as _;
    let (store, _dir, channel, engine, _clock) = channel_with("{}", Some(QueueMode::Evenly)).await;
    assert!(
        engine.outbox().notified().now_or_never().is_none(),
        "nothing queued yet"
    );
    let session = open(&store, &engine, channel, "1").await;
    assert!(!outbound(&store, session).await.is_empty(), "A1's greeting");
    // Without the wake the worker finds the greeting only at its next poll.
    assert!(
        engine.outbox().notified().now_or_never().is_some(),
        "the outbox was woken by the step that stored the greeting"
    );
}
