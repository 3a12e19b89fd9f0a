//! Channels served by an installed connector plugin (O4, X2).
//!
//! Each call goes to whichever version of the plugin is active at that
//! moment, so an upgrade or rollback through the plugin host switches a
//! channel between two webhooks, with no restart and nothing in flight lost:
//! a message is stored only after a version has parsed it.

use async_trait::async_trait;
use frontdesk_plugin_host::PluginHost;
use frontdesk_plugin_host::types;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::{
    Connector, ConnectorError, InboundRequest, Outbound, Parsed, Reply, SendError, Sent, SetupError,
};
use crate::store::{Channel, InboundMessage, NewAttachment, Sender};

/// The connector plugin named by a channel's kind.
pub struct WasmChannel {
    pub host: PluginHost,
    pub plugin: String,
}

/// An attachment as the store records it. Bytes that came in the message
/// are kept if within `max_bytes`; a file over it (carried, or declared by
/// the provider) is recorded as failed, with no bytes and nothing to fetch.
fn attachment(attachment: types::Attachment, max_bytes: usize) -> NewAttachment {
    let declared_size = attachment
        .size_bytes
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let size = attachment
        .data
        .as_ref()
        .map(|d| d.len() as u64)
        .or(attachment.size_bytes);
    let refused = size.filter(|&n| n > max_bytes as u64).map(|n| {
        format!("the file is {n} bytes, over the limit of {max_bytes} (--max-attachment-bytes)")
    });
    NewAttachment {
        kind: attachment.kind.into(),
        file_name: attachment.file_name,
        mime_type: attachment.mime_type,
        declared_size,
        url: attachment.url,
        provider_file_id: attachment.provider_file_id,
        data: if refused.is_some() {
            None
        } else {
            attachment.data
        },
        refused,
    }
}

/// C1: whether a channel of this connector kind vouches for its senders'
/// ids, emails and phones. Telegram and Messenger authenticate their users
/// themselves, an email channel's sender is the mail's own address, and the
/// widget's visitor is proven only when the site's identity HMAC matched
/// (the host gives such visitors, and only them, a `u:` id). Any other
/// connector fails closed: its senders' details are claims.
pub(crate) fn vouches_for(kind: &str, sender_id: &str) -> bool {
    match kind {
        "telegram" | "facebook" | "email" => true,
        crate::webchat::KIND => sender_id.starts_with("u:"),
        _ => false,
    }
}

/// The store's shape of a plugin's message. Attachments travel as
/// attachments, not as placeholders in the text: the text is what the
/// customer wrote (empty for a photo alone), and the messages API lists the
/// attachments beside it.
fn normalize(
    kind: &str,
    message: types::InboundMessage,
    max_attachment_bytes: usize,
) -> InboundMessage {
    InboundMessage {
        external_id: message.external_message_id,
        chat_id: message.external_chat_id,
        sender: Sender {
            verified: vouches_for(kind, &message.sender.external_id),
            id: message.sender.external_id,
            name: message.sender.name.or(message.sender.handle),
            email: message.sender.email,
            phone: message.sender.phone,
        },
        text: message.text.unwrap_or_default(),
        attachments: message
            .attachments
            .into_iter()
            .map(|a| attachment(a, max_attachment_bytes))
            .collect(),
        edit_of: message.edit_of,
    }
}

/// Headers a plugin may not set: the host frames the response itself.
const FRAMING_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Turns a plugin's reply into an HTTP answer, or says why it cannot be one.
fn reply(response: types::HttpResponse) -> Result<Reply, String> {
    let status = StatusCode::from_u16(response.status)
        .ok()
        .filter(|s| (200..=599).contains(&s.as_u16()))
        .ok_or_else(|| format!("status {} is not between 200 and 599", response.status))?;
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        if FRAMING_HEADERS.contains(&name.as_str()) {
            return Err(format!("the {name} header is the host's to set"));
        }
        let value =
            HeaderValue::from_str(&value).map_err(|_| format!("bad value for header {name}"))?;
        headers.append(name, value);
    }
    Ok(Reply {
        status,
        headers,
        body: response.body.into(),
    })
}

/// Channel settings the host reads itself (auto-actions W1, O3, A5 and
/// consent G1, retention). They sit in the same config object as the connector's own
/// fields, but a plugin never sees them, so its schema need not list them.
pub const HOST_SETTINGS: &[&str] = &[
    "working_hours",
    "language",
    "timeout_secs",
    "consent",
    "agent_identity",
    "leads",
    // Retention (issue 19): read by the retention worker.
    crate::retention::CONFIG_KEY,
];

/// The part of a channel's config that belongs to its connector plugin.
pub fn plugin_config(config: &serde_json::Value) -> serde_json::Value {
    let mut config = config.clone();
    if let Some(fields) = config.as_object_mut() {
        for key in HOST_SETTINGS {
            fields.remove(*key);
        }
    }
    config
}

pub(crate) fn target(plugin: &str, channel: &Channel) -> types::Channel {
    let config = channel.config.plugin_config();
    types::Channel {
        id: channel.id.to_string(),
        plugin: plugin.to_string(),
        config: plugin_config(&config),
    }
}

#[async_trait]
impl Connector for WasmChannel {
    fn network(&self) -> &str {
        &self.plugin
    }

    async fn send(&self, channel: &Channel, message: &Outbound) -> Result<(), SendError> {
        self.deliver(channel, message).await.map(|_| ())
    }

    async fn deliver(&self, channel: &Channel, message: &Outbound) -> Result<Sent, SendError> {
        let outbound = types::OutboundMessage {
            external_chat_id: message.chat_id.clone(),
            outbox_id: message.delivery_id.to_string(),
            text: Some(message.text.clone()),
            attachments: Vec::new(),
            quick_replies: Vec::new(),
            in_reply_to: None,
            author_name: message.author.as_ref().map(|a| a.name.clone()),
            author_avatar: message.author.as_ref().and_then(|a| a.avatar_url.clone()),
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
            Ok(receipt) => Ok(Sent { push: receipt.push }),
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

    async fn setup(&self, channel: &Channel, webhook_url: &str) -> Result<(), SetupError> {
        let served = self
            .host
            .setup(&target(&self.plugin, channel), webhook_url)
            .await
            .map_err(|fault| SetupError::Connector(format!("{} plugin: {fault}", self.plugin)))?;
        // What each error case means for setup is the WIT's `setup` doc.
        served.value.map_err(|error| match error {
            types::ConnectorError::RateLimited(limit) => SetupError::Unreachable(format!(
                "{} (retry after {} s)",
                limit.message,
                limit.retry_after_ms.div_ceil(1000)
            )),
            types::ConnectorError::Transient(m) => SetupError::Unreachable(m),
            types::ConnectorError::Unauthorized(m) | types::ConnectorError::Permanent(m) => {
                SetupError::Refused(m)
            }
            types::ConnectorError::Malformed(m) | types::ConnectorError::Unprocessable(m) => {
                SetupError::Config(m)
            }
        })
    }

    async fn verify_and_parse(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Parsed, ConnectorError> {
        let target = target(&self.plugin, channel);
        let headers = request
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect();
        let call = types::InboundRequest {
            method: request.method.to_string(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers,
            body: request.body.to_vec(),
        };
        let served = self
            .host
            .handle_inbound(&target, &call)
            .await
            .map_err(|fault| ConnectorError::Unavailable(fault.to_string()))?;
        match served.value {
            Ok(outcome) => {
                let max_bytes = self.host.limits().max_attachment_bytes;
                // Checked before anything is stored: a reply the host cannot
                // send must not leave messages stored but unacknowledged.
                let reply = outcome.reply.map(reply).transpose().map_err(|why| {
                    ConnectorError::Unavailable(format!(
                        "{} {} gave a reply the host cannot send: {why}",
                        served.plugin, served.version
                    ))
                })?;
                Ok(Parsed {
                    messages: outcome
                        .messages
                        .into_iter()
                        .map(|m| normalize(&self.plugin, m, max_bytes))
                        .collect(),
                    reply,
                })
            }
            Err(types::ConnectorError::Unauthorized(m)) => Err(ConnectorError::Unauthenticated(m)),
            Err(types::ConnectorError::Malformed(m)) => Err(ConnectorError::Malformed(m)),
            Err(types::ConnectorError::Unprocessable(m)) => Err(ConnectorError::Unprocessable(
                format!("{} {}: {m}", served.plugin, served.version),
            )),
            Err(types::ConnectorError::Transient(m) | types::ConnectorError::Permanent(m)) => Err(
                ConnectorError::Unavailable(format!("{} {}: {m}", served.plugin, served.version)),
            ),
            Err(types::ConnectorError::RateLimited(limit)) => Err(ConnectorError::Unavailable(
                format!("{} {}: {}", served.plugin, served.version, limit.message),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> types::HttpResponse {
        types::HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: b"challenge-123".to_vec(),
        }
    }

    #[test]
    fn a_plugin_reply_keeps_its_status_headers_and_body() {
        let r = reply(response(200, &[("Content-Type", "text/plain")])).unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["content-type"], "text/plain");
        assert_eq!(&r.body[..], b"challenge-123");
    }

    #[test]
    fn replies_the_host_cannot_send_are_refused_with_the_reason() {
        for (status, headers, needle) in [
            (99, vec![], "status 99"),
            (101, vec![], "status 101"),
            (700, vec![], "status 700"),
            (200, vec![("content-length", "3")], "content-length"),
            (
                200,
                vec![("Transfer-Encoding", "chunked")],
                "transfer-encoding",
            ),
            (200, vec![("bad name", "x")], "header name"),
            (200, vec![("x-ok", "line\nbreak")], "bad value"),
        ] {
            let err = reply(response(status, &headers)).unwrap_err();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }
}

#[cfg(test)]
mod normalize_tests {
    use super::*;
    use crate::store::AttachmentState;
    use frontdesk_plugin_host::types::AttachmentKind;

    fn with(attachments: Vec<types::Attachment>) -> types::InboundMessage {
        types::InboundMessage {
            external_chat_id: "c".into(),
            external_message_id: "edit-7".into(),
            sender: types::Sender {
                external_id: "u".into(),
                name: None,
                handle: Some("ann".into()),
                email: None,
                phone: None,
            },
            text: None,
            attachments,
            sent_at_ms: None,
            in_reply_to: None,
            edit_of: Some("7".into()),
        }
    }

    fn file(data: Option<Vec<u8>>, size: Option<u64>) -> types::Attachment {
        types::Attachment {
            kind: AttachmentKind::File,
            url: None,
            provider_file_id: Some("f1".into()),
            file_name: Some("a.pdf".into()),
            mime_type: Some("application/pdf".into()),
            size_bytes: size,
            data,
        }
    }

    #[test]
    fn attachments_travel_as_attachments_and_the_cap_applies_to_carried_and_declared_sizes() {
        let message = normalize(
            "echo",
            with(vec![
                file(Some(vec![1; 10]), None),
                file(Some(vec![1; 11]), None),
                file(None, Some(11)),
                file(None, None),
            ]),
            10,
        );
        assert_eq!(
            message.text, "",
            "no placeholder for a message of files only"
        );
        assert_eq!(message.edit_of.as_deref(), Some("7"));
        assert_eq!(message.sender.name.as_deref(), Some("ann"));
        let states: Vec<(AttachmentState, Option<String>)> = message
            .attachments
            .iter()
            .map(|a| a.initial_state())
            .collect();
        let over = |n| {
            Some(format!(
                "the file is {n} bytes, over the limit of 10 (--max-attachment-bytes)"
            ))
        };
        assert_eq!(
            states,
            [
                (AttachmentState::Stored, None),
                (AttachmentState::Failed, over(11)),
                (AttachmentState::Failed, over(11)),
                (AttachmentState::Pending, None)
            ]
        );
        assert_eq!(message.attachments[0].data.as_deref(), Some(&[1; 10][..]));
        assert_eq!(
            message.attachments[1].data, None,
            "bytes over the cap are not kept"
        );
        assert_eq!(
            message.attachments[3].kind,
            crate::store::AttachmentKind::File
        );
    }
}
