//! Outbox claims on both backends (issue 22): per item, held by a node and
//! a process token, released at once by the node's next start; a chat's
//! replies one at a time and in order; a bound per channel.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

const NOW: Millis = 1_000_000;
const LEASE: i64 = 60_000;

async fn session(store: &Arc<dyn Store>, channel_id: i64, chat: &str) -> i64 {
    let item = IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: format!("in-{chat}"),
            chat_id: chat.into(),
            sender: Sender {
                id: chat.into(),
                ..Sender::default()
            },
            text: "hello".into(),
            ..Default::default()
        },
    };
    store.ingest(&[item], NOW).await.unwrap()[0].session_id
}

async fn reply(store: &Arc<dyn Store>, session: i64, author: i64) -> i64 {
    crate::test_support::store_reply(store.as_ref(), session, author, "answer", NOW)
        .await
        .1
        .id
}

async fn due(store: &Arc<dyn Store>) -> Vec<i64> {
    let due = store.due_outbox(NOW, 4, 100).await.unwrap();
    due.into_iter().map(|d| d.id).collect()
}

async fn claims_story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let mut channels = Vec::new();
    for name in ["A", "B"] {
        let channel = NewChannel {
            name: name.into(),
            kind: "api".into(),
            secret: "s".into(),
            config: "{}".into(),
        };
        channels.push(
            store
                .create_channel(admin.id, &channel, 1)
                .await
                .unwrap()
                .id,
        );
    }
    let (a, b) = (channels[0], channels[1]);
    let first_chat = session(&store, a, "chat-1").await;
    let first = reply(&store, first_chat, admin.id).await;
    let second = reply(&store, first_chat, admin.id).await;
    let mut others = Vec::new();
    for c in 2..=6 {
        let s = session(&store, a, &format!("chat-{c}")).await;
        others.push(reply(&store, s, admin.id).await);
    }
    let b_session = session(&store, b, "chat-1").await;
    let on_b = reply(&store, b_session, admin.id).await;

    // A chat's second reply waits for its first; four of channel A at most.
    assert_eq!(
        due(&store).await,
        vec![first, others[0], others[1], others[2], on_b]
    );

    let job = store
        .claim_outbox(first, ("node-1", "process-1"), NOW, LEASE)
        .await
        .unwrap()
        .expect("a due item is claimed");
    assert_eq!((job.id, job.chat_id.as_str()), (first, "chat-1"));
    assert!(
        store
            .claim_outbox(first, ("node-2", "process-9"), NOW, LEASE)
            .await
            .unwrap()
            .is_none(),
        "a claimed item is nobody else's"
    );
    let now_due = due(&store).await;
    assert!(
        !now_due.contains(&first) && !now_due.contains(&second),
        "{now_due:?}"
    );
    assert!(
        now_due.contains(&others[3]),
        "a free slot goes to the next chat"
    );

    assert!(
        !store
            .finish_outbox(first, "process-9", &Delivery::Sent, NOW)
            .await
            .unwrap(),
        "only the claim's holder records its outcome"
    );
    assert!(
        store
            .finish_outbox(first, "process-1", &Delivery::Sent, NOW)
            .await
            .unwrap()
    );
    assert!(
        due(&store).await.contains(&second),
        "the chat's next reply is due"
    );

    // The process dies mid-send; its node starts again with a new token.
    store
        .claim_outbox(second, ("node-1", "process-1"), NOW, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert!(!due(&store).await.contains(&second));
    assert_eq!(store.release_outbox_claims("node-2", NOW).await.unwrap(), 0);
    assert_eq!(store.release_outbox_claims("node-1", NOW).await.unwrap(), 1);
    assert!(
        due(&store).await.contains(&second),
        "due at once, not after the lease"
    );
    store
        .claim_outbox(second, ("node-1", "process-2"), NOW, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !store
            .finish_outbox(second, "process-1", &Delivery::Sent, NOW)
            .await
            .unwrap(),
        "the dead process's claim no longer counts"
    );
    let retry = Delivery::Retry {
        at: NOW + 5_000,
        error: "503".into(),
    };
    assert!(
        store
            .finish_outbox(second, "process-2", &retry, NOW)
            .await
            .unwrap()
    );
    assert_eq!(store.next_outbox_due(NOW).await.unwrap(), Some(NOW + 5_000));
}

#[tokio::test]
async fn outbox_claims_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    claims_story(store).await;
}

#[tokio::test]
async fn outbox_claims_on_postgres() {
    with_postgres(claims_story).await;
}
