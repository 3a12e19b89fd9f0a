//! Bot API `Update` objects (<https://core.telegram.org/bots/api#update>)
//! turned into normalized inbound messages. Pure: no host calls, so the
//! native unit tests run it on recorded Bot API JSON.
//!
//! Keys: a message's external id is its update's `update_id`. A channel is
//! one bot, and Telegram numbers updates per bot, so `update_id` alone is
//! unique within the channel and the host's `(channel, external id)` key is
//! `(bot, update_id)`. Nothing here compares update ids: Telegram picks the
//! next id at random after a week without updates, so they do not only grow,
//! and a "highest id seen" cursor would drop messages.

use frontdesk_plugin_api::{Attachment, AttachmentKind, InboundMessage, Sender};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Why an authentic update could not be turned into messages.
#[derive(Debug, PartialEq, Eq)]
pub struct Unparseable(pub String);

/// One webhook body. Only the update kinds frontdesk asks for in
/// `setWebhook` (`allowed_updates`) are read; any other kind is ignored.
#[derive(Debug, Deserialize)]
struct Update {
    update_id: i64,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    edited_message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    message_id: i64,
    #[serde(default)]
    from: Option<User>,
    chat: Chat,
    /// Unix seconds.
    #[serde(default)]
    date: Option<i64>,
    /// Unix seconds, set on edits.
    #[serde(default)]
    edit_date: Option<i64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    reply_to_message: Option<Box<Replied>>,
    #[serde(default)]
    photo: Vec<PhotoSize>,
    #[serde(default)]
    document: Option<File>,
    #[serde(default)]
    voice: Option<File>,
    #[serde(default)]
    audio: Option<File>,
    #[serde(default)]
    video: Option<File>,
    #[serde(default)]
    video_note: Option<File>,
    #[serde(default)]
    animation: Option<File>,
    #[serde(default)]
    sticker: Option<Sticker>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    venue: Option<Venue>,
    #[serde(default)]
    contact: Option<Contact>,
    /// Everything else, to tell content frontdesk cannot show (a poll) from
    /// service messages (a member joined), which are not customer messages.
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Replied {
    message_id: i64,
}

#[derive(Debug, Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Chat {
    id: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PhotoSize {
    file_id: String,
    #[serde(default)]
    width: u64,
    #[serde(default)]
    height: u64,
    #[serde(default)]
    file_size: Option<u64>,
}

/// The fields documents, voice notes, audio, video and animations share.
#[derive(Debug, Deserialize)]
struct File {
    file_id: String,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Sticker {
    file_id: String,
    #[serde(default)]
    is_animated: bool,
    #[serde(default)]
    is_video: bool,
    #[serde(default)]
    emoji: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Debug, Deserialize)]
struct Venue {
    location: Location,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Contact {
    phone_number: String,
    /// Set when the contact is a Telegram user, e.g. the customer sharing their own number.
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

/// Message fields that carry content frontdesk cannot show as text or a
/// file; such a message is stored with a placeholder naming the kind, so the
/// agent knows the customer sent something.
const UNSUPPORTED_CONTENT: &[&str] = &[
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "giveaway",
    "giveaway_winners",
    "paid_media",
    "checklist",
];

/// Parses one webhook body into zero or more messages (zero for update kinds
/// and service messages that are not something a customer wrote).
pub fn parse(body: &[u8]) -> Result<Vec<InboundMessage>, Unparseable> {
    let update: Update = serde_json::from_slice(body)
        .map_err(|e| Unparseable(format!("not a Telegram Bot API update: {e}")))?;
    let (message, edited) = match (update.message, update.edited_message) {
        (Some(message), _) => (message, false),
        (None, Some(message)) => (message, true),
        (None, None) => return Ok(Vec::new()),
    };
    Ok(normalize(update.update_id, message, edited)
        .into_iter()
        .collect())
}

fn normalize(update_id: i64, message: Message, edited: bool) -> Option<InboundMessage> {
    let mut attachments = Vec::new();
    let mut notes = Vec::new();
    if let Some(photo) = largest(&message.photo) {
        attachments.push(file(
            AttachmentKind::Image,
            &photo.file_id,
            None,
            // The Bot API re-encodes every photo size as JPEG.
            Some("image/jpeg".into()),
            photo.file_size,
        ));
    }
    let files = [
        (AttachmentKind::File, &message.document, None),
        (AttachmentKind::Audio, &message.voice, Some("audio/ogg")),
        (AttachmentKind::Audio, &message.audio, None),
        (AttachmentKind::Video, &message.video, None),
        (
            AttachmentKind::Video,
            &message.video_note,
            Some("video/mp4"),
        ),
        (AttachmentKind::Video, &message.animation, Some("video/mp4")),
    ];
    for (kind, item, default_mime) in files {
        if let Some(f) = item {
            let mime = f.mime_type.clone().or(default_mime.map(str::to_owned));
            attachments.push(file(
                kind,
                &f.file_id,
                f.file_name.clone(),
                mime,
                f.file_size,
            ));
        }
    }
    if let Some(sticker) = &message.sticker {
        let mime = if sticker.is_animated {
            "application/x-tgsticker"
        } else if sticker.is_video {
            "video/webm"
        } else {
            "image/webp"
        };
        attachments.push(file(
            AttachmentKind::Sticker,
            &sticker.file_id,
            None,
            Some(mime.into()),
            sticker.file_size,
        ));
        if let Some(emoji) = &sticker.emoji {
            notes.push(format!("sticker {emoji}"));
        }
    }
    let location = message
        .location
        .as_ref()
        .or(message.venue.as_ref().map(|v| &v.location));
    if let Some(at) = location {
        // A geo: URI (RFC 5870) names the place; there is no file to fetch.
        attachments.push(Attachment {
            kind: AttachmentKind::Location,
            url: Some(format!("geo:{},{}", at.latitude, at.longitude)),
            provider_file_id: None,
            file_name: None,
            mime_type: None,
            size_bytes: None,
            data: None,
        });
        let place = message
            .venue
            .as_ref()
            .map(|v| {
                [v.title.as_deref(), v.address.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|p| !p.is_empty());
        notes.push(match place {
            Some(place) => format!("location: {place} ({}, {})", at.latitude, at.longitude),
            None => format!("location: {}, {}", at.latitude, at.longitude),
        });
    }
    if let Some(contact) = &message.contact {
        let name = full_name(contact.first_name.as_deref(), contact.last_name.as_deref());
        notes.push(match name {
            Some(name) => format!("contact: {name}, {}", contact.phone_number),
            None => format!("contact: {}", contact.phone_number),
        });
    }
    let mut text = message.text.clone().or(message.caption.clone());
    if text.is_none() && attachments.is_empty() && notes.is_empty() {
        match UNSUPPORTED_CONTENT
            .iter()
            .find(|kind| message.rest.contains_key(**kind))
        {
            Some(kind) => notes.push(format!("unsupported Telegram content: {kind}")),
            // A service message (someone joined, a title changed, a pin).
            None => return None,
        }
    }
    if !notes.is_empty() {
        let notes = format!("[{}]", notes.join("; "));
        text = Some(match text {
            Some(text) => format!("{text}\n{notes}"),
            None => notes,
        });
    }
    let mut sender = sender(&message);
    // A customer who shares their own contact gives their phone number (C1).
    if let Some(contact) = &message.contact
        && contact
            .user_id
            .is_some_and(|id| id.to_string() == sender.external_id)
    {
        sender.phone = Some(contact.phone_number.clone());
    }
    let sent_at = if edited {
        message.edit_date.or(message.date)
    } else {
        message.date
    };
    Some(InboundMessage {
        external_chat_id: message.chat.id.to_string(),
        external_message_id: update_id.to_string(),
        sender,
        text,
        attachments,
        sent_at_ms: sent_at
            .and_then(|secs| u64::try_from(secs).ok())
            .map(|secs| secs.saturating_mul(1000)),
        in_reply_to: message
            .reply_to_message
            .as_ref()
            .map(|r| r.message_id.to_string()),
        // Telegram's own id of the edited message (unique within the chat).
        edit_of: edited.then(|| message.message_id.to_string()),
    })
}

/// The biggest rendition: by pixels, then by bytes (Telegram lists them
/// smallest first, but does not promise it).
fn largest(sizes: &[PhotoSize]) -> Option<&PhotoSize> {
    sizes
        .iter()
        .max_by_key(|p| (p.width * p.height, p.file_size.unwrap_or(0)))
}

fn file(
    kind: AttachmentKind,
    file_id: &str,
    file_name: Option<String>,
    mime_type: Option<String>,
    size_bytes: Option<u64>,
) -> Attachment {
    Attachment {
        kind,
        url: None,
        provider_file_id: Some(file_id.to_string()),
        file_name,
        mime_type,
        size_bytes,
        data: None,
    }
}

fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

/// The author: `from`, or for anonymous group admins and channel posts
/// (no `from`) the chat itself.
fn sender(message: &Message) -> Sender {
    match &message.from {
        Some(user) => Sender {
            external_id: user.id.to_string(),
            name: full_name(user.first_name.as_deref(), user.last_name.as_deref()),
            handle: user.username.clone(),
            email: None,
            phone: None,
        },
        None => {
            let chat = &message.chat;
            Sender {
                external_id: chat.id.to_string(),
                name: chat
                    .title
                    .clone()
                    .or_else(|| full_name(chat.first_name.as_deref(), chat.last_name.as_deref())),
                handle: chat.username.clone(),
                email: None,
                phone: None,
            }
        }
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
