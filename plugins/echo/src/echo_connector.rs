//! The echo connector's behaviour, shared with the `echo-v2` test fixture,
//! which differs only in a text prefix that shows which build served a call.

use frontdesk_plugin_api::{
    Attachment, AttachmentKind, ChannelContext, ConnectorError, InboundMessage, InboundOutcome,
    InboundRequest, OutboundMessage, SendReceipt, Sender, http, kv, secrets_match,
};

use crate::payload;

/// Checks the `x-echo-token` header against this channel's `token` secret.
pub fn verify(ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
    let expected = ctx
        .secret("token")
        .ok_or_else(|| ConnectorError::Unauthorized("channel has no token secret".into()))?;
    match req.header("x-echo-token") {
        // Never `==`: its time tells an attacker how much of a guess was right.
        Some(got) if secrets_match(expected, got) => Ok(()),
        Some(_) => Err(ConnectorError::Unauthorized(
            "x-echo-token does not match".into(),
        )),
        None => Err(ConnectorError::Unauthorized(
            "x-echo-token header missing".into(),
        )),
    }
}

/// Parses the webhook and prefixes every text with `prefix`.
pub fn parse(
    ctx: &ChannelContext,
    req: InboundRequest,
    prefix: &str,
) -> Result<InboundOutcome, ConnectorError> {
    let webhook = payload::parse(&req.body).map_err(ConnectorError::Malformed)?;
    let max_len = serde_json::from_str::<serde_json::Value>(&ctx.config_json)
        .ok()
        .and_then(|config| config.get("max_text_len").and_then(|v| v.as_u64()));
    let messages = webhook
        .messages
        .into_iter()
        .map(|message| normalize(message, prefix, max_len))
        .collect();
    Ok(InboundOutcome::messages(messages))
}

fn normalize(message: payload::Message, prefix: &str, max_len: Option<u64>) -> InboundMessage {
    let text = message.text.map(|text| {
        let text = format!("{prefix}{text}");
        match max_len {
            Some(max) => text.chars().take(max as usize).collect(),
            None => text,
        }
    });
    InboundMessage {
        external_chat_id: message.chat,
        external_message_id: message.id,
        sender: Sender {
            external_id: message.from.id,
            name: message.from.name,
            handle: message.from.handle,
            email: message.from.email,
            phone: message.from.phone,
        },
        text,
        attachments: message.attachments.into_iter().map(attachment).collect(),
        sent_at_ms: message.ts,
        in_reply_to: message.reply_to,
        edit_of: None,
    }
}

fn attachment(a: payload::Attachment) -> Attachment {
    let kind = match a.kind.as_str() {
        "image" => AttachmentKind::Image,
        "audio" => AttachmentKind::Audio,
        "video" => AttachmentKind::Video,
        "file" => AttachmentKind::File,
        "location" => AttachmentKind::Location,
        "sticker" => AttachmentKind::Sticker,
        _ => AttachmentKind::Other,
    };
    Attachment {
        kind,
        url: a.url,
        provider_file_id: None,
        file_name: a.name,
        mime_type: a.mime,
        size_bytes: a.size,
        data: None,
    }
}

/// Renders a reply as `POST {api_base_url}/send` with a JSON body.
pub fn render(
    ctx: &ChannelContext,
    msg: &OutboundMessage,
) -> Result<http::Request, ConnectorError> {
    let base = ctx
        .config_str("api_base_url")
        .ok_or_else(|| ConnectorError::Permanent("api_base_url missing".into()))?;
    let body = serde_json::json!({
        "chat": msg.external_chat_id,
        "text": msg.text,
        "dedup": msg.outbox_id,
    });
    Ok(http::Request::post(
        format!("{}/send", base.trim_end_matches('/')),
        body.to_string().into_bytes(),
    )
    .with_header("content-type", "application/json"))
}

/// Reads `{"id": "..."}` from the provider's answer and counts sends in kv,
/// which shows per-channel state surviving across calls.
pub fn receipt(
    _ctx: &ChannelContext,
    response: &http::Response,
) -> Result<SendReceipt, ConnectorError> {
    let id = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|body| body.get("id").and_then(|id| id.as_str()).map(str::to_owned));
    let sent = kv::get("sent")
        .ok()
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|count| count.parse::<u64>().ok())
        .unwrap_or(0);
    kv::set("sent", (sent + 1).to_string().as_bytes())
        .map_err(|error| ConnectorError::Transient(format!("kv: {error:?}")))?;
    Ok(SendReceipt {
        external_message_id: id,
        push: None,
    })
}
