//! The bots' rows (B1, C2) on both backends: a conversation's start, one
//! step with everything in it, deadlines, the routing move, and resuming.

use std::sync::Arc;

use super::*;
use crate::test_support::{sqlite_store, with_postgres};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

async fn bot_story(store: Arc<dyn Store>) {
    let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
    let channel = NewChannel {
        name: "Site".into(),
        kind: "api".into(),
        secret: "s".into(),
        config: "{}".into(),
    };
    let channel = store
        .create_channel(admin.id, &channel, 1)
        .await
        .unwrap()
        .id;
    assert_eq!(store.channel_bot(channel).await.unwrap(), None);
    let bot = ChannelBot {
        plugin: "lead-form".into(),
        timeout_secs: 60,
        config: serde_json::json!({"intro": "Hi"}),
    };
    store
        .set_channel_bot(admin.id, channel, Some(&bot), 2)
        .await
        .unwrap();
    assert_eq!(store.channel_bot(channel).await.unwrap(), Some(bot));
    assert_eq!(store.audit_log(1).await.unwrap()[0].action, "channel.bot");

    let item = IngestItem {
        channel_id: channel,
        source: "api".into(),
        message: InboundMessage {
            external_id: "m1".into(),
            chat_id: "chat".into(),
            sender: Sender {
                verified: true,
                id: "visitor".into(),
                name: Some("Visitor".into()),
                ..Sender::default()
            },
            text: "hello".into(),
            ..InboundMessage::default()
        },
    };
    let accepted = store.ingest(&[item], 10).await.unwrap()[0];
    let session = accepted.session_id;
    // Not in state `bot`: no conversation starts.
    assert_eq!(store.start_bot_session(session, 11).await.unwrap(), None);
    let to_bot = RoutingBatch {
        transitions: vec![TransitionRow {
            session_id: session,
            channel_id: channel,
            from_state: None,
            to_state: SessionState::Bot,
            agent_id: None,
            cause: "opened".into(),
            at: 10,
        }],
        ..RoutingBatch::default()
    };
    store.apply_routing(&to_bot, 10).await.unwrap();
    assert_eq!(store.bot_sessions_to_resume().await.unwrap(), [session]);
    let started = store.start_bot_session(session, 11).await.unwrap().unwrap();
    assert_eq!(started.status, BotStatus::Active);
    assert_eq!((started.started, started.seen_message), (false, 0));
    assert_eq!(started.plugin, "lead-form");

    // One step with everything in it.
    let mut step = BotStep::new(session, BotConsumed::Message(accepted.message_id));
    step.replies = vec!["Hi".into(), "What is your email?".into()];
    step.data = vec![("contact.email".into(), "ada@example.org".into())];
    step.contact.email = Some("ada@example.org".into());
    step.lead = true;
    step.timers = vec![("nudge".into(), 500)];
    step.ask = Some(Some(("email".into(), vec!["a".into()])));
    step.due_at = Some(Some(300));
    let outcome = store.apply_bot_step(&step, 20).await.unwrap();
    assert_eq!(outcome.lead_refused, None);
    let row = store.bot_session(session).await.unwrap().unwrap();
    assert_eq!(row.seen_message, accepted.message_id);
    assert_eq!(row.pending_field.as_deref(), Some("email"));
    assert_eq!(row.pending_options, ["a"]);
    assert_eq!(row.ask_after, accepted.message_id);
    assert_eq!(row.data["contact.email"], "ada@example.org");
    assert_eq!(row.due_at, Some(300));
    let out: Vec<String> = store
        .messages(session, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::Out)
        .map(|m| m.body)
        .collect();
    assert_eq!(out, ["Hi", "What is your email?"]);
    assert_eq!(
        store.list_outbox(Some("pending"), 10).await.unwrap().len(),
        2
    );
    let contact = store
        .contact(
            ADMIN,
            store
                .session(ADMIN, session)
                .await
                .unwrap()
                .unwrap()
                .contact_id,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.email.as_deref(), Some("ada@example.org"));
    let leads = store.leads(Some(session), 10).await.unwrap();
    assert_eq!(leads.len(), 1);
    assert_eq!(
        (
            leads[0].source.as_str(),
            leads[0].name.as_str(),
            leads[0].created_by.as_str()
        ),
        ("api", "Visitor", "bot:lead-form")
    );
    // A second request keeps the one lead.
    let mut again = BotStep::new(session, BotConsumed::Nothing);
    again.lead = true;
    store.apply_bot_step(&again, 21).await.unwrap();
    assert_eq!(store.leads(None, 10).await.unwrap().len(), 1);

    // Deadlines: the silence deadline first, then the timer.
    assert_eq!(store.next_bot_due().await.unwrap(), Some(300));
    assert!(store.due_bot_sessions(299).await.unwrap().is_empty());
    assert_eq!(store.due_bot_sessions(500).await.unwrap(), [session]);
    assert_eq!(store.due_bot_timer(session, 499).await.unwrap(), None);
    assert_eq!(
        store.due_bot_timer(session, 500).await.unwrap().as_deref(),
        Some("nudge")
    );
    let mut fired = BotStep::new(session, BotConsumed::Timer("nudge".into()));
    fired.due_at = Some(None);
    fired.ask = Some(None);
    store.apply_bot_step(&fired, 500).await.unwrap();
    assert_eq!(store.next_bot_due().await.unwrap(), None);
    assert_eq!(
        store
            .bot_session(session)
            .await
            .unwrap()
            .unwrap()
            .pending_field,
        None
    );

    // The routing move is recorded before it is applied, and survives until done.
    let mut leave = BotStep::new(session, BotConsumed::Nothing);
    leave.exit = Some((BotExit::Agent(7), Some("over to you".into()), "done".into()));
    store.apply_bot_step(&leave, 600).await.unwrap();
    let leaving = store.bot_session(session).await.unwrap().unwrap();
    assert_eq!(leaving.status, BotStatus::Leaving);
    assert_eq!(leaving.exit, Some(BotExit::Agent(7)));
    assert_eq!(leaving.note.as_deref(), Some("over to you"));
    assert_eq!(store.bot_sessions_to_resume().await.unwrap(), [session]);
    store
        .finish_bot_session(session, None, Some(5_600), 600)
        .await
        .unwrap();
    let retry = store.bot_session(session).await.unwrap().unwrap();
    assert_eq!(
        (retry.status, retry.due_at),
        (BotStatus::Leaving, Some(5_600))
    );
    store
        .finish_bot_session(session, Some("applied"), None, 700)
        .await
        .unwrap();
    let done = store.bot_session(session).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.reason.as_deref()),
        (BotStatus::Done, Some("applied"))
    );
    assert!(store.bot_sessions_to_resume().await.unwrap().is_empty());

    store
        .set_channel_bot(admin.id, channel, None, 800)
        .await
        .unwrap();
    assert_eq!(store.channel_bot(channel).await.unwrap(), None);
}

#[tokio::test]
async fn bots_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    bot_story(store).await;
}

#[tokio::test]
async fn bots_on_postgres() {
    with_postgres(bot_story).await;
}
