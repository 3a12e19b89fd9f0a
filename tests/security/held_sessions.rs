//! Issue 14, item 7 (R18, P2): an agent refused `take` cannot get the same
//! session another way, and a transfer tells nothing about people outside
//! the caller's channels.

use serde_json::{Value, json};

use super::World;

fn message(answer: &Value) -> &str {
    answer["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r18_only_the_holder_or_a_supervisor_acts_on_a_held_session() {
    let w = World::start();
    let (ann, ann_token) = w.user("ann", "agent").await;
    let (bob, bob_token) = w.user("bob", "agent").await;
    let (sue, sue_token) = w.user("sue", "supervisor").await;
    let (channel, secret) = w.api_channel("Support").await;
    w.queue(channel, &[ann], json!({})).await;
    let session = w
        .customer_writes(channel, &secret, "chat-1", "m-1", json!({"name": "Cy"}))
        .await;
    w.session_when(session, |s| s["agent_id"] == json!(ann))
        .await;
    // Bob joins the queue: he sees the session, which Ann holds.
    w.queue(channel, &[ann, bob], json!({})).await;
    w.admin(
        "PUT",
        &format!("/api/v1/channels/{channel}/supervisors"),
        Some(json!({"users": [sue]})),
    )
    .await;

    let base = format!("/api/v1/sessions/{session}");
    let (status, refused) = w
        .call(&bob_token, "POST", &format!("{base}/take"), None)
        .await;
    assert_eq!(status, 409, "{refused}");
    for (what, path, body) in [
        (
            "transfer to himself",
            "transfer",
            Some(json!({"agent_id": bob})),
        ),
        (
            "transfer to the queue",
            "transfer",
            Some(json!({"channel_id": channel})),
        ),
        ("close", "close", None),
        ("reply", "messages", Some(json!({"text": "It's Bob now"}))),
    ] {
        let (status, answer) = w
            .call(&bob_token, "POST", &format!("{base}/{path}"), body)
            .await;
        assert_eq!(status, 409, "Bob's {what} must be refused: {answer}");
        assert!(message(&answer).contains("held by"), "{what}: {answer}");
    }
    let held = w.session_when(session, |_| true).await;
    assert_eq!(held["agent_id"], json!(ann), "{held}");
    assert_ne!(held["state"], "closed");
    let messages = w.admin("GET", &format!("{base}/messages"), None).await;
    assert!(
        !messages.to_string().contains("It's Bob now"),
        "Bob's refused reply stored nothing: {messages}"
    );

    // The holder replies; the channel's supervisor may move the session.
    let (status, answer) = w
        .call(
            &ann_token,
            "POST",
            &format!("{base}/messages"),
            Some(json!({"text": "Ann here"})),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = w
        .call(
            &sue_token,
            "POST",
            &format!("{base}/transfer"),
            Some(json!({"agent_id": bob})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["agent_id"], json!(bob), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r18_a_transfer_to_someone_outside_the_callers_channels_answers_like_nobody() {
    let w = World::start();
    let (ann, ann_token) = w.user("ann", "agent").await;
    let (carl, _) = w.user("carl", "agent").await;
    let (channel, secret) = w.api_channel("Support").await;
    let (other, _) = w.api_channel("Billing").await;
    w.queue(channel, &[ann], json!({})).await;
    w.queue(other, &[carl], json!({})).await;
    w.admin(
        "PATCH",
        &format!("/api/v1/users/{carl}"),
        Some(json!({"dismissed": true})),
    )
    .await;
    let session = w
        .customer_writes(channel, &secret, "chat-1", "m-1", json!({"name": "Cy"}))
        .await;
    w.session_when(session, |s| s["agent_id"] == json!(ann))
        .await;

    let path = format!("/api/v1/sessions/{session}/transfer");
    let (status, to_carl) = w
        .call(&ann_token, "POST", &path, Some(json!({"agent_id": carl})))
        .await;
    let (nobody_status, to_nobody) = w
        .call(
            &ann_token,
            "POST",
            &path,
            Some(json!({"agent_id": 999_999})),
        )
        .await;
    assert_eq!(status, 404, "{to_carl}");
    assert_eq!(nobody_status, 404, "{to_nobody}");
    assert_eq!(to_carl["error"]["code"], to_nobody["error"]["code"]);
    assert_eq!(
        message(&to_carl).replace(&carl.to_string(), "N"),
        message(&to_nobody).replace("999999", "N"),
        "the same answer as for a user who does not exist"
    );
    assert!(!message(&to_carl).contains("dismissed"), "{to_carl}");
}
