//! The routing inbox (issue 18) on the real PostgreSQL: ingest writes a row
//! with each message that routing must hear of, a step deletes the rows it
//! applied and answers them in its own transaction, two leaders draining
//! the same rows apply them once between them, and a step that fails keeps
//! its rows. SQLite has no inbox at all.

use std::sync::Arc;

use super::*;
use crate::engine::wire;
use crate::test_support::{sqlite_store, with_postgres_url};

fn item(channel: i64, external: &str, chat: &str) -> IngestItem {
    IngestItem {
        channel_id: channel,
        source: "api".into(),
        message: InboundMessage {
            external_id: external.into(),
            chat_id: chat.into(),
            text: "hello".into(),
            ..InboundMessage::default()
        },
    }
}

/// An agent and an `api` channel.
async fn setup(store: &Arc<dyn Store>) -> (i64, i64) {
    let agent = store.create_user("bo", Role::Agent, "h", 1).await.unwrap();
    let new = NewChannel {
        name: "Api".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store.create_channel(agent.id, &new, 1).await.unwrap().id;
    (agent.id, channel)
}

/// The kinds of the waiting rows, in id order.
async fn kinds(store: &Arc<dyn Store>) -> Vec<(i64, wire::WireEvent)> {
    let rows = store.read_inbox(100).await.unwrap();
    rows.into_iter()
        .map(|row| (row.id, wire::decode(&row.event).unwrap().0))
        .collect()
}

/// A step that only applies inbox rows (and sets a timer, to see whether
/// the rest of it committed).
fn applying(ids: &[i64], timer: i64) -> RoutingBatch {
    RoutingBatch {
        timers: [(("forward".to_string(), timer), Some(1_000))].into(),
        inbox_applied: ids.to_vec(),
        ..RoutingBatch::default()
    }
}

async fn timers(store: &Arc<dyn Store>) -> Vec<i64> {
    let rows = store.load_routing().await.unwrap().timers;
    rows.into_iter().map(|(_, subject, _)| subject).collect()
}

#[tokio::test]
async fn ingest_writes_a_row_for_each_message_routing_must_hear_in_its_transaction() {
    with_postgres_url(|url| async move {
        let store = connect(&url).await.unwrap();
        assert!(store.has_routing_inbox());
        let (_, channel) = setup(&store).await;
        let batch = [
            item(channel, "m1", "a"),
            item(channel, "m2", "a"),
            // A repeat inside the batch and a repeat of an earlier batch
            // write nothing.
            item(channel, "m1", "a"),
        ];
        let accepted = store.ingest(&batch, 10).await.unwrap();
        store.ingest(&[item(channel, "m2", "a")], 11).await.unwrap();
        let session = accepted[0].session_id;
        let rows = kinds(&store).await;
        let events: Vec<_> = rows.iter().map(|(_, e)| e.clone()).collect();
        assert_eq!(
            events,
            [
                wire::WireEvent::SessionOpened {
                    session,
                    channel,
                    contact: accepted[0].contact.unwrap().id,
                    responsible: None,
                },
                wire::WireEvent::CustomerMessage { session },
            ]
        );
        assert!(rows[0].0 < rows[1].0, "in the order they were stored");
        let origin = &store.read_inbox(1).await.unwrap()[0].origin;
        assert_eq!(origin, "ingest");
    })
    .await;
}

#[tokio::test]
async fn a_step_deletes_what_it_applied_and_a_second_leader_applies_none_of_it_again() {
    with_postgres_url(|url| async move {
        let store = connect(&url).await.unwrap();
        // Another node's store: its own pool on the same database.
        let other = connect(&url).await.unwrap();
        let (_, channel) = setup(&store).await;
        store
            .ingest(&[item(channel, "m1", "a"), item(channel, "m2", "b")], 10)
            .await
            .unwrap();
        let ids: Vec<i64> = kinds(&store).await.into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), 2);

        // Both read the same rows and apply them at the same moment: exactly
        // one step commits, the other rolls back whole.
        let (first, second) = (applying(&ids, 1), applying(&ids, 2));
        let (a, b) = tokio::join!(
            store.apply_routing(&first, 20),
            other.apply_routing(&second, 20)
        );
        let (won, lost) = match (a, b) {
            (Ok(_), Err(lost)) => (1, lost),
            (Err(lost), Ok(_)) => (2, lost),
            other => panic!("exactly one step may commit: {other:?}"),
        };
        assert!(
            matches!(
                lost,
                StoreError::InboxRace {
                    expected: 2,
                    found: 0
                }
            ),
            "{lost}"
        );
        assert!(lost.to_string().contains("rolled back"), "{lost}");
        assert_eq!(timers(&store).await, [won], "the losing step wrote nothing");
        assert!(store.read_inbox(10).await.unwrap().is_empty());

        // A late leader whose rows are partly gone applies none of its step.
        store.ingest(&[item(channel, "m3", "a")], 30).await.unwrap();
        let fresh = store.read_inbox(10).await.unwrap()[0].id;
        let late = other
            .apply_routing(&applying(&[ids[0], fresh], 3), 40)
            .await
            .unwrap_err();
        assert!(
            matches!(
                late,
                StoreError::InboxRace {
                    expected: 2,
                    found: 1
                }
            ),
            "{late}"
        );
        assert_eq!(timers(&store).await, [won]);
        assert_eq!(store.read_inbox(10).await.unwrap()[0].id, fresh, "kept");
    })
    .await;
}

#[tokio::test]
async fn a_step_that_fails_after_its_delete_keeps_the_rows_and_writes_no_answer() {
    with_postgres_url(|url| async move {
        let store = connect(&url).await.unwrap();
        let (_, channel) = setup(&store).await;
        store.ingest(&[item(channel, "m1", "a")], 10).await.unwrap();
        let forwarded = store
            .push_inbox("node-b", &close_event(), true)
            .await
            .unwrap();
        let ids: Vec<i64> = kinds(&store).await.into_iter().map(|(id, _)| id).collect();
        let answer = InboxAnswer {
            inbox_id: forwarded,
            outcome: wire::encode_answer(&Ok(crate::engine::Outcome::Done)),
            reply: None,
        };
        // The same answer twice: its insert fails after the delete ran.
        let failing = RoutingBatch {
            inbox_answers: vec![answer.clone(), answer.clone()],
            ..applying(&ids, 1)
        };
        assert!(store.apply_routing(&failing, 20).await.is_err());
        assert_eq!(store.read_inbox(10).await.unwrap().len(), 2, "both kept");
        assert_eq!(store.take_answer(forwarded).await.unwrap(), None);
        assert!(timers(&store).await.is_empty());

        // Applied for real, the forwarding node reads its answer once.
        let step = RoutingBatch {
            inbox_answers: vec![answer],
            ..applying(&ids, 1)
        };
        store.apply_routing(&step, 30).await.unwrap();
        assert!(store.read_inbox(10).await.unwrap().is_empty());
        let read = store.take_answer(forwarded).await.unwrap().unwrap();
        assert!(matches!(
            wire::decode_answer(&read.outcome),
            wire::Answer::Ready(Ok(crate::engine::Outcome::Done))
        ));
        assert_eq!(store.take_answer(forwarded).await.unwrap(), None);
    })
    .await;
}

fn close_event() -> String {
    wire::encode(
        &crate::engine::Event::Close {
            session: frontdesk_routing::SessionId(1),
        },
        Some(crate::engine::Actor {
            user: 1,
            oversees: false,
        }),
    )
}

#[tokio::test]
async fn a_forwarded_reply_is_answered_with_the_message_its_step_stored_and_notified() {
    with_postgres_url(|url| async move {
        let store = connect(&url).await.unwrap();
        let (agent, channel) = setup(&store).await;
        let session = store.ingest(&[item(channel, "m1", "a")], 10).await.unwrap()[0].session_id;
        let mut listener = store.inbox_listener().await.unwrap().expect("a listener");
        let id = store
            .push_inbox("node-b", &close_event(), true)
            .await
            .unwrap();
        assert_eq!(listener.recv().await.unwrap(), Heard::Routing);
        let step = RoutingBatch {
            replies: vec![AgentReply {
                session_id: session,
                author_id: agent,
                body: "On it!".into(),
            }],
            inbox_applied: vec![id],
            inbox_answers: vec![InboxAnswer {
                inbox_id: id,
                outcome: wire::encode_replied(),
                reply: Some(0),
            }],
            ..RoutingBatch::default()
        };
        let stored = store.apply_routing(&step, 20).await.unwrap();
        // Ingest's own row came before; the answer's notification names the row.
        loop {
            match listener.recv().await.unwrap() {
                Heard::Answer(answered) => {
                    assert_eq!(answered, id);
                    break;
                }
                Heard::Routing => {}
                Heard::Reconnected => panic!("the listener lost its connection"),
            }
        }
        let answer = store.take_answer(id).await.unwrap().unwrap();
        assert!(matches!(
            wire::decode_answer(&answer.outcome),
            wire::Answer::Replied
        ));
        let message = answer.message_id.expect("the reply's message");
        let read = store.stored_reply(message).await.unwrap().unwrap();
        assert_eq!(read, stored[0]);
        // Answers nobody read are swept; nothing newer than the age goes.
        let other = store
            .push_inbox("node-b", &close_event(), true)
            .await
            .unwrap();
        let step = RoutingBatch {
            inbox_applied: vec![other],
            inbox_answers: vec![InboxAnswer {
                inbox_id: other,
                outcome: wire::encode_answer(&Ok(crate::engine::Outcome::Done)),
                reply: None,
            }],
            ..RoutingBatch::default()
        };
        store.apply_routing(&step, 30).await.unwrap();
        assert_eq!(store.sweep_answers(3600).await.unwrap(), 0);
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("UPDATE routing_answers SET created_at = now() - interval '2 hours'")
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(store.sweep_answers(3600).await.unwrap(), 1);
        assert_eq!(store.take_answer(other).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn sqlite_has_no_inbox_and_ingest_writes_none() {
    let (store, _dir) = sqlite_store().await;
    assert!(!store.has_routing_inbox());
    let (_, channel) = setup(&store).await;
    store.ingest(&[item(channel, "m1", "a")], 10).await.unwrap();
    assert!(store.read_inbox(10).await.unwrap().is_empty());
    assert!(store.inbox_listener().await.unwrap().is_none());
    let refused = store.push_inbox("x", &close_event(), true).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(why)) if why.contains("only PostgreSQL")),
        "{refused:?}"
    );
    // A step with nothing of the inbox writes as before.
    store.apply_routing(&applying(&[], 1), 20).await.unwrap();
}
