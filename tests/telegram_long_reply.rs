//! Issue 14 item 11 on Telegram: a reply longer than a message, under the
//! agent's name line (I1), reaches the customer in parts cut at spaces, each
//! within Telegram's 4,096 UTF-16 code units, with nothing lost or doubled.

use serde_json::json;

use super::{SECRET, TOKEN, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i11_a_long_reply_under_the_agents_name_is_cut_at_spaces() {
    let w = world().await;
    let config = json!({"api_base_url": w.front.api_base_url(), "bot_token": TOKEN,
                        "webhook_secret": SECRET, "agent_identity": {"mode": "profile"}});
    let (status, created) = w
        .api(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Shop bot", "kind": "telegram", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    w.customer_says("Tell me everything").await;
    w.front.wait_pushes(1).await;
    let (_, sessions) = w.api("GET", "/api/v1/sessions", None).await;
    let session = sessions[0]["id"].as_i64().unwrap();

    // 9,999 characters: a thousand nine-letter words, as in the issue.
    let words: Vec<String> = (1..=1000).map(|i| format!("wort{i:05}")).collect();
    let text = words.join(" ");
    assert_eq!(text.len(), 9999);
    w.reply(session, &text).await;
    let is_part = |c: &super::telegram_peers::Call| {
        c.method == "sendMessage" && c.body["text"].as_str().is_some_and(|t| t.contains("wort"))
    };
    w.front
        .wait_call("the reply's last part", |c| {
            is_part(c) && c.body["text"].as_str().unwrap().ends_with("wort01000")
        })
        .await;
    let parts: Vec<String> = w
        .front
        .calls(|c| is_part(c) && c.status == 200)
        .iter()
        .map(|c| c.body["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(parts.len(), 3, "{parts:?}");
    for part in &parts {
        assert!(part.encode_utf16().count() <= 4096, "{}", part.len());
        let last = part.rsplit(' ').next().unwrap();
        assert!(
            words.iter().any(|w| w == last),
            "a part ends mid-word: …{last}"
        );
    }
    assert_eq!(parts.join(" "), format!("admin:\n{text}"));
}
