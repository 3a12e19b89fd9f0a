//! The email connector.
//!
//! Inbound: the host's SMTP listener or IMAP poller hands over one raw RFC
//! 5322 message per call (method `SMTP` or `IMAP`, headers
//! `x-frontdesk-mail-from` and `x-frontdesk-rcpt-to` carry the envelope).
//! Each mail becomes at most one message, keyed by its `Message-ID` (S3),
//! threaded into its chat by `In-Reply-To`/`References`, its text opening
//! with `Subject: ...` when the subject is news; bounces and auto-replies
//! become none. Outbound: a reply with threading headers, sent
//! through the host's `smtp` import.
//!
//! # Layout
//!
//! Pure logic, tested natively with `cargo test -p email`:
//! - `parse.rs`: raw mail → ids, customer, text, attachments.
//! - `classify.rs`: bounces and auto-replies.
//! - `quote.rs`: strips quoted history and signatures.
//! - `thread.rs`: which chat a mail belongs to; what a reply needs.
//! - `compose.rs`: writes the reply.
//!
//! This file is the glue to the host: the kv store, the config, the smtp import.

pub mod classify;
pub mod compose;
pub mod parse;
pub mod quote;
pub mod thread;

use frontdesk_plugin_api::{
    Attachment, AttachmentKind, ChannelContext, Connector, ConnectorError, InboundMessage,
    InboundOutcome, InboundRequest, OutboundMessage, SendReceipt, Sender, clock, kv, log, smtp,
};

use crate::thread::{Incoming, Kv, KvFail};

/// The envelope sender, as the host received it (`""` for the null sender).
pub const MAIL_FROM_HEADER: &str = "x-frontdesk-mail-from";
/// The envelope recipients, comma-separated.
pub const RCPT_TO_HEADER: &str = "x-frontdesk-rcpt-to";
/// Attachment bytes one mail may carry into the store unless the channel
/// sets `max_attachment_bytes`; the host's output cap (1 MiB by default)
/// bounds it too.
pub const DEFAULT_ATTACHMENT_BYTES: usize = 768 * 1024;

/// How the first line of a message shows the mail's subject, when it opens
/// the chat or changes its topic (see [`thread::subject_is_news`]).
pub const SUBJECT_LABEL: &str = "Subject: ";

/// The plugin's kv import behind the [`Kv`] trait.
struct HostKv;

impl Kv for HostKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvFail> {
        kv::get(key).map_err(kv_fail)
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), KvFail> {
        kv::set(key, value).map_err(kv_fail)
    }
}

fn kv_fail(error: kv::Error) -> KvFail {
    match error {
        kv::Error::TooLarge(why) => KvFail::Full(why),
        kv::Error::Unavailable(why) => KvFail::Unavailable(why),
    }
}

fn kv_error(error: KvFail) -> ConnectorError {
    match error {
        KvFail::Unavailable(why) => {
            ConnectorError::Transient(format!("threading store unavailable: {why}"))
        }
        KvFail::Full(why) => ConnectorError::Permanent(format!(
            "threading store full ({why}); raise the kv quota or start a new channel"
        )),
    }
}

fn config_json(ctx: &ChannelContext) -> serde_json::Value {
    serde_json::from_str(&ctx.config_json).unwrap_or_default()
}

fn kind_of(mime_type: &str) -> AttachmentKind {
    match mime_type.split('/').next().unwrap_or_default() {
        "image" => AttachmentKind::Image,
        "audio" => AttachmentKind::Audio,
        "video" => AttachmentKind::Video,
        _ => AttachmentKind::File,
    }
}

/// The host passes mail only with these methods; a webhook request (POST)
/// cannot inject mail into an email channel.
fn verify_source(req: &InboundRequest) -> Result<(), ConnectorError> {
    match req.method.as_str() {
        "SMTP" | "IMAP" => Ok(()),
        other => Err(ConnectorError::Unauthorized(format!(
            "email channels take mail only from the host's SMTP listener or IMAP poller, not {other} requests"
        ))),
    }
}

fn parse_mail(ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
    let budget = config_json(ctx)["max_attachment_bytes"]
        .as_u64()
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_ATTACHMENT_BYTES);
    let mail_from = req.header(MAIL_FROM_HEADER).map(str::to_string);
    let mail = parse::parse(&req.body, mail_from.as_deref(), budget)
        .map_err(|e| ConnectorError::Unprocessable(e.to_string()))?;
    if let Some(why) = &mail.not_conversation {
        log::info(&format!("mail {} opens no session: {why}", mail.message_id));
        return Ok(InboundOutcome::messages(Vec::new()));
    }
    let mut store = HostKv;
    let chat = thread::find_chat(
        &store,
        &mail.message_id,
        &mail.in_reply_to,
        &mail.references,
    )
    .map_err(kv_error)?;
    let before = thread::load_chat(&store, &chat).map_err(kv_error)?;
    let show_subject =
        thread::subject_is_news(&chat, before.as_ref(), &mail.message_id, &mail.subject);
    let incoming = Incoming {
        message_id: &mail.message_id,
        in_reply_to: &mail.in_reply_to,
        references: &mail.references,
        reply_address: &mail.reply_address,
        name: mail.name.as_deref(),
        subject: &mail.subject,
    };
    match thread::record(&mut store, &chat, &incoming) {
        Ok(()) => {}
        // Keep the mail: an agent can still read it; only threading of
        // later mail and replies in this chat suffer.
        Err(KvFail::Full(why)) => log::error(&format!(
            "kv quota full, mail {} not remembered for threading: {why}",
            mail.message_id
        )),
        Err(error) => return Err(kv_error(error)),
    }
    let mut text = mail.text.clone();
    let mut attachments = Vec::new();
    for part in mail.attachments {
        if part.data.is_none() {
            // Say so in the text: the bytes are in the customer's mailbox only.
            text.push_str(&format!(
                "\n[attachment {} ({} bytes) not kept: over the channel's max_attachment_bytes]",
                part.file_name.as_deref().unwrap_or("without a name"),
                part.size
            ));
        }
        attachments.push(Attachment {
            kind: kind_of(&part.mime_type),
            url: None,
            provider_file_id: None,
            file_name: part.file_name,
            mime_type: Some(part.mime_type),
            size_bytes: Some(part.size),
            data: part.data,
        });
    }
    if text.trim().is_empty() && attachments.is_empty() {
        text = "(an empty mail)".to_string();
    }
    if show_subject {
        // The message has no field for it, so agents, exports and
        // transcripts see the subject as the text's first line.
        text = format!("{SUBJECT_LABEL}{}\n\n{text}", mail.subject.trim());
    }
    let message = InboundMessage {
        external_chat_id: chat,
        in_reply_to: mail.in_reply_to.first().cloned(),
        external_message_id: mail.message_id,
        sender: Sender {
            external_id: mail.from.clone(),
            name: mail.name,
            handle: None,
            email: Some(mail.from),
            phone: None,
        },
        text: Some(text),
        attachments,
        sent_at_ms: mail.sent_at_ms,
        edit_of: None,
    };
    Ok(InboundOutcome::messages(vec![message]))
}

fn send_reply(ctx: &ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
    let address = ctx
        .config_str("address")
        .ok_or_else(|| ConnectorError::Permanent("the channel has no address configured".into()))?;
    let mut store = HostKv;
    let mut chat = thread::load_chat(&store, &msg.external_chat_id)
        .map_err(kv_error)?
        .ok_or_else(|| {
            ConnectorError::Permanent(format!(
                "no mail thread {:?} is known on this channel, so there is nobody to answer",
                msg.external_chat_id
            ))
        })?;
    let message_id = compose::reply_message_id(&ctx.channel_id, &msg.outbox_id, &address);
    let display_name = ctx.config_str("display_name");
    let files = msg
        .attachments
        .iter()
        .filter_map(|a| {
            Some(compose::OutFile {
                file_name: a.file_name.clone().unwrap_or_else(|| "attachment".into()),
                mime_type: a
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                data: a.data.clone()?,
            })
        })
        .collect();
    let raw = compose::compose(
        &chat,
        compose::Reply {
            from_address: &address,
            // I1: the agent as the channel shows them; the mailbox's own
            // display name when the channel hides agents.
            from_name: msg.author_name.as_deref().or(display_name.as_deref()),
            message_id: &message_id,
            text: msg.text.as_deref().unwrap_or_default(),
            attachments: files,
            date_ms: clock::now_ms(),
        },
    );
    let envelope = smtp::Envelope {
        mail_from: address.clone(),
        rcpt_to: vec![chat.customer.clone()],
    };
    smtp::send(&envelope, &raw).map_err(|error| match error {
        smtp::Error::Forbidden(why) => ConnectorError::Permanent(format!("smtp forbidden: {why}")),
        smtp::Error::Rejected(why) => ConnectorError::Permanent(format!("relay rejected: {why}")),
        smtp::Error::Transient(why) => ConnectorError::Transient(format!("relay: {why}")),
    })?;
    // Sent: a reply to this mail must find the chat even if the customer's
    // client sends only In-Reply-To.
    let recorded = thread::link(&mut store, &message_id, &msg.external_chat_id).and_then(|()| {
        chat.remember([message_id.clone()]);
        thread::save_chat(&mut store, &msg.external_chat_id, &chat)
    });
    if let Err(error) = recorded {
        // Not an error of the send: the mail went out, and retrying would send it twice.
        log::warn(&format!(
            "sent {message_id} but could not record it: {error:?}"
        ));
    }
    Ok(SendReceipt {
        external_message_id: Some(message_id),
        push: None,
    })
}

/// The connector.
pub struct Email;

impl Connector for Email {
    fn verify(_ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
        verify_source(req)
    }

    fn parse(ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
        parse_mail(ctx, req)
    }

    fn send(ctx: &ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
        send_reply(ctx, msg)
    }

    fn fetch_attachment(
        _ctx: &ChannelContext,
        _attachment: &Attachment,
    ) -> Result<frontdesk_plugin_api::FetchedFile, ConnectorError> {
        Err(ConnectorError::Permanent(
            "mail attachments arrive with their bytes; one that was over max_attachment_bytes is only in the customer's mailbox".into(),
        ))
    }
}

#[cfg(target_arch = "wasm32")]
frontdesk_plugin_api::export_connector!(Email);
