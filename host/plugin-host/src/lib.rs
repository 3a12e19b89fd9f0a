//! The frontdesk plugin host: runs connector and bot plugins (WebAssembly
//! components built against `frontdesk:plugin@0.1.0`) in wasmtime sandboxes,
//! and keeps the registry of installed versions.
//!
//! # What a call costs and what it may do
//!
//! - Each version is compiled once, at install, and the artifact is cached on
//!   disk; a restart loads it without compiling ([`PluginHost::compilations`]).
//! - Every call gets a fresh instance from an `InstancePre`, in wasmtime's
//!   pooling allocator, with its own store, so nothing leaks between calls or
//!   channels.
//! - CPU: an epoch ticker stops a call at its deadline ([`HostLimits::timeout`],
//!   or less if the manifest asks); the guest yields to tokio every tick.
//!   Memory: a `ResourceLimiter` caps linear memory. Output: results over
//!   [`HostLimits::max_output_bytes`] are refused.
//! - A trap, timeout or limit fails that call only, with a [`CallError`]
//!   naming the plugin and version. After
//!   [`HostConfig::quarantine_after`] faults in a row the version is
//!   quarantined: calls are refused with the recorded reason until an admin
//!   [releases](PluginHost::release) it or activates another version.
//! - Capabilities come from the manifest and are enforced here: HTTP only to
//!   `allowed_hosts` (checked before any socket opens, no redirects followed),
//!   SMTP and kv only if granted, secrets only the channel's own.
//!
//! # Wiring it into the server
//!
//! One [`PluginHost`] per process, opened at startup with
//! `PluginHost::open(HostConfig::new(data_dir))`, where `data_dir` is the
//! server's data directory; plugins live in `data_dir/plugins/` (layout in
//! `registry_file.rs`). Then:
//!
//! - CLI `frontdesk plugin install DIR` → [`Package::from_dir`] +
//!   [`PluginHost::install`]; `upgrade DIR` → [`PluginHost::upgrade`];
//!   `rollback NAME` → [`PluginHost::rollback`]; `remove NAME [VERSION]` →
//!   [`PluginHost::remove`]; `list` → [`PluginHost::list`]. Admin calls block:
//!   run them in `spawn_blocking`. The CLI and a running server share the
//!   registry file, but a running server only sees changes made through its
//!   own `PluginHost`; so the admin API should call these methods in-process,
//!   and the CLI should go through the admin API when a server is running.
//!   Write each to the audit log (SPEC P4).
//! - Admin API for channels: [`PluginHost::validate_channel`] before saving a
//!   channel's config (errors name each field), [`PluginHost::manifest`] for
//!   the config form, [`config_schema::redact`] before showing a config.
//! - Ingest: `/hooks/{channel}` → [`PluginHost::handle_inbound`]. `Ok` with
//!   `value: Ok(outcome)`: store `outcome.messages`, then answer with
//!   `outcome.reply` or 200. `value: Err(ConnectorError::Unauthorized)` → 401,
//!   `Malformed` → 400. `Err(CallError)` → 503 (the provider retries).
//! - Outbox worker: [`PluginHost::send`]; `Transient` and `Err(CallError)`
//!   retry with backoff, `Permanent` gives up.
//! - Bots: [`PluginHost::bot_event`].
//! - Kv and mail: implement [`KvStore`] on the database and [`Mailer`] with
//!   lettre, and pass them in [`HostConfig`] along with the server's clock.
//!
//! Upgrades need no restart: [`Served::version`] shows which version handled
//! each call, and a call in flight during an upgrade finishes on the version
//! it started with.
//!
//! # Layout
//!
//! - `host.rs`: [`PluginHost`], opening, listing and the call entry points.
//! - `admin.rs`: install, upgrade, activate, rollback, remove, release.
//! - `loaded.rs`: one linked version and the call path (store, limits,
//!   instantiate, classify failures).
//! - `call_steps.rs`: the same call path one step at a time, for the
//!   per-step breakdown in `benches/connector_call.rs` (hidden from the docs).
//! - `engine.rs`: the wasmtime engine, linkers, epoch ticker, artifact cache.
//! - `call_state.rs`, `imports.rs`, `http_import.rs`: per-call store data and
//!   the host side of the plugin imports.
//! - `manifest.rs`, `config_schema.rs`, `allow_list.rs`, `package.rs`:
//!   packages and what they declare.
//! - `registry_file.rs`: the registry on disk. `health.rs`: quarantine.
//! - `builtin.rs`: packages the binary carries, the fallback when nothing of
//!   that name is installed ([`HostConfig::builtins`]).
//! - `services.rs`: [`HostConfig`], [`HostLimits`] and the traits the server
//!   implements. `bindings.rs`: wasmtime bindings, one module per API version.
//! - `tests/`: scenario tests against real guest plugins from `plugins/`.

mod admin;
pub mod allow_list;
mod bindings;
mod builtin;
mod call_state;
mod call_steps;
pub mod config_schema;
mod engine;
mod error;
pub mod guest_build;
mod health;
mod host;
mod http_import;
mod imports;
mod loaded;
pub mod manifest;
mod output_size;
mod package;
mod registry_file;
mod services;
pub mod signing;
#[cfg(test)]
mod tests;

pub use admin::{Consent, UpgradeOutcome};
#[doc(hidden)]
pub use call_steps::{CallSteps, StepInstance, StepStore};
pub use error::{CallError, ConfigError, FieldError, InstallError, ManifestError};
pub use health::Quarantine;
pub use host::{PluginHost, PluginInfo, PluginSource, Served, VersionInfo};
pub use manifest::{Manifest, PluginKind};
pub use package::{MAX_PACKAGE_BYTES, Package, sha256_hex};
pub use registry_file::{Approval, REGISTRY_FORMAT, VersionRecord};
pub use services::{
    HostConfig, HostLimits, KvError, KvScope, KvStore, MailError, Mailer, MemoryKv, SystemClock,
    WallClock,
};

/// The data plugins exchange with the host, as of the newest API version.
pub mod types {
    pub use crate::bindings::v0_1_0::bot::frontdesk::plugin::bot_types::{
        Answer, BotAction, BotEvent, Question, Reply, Session, Timer, TransferTarget,
    };
    pub use crate::bindings::v0_1_0::connector::frontdesk::plugin::connector_types::{
        ConnectorError, FetchedFile, InboundOutcome, InboundRequest, RateLimit, SendReceipt,
    };
    pub use crate::bindings::v0_1_0::connector::frontdesk::plugin::http::Response as HttpResponse;
    pub use crate::bindings::v0_1_0::connector::frontdesk::plugin::types::{
        Attachment, AttachmentKind, ChannelContext, InboundMessage, OutboundMessage, Sender,
    };

    /// A channel as the plugin host needs it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Channel {
        /// The channel's id, also the kv scope and the log tag.
        pub id: String,
        /// The plugin name (a connector, or a bot for bot calls).
        pub plugin: String,
        /// The channel's config, secrets included, as a JSON object; checked
        /// against the active version's schema on every call.
        pub config: serde_json::Value,
    }
}
