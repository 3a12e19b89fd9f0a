//! The startup root of `frontdesk serve`: from one [`Serve`] it builds every
//! part once (the plugin host, the application with its engine, ingest and
//! delivery workers, the HTTP state), starts every listener and worker under
//! one [`Workers`], serves until SIGTERM or Ctrl-C, and drains.
//!
//! Nothing here decides behaviour: it only puts the parts together, in the
//! order the log and the tests rely on ("frontdesk listening" comes last).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::address_guard::AddressGuard;
use crate::api::AppState;
use crate::app::transcript_mail::HostMail;
use crate::app::{App, Config};
use crate::backup::schedule::Schedule;
use crate::catalogue::Marketplace;
use crate::clock::{Clock, ManualClock};
use crate::node::{Claimant, Workers};
use crate::server::ServeLimits;
use crate::store::Store;

/// Email channels: where mail comes in and where replies go out.
pub struct MailSettings {
    /// Accept mail for email channels over SMTP on this address.
    pub smtp_listen: Option<String>,
    /// Largest mail the SMTP listener accepts, in bytes.
    pub smtp_max_bytes: usize,
    /// The name the SMTP listener greets with.
    pub smtp_hostname: String,
    /// Relay for replies and the host's own mail.
    pub smtp_relay: Option<String>,
    /// The From address of mail the host writes itself (O3).
    pub mail_from: String,
}

/// Everything `serve` runs from, checked by the command line already.
pub struct Serve {
    /// The database URL (for the routing lease or lock file).
    pub database: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// A test clock's start (`FRONTDESK_TEST_CLOCK`); it replaces `clock`.
    pub test_clock_start: Option<i64>,
    pub listen: String,
    pub data_dir: PathBuf,
    pub max_attachment_bytes: usize,
    /// `None`: `http://{bound address}`.
    pub public_url: Option<String>,
    pub allow_private_callbacks: bool,
    pub mail: MailSettings,
    pub serve_limits: ServeLimits,
    pub rate_limits: Arc<crate::limits::Limits>,
    pub marketplace: Marketplace,
    pub serve_catalogue: Option<PathBuf>,
    pub claimant: Claimant,
    pub data: crate::cli::backup::DataArgs,
    pub backups: Option<Schedule>,
}

/// Runs the server until it is told to stop, then drains.
pub async fn run(serve: Serve) -> anyhow::Result<()> {
    let workers = Workers::default();
    // Plugins' kv data lives in the database, so it survives restarts.
    let kv = crate::plugin_kv::StoreKv {
        store: serve.store.clone(),
        quota_bytes: crate::plugin_kv::KV_QUOTA_BYTES,
    };
    let mailer = match &serve.mail.smtp_relay {
        Some(url) => Some(Arc::new(crate::mail::SmtpRelay::from_url(url)?)
            as Arc<dyn frontdesk_plugin_host::Mailer>),
        None => None,
    };
    // Plugins read the server's clock, the test clock included (B1 timers).
    let test_clock = serve
        .test_clock_start
        .map(|start| Arc::new(ManualClock::new(start)));
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(manual) => {
            tracing::warn!(
                start = manual.now(),
                "running on a TEST clock that only POST /api/v1/test/clock moves"
            );
            manual.clone()
        }
        None => serve.clock.clone(),
    };
    let host_mail = mailer.clone().map(|mailer| HostMail {
        mailer,
        from: serve.mail.mail_from.clone(),
    });
    let mut config = frontdesk_plugin_host::HostConfig {
        kv: Arc::new(kv),
        mailer,
        clock: Arc::new(crate::clock::PluginClock(clock.clone())),
        builtins: crate::builtin_plugins::packages(),
        ..frontdesk_plugin_host::HostConfig::new(&serve.data_dir)
    };
    config.limits.max_attachment_bytes = serve.max_attachment_bytes;
    let plugins =
        tokio::task::spawn_blocking(move || frontdesk_plugin_host::PluginHost::open(config))
            .await?
            .with_context(|| {
                format!(
                    "cannot open the plugin directory {}",
                    serve.data_dir.display()
                )
            })?;
    let listen = &serve.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; is another server running there?"))?;
    let addr = listener.local_addr()?;
    let (store_backend, node) = (serve.store.backend(), serve.claimant.node.clone());
    // One routing leader per database (issue 18): the others follow.
    let holder = format!("{node} {}", serve.claimant.token);
    let lease =
        crate::routing_lock::RoutingLease::acquire(&serve.database, &holder, &workers).await?;
    let callbacks = if serve.allow_private_callbacks {
        tracing::warn!(
            "--allow-private-callbacks is on: callback URLs may reach loopback, private and link-local addresses (cloud metadata too)"
        );
        AddressGuard {
            allow_private: true,
        }
    } else {
        AddressGuard::STRICT
    };
    let app = App::start(Config {
        lease,
        plugins: Some(plugins.clone()),
        public_url: serve
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}")),
        callbacks,
        host_mail,
        claimant: serve.claimant,
        marketplace: serve.marketplace,
        workers: workers.clone(),
        deliver_outbox: true,
        fetch_attachments: true,
        live_bus: crate::live::bus::options(&serve.database)
            .context("the database URL does not work for the live bus between nodes")?,
        ..Config::new(serve.store.clone(), clock)
    })
    .await?;
    let state = AppState {
        test_clock,
        limits: serve.rate_limits,
        served_catalogue: serve.serve_catalogue.as_deref().map(Arc::from),
        ..AppState::new(app.clone())
    };
    state.limits.sweep_under(&workers);
    crate::server::watch_plugins(plugins, &workers);
    serve.data.start(&app, serve.backups);
    let stop = workers.stop.clone();
    workers.tracker.spawn({
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = crate::server::shutdown_signal() => stop.cancel(),
                () = stop.cancelled() => {}
            }
        }
    });
    if let Some(smtp) = &serve.mail.smtp_listen {
        let smtp_listener = TcpListener::bind(smtp).await.with_context(|| {
            format!("cannot listen for SMTP on {smtp}; is another mail server running there?")
        })?;
        let smtp_addr = smtp_listener.local_addr()?;
        tracing::info!(%smtp_addr, "accepting mail for email channels on smtp://{smtp_addr}");
        let config = crate::mail::SmtpConfig {
            hostname: serve.mail.smtp_hostname.clone(),
            max_size: serve.mail.smtp_max_bytes,
        };
        workers.tracker.spawn(crate::mail::smtp_listener::run(
            smtp_listener,
            app.clone(),
            config,
            stop.clone().cancelled_owned(),
        ));
    }
    crate::mail::imap_poller::start(app.clone());
    if let Some(url) = crate::api::first_run_link(&state).await? {
        tracing::warn!(
            setup_url = %url,
            "no admin yet: open {url} in a browser to create the first one (the link works once)"
        );
    }
    // Logged once everything is ready, so whoever waits for this line
    // (scripts, tests) finds everything above it in the log already.
    tracing::info!(
        %addr,
        database = store_backend,
        node = %node,
        max_connections = serve.serve_limits.max_connections,
        "frontdesk listening on http://{addr}"
    );
    crate::server::run(listener, state, stop, &serve.serve_limits).await?;
    tracing::info!("stopped");
    Ok(())
}
