//! The hub's fan-out (issue 20): every socket gets the one serialised event,
//! and a socket that stops reading holds up nobody and gets a resync.

use std::sync::Arc;

use futures_util::FutureExt as _;
// Outside tokio's per-task budget, which would make a ready receiver say
// "not yet" after 128 receives and the test fail for the wrong reason.
use tokio::task::unconstrained;

use super::{BROADCAST_DEPTH, Frame, Live, LiveEvent};
use crate::test_support::sqlite_store;

fn frame(n: i64) -> Arc<LiveEvent> {
    Arc::new(LiveEvent::Frame(Frame {
        session_id: n,
        channel_id: 1,
        agent_id: None,
        previous_agent_id: None,
        previous_channel_id: 1,
        json: format!(r#"{{"type":"session","session":{{"id":{n}}}}}"#).into(),
    }))
}

fn local(hint: super::Hint) -> super::Queued {
    super::Queued { hint, local: true }
}

fn session_of(event: &LiveEvent) -> i64 {
    match event {
        LiveEvent::Frame(frame) => frame.session_id,
        LiveEvent::Resync => panic!("a frame, not a resync"),
    }
}

#[tokio::test]
async fn a_socket_that_stops_reading_holds_up_nobody_and_gets_a_resync() {
    let (store, _dir) = sqlite_store().await;
    let live = Live::start(store, &crate::node::Workers::default());
    let mut fast = live.subscribe();
    let mut slow = live.subscribe();
    let total = 2 * BROADCAST_DEPTH as i64;
    for n in 0..total {
        let event = frame(n);
        // The publisher's send never waits for a reader.
        live.events.send(event.clone()).expect("two subscribers");
        // The reading socket has each event at once, while the other reads nothing.
        let got = unconstrained(fast.recv())
            .now_or_never()
            .expect("the event is there at once")
            .expect("the hub is open");
        assert_eq!(session_of(&got), n);
        // The very event sent: serialised once, shared, not copied per socket.
        assert!(Arc::ptr_eq(&got, &event));
    }
    // The socket that fell behind gets one resync in place of what it
    // missed, then goes on with the oldest event still held.
    let resync = slow.recv().await.expect("the hub is open");
    assert!(matches!(*resync, LiveEvent::Resync), "{resync:?}");
    let next = slow.recv().await.expect("the hub is open");
    assert_eq!(session_of(&next), total - BROADCAST_DEPTH as i64);
    // And it has not taken the reading socket's place: that one is still current.
    assert!(
        unconstrained(fast.recv()).now_or_never().is_none(),
        "nothing new for it"
    );
}

/// Counts the publisher's reads of the store.
struct CountingReads {
    inner: Arc<dyn crate::store::Store>,
    reads: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl crate::store::TranscriptStore for CountingReads {
    async fn session(
        &self,
        viewer: crate::store::Viewer,
        id: i64,
    ) -> crate::store::Result<Option<crate::store::Session>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.session(viewer, id).await
    }

    async fn session_events(
        &self,
        session_id: i64,
    ) -> crate::store::Result<Vec<crate::store::SessionEvent>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.session_events(session_id).await
    }

    async fn messages(
        &self,
        session_id: i64,
        after: i64,
        limit: i64,
    ) -> crate::store::Result<Vec<crate::store::Message>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.messages(session_id, after, limit).await
    }
}

/// Issue 20: with no console open the publisher reads nothing back, and a
/// console that opens later gets what is stored from then on, once.
#[tokio::test]
async fn with_no_console_open_nothing_is_read_back_and_a_later_console_gets_what_follows() {
    use crate::store::{InboundMessage, IngestItem, NewChannel, Role, Sender};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let (store, _dir) = sqlite_store().await;
    let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
    let new = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s3cret".into(),
        config: "{}".into(),
    };
    let channel = store.create_channel(admin.id, &new, 0).await.unwrap().id;
    let item = |n: usize| IngestItem {
        channel_id: channel,
        source: "api".into(),
        message: InboundMessage {
            external_id: n.to_string(),
            chat_id: "chat".into(),
            sender: Sender {
                verified: true,
                id: "visitor".into(),
                ..Sender::default()
            },
            text: format!("message {n}"),
            ..Default::default()
        },
    };
    let first = store.ingest(&[item(1)], 1).await.unwrap()[0];
    let counting = Arc::new(CountingReads {
        inner: store.clone(),
        reads: AtomicUsize::new(0),
    });
    let (events, _) = tokio::sync::broadcast::channel(BROADCAST_DEPTH);
    let publisher = super::publisher::Publisher {
        store: counting.clone(),
        events: events.clone(),
        overflow: Arc::new(AtomicBool::new(false)),
        bus: super::bus::Link::default(),
    };
    let mut known = std::collections::HashMap::new();
    let mut hints = vec![local(super::Hint::Messages {
        session: first.session_id,
        from: first.message_id,
    })];
    publisher.round(&mut hints, &mut known).await;
    assert_eq!(
        counting.reads.load(Ordering::Relaxed),
        0,
        "nobody to send to"
    );
    assert!(hints.is_empty(), "the hints are used up");

    let mut console = events.subscribe();
    let second = store.ingest(&[item(2)], 2).await.unwrap()[0];
    hints.push(local(super::Hint::Messages {
        session: second.session_id,
        from: second.message_id,
    }));
    publisher.round(&mut hints, &mut known).await;
    assert!(counting.reads.load(Ordering::Relaxed) > 0);
    let mut messages = Vec::new();
    while let Ok(event) = console.try_recv() {
        let LiveEvent::Frame(frame) = &*event else {
            panic!("a frame, not {event:?}");
        };
        let value: serde_json::Value = serde_json::from_str(frame.json.as_str()).unwrap();
        if value["type"] == "message" {
            messages.push(value["message"]["id"].as_i64().unwrap());
        }
    }
    assert_eq!(messages, vec![second.message_id], "the later message, once");
}
