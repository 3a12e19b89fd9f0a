//! Send API requests and Graph error classes, against Meta's documented shapes.

use frontdesk_plugin_api::{
    Attachment, AttachmentKind, ChannelContext, ConnectorError, OutboundMessage, http,
};
use serde_json::{Value, json};

use super::*;

fn ctx(config: Value) -> ChannelContext {
    ChannelContext {
        channel_id: "7".into(),
        config_json: config.to_string(),
        secrets: vec![
            ("page_access_token".into(), "EAAG+token/with=chars".into()),
            ("app_secret".into(), "s".into()),
        ],
    }
}

fn reply(text: Option<&str>) -> OutboundMessage {
    OutboundMessage {
        external_chat_id: "6245001234567890".into(),
        outbox_id: "12".into(),
        text: text.map(str::to_owned),
        attachments: Vec::new(),
        quick_replies: Vec::new(),
        in_reply_to: None,
        author_name: None,
        author_avatar: None,
    }
}

fn response(status: u16, body: Value, headers: &[(&str, &str)]) -> http::Response {
    http::Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.to_string().into_bytes(),
    }
}

fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error =
        json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    json!({ "error": error })
}

#[test]
fn a_text_reply_is_one_send_api_call_with_the_page_token() {
    let graph = Graph::from_ctx(&ctx(json!({}))).unwrap();
    let parts = parts(&reply(Some("Hello there"))).unwrap();
    assert_eq!(parts, [json!({"text": "Hello there"})]);
    let request = graph.send_request("6245001234567890", &parts[0]);
    assert_eq!(request.method, http::Method::Post);
    // The default endpoint, and the token percent-encoded in the query.
    assert_eq!(
        request.url,
        "https://graph.facebook.com/v24.0/me/messages?access_token=EAAG%2Btoken%2Fwith%3Dchars"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"recipient": {"id": "6245001234567890"}, "messaging_type": "RESPONSE", "message": {"text": "Hello there"}})
    );
    assert!(
        request
            .headers
            .contains(&("content-type".into(), "application/json".into()))
    );
}

#[test]
fn base_url_version_and_timeout_come_from_the_channel() {
    let graph = Graph::from_ctx(&ctx(json!({
        "graph_base_url": "http://127.0.0.1:4040/",
        "graph_version": "v21.0",
        "send_timeout_ms": 700
    })))
    .unwrap();
    let request = graph.send_request("1", &json!({"text": "x"}));
    assert!(
        request
            .url
            .starts_with("http://127.0.0.1:4040/v21.0/me/messages?access_token=")
    );
    assert_eq!(request.timeout_ms, Some(700));
    let subscribe = graph.subscribe_request();
    assert!(subscribe.url.starts_with(
        "http://127.0.0.1:4040/v21.0/me/subscribed_apps?subscribed_fields=messages,messaging_postbacks,message_edits&access_token="
    ));
    for bad in ["21.0", "v21", "v21.x", "v21.0.1", "latest"] {
        let err = Graph::from_ctx(&ctx(json!({"graph_version": bad}))).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Permanent(m) if m.contains("v24.0")),
            "{bad}: {err:?}"
        );
    }
    let no_token = ChannelContext {
        secrets: Vec::new(),
        ..ctx(json!({}))
    };
    assert!(matches!(
        Graph::from_ctx(&no_token),
        Err(ConnectorError::Permanent(m)) if m.contains("page_access_token")
    ));
}

#[test]
fn long_texts_split_at_2000_characters_and_attachments_follow_by_url() {
    let long = format!("{} {}", "a".repeat(1500), "ü".repeat(1000));
    let mut msg = reply(Some(&long));
    msg.attachments.push(Attachment {
        kind: AttachmentKind::Image,
        url: Some("https://example.org/cat.png".into()),
        provider_file_id: None,
        file_name: None,
        mime_type: None,
        size_bytes: None,
        data: None,
    });
    msg.quick_replies = vec!["Yes".into(), "A very long quick reply title".into()];
    let parts = parts(&msg).unwrap();
    assert_eq!(parts.len(), 3);
    let first = parts[0]["text"].as_str().unwrap();
    let second = parts[1]["text"].as_str().unwrap();
    assert_eq!(first, "a".repeat(1500), "cut at the space");
    assert_eq!(second, "ü".repeat(1000));
    assert_eq!(
        parts[2]["attachment"],
        json!({"type": "image", "payload": {"url": "https://example.org/cat.png", "is_reusable": true}})
    );
    // Quick replies ride on the last part, titles cut to Messenger's 20.
    assert_eq!(
        parts[2]["quick_replies"][1]["title"],
        "A very long quick re"
    );
    assert_eq!(
        parts[2]["quick_replies"][1]["payload"],
        "A very long quick reply title"
    );
    assert!(parts[0].get("quick_replies").is_none());

    let unbroken = "x".repeat(4001);
    let parts = super::parts(&reply(Some(&unbroken))).unwrap();
    let lens: Vec<usize> = parts
        .iter()
        .map(|p| p["text"].as_str().unwrap().len())
        .collect();
    assert_eq!(lens, [2000, 2000, 1]);
}

#[test]
fn replies_messenger_cannot_carry_are_refused_with_the_reason() {
    let err = parts(&reply(None)).unwrap_err();
    assert!(
        matches!(err, ConnectorError::Permanent(m) if m.contains("neither text nor attachments"))
    );
    let mut bytes_only = reply(None);
    bytes_only.attachments.push(Attachment {
        kind: AttachmentKind::File,
        url: None,
        provider_file_id: None,
        file_name: Some("a.pdf".into()),
        mime_type: None,
        size_bytes: None,
        data: Some(vec![1, 2]),
    });
    let err = parts(&bytes_only).unwrap_err();
    assert!(matches!(err, ConnectorError::Permanent(m) if m.contains("by URL")));
}

#[test]
fn the_receipt_is_the_send_api_message_id() {
    let ok = response(
        200,
        json!({"recipient_id": "6245001234567890", "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"}),
        &[],
    );
    assert_eq!(
        receipt(&ok).external_message_id.as_deref(),
        Some("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM")
    );
}

#[test]
fn graph_errors_map_to_what_the_outbox_should_do() {
    let rate = graph_error(
        613,
        None,
        "(#613) Calls to this api have exceeded the rate limit.",
    );
    assert!(
        matches!(classify(&response(400, rate.clone(), &[])), ConnectorError::Transient(m) if m.contains("613") && m.contains("AbCdEf"))
    );
    match classify(&response(429, rate, &[("Retry-After", "30")])) {
        ConnectorError::RateLimited(limit) => assert_eq!(limit.retry_after_ms, 30_000),
        other => panic!("{other:?}"),
    }
    for code in [4, 17, 32, 80006] {
        let e = classify(&response(400, graph_error(code, None, "throttled"), &[]));
        assert!(matches!(e, ConnectorError::Transient(_)), "{code}: {e:?}");
    }
    for (status, body) in [
        (
            500,
            graph_error(
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            ),
        ),
        (500, graph_error(1, None, "An unknown error occurred")),
        (
            400,
            graph_error(
                1200,
                None,
                "Temporary send message failure. Please try again later",
            ),
        ),
        (
            400,
            json!({"error": {"message": "x", "code": 9999, "is_transient": true}}),
        ),
        (503, json!({"error": {"message": "x", "code": 9999}})),
    ] {
        let e = classify(&response(status, body.clone(), &[]));
        assert!(matches!(e, ConnectorError::Transient(_)), "{body}: {e:?}");
    }
    for (body, needle) in [
        (
            graph_error(
                190,
                Some(463),
                "Error validating access token: Session has expired",
            ),
            "page_access_token",
        ),
        (
            graph_error(
                10,
                Some(2018278),
                "(#10) This message is sent outside of allowed window.",
            ),
            "messaging window",
        ),
        (
            graph_error(200, None, "(#200) Requires pages_messaging permission"),
            "permission",
        ),
        (
            graph_error(100, Some(2018001), "(#100) No matching user found"),
            "cannot be messaged",
        ),
        (
            graph_error(551, Some(1545041), "This person isn't available right now."),
            "cannot be messaged",
        ),
        (
            graph_error(100, None, "(#100) Param recipient must be non-empty"),
            "cannot be messaged",
        ),
    ] {
        let e = classify(&response(400, body.clone(), &[]));
        assert!(
            matches!(&e, ConnectorError::Permanent(m) if m.contains(needle)),
            "{body}: {e:?}"
        );
    }
    // No Graph error body: the HTTP status decides.
    let gateway = http::Response {
        status: 502,
        headers: Vec::new(),
        body: b"<html>Bad Gateway</html>".to_vec(),
    };
    assert!(matches!(classify(&gateway), ConnectorError::Transient(_)));
    let gone = http::Response {
        status: 404,
        headers: Vec::new(),
        body: Vec::new(),
    };
    assert!(matches!(classify(&gone), ConnectorError::Permanent(_)));
}
