//! One story, run against both backends: what a first day with frontdesk writes.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

fn inbound(channel_id: i64, external_id: &str, chat: &str, email: Option<&str>) -> IngestItem {
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: external_id.into(),
            chat_id: chat.into(),
            sender: Sender {
                verified: true,
                id: format!("user-{chat}"),
                name: Some(format!("Customer {chat}")),
                email: email.map(Into::into),
                phone: None,
            },
            text: format!("text of {external_id}"),
            ..Default::default()
        },
    }
}

fn new_channel(name: &str) -> NewChannel {
    NewChannel {
        name: name.into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    }
}

async fn story(store: Arc<dyn Store>) {
    let admin = store
        .create_user("ada", Role::Admin, "hash-ada", 1)
        .await
        .unwrap();
    let agent = store
        .create_user("bo", Role::Agent, "hash-bo", 1)
        .await
        .unwrap();
    let other = store
        .create_user("cy", Role::Agent, "hash-cy", 1)
        .await
        .unwrap();
    assert!(matches!(
        store.create_user("bo", Role::Agent, "x", 1).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .user_by_token_hash("hash-bo")
            .await
            .unwrap()
            .unwrap()
            .id,
        agent.id
    );

    let sales = store
        .create_channel(admin.id, &new_channel("Sales"), 2)
        .await
        .unwrap();
    let support = store
        .create_channel(admin.id, &new_channel("Support"), 2)
        .await
        .unwrap();
    assert_eq!(store.queue(sales.id).await.unwrap(), Queue::default());
    let queue = Queue {
        mode: QueueMode::Strict,
        agents: vec![agent.id],
        ..Queue::default()
    };
    store
        .set_queue(admin.id, sales.id, &queue, 3)
        .await
        .unwrap();
    store
        .set_queue(
            admin.id,
            support.id,
            &Queue {
                agents: vec![other.id],
                ..Queue::default()
            },
            3,
        )
        .await
        .unwrap();
    assert_eq!(store.queue(sales.id).await.unwrap(), queue);
    let bad = Queue {
        agents: vec![9999],
        ..Queue::default()
    };
    assert!(matches!(
        store.set_queue(admin.id, sales.id, &bad, 3).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.queue(sales.id).await.unwrap(),
        queue,
        "a failed change leaves the queue as it was"
    );

    // S3: a batch with a repeat inside it and a repeat of an earlier batch.
    let first = store
        .ingest(
            &[
                inbound(sales.id, "m1", "chat-a", Some("a@example.org")),
                inbound(sales.id, "m2", "chat-a", None),
            ],
            10,
        )
        .await
        .unwrap();
    assert!(!first[0].duplicate && !first[1].duplicate);
    assert_eq!(
        first[0].session_id, first[1].session_id,
        "one chat, one session"
    );
    let second = store
        .ingest(
            &[
                inbound(sales.id, "m1", "chat-a", None),
                inbound(sales.id, "m3", "chat-b", None),
                inbound(sales.id, "m3", "chat-b", None),
                inbound(support.id, "m1", "chat-z", Some("a@example.org")),
            ],
            11,
        )
        .await
        .unwrap();
    assert_eq!(
        (second[0].message_id, second[0].duplicate),
        (first[0].message_id, true)
    );
    assert_eq!(
        second[2],
        Accepted {
            duplicate: true,
            new_session: false,
            contact: None,
            ..second[1]
        }
    );
    assert!(!second[3].duplicate, "the key is per channel");
    assert_ne!(second[1].session_id, first[0].session_id);

    let admin_view = Viewer {
        user_id: admin.id,
        role: Role::Admin,
    };
    let agent_view = Viewer {
        user_id: agent.id,
        role: Role::Agent,
    };
    let session_a = store
        .session(admin_view, first[0].session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session_a.state.as_str(), session_a.source.as_str()),
        ("queued", "api")
    );
    let messages = store.messages(session_a.id, 0, 100).await.unwrap();
    assert_eq!(
        messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["text of m1", "text of m2"]
    );
    let history = store.session_events(session_a.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].to_state.as_str(), history[0].at),
        ("queued", 10)
    );

    // C1: the same email on another channel is the same contact.
    let session_z = store
        .session(admin_view, second[3].session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session_z.contact_id, session_a.contact_id);

    // P2: the agent sees Sales, not Support, and not by id either.
    assert_eq!(
        store
            .list_channels(agent_view)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        [sales.id]
    );
    assert!(
        store
            .visible_channel(agent_view, support.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session(agent_view, session_z.id)
            .await
            .unwrap()
            .is_none()
    );
    let all_mine = store
        .list_sessions(agent_view, &SessionFilter::default())
        .await
        .unwrap();
    assert!(all_mine.iter().all(|s| s.channel_id == sales.id) && all_mine.len() == 2);
    let filter = SessionFilter {
        q: Some("%".into()),
        ..SessionFilter::default()
    };
    assert!(
        store
            .list_sessions(admin_view, &filter)
            .await
            .unwrap()
            .is_empty(),
        "% is matched literally"
    );
    let filter = SessionFilter {
        q: Some("Customer chat-b".into()),
        ..SessionFilter::default()
    };
    assert_eq!(
        store
            .list_sessions(admin_view, &filter)
            .await
            .unwrap()
            .len(),
        1
    );

    // S5: a reply lands in the log and in the outbox in one go.
    let (reply, outbox) =
        crate::test_support::store_reply(store.as_ref(), session_a.id, agent.id, "hello", 20).await;
    assert_eq!(
        (reply.direction.as_str(), outbox.state.as_str()),
        ("out", "pending")
    );
    assert_eq!(
        store.list_outbox(Some("pending"), 10).await.unwrap(),
        vec![outbox]
    );

    // Status flags and the audit trail (P4).
    let patch = UserStatusPatch {
        vacation: Some(true),
        ..Default::default()
    };
    let updated = store
        .update_user_status(Some(admin.id), agent.id, &patch, 30)
        .await
        .unwrap();
    assert!(updated.vacation && !updated.dismissed);
    let audit = store.audit_log(10).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.status",
            "queue.update",
            "queue.update",
            "channel.create",
            "channel.create"
        ]
    );
}

#[tokio::test]
async fn story_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    story(store).await;
}

#[tokio::test]
async fn story_on_postgres() {
    with_postgres(story).await;
}

#[tokio::test]
async fn sqlite_survives_reopening_with_everything_committed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("re.db").display());
    let accepted = {
        let store = connect(&url).await.unwrap();
        let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
        let ch = store
            .create_channel(admin.id, &new_channel("Sales"), 1)
            .await
            .unwrap();
        store
            .ingest(&[inbound(ch.id, "m1", "c", None)], 2)
            .await
            .unwrap()[0]
    };
    let store = connect(&url).await.unwrap();
    let again = store
        .ingest(&[inbound(1, "m1", "c", None)], 3)
        .await
        .unwrap()[0];
    assert_eq!(
        again,
        Accepted {
            duplicate: true,
            new_session: false,
            contact: None,
            ..accepted
        }
    );
}

#[test]
fn unknown_url_schemes_are_refused_with_the_accepted_forms() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt.block_on(connect("mysql://x/y")).err().expect("refused");
    assert!(err.to_string().contains("sqlite://"), "{err}");
}
