//! The application: what frontdesk does, beneath any protocol.
//!
//! [`App`] holds the parts the use cases need (the store, the clock, the
//! routing engine, the ingest writer, the connectors and plugins, the
//! webchat hub, the host's own mail, the marketplace). The use cases are its
//! methods: receiving an inbound request ([`inbound`]), sending an agent's
//! reply ([`reply`]), checking a channel change ([`channels`]) and emailing a
//! transcript ([`transcript_mail`]). They fail with [`Error`], which says
//! what the domain sees (not found, refused, invalid, temporary); HTTP, SMTP
//! and the widget each turn it into their own answer.
//!
//! Nothing here imports axum or the HTTP module (`api`): the import arrows
//! run from `api`, `mail` and `webchat` down into `app`, never back.
//! [`startup`] builds an `App` and its workers once, from one [`Config`].

pub mod channels;
mod error;
pub mod failed_inbound;
pub mod inbound;
pub mod reply;
pub mod rules;
pub mod startup;
pub mod transcript_mail;

use std::collections::HashMap;
use std::sync::Arc;

pub use error::Error;
pub use inbound::{InboundChannels, Received};
pub use startup::Config;

use crate::address_guard::AddressGuard;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::ingest::{Connector, GroupCommit};
use frontdesk_plugin_host::{PluginHost, PluginKind};

use crate::store::Store;

/// The public URL when none is set: the default listen address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The application; cheap to clone (every part is shared).
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ingest: GroupCommit,
    /// Connector per channel kind; `api` is built in (X3).
    pub connectors: Arc<HashMap<String, Arc<dyn Connector>>>,
    /// Installed connector and bot plugins; `None` runs with built-ins only.
    pub plugins: Option<PluginHost>,
    /// Recently read channels, for the inbound path.
    pub channels: Arc<InboundChannels>,
    pub engine: Engine,
    /// The auto-action scripts the engine runs (A1–A5, W2, Q1, Q2).
    pub rules: Arc<frontdesk_rules::Rules>,
    /// Wakes the outbox worker when something was queued.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Wakes the attachment fetch worker when a message brought a file to fetch.
    pub attachments: Arc<tokio::sync::Notify>,
    /// Where providers reach this server (`--public-url`); webhooks are
    /// registered as `{public_url}/hooks/{channel}`.
    pub public_url: Arc<str>,
    /// The live-chat widget's open sockets on this node, and its token key.
    pub webchat: Arc<crate::webchat::Hub>,
    /// Mail the host writes itself (transcripts, O3); `None` without a relay.
    pub host_mail: Option<transcript_mail::HostMail>,
    /// Who this node's outbox claims are from (kept across restarts by `serve`).
    pub claimant: crate::node::Claimant,
    /// The background workers' stop signal and in-flight tasks, drained on shutdown.
    pub workers: crate::node::Workers,
    /// Which addresses `callback_url`s may reach, checked when one is saved
    /// (the `api` connector checks again on every delivery).
    pub callbacks: AddressGuard,
    /// Plugin catalogues and trusted publishers (issue 17).
    pub marketplace: Arc<crate::catalogue::Marketplace>,
}

impl App {
    /// An app with the built-in connectors, the group-commit writer and the
    /// routing engine started, and no delivery workers: the short way for
    /// tests. Anything more is a [`Config`] given to [`App::start`].
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::engine::EngineError> {
        App::start(Config::new(store, clock)).await
    }

    /// The connector for a channel kind: built in, or the active version of
    /// the connector plugin of that name.
    pub fn connector(&self, kind: &str) -> Option<Arc<dyn Connector>> {
        self.connector_set().get(kind)
    }

    /// Every connector of this node, as the workers that send through them hold it.
    pub fn connector_set(&self) -> crate::ingest::Connectors {
        crate::ingest::Connectors {
            builtins: self.connectors.clone(),
            plugins: self.plugins.clone(),
        }
    }

    /// Every channel kind that can be created, sorted.
    pub fn connector_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.connectors.keys().cloned().collect();
        if let Some(host) = &self.plugins {
            kinds.extend(
                host.list()
                    .into_iter()
                    .filter(|p| p.kind == PluginKind::Connector)
                    .map(|p| p.name),
            );
        }
        kinds.sort();
        kinds
    }
}
