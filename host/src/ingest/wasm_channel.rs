//! Channels served by an installed connector plugin (O4, X2).
//!
//! Each call goes to whichever version of the plugin is active at that
//! moment, so an upgrade or rollback through the plugin host switches a
//! channel between two webhooks, with no restart and nothing in flight lost:
//! a message is stored only after a version has parsed it.

use async_trait::async_trait;
use frontdesk_plugin_host::PluginHost;
use frontdesk_plugin_host::types::{self, AttachmentKind};

use super::{Connector, ConnectorError, InboundRequest, Outbound, SendError};
use crate::store::{Channel, InboundMessage, Sender};

/// The connector plugin named by a channel's kind.
pub struct WasmChannel {
    pub host: PluginHost,
    pub plugin: String,
}

fn placeholder(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "[image]",
        AttachmentKind::Audio => "[audio]",
        AttachmentKind::Video => "[video]",
        AttachmentKind::File => "[file]",
        AttachmentKind::Location => "[location]",
        AttachmentKind::Sticker => "[sticker]",
        AttachmentKind::Other => "[attachment]",
    }
}

pub(crate) fn normalize(message: types::InboundMessage) -> InboundMessage {
    // Attachments are named in the text until the attachment store exists, so
    // an agent never sees an empty message.
    let mut text = message.text.unwrap_or_default();
    for attachment in &message.attachments {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(placeholder(attachment.kind));
    }
    InboundMessage {
        external_id: message.external_message_id,
        chat_id: message.external_chat_id,
        sender: Sender {
            id: message.sender.external_id,
            name: message.sender.name.or(message.sender.handle),
            email: message.sender.email,
            phone: message.sender.phone,
        },
        text,
    }
}

pub(crate) fn target(plugin: &str, channel: &Channel) -> types::Channel {
    let config = serde_json::from_str(&channel.config).unwrap_or_else(|_| serde_json::json!({}));
    types::Channel {
        id: channel.id.to_string(),
        plugin: plugin.to_string(),
        config,
    }
}

#[async_trait]
impl Connector for WasmChannel {
    fn network(&self) -> &str {
        &self.plugin
    }

    async fn send(&self, channel: &Channel, message: &Outbound) -> Result<(), SendError> {
        let outbound = types::OutboundMessage {
            external_chat_id: message.chat_id.clone(),
            outbox_id: message.delivery_id.to_string(),
            text: Some(message.text.clone()),
            attachments: Vec::new(),
            quick_replies: Vec::new(),
            in_reply_to: None,
            author_name: None,
        };
        let served = self
            .host
            .send(&target(&self.plugin, channel), &outbound)
            .await
            .map_err(|fault| SendError::Transient {
                message: format!("{} plugin fault: {fault}", self.plugin),
                retry_after_ms: None,
            })?;
        match served.value {
            Ok(_) => Ok(()),
            Err(
                types::ConnectorError::Permanent(m)
                | types::ConnectorError::Malformed(m)
                | types::ConnectorError::Unauthorized(m),
            ) => Err(SendError::Permanent(m)),
            Err(types::ConnectorError::Transient(m)) => Err(SendError::Transient {
                message: m,
                retry_after_ms: None,
            }),
            Err(types::ConnectorError::RateLimited(limit)) => Err(SendError::Transient {
                message: limit.message,
                retry_after_ms: Some(i64::try_from(limit.retry_after_ms).unwrap_or(i64::MAX)),
            }),
            // Only inbound calls report an unprocessable request; from a send
            // it is a connector bug that retrying cannot mend.
            Err(types::ConnectorError::Unprocessable(m)) => Err(SendError::Permanent(m)),
        }
    }

    async fn verify_and_parse(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Vec<InboundMessage>, ConnectorError> {
        let target = target(&self.plugin, channel);
        let headers = request
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect();
        let call = types::InboundRequest {
            method: "POST".into(),
            path: String::new(),
            query: String::new(),
            headers,
            body: request.body.to_vec(),
        };
        let served = self
            .host
            .handle_inbound(&target, &call)
            .await
            .map_err(|fault| ConnectorError::Unavailable(fault.to_string()))?;
        match served.value {
            Ok(outcome) => Ok(outcome.messages.into_iter().map(normalize).collect()),
            Err(types::ConnectorError::Unauthorized(m)) => Err(ConnectorError::Unauthenticated(m)),
            Err(types::ConnectorError::Malformed(m)) => Err(ConnectorError::Malformed(m)),
            // TODO(issue 6): keep the raw request as a failed inbound and answer 200.
            Err(types::ConnectorError::Unprocessable(m)) => Err(ConnectorError::Malformed(m)),
            Err(types::ConnectorError::Transient(m) | types::ConnectorError::Permanent(m)) => Err(
                ConnectorError::Unavailable(format!("{} {}: {m}", served.plugin, served.version)),
            ),
            Err(types::ConnectorError::RateLimited(limit)) => Err(ConnectorError::Unavailable(
                format!("{} {}: {}", served.plugin, served.version, limit.message),
            )),
        }
    }
}
