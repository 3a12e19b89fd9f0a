//! The HTTP surface: webhooks, the REST API under `/api/v1`, `/healthz`, `/metrics`.
//!
//! [`app`] builds the whole router from an [`AppState`] with no socket, so
//! tests drive it with `oneshot`.

mod actions;
mod attachments;
mod bots;
mod channel_health;
mod channel_setup;
mod channels;
mod contacts;
mod error;
mod extract;
mod failed_inbound;
mod hours;
mod leads;
mod live;
mod marketplace;
mod message_log;
mod openapi;
mod ops;
mod plugins;
mod scripts;
mod sessions;
mod settings;
mod sign_in;
mod stats;
mod tokens;
mod totp;
mod transcripts;
mod users;
mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, BODY_LIMIT, ErrorBody};
pub use extract::{ApiJson, ApiPath, ApiQuery, Caller, Credential};
pub use scripts::load as load_scripts;
pub use sign_in::first_run_link;
pub use transcripts::transcript_error;
pub use webhooks::{Received, receive_inbound};

use crate::address_guard::AddressGuard;
use crate::clock::{Clock, ManualClock};
use crate::engine::{Engine, EngineError};
use crate::routing_lock::RoutingLease;
use frontdesk_plugin_host::{PluginHost, PluginKind};

use crate::ingest::{ApiChannel, Connector, GroupCommit};
use crate::store::{Channel, Store};

/// The public URL when none is set: the default listen address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ingest: GroupCommit,
    /// Connector per channel kind; `api` is built in (X3).
    pub connectors: Arc<HashMap<String, Arc<dyn Connector>>>,
    /// Installed connector and bot plugins; `None` runs with built-ins only.
    pub plugins: Option<PluginHost>,
    pub channels: Arc<webhooks::WebhookChannels>,
    pub metrics: crate::prometheus::Metrics,
    pub engine: Engine,
    /// The auto-action scripts the engine runs (A1–A5, W2, Q1, Q2).
    pub rules: Arc<frontdesk_rules::Rules>,
    /// Wakes the outbox worker when something was queued.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Wakes the attachment fetch worker when a message brought a file to fetch.
    pub attachments: Arc<tokio::sync::Notify>,
    /// Set only when the server runs on a test clock (`FRONTDESK_TEST_CLOCK`).
    pub test_clock: Option<Arc<ManualClock>>,
    /// Where providers reach this server (`--public-url`); webhooks are
    /// registered as `{public_url}/hooks/{channel}`.
    pub public_url: Arc<str>,
    /// The live-chat widget's open sockets on this node, and its token key.
    pub webchat: Arc<crate::webchat::Hub>,
    /// Mail the host writes itself (transcripts, O3); `None` without a relay.
    pub host_mail: Option<crate::transcript_mail::HostMail>,
    /// Who this node's outbox claims are from (kept across restarts by `serve`).
    pub claimant: crate::node::Claimant,
    /// The background workers' stop signal and in-flight tasks, drained on shutdown.
    pub workers: crate::node::Workers,
    /// Rate limits (L1), shared by every request.
    pub limits: Arc<crate::limits::Limits>,
    /// Which addresses `callback_url`s may reach, checked when one is saved
    /// (the `api` connector checks again on every delivery).
    pub callbacks: AddressGuard,
    /// Plugin catalogues and trusted publishers (issue 17).
    pub marketplace: Arc<crate::catalogue::Marketplace>,
    /// A catalogue directory this server offers at `/catalogue/` (`--serve-catalogue`).
    pub served_catalogue: Option<Arc<std::path::Path>>,
}

impl AppState {
    /// State with the built-in connectors, the group-commit writer and the
    /// routing engine started (the engine rebuilds itself from the store).
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, EngineError> {
        Self::serving(store, clock, None, RoutingLease::unguarded()).await
    }

    /// Like [`AppState::new`], on a clock only `POST /api/v1/test/clock` moves.
    pub async fn with_test_clock(
        store: Arc<dyn Store>,
        clock: Arc<ManualClock>,
    ) -> Result<Self, EngineError> {
        Self::serving(store, clock.clone(), Some(clock), RoutingLease::unguarded()).await
    }

    /// What `serve` runs: routing only while `lease` (the database's routing
    /// lock) allows; `test_clock` when the server runs on a test clock.
    pub async fn serving(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        test_clock: Option<Arc<ManualClock>>,
        lease: RoutingLease,
    ) -> Result<Self, EngineError> {
        let mut connectors: HashMap<String, Arc<dyn Connector>> = HashMap::new();
        connectors.insert("api".into(), Arc::new(ApiChannel::default()));
        let rules = Arc::new(scripts::load(store.as_ref()).await?);
        let engine =
            Engine::start_with_lease(store.clone(), clock.clone(), rules.clone(), lease).await?;
        Ok(AppState {
            ingest: GroupCommit::start(store.clone(), clock.clone(), engine.live().clone()),
            outbox: engine.outbox().clone(),
            engine,
            rules,
            test_clock,
            store,
            clock,
            connectors: Arc::new(connectors),
            plugins: None,
            attachments: Arc::new(tokio::sync::Notify::new()),
            channels: Arc::new(webhooks::WebhookChannels::default()),
            metrics: crate::prometheus::Metrics::get(),
            public_url: Arc::from(DEFAULT_PUBLIC_URL),
            webchat: Arc::default(),
            host_mail: None,
            claimant: crate::node::Claimant::ephemeral(),
            workers: crate::node::Workers::default(),
            limits: crate::limits::Limits::new(Default::default(), Default::default()),
            callbacks: AddressGuard::STRICT,
            marketplace: Arc::default(),
            served_catalogue: None,
        })
    }
}

impl AppState {
    /// Claims outbox items as `claimant` (set before [`AppState::deliver_outbox`]).
    pub fn with_claimant(mut self, claimant: crate::node::Claimant) -> Self {
        self.claimant = claimant;
        self
    }

    /// Runs with `limits` instead of the default rate limits.
    pub fn with_limits(mut self, limits: Arc<crate::limits::Limits>) -> Self {
        self.limits = limits;
        self
    }

    /// Lets `callback_url`s reach loopback and private addresses
    /// (`--allow-private-callbacks`); call before [`AppState::deliver_outbox`].
    pub fn allow_private_callbacks(mut self) -> Self {
        self.callbacks = AddressGuard {
            allow_private: true,
        };
        let mut connectors = (*self.connectors).clone();
        connectors.insert("api".into(), Arc::new(ApiChannel::new(self.callbacks)));
        self.connectors = Arc::new(connectors);
        self
    }

    /// Checks a channel config's `callback_url`, if it has one, against
    /// [`AppState::callbacks`]: the 400 names the field and the reason.
    pub async fn check_callback_url(&self, config: &serde_json::Value) -> Result<(), ApiError> {
        let Some(url) = config.get("callback_url") else {
            return Ok(());
        };
        let Some(url) = url.as_str() else {
            return Err(ApiError::invalid(
                "config.callback_url must be an http:// or https:// URL",
            ));
        };
        self.callbacks
            .check_url(url)
            .await
            .map_err(|e| ApiError::invalid(format!("config.callback_url {url:?}: {e}")))
    }

    /// Starts the outbox delivery worker on this state (S5).
    pub fn deliver_outbox(self) -> Self {
        let outbox = crate::outbox::Outbox {
            store: self.store.clone(),
            clock: self.clock.clone(),
            connectors: self.connector_set(),
            webchat: self.webchat.clone(),
            claimant: self.claimant.clone(),
        };
        self.runner("outbox", crate::outbox::CAPS, self.outbox.clone())
            .start(outbox);
        self
    }

    /// Starts the attachment fetch worker on this state (issue 6).
    pub fn fetch_attachments(self) -> Self {
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
        self
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

    /// Installs from `marketplace`'s catalogues, trusting its publishers.
    pub fn with_marketplace(mut self, marketplace: crate::catalogue::Marketplace) -> Self {
        self.marketplace = Arc::new(marketplace);
        self
    }

    /// Serves the catalogue directory `dir` at `/catalogue/` for other servers.
    pub fn serving_catalogue(mut self, dir: &std::path::Path) -> Self {
        self.served_catalogue = Some(Arc::from(dir));
        self
    }

    /// Sets the URL providers reach this server at (no trailing `/` needed).
    /// Lets the host send mail of its own (transcripts) through `mail`.
    pub fn with_host_mail(mut self, mail: crate::transcript_mail::HostMail) -> Self {
        self.host_mail = Some(mail);
        self
    }

    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// Serves plugin-backed channels from `host` (its connectors become channel kinds).
    pub fn with_plugins(mut self, host: PluginHost) -> Self {
        // Bots (B1) run on the same host; the engine hands sessions to them.
        let (store, clock) = (self.store.clone(), self.clock.clone());
        self.engine.start_bots(
            host.clone(),
            store,
            clock,
            self.outbox.clone(),
            &self.workers,
        );
        self.plugins = Some(host);
        self
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

    /// Checks a plugin channel's config against the plugin's schema (errors name the field).
    pub fn validate_plugin_config(
        &self,
        kind: &str,
        config: &serde_json::Value,
    ) -> Result<(), ApiError> {
        let Some(host) = self
            .plugins
            .as_ref()
            .filter(|_| !self.connectors.contains_key(kind))
        else {
            return Ok(());
        };
        let channel = frontdesk_plugin_host::types::Channel {
            id: "new".into(),
            plugin: kind.into(),
            config: crate::ingest::plugin_config(config),
        };
        host.validate_channel(&channel)
            .map_err(|e| ApiError::invalid(format!("config: {e}")))
    }

    /// A channel as the API shows it: the values of fields its plugin's
    /// schema marks secret (bot tokens, app secrets) are replaced by
    /// `********`, for admins too. They are set, never read back (P2).
    pub fn present_channel(&self, mut channel: Channel) -> Channel {
        let Some(manifest) = self
            .plugins
            .as_ref()
            .and_then(|h| h.manifest(&channel.kind))
        else {
            return channel;
        };
        let shown =
            frontdesk_plugin_host::config_schema::redact(&manifest.config, channel.config.value());
        channel.config = shown.into();
        channel
    }

    /// A config an admin sends back as they read it keeps its secrets: a
    /// secret field still `********` keeps the stored value.
    pub fn keep_secrets(&self, current: &Channel, config: &mut serde_json::Value) {
        let Some(manifest) = self
            .plugins
            .as_ref()
            .and_then(|h| h.manifest(&current.kind))
        else {
            return;
        };
        let stored = current.config.value();
        let Some(fields) = config.as_object_mut() else {
            return;
        };
        for (name, value) in fields.iter_mut() {
            let secret = manifest.config.get(name).is_some_and(|spec| spec.secret);
            if secret
                && value.as_str() == Some(REDACTED)
                && let Some(kept) = stored.get(name)
            {
                *value = kept.clone();
            }
        }
    }
}

/// What the API shows in place of a secret config value.
const REDACTED: &str = "********";

/// The whole HTTP app.
pub fn app(state: AppState) -> Router {
    let v1 = OpenApiRouter::new()
        .merge(users::routes())
        .merge(sign_in::routes())
        .merge(tokens::routes())
        .merge(totp::routes())
        .merge(channels::routes())
        .merge(channel_health::routes())
        .merge(contacts::routes())
        .merge(sessions::routes())
        .merge(attachments::routes())
        .merge(ops::admin_routes())
        .merge(actions::routes())
        .merge(scripts::routes())
        .merge(hours::routes())
        .merge(plugins::routes())
        .merge(settings::routes())
        .merge(failed_inbound::routes())
        .merge(bots::routes())
        .merge(leads::routes())
        .merge(live::routes())
        .merge(stats::routes())
        .merge(message_log::routes())
        .merge(transcripts::routes());
    let (api, mut openapi) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", v1)
        .split_for_parts();
    openapi::add_common_answers(&mut openapi);
    let openapi = Arc::new(openapi);
    let api = match &state.served_catalogue {
        Some(dir) => api.nest_service(
            crate::catalogue::SERVED_PATH,
            tower_http::services::ServeDir::new(dir.as_ref()),
        ),
        None => api,
    };
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { axum::Json(openapi.as_ref().clone()) }),
    )
    .route("/api/v1/live", get(live::socket))
    .merge(webhooks::routes())
    .merge(crate::webchat::routes())
    .merge(ops::routes())
    .merge(crate::console::routes())
    .fallback(|uri: Uri| async move { ApiError::NoRoute(uri.path().to_string()) })
    .layer(DefaultBodyLimit::max(BODY_LIMIT))
    .layer(axum::middleware::map_response_with_state(
        state.clone(),
        ops::record_storage_fault,
    ))
    .layer(CatchPanicLayer::custom(|_| {
        ApiError::Internal("a handler panicked".into()).into_response()
    }))
    .layer(TraceLayer::new_for_http())
    .with_state(state)
}

#[cfg(test)]
mod tests;
