//! A reply as Bot API calls: `sendMessage` for text, `sendPhoto` or
//! `sendDocument` for each attachment Telegram can fetch itself (a URL or a
//! Telegram file id). Pure, so native unit tests check the JSON.

use frontdesk_plugin_api::{
    AttachmentKind, ConnectorError, OutboundMessage, split_text, utf16_units,
};
use serde_json::{Value, json};

/// Telegram's limit for a message text, in UTF-16 code units.
pub const TEXT_LIMIT: usize = 4096;
/// Telegram's limit for a media caption, in UTF-16 code units.
pub const CAPTION_LIMIT: usize = 1024;

/// One Bot API call of a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: &'static str,
    pub body: Value,
}

/// The calls that deliver `msg`, in order. A long text becomes several
/// messages; quick replies ride on the last call as a one-time keyboard.
pub fn plan(msg: &OutboundMessage) -> Result<Vec<Call>, ConnectorError> {
    let chat_id = chat_id(&msg.external_chat_id);
    // I1: a bot always writes as itself, so the agent's name is a first line.
    let labelled = frontdesk_plugin_api::text_with_author(msg).unwrap_or_default();
    let text = labelled.trim_end();
    let mut calls = Vec::new();
    let mut caption = None;
    let sendable: Vec<_> = msg.attachments.iter().collect();
    if !sendable.is_empty() && utf16_len(text) <= CAPTION_LIMIT && !text.is_empty() {
        caption = Some(text);
    } else {
        for chunk in split_text(text, TEXT_LIMIT, utf16_units) {
            calls.push(Call {
                method: "sendMessage",
                body: json!({"chat_id": chat_id, "text": chunk}),
            });
        }
    }
    for attachment in sendable {
        let source = attachment
            .provider_file_id
            .clone()
            .or_else(|| attachment.url.clone())
            .ok_or_else(|| {
                ConnectorError::Permanent(format!(
                    "attachment {:?} has neither a URL nor a Telegram file id; this \
                     connector sends files by reference only",
                    attachment.file_name.as_deref().unwrap_or("(unnamed)")
                ))
            })?;
        let (method, field) = match attachment.kind {
            AttachmentKind::Image => ("sendPhoto", "photo"),
            _ => ("sendDocument", "document"),
        };
        let mut body = json!({"chat_id": chat_id, field: source});
        if let Some(caption) = caption.take() {
            body["caption"] = json!(caption);
        }
        calls.push(Call { method, body });
    }
    if calls.is_empty() {
        return Err(ConnectorError::Permanent(
            "the reply has no text and no attachment; Telegram cannot send an empty message"
                .to_string(),
        ));
    }
    if let Some(reply_to) = msg
        .in_reply_to
        .as_deref()
        .and_then(|id| id.parse::<i64>().ok())
    {
        // Quote only from the first part; the rest follow it.
        calls[0].body["reply_parameters"] =
            json!({"message_id": reply_to, "allow_sending_without_reply": true});
    }
    if !msg.quick_replies.is_empty() {
        let keyboard: Vec<Value> = msg
            .quick_replies
            .iter()
            .map(|q| json!([{"text": q}]))
            .collect();
        let last = calls.len() - 1;
        calls[last].body["reply_markup"] =
            json!({"keyboard": keyboard, "one_time_keyboard": true, "resize_keyboard": true});
    }
    Ok(calls)
}

/// Telegram takes a numeric chat id as a number, and `@channelusername` as text.
fn chat_id(external: &str) -> Value {
    match external.parse::<i64>() {
        Ok(id) => json!(id),
        Err(_) => json!(external),
    }
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(utf16_units).sum()
}

#[cfg(test)]
mod tests {
    use frontdesk_plugin_api::Attachment;

    use super::*;

    fn reply(text: Option<&str>) -> OutboundMessage {
        OutboundMessage {
            external_chat_id: "123456789".into(),
            outbox_id: "42".into(),
            text: text.map(Into::into),
            attachments: Vec::new(),
            quick_replies: Vec::new(),
            in_reply_to: None,
            author_name: None,
            author_avatar: None,
        }
    }

    fn attachment(kind: AttachmentKind, file_id: Option<&str>, url: Option<&str>) -> Attachment {
        Attachment {
            kind,
            url: url.map(Into::into),
            provider_file_id: file_id.map(Into::into),
            file_name: Some("f".into()),
            mime_type: None,
            size_bytes: None,
            data: None,
        }
    }

    #[test]
    fn i1_the_agent_name_the_channel_shows_is_the_first_line() {
        let mut msg = reply(Some("Hello from support"));
        msg.author_name = Some("Ada".into());
        let calls = plan(&msg).unwrap();
        assert_eq!(
            calls[0].body,
            json!({"chat_id": 123456789, "text": "Ada:\nHello from support"})
        );
    }

    #[test]
    fn text_is_one_send_message_and_the_outbox_id_is_not_sent() {
        let calls = plan(&reply(Some("Hello from support"))).unwrap();
        assert_eq!(
            calls,
            vec![Call {
                method: "sendMessage",
                body: json!({"chat_id": 123456789, "text": "Hello from support"}),
            }]
        );
    }

    #[test]
    fn photos_and_documents_carry_the_text_as_caption() {
        let mut msg = reply(Some("Here is the invoice"));
        msg.attachments = vec![
            attachment(
                AttachmentKind::Image,
                None,
                Some("https://example.com/a.jpg"),
            ),
            attachment(AttachmentKind::File, Some("BQACAgIAAxkBAAIB"), None),
        ];
        msg.in_reply_to = Some("17".into());
        msg.quick_replies = vec!["Thanks".into(), "Still broken".into()];
        let calls = plan(&msg).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].method, "sendPhoto");
        assert_eq!(calls[0].body["photo"], "https://example.com/a.jpg");
        assert_eq!(calls[0].body["caption"], "Here is the invoice");
        assert_eq!(calls[0].body["reply_parameters"]["message_id"], 17);
        assert_eq!(calls[1].method, "sendDocument");
        assert_eq!(calls[1].body["document"], "BQACAgIAAxkBAAIB");
        assert!(calls[1].body.get("caption").is_none());
        assert_eq!(
            calls[1].body["reply_markup"]["keyboard"],
            json!([[{"text": "Thanks"}], [{"text": "Still broken"}]])
        );
    }

    #[test]
    fn long_texts_are_split_under_telegrams_limit() {
        let long = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        let calls = plan(&reply(Some(&long))).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].body["text"], "a".repeat(3000));
        assert_eq!(calls[1].body["text"], "b".repeat(3000));
        // No break to cut at: hard cut, counting UTF-16 units (emoji are two).
        let parts = split_text(&"😀".repeat(3000), TEXT_LIMIT, utf16_units);
        assert_eq!(parts.len(), 2);
        assert_eq!(utf16_len(&parts[0]), 4096);
        assert_eq!(parts.concat(), "😀".repeat(3000));
    }

    #[test]
    fn empty_replies_and_unsendable_files_are_refused_clearly() {
        assert!(matches!(
            plan(&reply(None)),
            Err(ConnectorError::Permanent(m)) if m.contains("empty")
        ));
        let mut msg = reply(Some("x"));
        msg.attachments = vec![attachment(AttachmentKind::File, None, None)];
        assert!(matches!(
            plan(&msg),
            Err(ConnectorError::Permanent(m)) if m.contains("by reference")
        ));
    }

    #[test]
    fn usernames_stay_text() {
        let mut msg = reply(Some("x"));
        msg.external_chat_id = "@frontdesk_news".into();
        assert_eq!(plan(&msg).unwrap()[0].body["chat_id"], "@frontdesk_news");
    }
}
