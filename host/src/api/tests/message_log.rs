//! The message log (O2): a contact's sessions, and a session's exports.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

/// The body as text, with the content disposition.
async fn download(app: &Router, uri: &str, token: &str) -> (StatusCode, String, String) {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        disposition,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// A customer message to channel `ch`; returns the session id.
async fn write(w: &World, ch: i64, secret: &str, id: &str, text: &str) -> i64 {
    let msg =
        json!({"message_id": id, "chat_id": "mia", "text": text, "sender": {"name": "Mia Roe"}});
    let (status, body) = w.hook(ch, secret, msg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"][0]["session_id"].as_i64().unwrap()
}

async fn reply(w: &World, session: i64, text: &str) {
    let (status, body) = call(
        &w.app,
        "POST",
        &format!("/api/v1/sessions/{session}/messages"),
        Some(&w.admin),
        Some(json!({"text": text})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn close(w: &World, session: i64) {
    let (status, body) = call(
        &w.app,
        "POST",
        &format!("/api/v1/sessions/{session}/close"),
        Some(&w.admin),
        None,
    )
    .await;
    assert!(status.is_success(), "{body}");
}

#[tokio::test]
async fn o2_export_json_has_the_session_history_messages_with_authors_and_ratings() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let session = write(&w, ch, &secret, "m1", "hello").await;
    reply(&w, session, "hi there").await;
    let (status, body) = call(
        &w.app,
        "POST",
        &format!("/api/v1/sessions/{session}/ratings"),
        Some(&w.admin),
        Some(json!({"score": 4})),
    )
    .await;
    assert!(status.is_success(), "{body}");

    let uri = format!("/api/v1/sessions/{session}/export.json");
    let (status, disposition, text) = download(&w.app, &uri, &w.admin).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        disposition.contains(&format!("session-{session}.json")),
        "{disposition}"
    );
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["session"]["id"], session);
    assert_eq!(export["channel"]["name"], "Site");
    assert_eq!(export["contact"]["name"], "Mia Roe");
    assert!(
        !export["history"].as_array().unwrap().is_empty(),
        "{export}"
    );
    assert!(export["history"][0]["from_state"].is_null(), "{export}");
    let messages = export["messages"].as_array().unwrap();
    let by_body = |body: &str| messages.iter().find(|m| m["body"] == body).cloned();
    let hello = by_body("hello").expect("the customer's message");
    assert_eq!(
        hello["author"],
        json!({"kind": "customer", "id": null, "name": "Mia Roe"})
    );
    let hi = by_body("hi there").expect("the agent's reply");
    assert_eq!(
        hi["author"],
        json!({"kind": "agent", "id": 1, "name": "ada"})
    );
    assert!(hi["created_at"].as_i64().unwrap() >= hello["created_at"].as_i64().unwrap());
    // The auto-reply (A1) is the system's, named after the channel.
    assert!(
        messages
            .iter()
            .any(|m| m["author"]["kind"] == "system" && m["author"]["name"] == "Site"),
        "{export}"
    );
    assert_eq!(export["ratings"][0]["score"], 4);

    // Someone who may not see the session gets the usual 404 (P2).
    for path in ["export.json", "transcript.txt"] {
        let uri = format!("/api/v1/sessions/{session}/{path}");
        let (status, body) = call(&w.app, "GET", &uri, Some(&w.agent_a), None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "session_not_found");
    }
}

#[tokio::test]
async fn o2_transcript_shows_channel_dates_and_timed_lines_in_the_channel_zone() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let hours = json!({"config": {"working_hours": {"time_zone": "Asia/Kolkata", "days": {"mon": ["09:00-17:00"]}}}});
    let (status, body) = call(
        &w.app,
        "PATCH",
        &format!("/api/v1/channels/{ch}"),
        Some(&w.admin),
        Some(hours),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = write(&w, ch, &secret, "m1", "hello\nsecond line").await;
    reply(&w, session, "hi there").await;
    close(&w, session).await;

    let uri = format!("/api/v1/sessions/{session}/transcript.txt");
    let (status, disposition, text) = download(&w.app, &uri, &w.admin).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        disposition.contains(&format!("session-{session}.txt")),
        "{disposition}"
    );
    let messages = w.store.messages(session, 0, 100).await.unwrap();
    let at = |body: &str| {
        let m = messages.iter().find(|m| m.body == body).unwrap();
        jiff::Timestamp::from_millisecond(m.created_at)
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Kolkata").unwrap())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("Transcript of session {session}").as_str())
    );
    assert_eq!(lines.next(), Some("Channel: Site"));
    assert_eq!(lines.next(), Some("Customer: Mia Roe"));
    assert!(lines.next().unwrap().starts_with("Started: "), "{text}");
    let closed = lines.next().unwrap();
    assert!(
        closed.starts_with("Closed: ") && !closed.contains("still open"),
        "{text}"
    );
    assert_eq!(lines.next(), Some("Times are in Asia/Kolkata."));
    assert!(
        text.contains(&format!(
            "[{}] Mia Roe: hello\n  second line\n",
            at("hello\nsecond line")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("[{}] ada: hi there\n", at("hi there"))),
        "{text}"
    );
}

#[tokio::test]
async fn o2_a_contacts_card_lists_every_session_with_messages_newest_first() {
    let w = world().await;
    let (ch, secret) = w.channel("Site").await;
    let first = write(&w, ch, &secret, "m1", "first visit").await;
    reply(&w, first, "welcome").await;
    close(&w, first).await;
    let second = write(&w, ch, &secret, "m2", "second visit").await;
    assert_ne!(
        first, second,
        "a message after closing opens a new session (S2)"
    );
    let contact = w
        .store
        .session(
            crate::store::Viewer {
                user_id: 1,
                role: Role::Admin,
            },
            first,
        )
        .await
        .unwrap()
        .unwrap()
        .contact_id;

    let uri = format!("/api/v1/contacts/{contact}/sessions");
    let (status, page) = call(&w.app, "GET", &uri, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<i64> = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![second, first]);
    assert!(page["next_before"].is_null());
    let bodies: Vec<&str> = page["sessions"][1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"first visit") && bodies.contains(&"welcome"),
        "{bodies:?}"
    );
    assert_eq!(page["sessions"][1]["more_messages"], false);

    // One per page: the cursor walks back to the first session.
    let (_, one) = call(
        &w.app,
        "GET",
        &format!("{uri}?limit=1"),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(one["sessions"][0]["session"]["id"], second);
    let before = one["next_before"].as_i64().unwrap();
    let (_, two) = call(
        &w.app,
        "GET",
        &format!("{uri}?limit=1&before={before}"),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(two["sessions"][0]["session"]["id"], first);
    assert!(two["next_before"].is_null(), "{two}");

    // An agent outside the channel sees nothing of it (P2).
    let (status, body) = call(&w.app, "GET", &uri, Some(&w.agent_a), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "contact_not_found");
    let (status, body) = call(
        &w.app,
        "GET",
        "/api/v1/contacts/999999/sessions",
        Some(&w.admin),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "contact_not_found");
}
