//! Scripts, channel settings, canned responses and ratings over HTTP (A1–A6, W1, Q3, P4).

use axum::http::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test]
async fn a1_saving_a_script_compiles_first_keeps_versions_and_restores() {
    let w = world().await;
    let url = "/api/v1/scripts/first_message";
    let good = json!({"source": "reply(\"Hi from v1\")"});
    let (status, v1) = call(&w.app, "PUT", url, Some(&w.admin), Some(good)).await;
    assert_eq!(status, StatusCode::OK, "{v1}");

    // A broken script says where, and v1 keeps running.
    let (status, body) = call(
        &w.app,
        "PUT",
        url,
        Some(&w.admin),
        Some(json!({"source": "reply(\n\"x\" +"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "script_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{body}"
    );
    let (_, scripts) = call(&w.app, "GET", "/api/v1/scripts", Some(&w.admin), None).await;
    let a1 = scripts
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hook"] == "first_message")
        .unwrap()
        .clone();
    assert_eq!(
        (
            a1["custom"].clone(),
            a1["source"].clone(),
            a1["spec_id"].clone()
        ),
        (json!(true), json!("reply(\"Hi from v1\")"), json!("A1"))
    );

    // The running script answers a new customer.
    let (ch, secret) = w.channel("Site").await;
    let (_, accepted) = w
        .hook(
            ch,
            &secret,
            json!({"message_id": "1", "chat_id": "c", "text": "hi"}),
        )
        .await;
    let session = accepted["messages"][0]["session_id"].as_i64().unwrap();
    let mut greeted = false;
    for _ in 0..1000 {
        let messages = w.store.messages(session, 0, 100).await.unwrap();
        if messages.iter().any(|m| m.body == "Hi from v1") {
            greeted = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(greeted, "the saved A1 script did not answer");

    let v2 = json!({"source": "reply(\"Hi from v2\")"});
    call(&w.app, "PUT", url, Some(&w.admin), Some(v2)).await;
    let (_, versions) = call(
        &w.app,
        "GET",
        &format!("{url}/versions"),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
    let restore = format!("{url}/versions/{}/restore", v1["id"]);
    let (status, restored) = call(&w.app, "POST", &restore, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["source"], "reply(\"Hi from v1\")");
    let (status, _) = call(&w.app, "DELETE", url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, audit) = call(&w.app, "GET", "/api/v1/audit", Some(&w.admin), None).await;
    let saves = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "rules.save")
        .count();
    assert_eq!(saves, 4, "v1, v2, the restore and the reset are audited");

    let (status, body) = call(
        &w.app,
        "PUT",
        "/api/v1/scripts/no_such_hook",
        Some(&w.admin),
        Some(json!({"source": "1"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "hook_not_found");
    let (status, body) = call(
        &w.app,
        "PUT",
        url,
        Some(&w.agent_a),
        Some(json!({"source": "1"})),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn w1_channel_settings_are_validated_with_the_field_named() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    let url = format!("/api/v1/channels/{ch}");
    let bad = json!({"config": {"working_hours": {"time_zone": "Mars/Olympus", "days": {}}}});
    let (status, body) = call(&w.app, "PATCH", &url, Some(&w.admin), Some(bad)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("working_hours"),
        "{body}"
    );
    let bad_url = json!({"config": {"callback_url": "ftp://example.org"}});
    let (status, body) = call(&w.app, "PATCH", &url, Some(&w.admin), Some(bad_url)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("callback_url"),
        "{body}"
    );
    for (bad, field) in [
        (json!({"consent": {"text": "  "}}), "consent.text"),
        (json!({"consent": "yes please"}), "config.consent"),
        (
            json!({"consent": {"text": "ok", "version": 0}}),
            "consent.version",
        ),
    ] {
        let (status, body) = call(
            &w.app,
            "PATCH",
            &url,
            Some(&w.admin),
            Some(json!({ "config": bad })),
        )
        .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "G1 names {field}: {message}");
    }
    let good = json!({"name": "Website", "config": {"language": "de", "working_hours": {"time_zone": "Europe/Berlin", "days": {"mon": ["09:00-17:00"]}}}});
    let (status, body) = call(&w.app, "PATCH", &url, Some(&w.admin), Some(good)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["name"].as_str(), body["config"]["language"].as_str()),
        (Some("Website"), Some("de"))
    );
}

#[tokio::test]
async fn a6_canned_responses_are_validated_and_visible_to_the_channels_agents() {
    let w = world().await;
    let (ch, _) = w.channel("Site").await;
    let url = format!("/api/v1/channels/{ch}/canned");
    let lists = json!({"lists": [{"name": "Greetings", "responses": [{"name": "Hello", "shortcut": "/hi", "text": "Hello! How can I help?"}]}]});
    let (status, body) = call(&w.app, "PUT", &url, Some(&w.admin), Some(lists.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = call(&w.app, "GET", &url, Some(&w.admin), None).await;
    assert_eq!(got["lists"][0]["responses"][0]["shortcut"], "/hi");
    let bad = json!({"lists": [{"name": "", "responses": []}]});
    let (status, body) = call(&w.app, "PUT", &url, Some(&w.admin), Some(bad)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lists[0]"),
        "{body}"
    );
    // An agent outside the channel cannot read them.
    let (status, body) = call(&w.app, "GET", &url, Some(&w.agent_a), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");
}

#[tokio::test]
async fn q3_supervisors_rate_sessions_with_a_comment_and_agents_cannot() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let (_, accepted) = w
        .hook(
            ch,
            &secret,
            json!({"message_id": "1", "chat_id": "c", "text": "hi"}),
        )
        .await;
    let session = accepted["messages"][0]["session_id"].as_i64().unwrap();
    let (_, sup) = user(&w.store, "sue", Role::Supervisor).await;
    let sue = w.store.user_by_name("sue").await.unwrap().unwrap();
    w.store.set_supervisors(1, ch, &[sue.id], 0).await.unwrap();
    let url = format!("/api/v1/sessions/{session}/ratings");
    let (status, body) = call(&w.app, "POST", &url, Some(&sup), Some(json!({"score": 6}))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, body) = call(
        &w.app,
        "POST",
        &url,
        Some(&sup),
        Some(json!({"score": 4, "comment": "Friendly, a bit slow"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, ratings) = call(&w.app, "GET", &url, Some(&sup), None).await;
    assert_eq!(ratings[0]["comment"], "Friendly, a bit slow");
    assert_eq!(ratings[0]["rater"], "supervisor");
    let (status, body) = call(
        &w.app,
        "POST",
        &url,
        Some(&w.agent_a),
        Some(json!({"score": 1})),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn u2_check_and_test_a_script_without_saving_it() {
    let w = world().await;
    let (status, body) = call(
        &w.app,
        "POST",
        "/api/v1/scripts/check",
        Some(&w.admin),
        Some(json!({"source": "let x = 1;\nreply(\"a\" +"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errors"][0]["line"], 2, "{body}");
    assert!(body["errors"][0]["column"].as_u64().unwrap() > 0, "{body}");
    let (_, body) = call(
        &w.app,
        "POST",
        "/api/v1/scripts/check",
        Some(&w.admin),
        Some(json!({"source": "reply(\"a\")"})),
    )
    .await;
    assert_eq!(body["errors"], json!([]));

    let event = json!({"now": 1767604200000_i64,
        "session": {"id": 9, "state": "offered", "started_at": 1767603600000_i64,
            "last_message_at": 1767603600000_i64, "customer_messages": 1,
            "last_author": "customer", "unanswered": true},
        "channel": {"name": "Support", "mode": "strict"}});
    let (status, body) = call(
        &w.app,
        "POST",
        "/api/v1/scripts/test",
        Some(&w.admin),
        Some(json!({"hook": "no_answer", "source": "reply(\"still here\")", "event": event})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["actions"],
        json!([{"action": "reply", "text": "still here"}]),
        "{body}"
    );
    // The engine's checks apply: A2 can't requeue outside evenly mode.
    let (status, body) = call(
        &w.app,
        "POST",
        "/api/v1/scripts/test",
        Some(&w.admin),
        Some(json!({"hook": "no_answer", "source": "back_to_queue()", "event": event})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "script_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("source: "),
        "{body}"
    );
    // Checking and testing are for admins; supervisors may read the scripts.
    let (status, _) = call(
        &w.app,
        "POST",
        "/api/v1/scripts/check",
        Some(&w.agent_a),
        Some(json!({"source": "1"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn w1_time_zones_and_the_hours_preview() {
    let w = world().await;
    let (status, zones) = call(&w.app, "GET", "/api/v1/time-zones", Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        zones
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z == "Europe/Berlin")
    );
    let (ch, _) = w.channel("Site").await;
    let url = format!("/api/v1/channels/{ch}/hours/preview");
    let (status, p) = call(&w.app, "GET", &url, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(
        (p["always_open"].clone(), p["open"].clone()),
        (json!(true), json!(true))
    );
    let hours = json!({"config": {"working_hours": {"time_zone": "Pacific/Kiritimati",
        "days": {"mon": ["00:00-00:01"]}, "holidays": []}}});
    let (status, body) = call(
        &w.app,
        "PATCH",
        &format!("/api/v1/channels/{ch}"),
        Some(&w.admin),
        Some(hours),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, p) = call(&w.app, "GET", &url, Some(&w.admin), None).await;
    assert_eq!(p["time_zone"], "Pacific/Kiritimati");
    let blank = json!({"config": {"off_hours_text": "  "}});
    let (status, body) = call(
        &w.app,
        "PATCH",
        &format!("/api/v1/channels/{ch}"),
        Some(&w.admin),
        Some(blank),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("config.off_hours_text"),
        "{body}"
    );
    assert_eq!(p["always_open"], false);
    if p["open"] == false {
        assert!(
            p["next_open_local"].as_str().unwrap().starts_with("Monday"),
            "{p}"
        );
    }
}
