//! The routing moves a bot ends with (B1): transfer to a named agent, to
//! another channel's queue, close, and a timer on the server's (test) clock.
//! The `action-bot` fixture picks its move from its channel config and
//! writes the time it reads from `clock::now_ms` into its texts, so these
//! tests also show that plugins read the server's clock.

use super::*;

/// The fixture's timer: 60 s after the session started.
const TIMER_MS: i64 = 60_000;

impl Setup {
    /// Adds an agent with the CLI while the server runs; returns their id.
    async fn agent(&self, name: &str) -> i64 {
        assert!(!cli(&self.db, &["user", "add", name, "--role", "agent"]).is_empty());
        let (_, users) = self.api("GET", "/api/v1/users", None).await;
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Moves the test clock forward.
    async fn advance(&self, ms: i64) {
        let (status, body) = self
            .api(
                "POST",
                "/api/v1/test/clock",
                Some(json!({"advance_ms": ms})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

/// Each recorded move as (to_state, cause).
fn moves(detail: &Value) -> Vec<(String, String)> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["to_state"].as_str().unwrap().to_string(),
                e["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn mv(state: &str, cause: &str) -> (String, String) {
    (state.to_string(), cause.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a_bot_transfers_to_a_named_agent() {
    let s = start(&[("fixtures/action-bot", "action_bot")]);
    let cy = s.agent("cy").await;
    let (id, secret) = s
        .channel(
            "Shop",
            json!({"plugin": "action-bot", "config": {"action": "agent", "target": "cy"}}),
        )
        .await;
    let session = s.say((id, &secret), "m1", "v1", "I need cy").await;
    let detail = s.until_left_bot(session).await;
    assert_eq!(detail["session"]["state"], "assigned", "{detail}");
    assert_eq!(detail["session"]["agent_id"], cy, "{detail}");
    assert_eq!(
        moves(&detail),
        [
            mv("bot", "first inbound message"),
            mv("assigned", "transferred_to_agent")
        ],
        "{detail}"
    );
    let bot = s.bot(session).await;
    assert_eq!(bot["bot"]["exit"], json!({"agent": cy}), "{bot}");
    assert_eq!(
        bot["bot"]["reason"], "the bot transferred the session to agent cy",
        "{bot}"
    );
    // The bot read the server's test clock, not the machine's.
    assert_eq!(
        s.outbound(session).await,
        [format!("Hello at {T0}."), "agent it is.".to_string()]
    );

    // An unknown agent is no dead end: the session goes to this channel's
    // queue, with a note saying why.
    let (id, secret) = s
        .channel(
            "Typo",
            json!({"plugin": "action-bot", "config": {"action": "agent", "target": "nobody"}}),
        )
        .await;
    let session = s.say((id, &secret), "m1", "v2", "hello").await;
    let detail = s.until_left_bot(session).await;
    assert_eq!(detail["session"]["state"], "queued", "{detail}");
    let note = s.bot(session).await["bot"]["note"].clone();
    assert!(
        note.as_str()
            .unwrap()
            .contains("\"nobody\", who does not exist"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a_bot_transfers_to_another_channels_queue() {
    let s = start(&[("fixtures/action-bot", "action_bot")]);
    // Billing's queue has an agent; the bot's own channel has none, so only
    // the transfer can bring the session to dee.
    let dee = s.agent("dee").await;
    let (status, billing) = s
        .api("POST", "/api/v1/channels", Some(json!({"name": "Billing"})))
        .await;
    assert_eq!(status, 201, "{billing}");
    let billing = billing["channel"]["id"].as_i64().unwrap();
    let queue = json!({"mode": "evenly", "forward_interval_secs": 180,
                       "unanswered_interval_secs": 600, "agents": [dee]});
    let (status, body) = s
        .api(
            "PUT",
            &format!("/api/v1/channels/{billing}/queue"),
            Some(queue),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (id, secret) = s
        .channel(
            "Front",
            json!({"plugin": "action-bot", "config": {"action": "queue", "target": "billing"}}),
        )
        .await;

    let session = s
        .say((id, &secret), "m1", "v1", "an invoice question")
        .await;
    let detail = s.until_left_bot(session).await;
    assert_eq!(
        detail["session"]["channel_id"], id,
        "the customer's channel stays"
    );
    assert_eq!(
        detail["session"]["agent_id"], dee,
        "Billing's queue routed it: {detail}"
    );
    let history = moves(&detail);
    assert_eq!(
        history[0],
        mv("bot", "first inbound message"),
        "{history:?}"
    );
    assert_eq!(
        history[1],
        mv("queued", "transferred_to_queue"),
        "{history:?}"
    );
    let bot = s.bot(session).await;
    assert_eq!(bot["bot"]["exit"], json!({"queue": billing}), "{bot}");
    assert_eq!(
        bot["bot"]["reason"], "the bot transferred the session to the queue of Billing",
        "{bot}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a3_a_bot_closes_the_session_and_the_goodbye_follows() {
    let s = start(&[("fixtures/action-bot", "action_bot")]);
    let (id, secret) = s
        .channel(
            "Shop",
            json!({"plugin": "action-bot", "config": {"action": "close"}}),
        )
        .await;
    let session = s.say((id, &secret), "m1", "v1", "thanks, bye").await;
    let detail = s.until_left_bot(session).await;
    // No close delay on this queue (A4), so it closes at once.
    assert_eq!(detail["session"]["state"], "closed", "{detail}");
    assert_eq!(detail["session"]["agent_id"], Value::Null, "{detail}");
    assert_eq!(
        moves(&detail),
        [
            mv("bot", "first inbound message"),
            mv("closed", "closed_by_agent")
        ],
        "{detail}"
    );
    let bot = s.bot(session).await;
    assert_eq!(bot["bot"]["exit"], "close", "{bot}");
    assert_eq!(bot["bot"]["reason"], "the customer said goodbye to the bot");
    // A3: the closed script says goodbye after the bot's last words.
    let out = s.until_outbound(session, 3).await;
    assert_eq!(out[..2], [format!("Hello at {T0}."), "close it is.".into()]);
    assert_eq!(
        out[2],
        "Thanks for contacting Shop. This conversation is now closed; just write again if you need anything else."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_a_bot_timer_fires_on_the_test_clock_and_not_before() {
    let s = start(&[("fixtures/action-bot", "action_bot")]);
    let (id, secret) = s
        .channel(
            "Shop",
            json!({"plugin": "action-bot", "timeout_secs": 30, "config": {"action": "timer"}}),
        )
        .await;
    let channel = (id, secret.as_str());
    let session = s.say(channel, "m1", "v1", "hi").await;
    // The greeting and the timer are written in one step, so once the bot
    // answered the first message the timer is set.
    let out = s.until_outbound(session, 2).await;
    assert_eq!(
        out,
        [format!("Hello at {T0}."), format!("Heard \"hi\" at {T0}.")]
    );

    // One millisecond short of the timer: the customer's message is handled
    // in order and the bot still holds the session.
    s.advance(TIMER_MS - 1).await;
    s.say(channel, "m2", "v1", "still there?").await;
    let out = s.until_outbound(session, 3).await;
    assert_eq!(
        out[2],
        format!("Heard \"still there?\" at {}.", T0 + TIMER_MS - 1)
    );
    assert_eq!(s.session(session).await["session"]["state"], "bot");

    // Now it is due: the bot is woken with it. The time it read proves it
    // did not fire before the clock reached it.
    s.advance(1).await;
    let detail = s.until_left_bot(session).await;
    assert_eq!(detail["session"]["state"], "queued", "{detail}");
    // The timer's text comes right after the answer to "still there?"; what
    // the queue says next (nobody is in it) is the engine's, not the bot's.
    let out = s.outbound(session).await;
    assert_eq!(
        out[3],
        format!("Timer nudge fired at {}.", T0 + TIMER_MS),
        "{out:?}"
    );
    let bot = s.bot(session).await;
    assert_eq!(bot["bot"]["note"], "the nudge timer fired", "{bot}");
    assert_eq!(moves(&detail)[1], mv("queued", "bot_handover"), "{detail}");
}
