//! The transcript figures a hook's script reads (A1–A4, W2, Q1), on both
//! backends: the one query gives what the hook runner used to compute by
//! reading the session's messages, over a mixed transcript and over one
//! longer than the 10,000 messages that computation read.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, store_reply, with_postgres};

/// What the hook runner computed from the first `limit` messages before
/// the query (engine/hooks.rs, `HookRunner::event`).
async fn read_and_count(store: &dyn Store, session: i64, limit: i64) -> TranscriptFigures {
    let mut figures = TranscriptFigures::default();
    for m in store.messages(session, 0, limit).await.unwrap() {
        if m.direction == Direction::In {
            figures.customer_messages += 1;
            figures.previous_customer_message_at = figures.last_customer_message_at;
            figures.last_customer_message_at = Some(m.created_at);
            figures.last_from_customer = Some(true);
        } else if m.author_id.is_some() {
            figures.agent_messages += 1;
            figures.last_agent_message_at = Some(m.created_at);
            figures.last_from_customer = Some(false);
        }
    }
    figures
}

fn customer(channel_id: i64, chat: &str, n: usize) -> IngestItem {
    IngestItem {
        channel_id,
        source: "api".into(),
        message: InboundMessage {
            external_id: format!("{chat}-{n}"),
            chat_id: chat.into(),
            text: format!("message {n}"),
            ..InboundMessage::default()
        },
    }
}

async fn notice(store: &dyn Store, session: i64, at: Millis) {
    let batch = RoutingBatch {
        notices: vec![(session, "We are away".into())],
        ..RoutingBatch::default()
    };
    store.apply_routing(&batch, at).await.unwrap();
}

async fn figures_match_the_transcript(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let agent = s.create_user("bo", Role::Agent, "h", 1).await.unwrap().id;
    let new = NewChannel {
        name: "Api".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = s.create_channel(agent, &new, 1).await.unwrap().id;

    // One customer message, then a notice: the notice does not count.
    let alone = s.ingest(&[customer(channel, "a", 0)], 10).await.unwrap()[0].session_id;
    notice(s, alone, 11).await;
    // Customers and agents taking turns, with notices between, and two
    // messages stored at the same time (order is the messages' order).
    let mixed = s.ingest(&[customer(channel, "b", 0)], 20).await.unwrap()[0].session_id;
    store_reply(s, mixed, agent, "hi", 21).await;
    notice(s, mixed, 22).await;
    s.ingest(&[customer(channel, "b", 1), customer(channel, "b", 2)], 23)
        .await
        .unwrap();
    store_reply(s, mixed, agent, "sure", 24).await;
    s.ingest(&[customer(channel, "b", 3)], 25).await.unwrap();
    notice(s, mixed, 26).await;
    for session in [alone, mixed] {
        assert_eq!(
            s.transcript_figures(session).await.unwrap(),
            read_and_count(s, session, 10_000).await,
            "session {session}"
        );
    }
    let figures = s.transcript_figures(mixed).await.unwrap();
    assert_eq!((figures.customer_messages, figures.agent_messages), (4, 2));
    assert_eq!(
        (
            figures.last_customer_message_at,
            figures.previous_customer_message_at,
            figures.last_agent_message_at,
            figures.last_from_customer
        ),
        (Some(25), Some(23), Some(24), Some(true))
    );

    // Longer than the 10,000 messages the hook runner read: the query
    // counts them all, where reading stopped short of the agent's answer.
    let mut long = 0;
    for batch in 0..11 {
        let items: Vec<IngestItem> = (0..1_000)
            .map(|n| customer(channel, "c", batch * 1_000 + n))
            .collect();
        long = s.ingest(&items, 100 + batch as i64).await.unwrap()[0].session_id;
    }
    store_reply(s, long, agent, "sorry for the wait", 200).await;
    let figures = s.transcript_figures(long).await.unwrap();
    assert_eq!(figures, read_and_count(s, long, 20_000).await);
    assert_eq!(
        (
            figures.customer_messages,
            figures.agent_messages,
            figures.last_from_customer
        ),
        (11_000, 1, Some(false))
    );
    let capped = read_and_count(s, long, 10_000).await;
    assert_eq!(
        (capped.customer_messages, capped.agent_messages),
        (10_000, 0)
    );
}

#[tokio::test]
async fn hook_transcript_figures_match_reading_the_messages_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    figures_match_the_transcript(store).await;
}

#[tokio::test]
async fn hook_transcript_figures_match_reading_the_messages_on_postgres() {
    with_postgres(figures_match_the_transcript).await;
}
