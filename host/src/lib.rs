//! frontdesk: a self-hosted open-channels server.
//!
//! # Layout
//!
//! - [`store`]: durable state behind one `Store` trait; SQLite (default) or
//!   PostgreSQL, picked once from the database URL.
//! - [`ingest`]: the path of an inbound message: a [`ingest::Connector`]
//!   verifies and parses the provider's request, the group-commit writer stores
//!   it exactly once (S3), and only then is the sender answered (S4).
//! - [`api`]: axum routes: webhooks at `/hooks/{channel}`, the REST API under
//!   `/api/v1` (with its OpenAPI document), `/healthz` and `/metrics`.
//! - [`auth`]: API tokens, stored only as hashes (P2).
//! - [`engine`]: drives the routing core: events in, each step stored in one
//!   transaction before its effects go out, timers as rows.
//! - [`clock`]: the injected clock; nothing reads the system time directly.
//! - [`server`]: binds, serves and drains on shutdown.
//! - [`routing`]: the sans-IO routing core (its own crate, re-exported).

pub mod api;
pub mod auth;
pub mod clock;
pub mod engine;
pub mod ingest;
pub mod server;
pub mod store;
#[cfg(test)]
mod test_support;

pub use frontdesk_routing as routing;
