//! The worker against a real HTTP receiver on loopback, on a manual clock.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use frontdesk_routing::{QueueId, SessionId};
use tokio::sync::mpsc;

use crate::address_guard::AddressGuard;
use crate::app::{App, Config};
use crate::clock::ManualClock;
use crate::ingest::{DELIVERY_HEADER, SIGNATURE_HEADER, sign};
use crate::store::{InboundMessage, IngestItem, NewChannel, Role, Sender};
use crate::test_support::sqlite_store;

const T0: i64 = 1_795_503_600_000;

/// A receiver answering with `statuses` in turn, reporting (delivery id, signature ok, body).
async fn receiver(
    statuses: Vec<u16>,
    secret: &'static str,
) -> (String, mpsc::UnboundedReceiver<(String, bool, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let statuses = Arc::new(std::sync::Mutex::new(statuses.into_iter()));
    let app = Router::new().route(
        "/callback",
        post(move |headers: HeaderMap, body: Bytes| {
            let (tx, statuses) = (tx.clone(), statuses.clone());
            async move {
                let delivery = headers[DELIVERY_HEADER].to_str().unwrap().to_string();
                let signed = headers[SIGNATURE_HEADER].to_str().unwrap() == sign(secret, &body);
                tx.send((
                    delivery,
                    signed,
                    String::from_utf8_lossy(&body).into_owned(),
                ))
                .unwrap();
                StatusCode::from_u16(statuses.lock().unwrap().next().unwrap_or(200)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// A channel whose callback is `url`, one session in it, and a running worker.
async fn setup(url: &str) -> (App, Arc<ManualClock>, i64, tempfile::TempDir) {
    let (store, dir) = sqlite_store().await;
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let config = serde_json::json!({ "callback_url": url }).to_string();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s3cret".into(),
        config,
    };
    let channel = store
        .create_channel(admin.id, &channel, 0)
        .await
        .unwrap()
        .id;
    let clock = Arc::new(ManualClock::new(T0));
    // The receiver is on loopback, as `--allow-private-callbacks` allows.
    let state = App::start(Config {
        callbacks: AddressGuard {
            allow_private: true,
        },
        deliver_outbox: true,
        ..Config::new(store, clock.clone())
    })
    .await
    .unwrap();
    // Stored after the engine started, so routing adds no notice of its own.
    let message = InboundMessage {
        external_id: "1".into(),
        chat_id: "chat-9".into(),
        sender: Sender {
            verified: true,
            id: "v".into(),
            ..Sender::default()
        },
        text: "hi".into(),
        ..Default::default()
    };
    let item = IngestItem {
        channel_id: channel,
        source: "api".into(),
        message,
    };
    let session = state.store.ingest(&[item], T0).await.unwrap()[0].session_id;
    (state, clock, session, dir)
}

/// Waits until the worker recorded attempt number `attempts` of item `id` as `want`.
async fn state_of(state: &App, id: i64, want: &str, attempts: i64) -> crate::store::OutboxItem {
    for _ in 0..10_000 {
        let items = state.store.list_outbox(None, 100).await.unwrap();
        if let Some(item) = items
            .into_iter()
            .find(|i| i.id == id && i.state.as_str() == want && i.attempts == attempts)
        {
            return item;
        }
        tokio::task::yield_now().await;
    }
    panic!("outbox item {id} never became {want}");
}

#[tokio::test]
async fn s5_a_failed_send_is_retried_after_its_backoff_and_sent_once() {
    let (url, mut calls) = receiver(vec![503, 200], "s3cret").await;
    let (state, clock, session, _dir) = setup(&url).await;
    let (_, item) =
        crate::test_support::store_reply(state.store.as_ref(), session, 1, "Hello there", T0).await;
    state.outbox.notify_one();

    let (delivery, signed, body) = calls.recv().await.unwrap();
    assert_eq!(delivery, item.id.to_string());
    assert!(signed, "callbacks are signed with the channel secret");
    assert!(
        body.contains("\"chat_id\":\"chat-9\"") && body.contains("Hello there"),
        "{body}"
    );
    let retry = state_of(&state, item.id, "pending", 1).await;
    assert_eq!(
        (retry.attempts, retry.next_attempt_at),
        (1, T0 + super::backoff_ms(0))
    );

    clock.advance(super::backoff_ms(0));
    let (again, _, _) = calls.recv().await.unwrap();
    assert_eq!(again, delivery, "a retry carries the same delivery id");
    state_of(&state, item.id, "sent", 2).await;
    clock.advance(3_600_000);
    state.outbox.notify_one();
    tokio::task::yield_now().await;
    assert!(
        calls.try_recv().is_err(),
        "a sent message is never sent again"
    );
}

#[tokio::test]
async fn s5_a_permanent_refusal_is_failed_at_once_and_shown_to_admins() {
    let (url, mut calls) = receiver(vec![400], "s3cret").await;
    let (state, _clock, session, _dir) = setup(&url).await;
    let (_, item) =
        crate::test_support::store_reply(state.store.as_ref(), session, 1, "Hello", T0).await;
    state.outbox.notify_one();
    calls.recv().await.unwrap();
    let failed = state_of(&state, item.id, "failed", 1).await;
    assert!(failed.last_error.unwrap().contains("400"));
    let listed = state.store.list_outbox(Some("failed"), 10).await.unwrap();
    assert!(listed.iter().any(|i| i.id == item.id));
}

/// Issue 15 (S5, R11): the engine wakes the worker after a step that queued
/// a text for the customer, so it reaches an `api` channel's callback at
/// once, not at the worker's next poll (`leased::POLL`, a second apart).
#[tokio::test]
async fn s5_a_routing_notice_reaches_the_callback_without_waiting_for_the_poll() {
    let (url, mut calls) = receiver(vec![], "s3cret").await;
    let (state, _clock, session, _dir) = setup(&url).await;
    let admin = crate::store::Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let row = state.store.session(admin, session).await.unwrap().unwrap();
    let opened = crate::engine::Event::SessionOpened {
        session: SessionId(session),
        channel: QueueId(row.channel_id),
        contact: row.contact_id,
        responsible: None,
    };
    let sent = std::time::Instant::now();
    // Nobody is in the queue: the step greets the customer (A1) and tells
    // them nobody is available (R11), both through the outbox.
    state.engine.send(opened).await.unwrap();
    let (_, signed, body) = calls.recv().await.unwrap();
    let waited = sent.elapsed();
    assert!(signed && body.contains("chat-9"), "{body}");
    assert!(
        waited < crate::leased::POLL / 2,
        "the notice waited {waited:?}, as if for the worker's poll"
    );
}
