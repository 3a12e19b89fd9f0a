//! Access across roles and channels (P1, P2), and hostile search input.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test]
async fn p1_agents_cannot_do_admin_work() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    let bo = w.store.user_by_name("bo").await.unwrap().unwrap();
    for (method, uri, body) in [
        (
            "POST",
            "/api/v1/channels".to_string(),
            Some(json!({"name": "Mine"})),
        ),
        ("GET", "/api/v1/users".to_string(), None),
        (
            "POST",
            "/api/v1/users".to_string(),
            Some(json!({"name": "eve", "role": "admin"})),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{}", bo.id),
            Some(json!({"vacation": true})),
        ),
        (
            "PUT",
            format!("/api/v1/channels/{ch}/queue"),
            Some(
                json!({"mode": "evenly", "forward_interval_secs": 60, "unanswered_interval_secs": 60, "agents": [bo.id]}),
            ),
        ),
        ("GET", "/api/v1/audit".to_string(), None),
        ("GET", "/api/v1/outbox".to_string(), None),
    ] {
        let (status, resp) = call(&w.app, method, &uri, Some(&w.agent_a), body).await;
        assert_error(status, &resp, StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(
        w.store
            .list_channels(crate::store::Viewer {
                user_id: 1,
                role: Role::Admin
            })
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(w.store.user_by_name("eve").await.unwrap().is_none());
    assert!(!w.store.user(bo.id).await.unwrap().unwrap().vacation);
}

/// An agent of channel A tries every resource of channel B by id: each answer
/// is the same "does not exist or you may not see it", and nothing changes.
#[tokio::test]
async fn p2_an_agent_cannot_reach_another_channels_things_by_changing_ids() {
    let w = world().await;
    let bo = w.store.user_by_name("bo").await.unwrap().unwrap();
    let (a, secret_a) = w.channel("A").await;
    let (b, secret_b) = w.channel("B").await;
    let q = json!({"mode": "evenly", "forward_interval_secs": 60, "unanswered_interval_secs": 60, "agents": [bo.id]});
    let (status, _) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{a}/queue"),
        Some(&w.admin),
        Some(q),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, in_a) = w
        .hook(
            a,
            &secret_a,
            json!({"message_id": "1", "chat_id": "ca", "text": "a"}),
        )
        .await;
    let (_, in_b) = w
        .hook(
            b,
            &secret_b,
            json!({"message_id": "1", "chat_id": "cb", "text": "b"}),
        )
        .await;
    let session_a = in_a["messages"][0]["session_id"].as_i64().unwrap();
    let session_b = in_b["messages"][0]["session_id"].as_i64().unwrap();
    let contact_b = w
        .store
        .session(
            crate::store::Viewer {
                user_id: 1,
                role: Role::Admin,
            },
            session_b,
        )
        .await
        .unwrap()
        .unwrap()
        .contact_id;

    // The agent's own channel works, so the refusals below are about access.
    let (status, _) = call(
        &w.app,
        "GET",
        &format!("/api/v1/sessions/{session_a}/messages"),
        Some(&w.agent_a),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let reply = Some(json!({"text": "sneaky"}));
    for (method, uri, body, code) in [
        (
            "GET",
            format!("/api/v1/channels/{b}"),
            None,
            "channel_not_found",
        ),
        (
            "GET",
            format!("/api/v1/channels/{b}/queue"),
            None,
            "channel_not_found",
        ),
        (
            "GET",
            format!("/api/v1/sessions/{session_b}"),
            None,
            "session_not_found",
        ),
        (
            "GET",
            format!("/api/v1/sessions/{session_b}/messages"),
            None,
            "session_not_found",
        ),
        (
            "POST",
            format!("/api/v1/sessions/{session_b}/messages"),
            reply.clone(),
            "session_not_found",
        ),
        (
            "GET",
            format!("/api/v1/contacts/{contact_b}"),
            None,
            "contact_not_found",
        ),
        (
            "GET",
            "/api/v1/sessions/999999".to_string(),
            None,
            "session_not_found",
        ),
    ] {
        let (status, resp) = call(&w.app, method, &uri, Some(&w.agent_a), body).await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, code);
    }
    // A missing id and a forbidden one read the same (P2).
    let (_, forbidden) = call(
        &w.app,
        "GET",
        &format!("/api/v1/sessions/{session_b}"),
        Some(&w.agent_a),
        None,
    )
    .await;
    let (_, missing) = call(
        &w.app,
        "GET",
        "/api/v1/sessions/999999",
        Some(&w.agent_a),
        None,
    )
    .await;
    assert_eq!(
        forbidden["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&session_b.to_string(), "N"),
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .replace("999999", "N")
    );
    for uri in [
        format!("/api/v1/sessions?channel_id={b}"),
        "/api/v1/contacts".to_string(),
        "/api/v1/channels".to_string(),
    ] {
        let (status, list) = call(&w.app, "GET", &uri, Some(&w.agent_a), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !list.to_string().contains("\"cb\"") && !list.to_string().contains("\"B\""),
            "{uri}: {list}"
        );
    }
    assert_eq!(
        w.message_count().await,
        2,
        "the refused reply stored nothing"
    );
}

#[tokio::test]
async fn search_and_filter_inputs_are_bound_not_spliced() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    w.hook(
        ch,
        &secret,
        json!({"message_id": "1", "chat_id": "c", "text": "t", "sender": {"name": "Zoe O'Hara"}}),
    )
    .await;
    for evil in [
        "' OR '1'='1",
        "%' OR 1=1 --",
        "\"; DROP TABLE sessions; --",
        "%",
        "_",
        "\\",
    ] {
        let q: String = url_escape(evil);
        for uri in [
            format!("/api/v1/sessions?q={q}"),
            format!("/api/v1/contacts?q={q}"),
            format!("/api/v1/sessions?state={q}"),
        ] {
            let (status, list) = call(&w.app, "GET", &uri, Some(&w.admin), None).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(list, json!([]), "{uri} matched rows it should not");
        }
    }
    let (_, found) = call(
        &w.app,
        "GET",
        &format!("/api/v1/sessions?q={}", url_escape("O'Hara")),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        w.message_count().await,
        1,
        "the sessions table is still there"
    );
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
