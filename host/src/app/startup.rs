//! Building the application once: from one [`Config`], [`App::start`]
//! loads the scripts, starts the routing engine (with its bots when there
//! are plugins), the group-commit writer, the delivery workers and, on
//! PostgreSQL, the live bus between nodes, all under
//! the config's [`Workers`], so stopping them drains every one. Nothing is
//! wired in afterwards.

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_plugin_host::PluginHost;

use super::transcript_mail::HostMail;
use super::{App, DEFAULT_PUBLIC_URL, InboundChannels};
use crate::address_guard::AddressGuard;
use crate::catalogue::Marketplace;
use crate::clock::Clock;
use crate::engine::{Engine, EngineError};
use crate::ingest::{ApiChannel, Connector, GroupCommit};
use crate::node::{Claimant, Workers};
use crate::routing_lock::RoutingLease;
use crate::store::Store;

/// Everything the application is built from.
pub struct Config {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Routing runs only while this allows (the database's routing lock).
    pub lease: RoutingLease,
    /// Installed connector and bot plugins; `None` runs with built-in
    /// connectors only, and no bots.
    pub plugins: Option<PluginHost>,
    /// Built-in connectors besides `api` (tests add their own kinds).
    pub connectors: Vec<(String, Arc<dyn Connector>)>,
    /// Where providers reach this server (no trailing `/` needed).
    pub public_url: String,
    /// Which addresses `callback_url`s may reach (`--allow-private-callbacks`).
    pub callbacks: AddressGuard,
    /// Mail the host writes itself (transcripts, O3).
    pub host_mail: Option<HostMail>,
    /// Who this node's outbox claims are from.
    pub claimant: Claimant,
    pub marketplace: Marketplace,
    /// The stop signal and task tracker every worker runs under.
    pub workers: Workers,
    /// Starts the outbox delivery worker (S5).
    pub deliver_outbox: bool,
    /// Starts the attachment fetch worker (issue 6).
    pub fetch_attachments: bool,
    /// The database the live bus between nodes runs on (PostgreSQL);
    /// `None` runs none: one node, or a test in-process.
    pub live_bus: Option<sqlx::postgres::PgConnectOptions>,
}

impl Config {
    /// An app on `store` and `clock` with the defaults: no plugins, no
    /// delivery workers, strict callback URLs, a node of its own.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Config {
            store,
            clock,
            lease: RoutingLease::unguarded(),
            plugins: None,
            connectors: Vec::new(),
            public_url: DEFAULT_PUBLIC_URL.to_string(),
            callbacks: AddressGuard::STRICT,
            host_mail: None,
            claimant: Claimant::ephemeral(),
            marketplace: Marketplace::default(),
            workers: Workers::default(),
            deliver_outbox: false,
            fetch_attachments: false,
            live_bus: None,
        }
    }
}

impl App {
    /// Builds the application from `config` and starts its workers.
    pub async fn start(config: Config) -> Result<App, EngineError> {
        let Config {
            store,
            clock,
            lease,
            plugins,
            connectors: extra,
            public_url,
            callbacks,
            host_mail,
            claimant,
            marketplace,
            workers,
            deliver_outbox,
            fetch_attachments,
            live_bus,
        } = config;
        let mut connectors: HashMap<String, Arc<dyn Connector>> = HashMap::new();
        connectors.insert("api".into(), Arc::new(ApiChannel::new(callbacks)));
        connectors.extend(extra);
        let rules = Arc::new(super::rules::load(store.as_ref()).await?);
        // The engine comes whole: its bots (B1) run on the same plugin host,
        // and without one (`App::new`, tests) it runs none.
        let engine = Engine::start_with(
            store.clone(),
            clock.clone(),
            rules.clone(),
            lease,
            plugins.clone(),
            Some(&claimant.node),
            &workers,
        )
        .await?;
        let outbox = engine.outbox().clone();
        // The hub announces its pushes where the consoles' hints go.
        let webchat = Arc::new(crate::webchat::Hub::new(engine.live().bus().clone()));
        if let Some(options) = &live_bus {
            crate::live::bus::start(
                options,
                claimant.token.clone(),
                engine.live().clone(),
                webchat.clone(),
                &workers,
            );
        }
        let app = App {
            ingest: GroupCommit::start(
                store.clone(),
                clock.clone(),
                engine.live().clone(),
                &workers,
            ),
            outbox,
            engine,
            rules,
            store,
            clock,
            connectors: Arc::new(connectors),
            plugins,
            attachments: Arc::new(tokio::sync::Notify::new()),
            channels: Arc::new(InboundChannels::default()),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            webchat,
            host_mail,
            claimant,
            workers,
            callbacks,
            marketplace: Arc::new(marketplace),
        };
        if deliver_outbox {
            app.deliver_outbox();
        }
        if fetch_attachments {
            app.fetch_attachments();
        }
        Ok(app)
    }

    /// Starts the outbox delivery worker (S5).
    fn deliver_outbox(&self) {
        let outbox = crate::outbox::Outbox {
            store: self.store.clone(),
            clock: self.clock.clone(),
            connectors: self.connector_set(),
            webchat: self.webchat.clone(),
            claimant: self.claimant.clone(),
        };
        self.runner("outbox", crate::outbox::CAPS, self.outbox.clone())
            .start(outbox);
    }

    /// Starts the attachment fetch worker (issue 6).
    fn fetch_attachments(&self) {
        let fetcher = crate::attachments::Fetcher {
            store: self.store.clone(),
            clock: self.clock.clone(),
            plugins: self.plugins.clone(),
        };
        self.runner(
            "attachments",
            crate::attachments::CAPS,
            self.attachments.clone(),
        )
        .start(fetcher);
    }

    /// A leased queue's loop on this node's clock and workers, woken by `wake`.
    fn runner(
        &self,
        name: &'static str,
        caps: crate::leased::Caps,
        wake: Arc<tokio::sync::Notify>,
    ) -> crate::leased::Runner {
        crate::leased::Runner {
            name,
            caps,
            clock: self.clock.clone(),
            wake,
            workers: self.workers.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use frontdesk_plugin_host::HostConfig;

    use super::*;
    use crate::clock::SystemClock;
    use crate::engine::Event;
    use crate::test_support::sqlite_store;
    use frontdesk_routing::AgentId;

    /// Issue 15: every task the app starts (the engine task, the bot
    /// worker, the live publisher and access poll, the group-commit writer,
    /// the delivery workers) runs under the config's `Workers`, so stopping
    /// them, as SIGTERM does, ends every one, and a detached task would
    /// still hold the store afterwards.
    #[tokio::test]
    async fn stopping_the_workers_ends_every_task_the_app_started() {
        let (store, _dir) = sqlite_store().await;
        let plugins = tempfile::tempdir().unwrap();
        let host = PluginHost::open(HostConfig::new(plugins.path())).unwrap();
        let workers = Workers::default();
        let app = App::start(Config {
            plugins: Some(host),
            workers: workers.clone(),
            deliver_outbox: true,
            fetch_attachments: true,
            ..Config::new(store.clone(), Arc::new(SystemClock))
        })
        .await
        .unwrap();
        // The publisher has something to send when the stop comes.
        app.engine.live().session_changed(1);
        workers.stop.cancel();
        workers.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), workers.tracker.wait())
            .await
            .expect("every worker ends on stop");
        let sent = app.engine.send(Event::Activity { agent: AgentId(1) }).await;
        assert!(
            matches!(sent, Err(EngineError::Stopped)),
            "the engine task ended: {sent:?}"
        );
        drop(app);
        // Checked before anything else gets to run: a task that ends only
        // when it notices its last handle went still holds the store here.
        assert_eq!(
            Arc::strong_count(&store),
            1,
            "no task outlives the workers' stop"
        );
    }
}
