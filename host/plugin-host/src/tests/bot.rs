//! The bot world end to end: session events in, actions out.

use serde_json::json;

use super::guests::{self, echo_request};
use crate::CallError;
use crate::types::{Answer, BotAction, BotEvent, Channel, InboundMessage, Sender, Session};

fn session() -> Session {
    Session {
        session_id: "s-1".to_string(),
        channel_id: "web".to_string(),
        customer: Sender {
            external_id: "u-1".to_string(),
            name: Some("Ada".to_string()),
            handle: None,
            email: None,
            phone: None,
        },
        data: Vec::new(),
    }
}

fn bot_channel() -> Channel {
    Channel {
        id: "web".to_string(),
        plugin: "greeter-bot".to_string(),
        config: json!({"greeting": "Welcome to Acme"}),
    }
}

fn message(text: &str) -> InboundMessage {
    InboundMessage {
        external_chat_id: "c".to_string(),
        external_message_id: "m".to_string(),
        sender: session().customer,
        text: Some(text.to_string()),
        attachments: Vec::new(),
        sent_at_ms: None,
        in_reply_to: None,
        edit_of: None,
    }
}

async fn actions(host: &crate::PluginHost, event: BotEvent) -> Vec<BotAction> {
    host.bot_event(&bot_channel(), &session(), &event)
        .await
        .unwrap()
        .value
        .unwrap()
}

#[tokio::test]
async fn a_bot_greets_asks_and_hands_over() {
    let (_dir, host) = guests::host();
    host.install(&guests::package("fixtures/greeter-bot", "greeter_bot"))
        .unwrap();

    let started = actions(&host, BotEvent::SessionStarted).await;
    assert!(
        matches!(&started[0], BotAction::Reply(r) if r.text == "Welcome to Acme, Ada!"),
        "{started:?}"
    );
    assert!(
        matches!(&started[1], BotAction::Ask(q) if q.field == "email"),
        "{started:?}"
    );

    let bad = BotEvent::Answered(Answer {
        field: "email".to_string(),
        value: "nope".to_string(),
    });
    assert!(matches!(&actions(&host, bad).await[0], BotAction::Ask(_)));
    let good = BotEvent::Answered(Answer {
        field: "email".to_string(),
        value: "ada@example.com".to_string(),
    });
    let handed = actions(&host, good).await;
    assert!(
        matches!(&handed[0], BotAction::SetData((k, v)) if k == "email" && v == "ada@example.com")
    );
    assert!(matches!(&handed[1], BotAction::HandOver(None)));

    let asked = actions(
        &host,
        BotEvent::CustomerMessage(message("Can I talk to a human?")),
    )
    .await;
    assert!(
        matches!(&asked[0], BotAction::HandOver(Some(note)) if note == "customer asked for a person")
    );
    // Timers use the trait's default: nothing to do.
    assert!(
        actions(&host, BotEvent::TimerFired("t".to_string()))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn connector_calls_to_a_bot_are_refused_by_kind() {
    let (_dir, host) = guests::host();
    host.install(&guests::package("fixtures/greeter-bot", "greeter_bot"))
        .unwrap();
    let error = host
        .handle_inbound(&bot_channel(), &echo_request("", &json!({})))
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::WrongKind { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "plugin greeter-bot 0.1.0 is a bot, not a connector"
    );
}
