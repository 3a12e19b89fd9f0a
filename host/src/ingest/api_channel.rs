//! The built-in `api` channel kind (X3): inbound messages by signed HTTP POST.
//!
//! The body is JSON (see [`ApiInbound`]) and the request carries
//! `X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with
//! the channel secret>`, the same scheme Meta and GitHub use.

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{Connector, ConnectorError, InboundRequest, Outbound, Parsed, SendError};
use crate::address_guard::{AddressGuard, refusal};
use crate::store::{Channel, InboundMessage, Sender};

/// The header that carries the body's signature.
pub const SIGNATURE_HEADER: &str = "x-frontdesk-signature";

/// The header on outbound callbacks naming the delivery: a retry after a lost
/// answer carries the same id, so the receiving system can drop the repeat.
pub const DELIVERY_HEADER: &str = "x-frontdesk-delivery";

/// Longest accepted message text, in bytes; longer is refused, not cut.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The JSON body of an inbound `api` message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiInbound {
    /// Your id for this message; sending it again is answered as before (S3).
    pub message_id: String,
    /// Your id for the conversation; messages with one chat id share a session.
    pub chat_id: String,
    pub text: String,
    #[serde(default)]
    pub sender: Option<ApiSender>,
}

/// Who wrote the message, as far as your system knows.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSender {
    /// Your id for the customer; defaults to the chat id.
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The `api` channel's connector.
#[derive(Debug, Clone)]
pub struct ApiChannel {
    /// Which addresses callbacks may reach (`--allow-private-callbacks`).
    guard: AddressGuard,
    /// Shared by every send: connection pooling, a deadline so a stuck
    /// receiver cannot hold the worker, and the guard's resolver.
    client: reqwest::Client,
}

impl ApiChannel {
    /// A connector whose callbacks may reach only what `guard` allows.
    pub fn new(guard: AddressGuard) -> Self {
        ApiChannel {
            guard,
            client: guard.client(std::time::Duration::from_secs(15)),
        }
    }
}

impl Default for ApiChannel {
    /// Callbacks to public addresses only.
    fn default() -> Self {
        Self::new(AddressGuard::STRICT)
    }
}

/// Signs `body` with `secret` as the `api` channel expects (for clients and tests).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn verify(secret: &str, request: &InboundRequest) -> Result<(), ConnectorError> {
    let header = request.headers.get(SIGNATURE_HEADER).ok_or_else(|| {
        ConnectorError::Unauthenticated(format!("missing {SIGNATURE_HEADER} header"))
    })?;
    let hex_sig = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("sha256="))
        .ok_or_else(|| {
            ConnectorError::Unauthenticated(format!("{SIGNATURE_HEADER} must be sha256=<hex>"))
        })?;
    let sig = hex::decode(hex_sig).map_err(|_| {
        ConnectorError::Unauthenticated(format!("{SIGNATURE_HEADER} is not valid hex"))
    })?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(&request.body);
    // verify_slice compares in constant time.
    mac.verify_slice(&sig)
        .map_err(|_| ConnectorError::Unauthenticated("signature does not match the body".into()))
}

fn non_empty(field: &str, value: &str) -> Result<(), ConnectorError> {
    if value.trim().is_empty() {
        return Err(ConnectorError::Malformed(format!(
            "{field} must not be empty"
        )));
    }
    if value.len() > 256 {
        return Err(ConnectorError::Malformed(format!(
            "{field} is longer than 256 bytes"
        )));
    }
    Ok(())
}

/// An error with its causes, which name what went wrong (refused, timed out).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Parses `Retry-After` in seconds (the form rate limiters send).
fn retry_after_ms(response: &reqwest::Response) -> Option<i64> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<i64>().ok().map(|secs| secs * 1000)
}

#[async_trait]
impl Connector for ApiChannel {
    fn network(&self) -> &str {
        "api"
    }

    /// POSTs `{"message_id", "chat_id", "text"}` to the channel's
    /// `callback_url`, signed like inbound webhooks, with the delivery id.
    async fn send(&self, channel: &Channel, message: &Outbound) -> Result<(), SendError> {
        let Some(url) = channel.config.callback_url() else {
            return Err(SendError::Permanent(format!(
                "channel {} has no callback_url; set one with PATCH /api/v1/channels/{}",
                channel.id, channel.id
            )));
        };
        // Saved URLs were checked, but the flag may have changed since, and
        // IP literals never reach the guarded resolver.
        self.guard
            .check_literal(url)
            .map_err(|e| SendError::Permanent(format!("callback_url {url}: {e}")))?;
        // I1: `author` is the agent as the channel shows them, or null.
        let author = message
            .author
            .as_ref()
            .map(|a| serde_json::json!({ "name": a.name, "avatar_url": a.avatar_url }));
        let body = serde_json::json!({
            "message_id": message.message_id,
            "chat_id": message.chat_id,
            "text": message.text,
            "author": author,
        })
        .to_string();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&channel.secret, body.as_bytes()))
            .header(DELIVERY_HEADER, message.delivery_id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| match refusal(&e) {
                // The name resolves to a forbidden address now (DNS rebinding,
                // or a changed record): retrying will not help.
                Some(refused) => SendError::Permanent(format!("callback_url {url}: {refused}")),
                None => SendError::Transient {
                    message: format!("callback failed: {}", error_chain(&e)),
                    retry_after_ms: None,
                },
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient {
                message: format!("callback answered {status}"),
                retry_after_ms: retry_after_ms(&response),
            })
        } else {
            Err(SendError::Permanent(format!("callback answered {status}")))
        }
    }

    async fn verify_and_parse(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Parsed, ConnectorError> {
        if request.method != axum::http::Method::POST || !request.path.is_empty() {
            return Err(ConnectorError::Malformed(format!(
                "an api channel takes POST /hooks/{} only, not {} /hooks/{}{}",
                channel.id, request.method, channel.id, request.path
            )));
        }
        verify(&channel.secret, request)?;
        let inbound: ApiInbound = serde_json::from_slice(&request.body).map_err(|e| {
            ConnectorError::Malformed(format!("body is not a valid api message: {e}"))
        })?;
        non_empty("message_id", &inbound.message_id)?;
        non_empty("chat_id", &inbound.chat_id)?;
        if inbound.text.len() > MAX_TEXT_BYTES {
            return Err(ConnectorError::Malformed(format!(
                "text is {} bytes; at most {MAX_TEXT_BYTES} are accepted",
                inbound.text.len()
            )));
        }
        let sender = inbound.sender.unwrap_or(ApiSender {
            id: None,
            name: None,
            email: None,
            phone: None,
        });
        Ok(Parsed::messages(vec![InboundMessage {
            external_id: inbound.message_id,
            sender: Sender {
                id: sender.id.unwrap_or_else(|| inbound.chat_id.clone()),
                name: sender.name,
                email: sender.email,
                phone: sender.phone,
                // Signed with the channel's secret: the integrator vouches (C1).
                verified: true,
            },
            chat_id: inbound.chat_id,
            text: inbound.text,
            ..Default::default()
        }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn channel() -> Channel {
        Channel {
            id: 1,
            name: "Site".into(),
            kind: "api".into(),
            secret: "s3cret".into(),
            config: crate::store::ChannelConfig::parse("{}"),
            enabled: true,
            created_at: 0,
        }
    }

    fn request(body: &str, signature: Option<String>) -> InboundRequest {
        let mut headers = HeaderMap::new();
        if let Some(sig) = signature {
            headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        }
        InboundRequest::post(headers, bytes::Bytes::from(body.to_string()))
    }

    #[tokio::test]
    async fn p3_accepts_a_correctly_signed_body() {
        let body = r#"{"message_id":"m1","chat_id":"c1","text":"hi","sender":{"name":"Ann"}}"#;
        let parsed = ApiChannel::default()
            .verify_and_parse(
                &channel(),
                &request(body, Some(sign("s3cret", body.as_bytes()))),
            )
            .await;
        let parsed = parsed.unwrap();
        assert!(parsed.reply.is_none());
        let parsed = parsed.messages;
        assert_eq!(parsed[0].external_id, "m1");
        assert_eq!(parsed[0].sender.id, "c1");
        assert_eq!(parsed[0].sender.name.as_deref(), Some("Ann"));
    }

    #[tokio::test]
    async fn p3_refuses_missing_wrong_and_malformed_signatures() {
        let body = r#"{"message_id":"m1","chat_id":"c1","text":"hi"}"#;
        for sig in [
            None,
            Some(sign("other", body.as_bytes())),
            Some("sha256=zz".into()),
            Some("md5=00".into()),
        ] {
            let err = ApiChannel::default()
                .verify_and_parse(&channel(), &request(body, sig))
                .await
                .unwrap_err();
            assert!(matches!(err, ConnectorError::Unauthenticated(_)), "{err}");
        }
    }

    #[tokio::test]
    async fn signed_but_malformed_bodies_say_what_is_wrong() {
        for (body, needle) in [
            (r#"{"chat_id":"c1","text":"hi"}"#, "message_id"),
            (
                r#"{"message_id":" ","chat_id":"c1","text":"hi"}"#,
                "message_id must not be empty",
            ),
            (
                r#"{"message_id":"m","chat_id":"c1","text":"hi","extra":1}"#,
                "extra",
            ),
        ] {
            let err = ApiChannel::default()
                .verify_and_parse(
                    &channel(),
                    &request(body, Some(sign("s3cret", body.as_bytes()))),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(err, ConnectorError::Malformed(ref m) if m.contains(needle)),
                "{err}"
            );
        }
    }
}
