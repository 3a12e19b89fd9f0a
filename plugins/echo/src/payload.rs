//! The echo provider's webhook format, parsed with serde.
//!
//! Free of any plugin API on purpose: the host's benchmark compiles this same
//! file natively to compare a plugin call with the parse alone.

use serde::Deserialize;

/// The webhook body: a batch of messages.
#[derive(Debug, Deserialize)]
pub struct Webhook {
    pub messages: Vec<Message>,
}

/// One message as the provider sends it.
#[derive(Debug, Deserialize)]
pub struct Message {
    pub chat: String,
    pub id: String,
    pub from: From,
    #[serde(default)]
    pub text: Option<String>,
    /// Unix milliseconds.
    #[serde(default)]
    pub ts: Option<u64>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// The sender.
#[derive(Debug, Deserialize)]
pub struct From {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A file or media item.
#[derive(Debug, Deserialize)]
pub struct Attachment {
    pub kind: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mime: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
}

/// Parses a webhook body.
pub fn parse(body: &[u8]) -> Result<Webhook, String> {
    serde_json::from_slice(body).map_err(|error| format!("not an echo webhook: {error}"))
}
