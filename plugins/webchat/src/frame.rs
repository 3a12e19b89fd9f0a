//! The widget's frames, as pure functions so they test natively.

use frontdesk_plugin_api::{
    ConnectorError, InboundMessage, InboundRequest, OutboundMessage, Sender,
};
use serde::Deserialize;
use serde_json::json;

/// Set by the host after it checked the visitor's token; never by a browser.
pub const VISITOR_HEADER: &str = "x-frontdesk-visitor";
/// The visitor's name as they gave it in the pre-chat form, if they did.
pub const NAME_HEADER: &str = "x-frontdesk-visitor-name";

/// The longest message a visitor may send, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// A client frame of type `message`.
#[derive(Debug, Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    client_id: String,
    text: String,
}

/// The visitor id the host vouches for; a request without one did not come
/// through the widget's socket.
pub fn visitor(req: &InboundRequest) -> Result<&str, ConnectorError> {
    req.header(VISITOR_HEADER)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ConnectorError::Unauthorized(
                "webchat messages come only through the widget's WebSocket (/chat/{channel}/ws)"
                    .to_string(),
            )
        })
}

/// A client id is the widget's own message id: 1-64 of A-Z a-z 0-9 `-` `_`.
fn valid_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A visitor's `message` frame as a normalized inbound message.
///
/// The external message id is `{visitor}/{client_id}`: a resend after a
/// reload or reconnect carries the same client id and is stored once (S3),
/// and one visitor's ids can never collide with another's.
pub fn parse(req: &InboundRequest) -> Result<InboundMessage, ConnectorError> {
    let visitor = visitor(req)?;
    let frame: ClientMessage = serde_json::from_slice(&req.body).map_err(|e| {
        ConnectorError::Malformed(format!(
            "a message frame is {{\"type\":\"message\",\"client_id\",\"text\"}}: {e}"
        ))
    })?;
    if frame.kind != "message" {
        return Err(ConnectorError::Malformed(format!(
            "frame type {:?} is not a message",
            frame.kind
        )));
    }
    if !valid_client_id(&frame.client_id) {
        return Err(ConnectorError::Malformed(
            "client_id must be 1-64 characters of A-Z, a-z, 0-9, '-' and '_'".to_string(),
        ));
    }
    let text = frame.text.trim();
    if text.is_empty() {
        return Err(ConnectorError::Malformed(
            "the message text is empty".to_string(),
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ConnectorError::Malformed(format!(
            "the message is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let mut sender = Sender::id(visitor);
    sender.name = req
        .header(NAME_HEADER)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Ok(InboundMessage {
        external_chat_id: visitor.to_string(),
        external_message_id: format!("{visitor}/{}", frame.client_id),
        sender,
        text: Some(text.to_string()),
        attachments: Vec::new(),
        sent_at_ms: None,
        in_reply_to: None,
        edit_of: None,
    })
}

/// An outbound message as the widget's frame. The host adds the message id,
/// the time and who wrote it (agent, bot or system) before pushing it.
pub fn render(msg: &OutboundMessage) -> Vec<u8> {
    let author = msg.author_name.as_ref().map(|name| {
        json!({
            "name": name,
            "avatar_url": msg.author_avatar,
        })
    });
    json!({
        "type": "message",
        "outbox_id": msg.outbox_id,
        "text": msg.text.clone().unwrap_or_default(),
        "author": author,
        "quick_replies": msg.quick_replies,
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], body: &str) -> InboundRequest {
        InboundRequest {
            method: "POST".into(),
            path: String::new(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_frame_becomes_a_message_keyed_by_visitor_and_client_id() {
        let req = request(
            &[("X-Frontdesk-Visitor", "v:abc"), (NAME_HEADER, " Ann ")],
            r#"{"type":"message","client_id":"7f3e-1","text":" hi there "}"#,
        );
        let m = parse(&req).unwrap();
        assert_eq!(m.external_chat_id, "v:abc");
        assert_eq!(m.external_message_id, "v:abc/7f3e-1");
        assert_eq!(m.sender.external_id, "v:abc");
        assert_eq!(m.sender.name.as_deref(), Some("Ann"));
        assert_eq!(m.text.as_deref(), Some("hi there"));
    }

    #[test]
    fn s3_the_same_client_id_gives_the_same_external_id_and_visitors_never_collide() {
        let body = r#"{"type":"message","client_id":"c1","text":"x"}"#;
        let a = parse(&request(&[(VISITOR_HEADER, "v:a")], body)).unwrap();
        let again = parse(&request(&[(VISITOR_HEADER, "v:a")], body)).unwrap();
        let b = parse(&request(&[(VISITOR_HEADER, "v:b")], body)).unwrap();
        assert_eq!(a.external_message_id, again.external_message_id);
        assert_ne!(a.external_message_id, b.external_message_id);
    }

    #[test]
    fn without_the_hosts_visitor_header_the_request_is_refused() {
        let req = request(&[], r#"{"type":"message","client_id":"c1","text":"x"}"#);
        assert!(matches!(parse(&req), Err(ConnectorError::Unauthorized(_))));
        assert!(matches!(
            visitor(&req),
            Err(ConnectorError::Unauthorized(_))
        ));
    }

    #[test]
    fn bad_frames_are_malformed_with_a_reason() {
        for (body, needle) in [
            ("not json", "client_id"),
            (
                r#"{"type":"resume","client_id":"c","text":"x"}"#,
                "not a message",
            ),
            (
                r#"{"type":"message","client_id":"a b","text":"x"}"#,
                "client_id must",
            ),
            (
                r#"{"type":"message","client_id":"","text":"x"}"#,
                "client_id must",
            ),
            (
                r#"{"type":"message","client_id":"c","text":"   "}"#,
                "empty",
            ),
        ] {
            match parse(&request(&[(VISITOR_HEADER, "v:a")], body)) {
                Err(ConnectorError::Malformed(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        let long = format!(
            r#"{{"type":"message","client_id":"c","text":"{}"}}"#,
            "a".repeat(MAX_TEXT_CHARS + 1)
        );
        assert!(matches!(
            parse(&request(&[(VISITOR_HEADER, "v:a")], &long)),
            Err(ConnectorError::Malformed(_))
        ));
    }

    fn outbound(author: Option<&str>, avatar: Option<&str>) -> OutboundMessage {
        OutboundMessage {
            external_chat_id: "v:a".into(),
            outbox_id: "42".into(),
            text: Some("<img src=x onerror=alert(1)>".into()),
            attachments: Vec::new(),
            quick_replies: Vec::new(),
            in_reply_to: None,
            author_name: author.map(str::to_string),
            author_avatar: avatar.map(str::to_string),
        }
    }

    #[test]
    fn i1_a_reply_renders_with_the_author_the_channel_chose() {
        let frame: serde_json::Value =
            serde_json::from_slice(&render(&outbound(Some("Mia"), Some("https://x/a.png"))))
                .unwrap();
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["outbox_id"], "42");
        assert_eq!(
            frame["text"], "<img src=x onerror=alert(1)>",
            "text is passed as is; the widget shows it as text"
        );
        assert_eq!(frame["author"]["name"], "Mia");
        assert_eq!(frame["author"]["avatar_url"], "https://x/a.png");
        let hidden: serde_json::Value =
            serde_json::from_slice(&render(&outbound(None, None))).unwrap();
        assert!(
            hidden["author"].is_null(),
            "a channel that hides agents shows none"
        );
    }
}
