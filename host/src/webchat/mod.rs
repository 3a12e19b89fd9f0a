//! The live-chat widget's server side that is not HTTP (issue 7): the hub
//! of visitors' open sockets on this node, which pushes replies to them,
//! and the signed visitor tokens. Its routes are in `api::webchat`.
//!
//! Messages go through the `webchat` connector plugin like any channel's;
//! replies come back as the connector's `push` frames (see `hub.rs`).

pub mod hub;
pub mod token;

pub use hub::Hub;

/// The prefix of the headers the host sets for the webchat connector
/// (`x-frontdesk-visitor`, `x-frontdesk-visitor-name`) after checking a
/// visitor's token; the webhook drops them from outside requests.
pub const TRUSTED_HEADERS: &str = "x-frontdesk-visitor";

/// The channel kind (connector plugin) the widget talks to.
pub const KIND: &str = "webchat";
