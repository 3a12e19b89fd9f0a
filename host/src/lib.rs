//! frontdesk: a self-hosted open-channels server.
//!
//! # Layout
//!
//! - [`store`]: durable state behind one `Store` trait; SQLite (default) or
//!   PostgreSQL, picked once from the database URL.
//! - [`ingest`]: the path of an inbound message: a [`ingest::Connector`]
//!   verifies and parses the provider's request, the group-commit writer stores
//!   it exactly once (S3), and only then is the sender answered (S4).
//! - [`app`]: the application beneath every protocol: the use cases
//!   (receive inbound, send a reply, change a channel, email a transcript)
//!   with domain errors, and `App::start`, which builds it once from a config.
//! - [`api`]: HTTP over [`app`]: webhooks at `/hooks/{channel}`, the REST
//!   API under `/api/v1` (with its OpenAPI document), the widget's routes,
//!   the console's files, `/healthz` and `/metrics`.
//! - [`serve`]: the startup root of `frontdesk serve`: every part and
//!   worker built once, under one stop signal.
//! - [`mail`]: the SMTP listener, the IMAP poller and the SMTP relay for
//!   email channels (the email plugin parses and threads).
//! - [`outbox`]: the delivery worker: sends the outbox through connectors,
//!   retrying with backoff, failed items shown to admins (S5).
//! - [`attachments`]: the fetch worker: downloads attachments through their
//!   connector's allow-listed `http`, capped in size, into the database.
//! - [`address_guard`]: which addresses an admin's `callback_url` may reach
//!   (no loopback, private or metadata addresses), at save and at connect.
//! - [`plugin_kv`]: the plugins' `kv` import, on the database.
//! - [`auth`]: API tokens, stored only as hashes (P2).
//! - [`engine`]: drives the routing core: events in, each step stored in one
//!   transaction before its effects go out, timers as rows.
//! - [`limits`]: rate limits (L1) per IP, channel, visitor and address, with
//!   the client's address behind trusted proxies.
//! - [`live`]: the event hub behind the agent console's WebSocket: stored
//!   session and message changes, read back once and broadcast per node.
//! - [`clock`]: the injected clock; nothing reads the system time directly.
//! - [`prometheus`]: `/metrics`: every series registered from the first scrape.
//! - [`routing_lock`]: one routing leader per database: the PostgreSQL
//!   lease with its fencing token or the SQLite lock file, and the refusal
//!   a follower gives.
//! - [`server`]: the accept loop: per-connection deadlines, a connection
//!   cap, and a bounded drain on shutdown.
//! - [`node`]: this process as a node: its id for outbox claims across
//!   restarts, and its workers' stop signal.
//! - [`routing`]: the sans-IO routing core (its own crate, re-exported).
//! - [`rules`]: the sandboxed Rhai auto-actions (its own crate, re-exported).
//! - [`webchat`]: the live-chat widget's hub of open sockets, which replies
//!   are pushed to, and its visitor tokens (its routes are in [`api`]).
//! - [`transcript`]: a session as readable text (O2), for export and the
//!   transcript email (O3, `app::transcript_mail`).
//! - [`builtin_plugins`]: the first-party connectors and bots, built by
//!   `build.rs` and embedded; the fallback when none of that name is installed.
//! - [`cli`]: subcommands that need no database, such as `rules check`.

pub mod address_guard;
pub mod api;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod backup;
pub mod builtin_plugins;
pub mod catalogue;
pub mod cli;
pub mod clock;
pub mod contacts;
pub mod engine;
pub mod identity;
pub mod ingest;
pub mod leased;
pub mod limits;
pub mod live;
pub mod mail;
pub mod node;
pub mod outbox;
pub mod plugin_kv;
pub mod prometheus;
pub mod retention;
pub mod routing_lock;
pub mod serve;
pub mod server;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod transcript;
pub mod webchat;

pub use frontdesk_routing as routing;
pub use frontdesk_rules as rules;
