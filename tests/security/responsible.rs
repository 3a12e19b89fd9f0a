//! Issue 14, item 1 (R14, C4): an agent cannot make themselves responsible
//! for a customer, and so cannot pull another channel's sessions to
//! themselves.

use serde_json::json;

use super::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r14_creating_a_contact_does_not_capture_another_channels_sessions() {
    let w = World::start();
    let (ann, ann_token) = w.user("ann", "agent").await;
    let (bob, _) = w.user("bob", "agent").await;
    let (own, _) = w.api_channel("Ann's channel").await;
    let (victim, victim_secret) = w.api_channel("Sales").await;
    w.queue(own, &[ann], json!({})).await;
    w.queue(victim, &[bob], json!({"route_to_responsible": true}))
        .await;

    // Ann records the CEO of a customer she does not serve.
    let (status, contact) = w
        .call(
            &ann_token,
            "POST",
            "/api/v1/contacts",
            Some(json!({"name": "Chief", "email": "ceo@victim.example"})),
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    assert_eq!(
        contact["responsible_user_id"],
        json!(null),
        "creating a contact makes nobody responsible: {contact}"
    );
    // Nor may she name herself.
    let (status, refused) = w
        .call(
            &ann_token,
            "POST",
            "/api/v1/contacts",
            Some(
                json!({"name": "Chief", "email": "ceo@victim.example", "responsible_user_id": ann}),
            ),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("responsible"),
        "{refused}"
    );

    // The CEO writes to Sales: Sales' own agent gets the session, and Ann
    // can neither see it nor read it.
    let session = w
        .customer_writes(
            victim,
            &victim_secret,
            "ceo-chat",
            "m-1",
            json!({"name": "CEO", "email": "ceo@victim.example"}),
        )
        .await;
    let routed = w.session_when(session, |s| !s["agent_id"].is_null()).await;
    assert_eq!(routed["agent_id"], json!(bob), "{routed}");
    for path in [
        format!("/api/v1/sessions/{session}"),
        format!("/api/v1/sessions/{session}/messages"),
    ] {
        let (status, answer) = w.call(&ann_token, "GET", &path, None).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
}
