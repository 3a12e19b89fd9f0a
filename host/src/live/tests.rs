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
