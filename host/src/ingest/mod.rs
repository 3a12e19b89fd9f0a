//! The inbound path: connector → group commit → answer (S3, S4).
//!
//! A webhook request goes to its channel's [`Connector`], which checks the
//! provider's signature and turns the request into normalized
//! [`InboundMessage`]s. Those go to the [`GroupCommit`] writer, which stores
//! many concurrent messages in one transaction, and the request is answered
//! only after that transaction committed.

mod api_channel;
mod group_commit;
mod wasm_channel;

pub use api_channel::{ApiChannel, DELIVERY_HEADER, SIGNATURE_HEADER, sign};
pub use group_commit::{GroupCommit, IngestError};
pub use wasm_channel::WasmChannel;
// The mail listener and poller call the email plugin with their own methods (`SMTP`, `IMAP`).
pub(crate) use wasm_channel::{normalize, target};

use async_trait::async_trait;
use axum::http::HeaderMap;

use crate::store::{Channel, InboundMessage};

/// A webhook request as the connector sees it: the raw bytes, never re-serialised.
#[derive(Debug, Clone)]
pub struct InboundRequest {
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

/// The seam between the host and a network: built-in (`api`) or a Wasm plugin.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The network name recorded as a session's source (C3), e.g. `api`, `telegram`.
    fn network(&self) -> &str;

    /// Checks the request is from the provider (P3), then parses it.
    ///
    /// Must not store anything: the host stores what this returns, once.
    async fn verify_and_parse(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Vec<InboundMessage>, ConnectorError>;

    /// Sends one message to the customer through the provider (S5).
    async fn send(&self, channel: &Channel, message: &Outbound) -> Result<(), SendError>;
}
