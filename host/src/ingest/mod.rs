//! The inbound path: connector → group commit → answer (S3, S4).
//!
//! A webhook request goes to its channel's [`Connector`], which checks the
//! provider's signature and turns the request into normalized
//! [`InboundMessage`]s. Those go to the [`GroupCommit`] writer, which stores
//! many concurrent messages in one transaction, and the request is answered
//! only after that transaction committed.

mod api_channel;
mod connectors;
mod group_commit;
mod wasm_channel;

pub use api_channel::{ApiChannel, DELIVERY_HEADER, SIGNATURE_HEADER, sign};
pub use connectors::Connectors;
pub use group_commit::{GroupCommit, IngestError};
pub use wasm_channel::WasmChannel;
pub(crate) use wasm_channel::target as plugin_channel;
pub use wasm_channel::{HOST_SETTINGS, plugin_config};

use async_trait::async_trait;
use axum::http::{HeaderMap, Method, StatusCode};

use crate::store::{Channel, InboundMessage};

/// A webhook request as the connector sees it: the raw bytes, never re-serialised.
#[derive(Debug, Clone)]
pub struct InboundRequest {
    /// `POST` for deliveries; `GET` for handshakes such as Messenger's `hub.challenge`.
    pub method: Method,
    /// The path after `/hooks/{channel}`: empty, or starting with `/`.
    pub path: String,
    /// The raw query string, without `?`, exactly as received (still percent-encoded).
    pub query: String,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl InboundRequest {
    /// A `POST` with no path or query, as most providers send.
    pub fn post(headers: HeaderMap, body: bytes::Bytes) -> Self {
        InboundRequest {
            method: Method::POST,
            path: String::new(),
            query: String::new(),
            headers,
            body,
        }
    }
}

/// What one inbound request amounts to.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The messages to store; none for a handshake, a receipt or an echo.
    pub messages: Vec<InboundMessage>,
    /// The answer the provider expects instead of the host's JSON (e.g. the
    /// `hub.challenge` echo); sent only after `messages` are committed (S4).
    pub reply: Option<Reply>,
}

impl Parsed {
    /// Messages, answered with the host's own JSON.
    pub fn messages(messages: Vec<InboundMessage>) -> Self {
        Parsed {
            messages,
            reply: None,
        }
    }
}

/// An HTTP answer a connector chose for the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

/// Why a connector refused a request.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The signature or secret token is missing or wrong (P3); nothing is stored.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is authentic but its body is not in the provider's format.
    #[error("{0}")]
    Malformed(String),
    /// The request is authentic but the connector cannot parse it: the
    /// webhook keeps it raw as a failed inbound and answers 200, because
    /// providers such as Telegram hold back later updates while one fails.
    #[error("{0}")]
    Unprocessable(String),
    /// The connector could not decide now (a plugin fault, timeout or
    /// quarantine); the provider should retry, and nothing was stored.
    #[error("{0}")]
    Unavailable(String),
}

/// A message for a customer, as the delivery worker hands it to a connector.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The outbox item: a delivery id the receiving side can dedupe on.
    pub delivery_id: i64,
    pub message_id: i64,
    pub chat_id: String,
    pub text: String,
    /// The agent as the channel shows them (I1); `None` for bots, notices
    /// and channels that hide agents.
    pub author: Option<AuthorIdentity>,
}

/// What a customer sees of the agent who wrote (I1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorIdentity {
    pub name: String,
    pub avatar_url: Option<String>,
}

/// A successful send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The connector's frame for the customer's open connection, if it
    /// has customers connected to the host itself (the webchat widget).
    pub push: Option<Vec<u8>>,
}

/// Why a send did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (a 5xx, a 429, a network error); `retry_after_ms`
    /// is the provider's own wish, if it said.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// Will never work as is (a 4xx, no callback configured).
    #[error("{0}")]
    Permanent(String),
}

/// Why a connector's provider setup (e.g. Telegram's `setWebhook`) failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The provider answered and refused (a wrong token, a URL it will not
    /// call); the message is what it said.
    #[error("{0}")]
    Refused(String),
    /// The provider could not be reached, or failed for now (a network
    /// error, a timeout, a 5xx, a rate limit).
    #[error("{0}")]
    Unreachable(String),
    /// The connector found the channel's config unusable and called nobody.
    #[error("{0}")]
    Config(String),
    /// The connector itself could not run (a plugin fault, timeout or quarantine).
    #[error("{0}")]
    Connector(String),
}

/// The seam between the host and a network: built-in (`api`) or a Wasm plugin.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The network name recorded as a session's source (C3), e.g. `api`, `telegram`.
    fn network(&self) -> &str;

    /// Checks the request is from the provider (P3), then parses it.
    ///
    /// Must not store anything: the host stores the messages this returns,
    /// once, and only then answers with its reply (or the host's JSON).
    async fn verify_and_parse(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Parsed, ConnectorError>;

    /// Sends one message to the customer through the provider (S5).
    async fn send(&self, channel: &Channel, message: &Outbound) -> Result<(), SendError>;

    /// Like [`Connector::send`], with what the host must do next: a frame
    /// to push to the customer's live connection (the webchat widget).
    /// Connectors that only talk to providers keep this default.
    async fn deliver(&self, channel: &Channel, message: &Outbound) -> Result<Sent, SendError> {
        self.send(channel, message).await.map(|()| Sent::default())
    }

    /// Prepares the provider for a channel that was created, enabled or
    /// reconfigured, e.g. registers `webhook_url`. Must be safe to repeat.
    /// Built-in connectors need nothing.
    async fn setup(&self, _channel: &Channel, _webhook_url: &str) -> Result<(), SetupError> {
        Ok(())
    }
}
