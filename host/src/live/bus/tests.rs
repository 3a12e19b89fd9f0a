//! The bus's node-side path without a database: what a payload from
//! another node does here, and what this node sends on.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::sync::mpsc;

use super::{Item, Link, Receiver, payload};
use crate::live::{Hint, Live, LiveEvent};
use crate::node::Workers;
use crate::store::{InboundMessage, IngestItem, NewChannel, Role, Sender};
use crate::test_support::sqlite_store;
use crate::webchat::Hub;

/// One stored customer message; its session id.
async fn a_session(store: &Arc<dyn crate::store::Store>) -> i64 {
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let new = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s3cret".into(),
        config: "{}".into(),
    };
    let channel = store.create_channel(admin.id, &new, 0).await.unwrap().id;
    let item = IngestItem {
        channel_id: channel,
        source: "api".into(),
        message: InboundMessage {
            external_id: "1".into(),
            chat_id: "chat".into(),
            sender: Sender {
                verified: true,
                id: "visitor".into(),
                ..Sender::default()
            },
            text: "hello".into(),
            ..Default::default()
        },
    };
    store.ingest(&[item], 1).await.unwrap()[0].session_id
}

fn receiver(live: &Live, hub: &Arc<Hub>) -> Receiver {
    Receiver {
        origin: "me".into(),
        live: live.clone(),
        hub: hub.clone(),
    }
}

/// What the bus was handed so far.
fn drained(rx: &mut mpsc::Receiver<Item>) -> Vec<Item> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[tokio::test]
async fn another_nodes_hint_is_published_here_and_not_sent_on_while_our_own_is() {
    let (store, _dir) = sqlite_store().await;
    let session = a_session(&store).await;
    let live = Live::start(store, &Workers::default());
    let (tx, mut sent) = mpsc::channel(16);
    live.bus().attach(tx);
    let hub = Arc::new(Hub::new(live.bus().clone()));
    let mut console = live.subscribe();

    receiver(&live, &hub).payload(&format!("f1 other s{session}"));
    let event = tokio::time::timeout(Duration::from_secs(10), console.recv())
        .await
        .expect("published within the deadline")
        .expect("the hub is open");
    let LiveEvent::Frame(frame) = &*event else {
        panic!("a frame, not {event:?}");
    };
    assert_eq!(frame.session_id, session);
    // The publisher hands a round to the bus before it reads it back.
    assert!(
        drained(&mut sent).is_empty(),
        "another node's hint travels once"
    );

    live.session_changed(session);
    let event = tokio::time::timeout(Duration::from_secs(10), console.recv())
        .await
        .expect("published within the deadline")
        .expect("the hub is open");
    assert!(matches!(&*event, LiveEvent::Frame(f) if f.session_id == session));
    assert_eq!(drained(&mut sent), vec![Item::Hint(Hint::Session(session))]);
}

#[tokio::test]
async fn a_chat_named_by_another_node_wakes_only_that_visitors_sockets() {
    let (store, _dir) = sqlite_store().await;
    let live = Live::start(store, &Workers::default());
    let hub = Arc::new(Hub::default());
    let (_a, a) = hub.register(3, "v:a");
    let (_a2, a2) = hub.register(3, "v:a");
    let (_b, b) = hub.register(3, "v:b");
    let (_other_channel, c) = hub.register(4, "v:a");
    let rx = receiver(&live, &hub);
    let chat = payload::encode(
        "other",
        [Item::Chat {
            channel: 3,
            tag: super::chat_tag("v:a"),
        }],
    );
    rx.payload(&chat[0]);
    assert!(a.catch_up.notified().now_or_never().is_some());
    assert!(a2.catch_up.notified().now_or_never().is_some(), "every tab");
    assert!(b.catch_up.notified().now_or_never().is_none());
    assert!(c.catch_up.notified().now_or_never().is_none());

    // This node's own payload came back to it: it knew already.
    rx.payload(
        &payload::encode(
            "me",
            [Item::Chat {
                channel: 3,
                tag: super::chat_tag("v:a"),
            }],
        )[0],
    );
    assert!(a.catch_up.notified().now_or_never().is_none());
    // A payload it cannot read changes nothing and does not panic.
    rx.payload("LISTEN frontdesk_live; garbage \u{0} w3:");
    rx.payload("f1 other w3:nothex");
    assert!(a.catch_up.notified().now_or_never().is_none());
}

#[tokio::test]
async fn a_resync_from_another_node_or_a_reconnect_reaches_every_socket() {
    let (store, _dir) = sqlite_store().await;
    let live = Live::start(store, &Workers::default());
    let hub = Arc::new(Hub::default());
    let (_a, a) = hub.register(3, "v:a");
    let (_b, b) = hub.register(9, "u:someone else");
    let mut console = live.subscribe();
    let rx = receiver(&live, &hub);
    rx.payload("f1 other r");
    let event = console
        .recv()
        .now_or_never()
        .flatten()
        .expect("a resync at once");
    assert!(matches!(*event, LiveEvent::Resync), "{event:?}");
    assert!(a.catch_up.notified().now_or_never().is_some());
    assert!(b.catch_up.notified().now_or_never().is_some());
    // The listener's reconnect does the same.
    rx.resync();
    let event = console
        .recv()
        .now_or_never()
        .flatten()
        .expect("a resync at once");
    assert!(matches!(*event, LiveEvent::Resync), "{event:?}");
    assert!(a.catch_up.notified().now_or_never().is_some());
}

#[test]
fn what_could_not_be_sent_is_owed_as_a_resync() {
    let link = Link::default();
    // Before the bus starts (the engine's first steps) nothing is sent...
    link.send([Item::Hint(Hint::Session(1))].into_iter());
    let (tx, mut sent) = mpsc::channel(2);
    link.attach(tx);
    // ...so the other nodes are told to resync once it does.
    assert_eq!(drained(&mut sent), vec![Item::Resync]);
    assert!(link.take_missed());
    // A full queue loses items: owed again, and taken with the next batch.
    link.send((1..=3).map(|s| Item::Hint(Hint::Session(s))));
    assert_eq!(drained(&mut sent).len(), 2);
    assert!(link.take_missed());
    assert!(!link.take_missed(), "owed once");
    // A link that never starts (SQLite) owes nothing to anyone.
    Link::default().send(std::iter::empty());
}
