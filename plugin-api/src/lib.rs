//! Write [frontdesk](https://github.com/frontdesk) connector and bot plugins in Rust.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2`. It
//! implements one trait, [`Connector`] or [`Bot`], and registers it with one
//! macro, [`export_connector!`] or [`export_bot!`]. Everything it may do
//! outside itself goes through the host: [`http`] (only to hosts its manifest
//! allows), [`smtp`], [`kv`], [`log`] and [`clock`].
//!
//! # A complete connector
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "hello-connector"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! frontdesk-plugin-api = { path = "../plugin-api" }
//! ```
//!
//! `src/lib.rs`, a connector for a provider that posts the text of one
//! message as the body and names the chat in a header:
//!
//! ```no_run
//! use frontdesk_plugin_api::{
//!     export_connector, http, ChannelContext, Connector, ConnectorError, InboundMessage,
//!     InboundOutcome, InboundRequest, OutboundMessage, Sender,
//! };
//!
//! struct Hello;
//!
//! impl Connector for Hello {
//!     fn verify(ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
//!         // `token` is declared as a secret in the manifest's config schema.
//!         let expected = ctx.secret("token");
//!         match (expected, req.header("x-token")) {
//!             (Some(expected), Some(got)) if expected == got => Ok(()),
//!             _ => Err(ConnectorError::Unauthorized("bad x-token".into())),
//!         }
//!     }
//!
//!     fn parse(_ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
//!         let chat = req.header("x-chat").ok_or(ConnectorError::Malformed("no x-chat".into()))?;
//!         let id = req.header("x-message-id").ok_or(ConnectorError::Malformed("no x-message-id".into()))?;
//!         let text = String::from_utf8(req.body.clone())
//!             .map_err(|_| ConnectorError::Malformed("body is not UTF-8".into()))?;
//!         Ok(InboundOutcome::messages(vec![InboundMessage {
//!             external_chat_id: chat.to_string(),
//!             external_message_id: id.to_string(),
//!             sender: Sender::id(chat),
//!             text: Some(text),
//!             attachments: Vec::new(),
//!             sent_at_ms: None,
//!             in_reply_to: None,
//!             edit_of: None,
//!         }]))
//!     }
//!
//!     fn render(ctx: &ChannelContext, msg: &OutboundMessage) -> Result<http::Request, ConnectorError> {
//!         // The base URL is channel config, so tests can point it at a local server.
//!         let base: String = ctx.config_str("api_base_url").unwrap_or_default();
//!         Ok(http::Request::post(
//!             format!("{base}/chats/{}/messages", msg.external_chat_id),
//!             msg.text.clone().unwrap_or_default().into_bytes(),
//!         ))
//!     }
//! }
//!
//! export_connector!(Hello);
//! # fn main() {}
//! ```
//!
//! `manifest.toml`, next to the built `.wasm`:
//!
//! ```toml
//! name = "hello"
//! version = "0.1.0"
//! kind = "connector"
//! api = "0.1.0"
//!
//! [capabilities]
//! # Hosts the plugin may call; `${config.FIELD}` takes the host of a URL in
//! # the channel's config. Empty means no network at all.
//! allowed_hosts = ["${config.api_base_url}"]
//!
//! [config.api_base_url]
//! type = "url"
//! required = true
//!
//! [config.token]
//! type = "string"
//! secret = true
//! required = true
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is already a component.
//!
//! # Layout
//!
//! - `connector.rs`: the [`Connector`] trait, its defaults and [`export_connector!`].
//! - `bot.rs`: the [`Bot`] trait and [`export_bot!`].
//! - `types.rs`: helpers on the WIT types ([`ChannelContext::secret`], ...).
//! - `split.rs`: long replies cut into parts a provider accepts ([`split_text`]).
//! - `wit.rs`: the generated bindings, hidden; the WIT itself is in
//!   `wit/since_v0.1.0/`, one folder per API version.

mod bot;
mod connector;
mod split;
#[cfg(test)]
mod tests;
mod types;
#[doc(hidden)]
pub mod wit;

pub use bot::Bot;
pub use connector::{Connector, http_error_to_connector, status_to_connector, text_with_author};
pub use split::{chars, split_text, utf16_units};

// WIT re-exports, listed one by one so that what authors see is chosen, and a
// regenerated binding cannot leak new names into their namespace.
pub use wit::bot::frontdesk::plugin::bot_types::{
    Answer, BotAction, BotEvent, Question, Reply, Session, Timer, TransferTarget,
};
pub use wit::connector::frontdesk::plugin::connector_types::{
    ConnectorError, FetchedFile, InboundOutcome, InboundRequest, RateLimit, SendReceipt,
};
pub use wit::connector::frontdesk::plugin::types::{
    Attachment, AttachmentKind, ChannelContext, InboundMessage, OutboundMessage, Sender,
};

/// Compares a secret the request carries with the one the channel holds, in
/// time that does not depend on where they differ, so an attacker cannot
/// guess a token byte by byte from response times. Use it in
/// [`Connector::verify`] instead of `==`.
pub fn secrets_match(expected: &str, received: &str) -> bool {
    use subtle::ConstantTimeEq;
    // Slices of different lengths compare false at once: the length of a
    // secret is not what an attacker needs.
    bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

/// The WIT API version this crate implements; a manifest's `api` must match it.
pub const API_VERSION: &str = "0.1.0";

/// Outbound HTTP through the host, limited to the manifest's `allowed_hosts`.
pub mod http {
    pub use crate::wit::connector::frontdesk::plugin::http::{
        Error, Method, Request, Response, send,
    };
}

/// Outbound email through the host's relay, for connectors granted `smtp`.
pub mod smtp {
    pub use crate::wit::connector::frontdesk::plugin::smtp::{Envelope, Error, send};
}

/// A small key-value store private to this plugin on this channel.
pub mod kv {
    pub use crate::wit::connector::frontdesk::plugin::kv::{Error, delete, get, set};
}

/// The host's clock; read time only through it, so tests can drive it.
pub mod clock {
    pub use crate::wit::connector::frontdesk::plugin::clock::now_ms;
}

/// Logs tagged by the host with the plugin, its version and the channel.
pub mod log {
    pub use crate::wit::connector::frontdesk::plugin::log::{Level, log};

    /// Logs at info level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Logs at error level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }

    /// Logs at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }
}

/// What the export macros need; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bot::BotExport;
    pub use crate::connector::ConnectorExport;
    pub use crate::wit::bot as bot_bindings;
    pub use crate::wit::bot::export_bot_world;
    pub use crate::wit::connector as connector_bindings;
    pub use crate::wit::connector::export_connector_world;
}
