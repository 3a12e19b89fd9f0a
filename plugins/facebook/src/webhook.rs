//! Messenger webhook deliveries: `{"object":"page","entry":[{"messaging":[...]}]}`.
//!
//! Meta batches: one delivery may carry several entries (pages, or one page
//! at several times), each with several messaging events. Every customer
//! message, postback and edit becomes an [`InboundMessage`]; the page's own
//! sends (echoes), delivery and read receipts, reactions, opt-ins and other
//! event kinds carry nothing for an agent and become none. Pure: no host
//! calls, so it runs in native tests.

use frontdesk_plugin_api::{Attachment, AttachmentKind, InboundMessage, Sender};
use serde::Deserialize;
use serde_json::Value;

/// One messaging event; which optional field is set says what it is.
#[derive(Debug, Deserialize)]
struct Event {
    sender: Option<Party>,
    timestamp: Option<u64>,
    message: Option<Message>,
    postback: Option<Postback>,
    message_edit: Option<MessageEdit>,
}

#[derive(Debug, Deserialize)]
struct Party {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    quick_reply: Option<QuickReply>,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
    reply_to: Option<ReplyTo>,
}

#[derive(Debug, Deserialize)]
struct QuickReply {
    payload: String,
}

#[derive(Debug, Deserialize)]
struct ReplyTo {
    mid: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawAttachment {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<Payload>,
    title: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Payload {
    url: Option<String>,
    sticker_id: Option<u64>,
    coordinates: Option<Coordinates>,
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Coordinates {
    lat: f64,
    long: f64,
}

#[derive(Debug, Deserialize)]
struct Postback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageEdit {
    mid: String,
    text: Option<String>,
    num_edit: Option<u64>,
}

/// Parses a delivery Meta signed. An `Err` names what is wrong and where
/// (`entry[1].messaging[0]: ...`): the request is authentic, so the host
/// keeps it for admins rather than lose it.
pub fn parse(body: &[u8]) -> Result<Vec<InboundMessage>, String> {
    let delivery: Value =
        serde_json::from_slice(body).map_err(|e| format!("the delivery is not JSON: {e}"))?;
    match delivery.get("object").and_then(Value::as_str) {
        Some("page") => {}
        Some(other) => {
            return Err(format!(
                "object is {other:?}; this connector handles Messenger for Pages (object \"page\"): subscribe the app's Page webhook, not {other:?}"
            ));
        }
        None => return Err("no \"object\" field: not a Messenger webhook delivery".into()),
    }
    let entries = delivery
        .get("entry")
        .and_then(Value::as_array)
        .ok_or("no \"entry\" array")?;
    let mut messages = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        // Entries with `changes` (feed) or `standby` (another app has the
        // thread) hold nothing this channel answers.
        let Some(events) = entry.get("messaging") else {
            continue;
        };
        let events = events
            .as_array()
            .ok_or_else(|| format!("entry[{i}].messaging is not an array"))?;
        for (j, raw) in events.iter().enumerate() {
            let event: Event = serde_json::from_value(raw.clone())
                .map_err(|e| format!("entry[{i}].messaging[{j}]: {e}"))?;
            if let Some(message) =
                normalize(event).map_err(|e| format!("entry[{i}].messaging[{j}]: {e}"))?
            {
                messages.push(message);
            }
        }
    }
    Ok(messages)
}

fn normalize(event: Event) -> Result<Option<InboundMessage>, String> {
    let customer = || {
        event
            .sender
            .as_ref()
            .map(|s| s.id.clone())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| "sender.id missing".to_string())
    };
    if let Some(message) = &event.message {
        if message.is_echo {
            return Ok(None);
        }
        return Ok(Some(from_message(customer()?, event.timestamp, message)));
    }
    if let Some(postback) = &event.postback {
        let psid = customer()?;
        // Newer Graph versions give postbacks a mid; older ones none, and
        // then the sender and time are unique enough (Meta repeats both on a retry).
        let id = match (&postback.mid, event.timestamp) {
            (Some(mid), _) => mid.clone(),
            (None, Some(ts)) => format!("postback:{psid}:{ts}"),
            (None, None) => return Err("postback has neither mid nor timestamp".into()),
        };
        let text = postback.title.clone().or_else(|| postback.payload.clone());
        return Ok(Some(inbound(psid, id, text, Vec::new(), event.timestamp)));
    }
    if let Some(edit) = &event.message_edit {
        let psid = customer()?;
        let id = format!("{}:edit:{}", edit.mid, edit.num_edit.unwrap_or(1));
        let mut message = inbound(psid, id, edit.text.clone(), Vec::new(), event.timestamp);
        message.edit_of = Some(edit.mid.clone());
        return Ok(Some(message));
    }
    // delivery, read, reaction, optin, referral, account_linking, ... and
    // kinds Meta adds later: nothing a customer wrote.
    Ok(None)
}

fn from_message(psid: String, timestamp: Option<u64>, message: &Message) -> InboundMessage {
    let mut text = message.text.clone().filter(|t| !t.is_empty());
    // A quick reply's text is the button's title; its payload says which
    // button when there is no title to show.
    if text.is_none() {
        text = message.quick_reply.as_ref().map(|q| q.payload.clone());
    }
    let mut notes = Vec::new();
    let attachments = message
        .attachments
        .iter()
        .map(|a| attachment(a, &mut notes))
        .collect();
    if !notes.is_empty() {
        let joined = notes.join("\n");
        text = Some(match text {
            Some(t) => format!("{t}\n{joined}"),
            None => joined,
        });
    }
    let mut inbound = inbound(psid, message.mid.clone(), text, attachments, timestamp);
    inbound.in_reply_to = message.reply_to.as_ref().and_then(|r| r.mid.clone());
    inbound
}

/// Maps one attachment; what only text can carry (a location's
/// coordinates, a shared link) goes to `notes` for the message text.
fn attachment(raw: &RawAttachment, notes: &mut Vec<String>) -> Attachment {
    let payload = raw.payload.as_ref();
    let url = payload.and_then(|p| p.url.clone());
    let title = raw
        .title
        .clone()
        .or_else(|| payload.and_then(|p| p.title.clone()));
    let (kind, url) = match raw.kind.as_str() {
        // Stickers arrive as images with a sticker_id.
        "image" if payload.is_some_and(|p| p.sticker_id.is_some()) => {
            (AttachmentKind::Sticker, url)
        }
        "image" => (AttachmentKind::Image, url),
        "audio" => (AttachmentKind::Audio, url),
        "video" => (AttachmentKind::Video, url),
        "file" => (AttachmentKind::File, url),
        "location" => {
            if let Some(c) = payload.and_then(|p| p.coordinates.as_ref()) {
                notes.push(format!("Location: {}, {}", c.lat, c.long));
            }
            (AttachmentKind::Location, None)
        }
        // Shared links, templates, reels: the URL points anywhere on the
        // web, so it is shown, never fetched.
        _ => {
            let shown = [title.clone(), url]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            if !shown.is_empty() {
                notes.push(shown.join(" "));
            }
            (AttachmentKind::Other, None)
        }
    };
    Attachment {
        kind,
        url,
        provider_file_id: None,
        file_name: title,
        mime_type: None,
        size_bytes: None,
        data: None,
    }
}

fn inbound(
    psid: String,
    id: String,
    text: Option<String>,
    attachments: Vec<Attachment>,
    sent_at_ms: Option<u64>,
) -> InboundMessage {
    InboundMessage {
        external_chat_id: psid.clone(),
        external_message_id: id,
        sender: Sender::id(psid),
        text,
        attachments,
        sent_at_ms,
        in_reply_to: None,
        edit_of: None,
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
