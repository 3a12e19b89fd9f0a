//! Issue 14 items 11, 12 and 14 on Messenger, against the Graph API mock:
//! customers are greeted by the name Meta gives (or by none, never by their
//! PSID); a long reply under the agent's name line is cut at spaces within
//! the Send API's 2,000 characters; a refused Page subscription is explained
//! in the subscription's terms, not the Send API's.

use serde_json::json;

use super::graph_api::USER_TOKEN;
use super::{ANN, APP_SECRET, BEN, T0, VERIFY_TOKEN, delivery, text_event, world};

/// The default greeting (A1) starts with this, after `Hello{ name}!`.
const GREETING: &str = "Thanks for writing to Our Page";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i14_customers_are_greeted_by_metas_name_or_by_none() {
    let w = world(&[ANN, BEN]).await;
    w.graph.set_profile(ANN, "Ann", "Example");
    // BEN has no profile Meta will show: Graph answers error 100/33.
    for (psid, mid, at) in [
        (ANN, "m_a1", T0),
        (BEN, "m_b1", T0 + 1),
        (ANN, "m_a2", T0 + 2),
    ] {
        let (status, body) = w
            .deliver(&delivery(vec![vec![text_event(psid, mid, "Hi!", at)]]))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let greetings = w.graph.wait_for_sends(GREETING, 2).await;
    let to = |psid: &str| {
        greetings
            .iter()
            .find(|c| c.body["recipient"]["id"] == psid)
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_string()
    };
    assert!(to(ANN).starts_with("Hello Ann Example! "), "{}", to(ANN));
    assert!(to(BEN).starts_with("Hello! "), "{}", to(BEN));
    assert!(!to(BEN).contains(BEN), "no PSID in a greeting: {}", to(BEN));

    // Asked once per customer, as Meta documents it; the answer is kept.
    let asked = w.graph.profile_calls(ANN);
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].path, format!("/v24.0/{ANN}"));
    assert_eq!(asked[0].query["fields"], "first_name,last_name");
    assert_eq!(asked[0].query["access_token"], super::PAGE_TOKEN);
    assert_eq!(w.graph.profile_calls(BEN).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i11_a_long_reply_under_the_agents_name_is_cut_at_spaces() {
    let w = world(&[ANN]).await;
    let (status, answer) = w
        .deliver(&delivery(vec![vec![text_event(ANN, "m_1", "Hi!", T0)]]))
        .await;
    assert_eq!(status, 200, "{answer}");
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    // 4,499 characters of ten-character words, as in the issue.
    let words: Vec<String> = (1..=450).map(|i| format!("Wort{i:05}")).collect();
    let text = words.join(" ");
    let text = &text[..4499];
    w.reply(session, text).await;
    let parts = w.graph.wait_for_sends("Wort", 3).await;
    let parts: Vec<&str> = parts.iter().filter_map(|c| c.text()).collect();
    assert_eq!(parts.len(), 3, "{parts:?}");
    for part in &parts {
        assert!(part.chars().count() <= 2000, "{}", part.chars().count());
        let last = part.rsplit(' ').next().unwrap();
        assert!(
            words.iter().any(|w| w == last) || text.ends_with(last),
            "a part ends mid-word: …{last}"
        );
    }
    // I1: the name line leads the first part; nothing is lost or doubled.
    assert_eq!(parts.join(" "), format!("admin:\n{text}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i12_a_refused_subscription_is_not_explained_as_a_send() {
    let w = world(&[ANN]).await;
    let config = json!({
        "graph_base_url": w.graph.url(),
        "page_access_token": USER_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    });
    let (status, body) = w
        .http
        .api(
            "POST",
            &w.server.url("/api/v1/channels"),
            &w.token,
            Some(json!({"name": "User token", "kind": "facebook", "config": config})),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "provider_setup_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("the provider refused it"), "{message}");
    assert!(
        message.contains("nonexisting field (subscribed_apps)"),
        "Meta's words: {message}"
    );
    assert!(!message.contains("recipient"), "{message}");
    assert!(!message.contains(USER_TOKEN), "{message}");
}
