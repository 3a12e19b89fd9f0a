//! Statistics over HTTP (O6): who sees which rows (P1), range errors, CSV = JSON.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

const RANGE: &str = "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";

/// The body as text, with the content type.
async fn text(app: &Router, uri: &str, token: &str) -> (StatusCode, String, String) {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8_lossy(&bytes).into_owned())
}

struct Setup {
    w: World,
    a: i64,
    b: i64,
    bo: i64,
    sue: String,
}

/// Channel A with bo in its queue and two sessions (bo answers one),
/// channel B supervised by sue with one session.
async fn setup() -> Setup {
    let w = world().await;
    let bo = w.store.user_by_name("bo").await.unwrap().unwrap().id;
    let (sue_id, sue) = user(&w.store, "sue", Role::Supervisor).await;
    let (a, secret_a) = w.channel("A").await;
    let (b, secret_b) = w.channel("B").await;
    let q = json!({"mode": "evenly", "forward_interval_secs": 600, "unanswered_interval_secs": 600, "agents": [bo]});
    let (status, _) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{a}/queue"),
        Some(&w.admin),
        Some(q),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &w.app,
        "PUT",
        &format!("/api/v1/channels/{b}/supervisors"),
        Some(&w.admin),
        Some(json!({"users": [sue_id]})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut sessions = Vec::new();
    for (ch, secret, chat) in [
        (a, &secret_a, "a1"),
        (a, &secret_a, "a2"),
        (b, &secret_b, "b1"),
    ] {
        let (status, body) = w
            .hook(
                ch,
                secret,
                json!({"message_id": chat, "chat_id": chat, "text": "hello"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sessions.push(body["messages"][0]["session_id"].as_i64().unwrap());
    }
    let (status, body) = call(
        &w.app,
        "POST",
        &format!("/api/v1/sessions/{}/messages", sessions[0]),
        Some(&w.agent_a),
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    Setup { w, a, b, bo, sue }
}

fn rows(body: &Value) -> Vec<Value> {
    body["agents"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn o6_admins_see_all_supervisors_their_channels_agents_their_own_row() {
    let Setup { w, a, b, bo, sue } = setup().await;
    let stats = |ch: i64| format!("/api/v1/stats?channel={ch}&{RANGE}");

    let (status, body) = call(&w.app, "GET", &stats(a), Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["channel_name"], "A");
    assert_eq!(body["totals"]["sessions"], 2);
    assert_eq!(body["totals"]["first_response"]["count"], 1);
    let summed: i64 = rows(&body)
        .iter()
        .map(|r| r["sessions"].as_i64().unwrap())
        .sum();
    assert_eq!(summed, 2, "the rows add up to the totals: {body}");
    let bo_row = rows(&body)
        .into_iter()
        .find(|r| r["agent_id"] == bo)
        .expect("bo has a row");
    assert_eq!(bo_row["agent_name"], "bo");
    assert_eq!(bo_row["first_response"]["count"], 1);

    // The agent: their own row, no channel totals; nobody else's row.
    let (status, mine) = call(&w.app, "GET", &stats(a), Some(&w.agent_a), None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(mine["totals"].is_null(), "{mine}");
    assert_eq!(rows(&mine), vec![bo_row.clone()]);
    let uri = format!("{}&agent={}", stats(a), bo + 100);
    let (status, body) = call(&w.app, "GET", &uri, Some(&w.agent_a), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = call(&w.app, "GET", &stats(b), Some(&w.agent_a), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");

    // The supervisor: channel B, not A.
    let (status, body) = call(&w.app, "GET", &stats(b), Some(&sue), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totals"]["sessions"], 1);
    let (status, body) = call(&w.app, "GET", &stats(a), Some(&sue), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "channel_not_found");
    let (status, _, _) = text(&w.app, &stats(a).replace("stats?", "stats.csv?"), &sue).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An admin may ask for one agent's row, next to the totals.
    let uri = format!("{}&agent={bo}", stats(a));
    let (_, body) = call(&w.app, "GET", &uri, Some(&w.admin), None).await;
    assert_eq!(
        (body["totals"]["sessions"].as_i64(), rows(&body)),
        (Some(2), vec![bo_row])
    );
}

#[tokio::test]
async fn o6_bad_ranges_are_refused_naming_the_field() {
    let Setup { w, a, .. } = setup().await;
    for (query, code, needle) in [
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "invalid_input",
            "from must be before to",
        ),
        (
            "from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "invalid_input",
            "from must be before to",
        ),
        (
            "from=yesterday&to=2026-01-01T00:00:00Z",
            "invalid_input",
            "from: \"yesterday\"",
        ),
        (
            "from=2026-01-01T00:00:00Z&to=2026-13-01",
            "invalid_input",
            "to: ",
        ),
        (
            "from=2026-01-01T00:00:00Z",
            "invalid_query",
            "missing field `to`",
        ),
    ] {
        for path in ["stats", "stats.csv"] {
            let uri = format!("/api/v1/{path}?channel={a}&{query}");
            let (status, body) = call(&w.app, "GET", &uri, Some(&w.admin), None).await;
            assert_error(status, &body, StatusCode::BAD_REQUEST, code);
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(needle), "{query}: {message}");
        }
    }
}

#[tokio::test]
async fn o6_csv_has_a_header_and_the_same_figures_as_json() {
    let Setup { w, a, .. } = setup().await;
    let query = format!("channel={a}&{RANGE}");
    let (_, json) = call(
        &w.app,
        "GET",
        &format!("/api/v1/stats?{query}"),
        Some(&w.admin),
        None,
    )
    .await;
    let (status, kind, csv_text) =
        text(&w.app, &format!("/api/v1/stats.csv?{query}"), &w.admin).await;
    assert_eq!(status, StatusCode::OK, "{csv_text}");
    assert!(kind.starts_with("text/csv"), "{kind}");

    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let columns = [
        ("sessions", "/sessions"),
        ("unanswered", "/unanswered"),
        ("first_response_count", "/first_response/count"),
        ("first_response_median_ms", "/first_response/median_ms"),
        ("first_response_p90_ms", "/first_response/p90_ms"),
        ("resolution_count", "/resolution/count"),
        ("resolution_median_ms", "/resolution/median_ms"),
        ("resolution_p90_ms", "/resolution/p90_ms"),
        ("customer_ratings", "/customer_rating/count"),
        ("customer_rating_average", "/customer_rating/average"),
        ("supervisor_ratings", "/supervisor_rating/count"),
        ("supervisor_rating_average", "/supervisor_rating/average"),
        ("agent_id", "/agent_id"),
    ];
    let mut want_header = vec![
        "scope",
        "channel_id",
        "from",
        "to",
        "agent_id",
        "agent_name",
    ];
    want_header.extend(columns[..12].iter().map(|(c, _)| *c));
    assert_eq!(header, want_header);

    let mut expected = vec![("channel", json["totals"].clone())];
    expected.extend(rows(&json).into_iter().map(|r| ("agent", r)));
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), expected.len(), "{csv_text}");
    for (record, (scope, row)) in records.iter().zip(&expected) {
        let field = |name: &str| record[header.iter().position(|h| h == name).unwrap()].to_string();
        assert_eq!(field("scope"), *scope);
        assert_eq!(field("channel_id"), a.to_string());
        assert_eq!(field("from"), "2000-01-01T00:00:00Z");
        assert_eq!(field("to"), "2100-01-01T00:00:00Z");
        for (column, pointer) in columns {
            let want = row.pointer(pointer).cloned().unwrap_or(Value::Null);
            let got = field(column);
            match want.as_f64() {
                Some(n) => assert_eq!(got.parse::<f64>().ok(), Some(n), "{column}: {csv_text}"),
                None => assert_eq!(got, "", "{column} should be empty: {csv_text}"),
            }
        }
        if *scope == "agent" {
            assert_eq!(
                field("agent_name"),
                row["agent_name"].as_str().unwrap_or("")
            );
        }
    }
}
