//! The routing step's write on both backends: an agent's reply, its outbox
//! entry and the routing state commit together, or none of them (S5, R18).

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

fn step(session_id: i64, snapshot: &str, replies: Vec<AgentReply>) -> RoutingBatch {
    RoutingBatch {
        sessions: [(session_id, Some(snapshot.to_string()))].into(),
        replies,
        ..RoutingBatch::default()
    }
}

fn reply(session_id: i64, author_id: i64, body: &str) -> AgentReply {
    AgentReply {
        session_id,
        author_id,
        body: body.into(),
    }
}

async fn reply_and_routing_commit_together(store: Arc<dyn Store>) {
    let agent = store.create_user("bo", Role::Agent, "h", 1).await.unwrap();
    let new = NewChannel {
        name: "Api".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store.create_channel(agent.id, &new, 1).await.unwrap().id;
    let item = IngestItem {
        channel_id: channel,
        source: "api".into(),
        message: InboundMessage {
            external_id: "m1".into(),
            chat_id: "chat".into(),
            text: "hello".into(),
            ..InboundMessage::default()
        },
    };
    let session = store.ingest(&[item], 10).await.unwrap()[0].session_id;

    let stored = store
        .apply_routing(
            &step(
                session,
                "answered",
                vec![reply(session, agent.id, "On it!")],
            ),
            20,
        )
        .await
        .unwrap();
    let [(message, outbox)] = stored.as_slice() else {
        panic!("one reply stored: {stored:?}");
    };
    assert_eq!(
        (message.body.as_str(), message.author_id, message.direction),
        ("On it!", Some(agent.id), Direction::Out)
    );
    assert_eq!(
        (outbox.message_id, outbox.state),
        (message.id, OutboxState::Pending)
    );
    assert_eq!(store.load_routing().await.unwrap().sessions, ["answered"]);
    let row = store.session(ADMIN, session).await.unwrap().unwrap();
    assert_eq!(row.last_message_at, 20);

    // The step's second reply names a session that does not exist: the
    // whole step fails, the first reply and the snapshot with it.
    let failing = step(
        session,
        "answered twice",
        vec![
            reply(session, agent.id, "And more"),
            reply(999_999, agent.id, "lost"),
        ],
    );
    assert!(store.apply_routing(&failing, 30).await.is_err());
    let bodies: Vec<String> = store
        .messages(session, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["hello", "On it!"]);
    assert_eq!(
        store.list_outbox(None, 100).await.unwrap(),
        std::slice::from_ref(outbox)
    );
    assert_eq!(store.load_routing().await.unwrap().sessions, ["answered"]);
    let row = store.session(ADMIN, session).await.unwrap().unwrap();
    assert_eq!(row.last_message_at, 20);
}

#[tokio::test]
async fn s5_a_reply_commits_with_its_routing_step_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    reply_and_routing_commit_together(store).await;
}

#[tokio::test]
async fn s5_a_reply_commits_with_its_routing_step_on_postgres() {
    with_postgres(reply_and_routing_commit_together).await;
}
