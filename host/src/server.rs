//! Serving: an HTTP/1 accept loop with timeouts and a connection cap, then a
//! bounded drain on shutdown.
//!
//! `axum::serve` waits on shutdown for every connection to finish, so one
//! client that stalls mid-request kept a stopped server alive until it gave
//! up (issue 22). Here every connection has deadlines of its own (the
//! request head, the body, an idle keep-alive), at most
//! [`ServeLimits::max_connections`] are open at once, and after the stop
//! signal the listener closes at once, in-flight requests and deliveries get
//! [`ServeLimits::drain`] to finish, and whatever is left is cut.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::api::{AppState, app};

/// Connections kept open when the open-file limit allows more: each costs
/// buffers and a task, and past this a host is better served by a proxy.
pub const MAX_CONNECTIONS_CEILING: usize = 10_000;

/// Per-connection deadlines and the drain, from `serve`'s flags.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// A request's head must arrive complete within this time after the
    /// connection opened or the previous answer was sent; this also closes
    /// idle keep-alive connections.
    pub header_timeout: Duration,
    /// A request's whole body must arrive within this time.
    pub body_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After the stop signal: how long in-flight requests and deliveries get.
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1_024,
            drain: Duration::from_secs(5),
        }
    }
}

/// Raises the soft open-file limit to the hard one, so many idle sockets fit,
/// and returns the connection cap that leaves a quarter of it for the
/// database, plugins and outbound calls.
pub fn connection_cap_from_file_limit() -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read or raise the open-file limit; assuming 1024");
            1_024
        }
    };
    let cap = usize::try_from(limit / 4 * 3).unwrap_or(usize::MAX);
    cap.clamp(64, MAX_CONNECTIONS_CEILING)
}

/// Serves `state` on `listener` until `stop` is cancelled, then drains: the
/// listener closes at once, open connections finish their request in flight
/// and close, the state's background workers finish their item in flight,
/// all within `limits.drain`; what is still running then is left to be cut
/// when the process exits.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    stop: CancellationToken,
    limits: &ServeLimits,
) -> std::io::Result<()> {
    let workers = state.workers.clone();
    let service = tower::ServiceBuilder::new()
        .layer(RequestBodyDeadlineLayer::new(limits.body_timeout))
        .service(app(state));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        // A free slot first: beyond the cap, clients wait in the backlog
        // instead of taking file descriptors the server needs.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = stop.cancelled() => break,
        };
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let _ = socket.set_nodelay(true);
        // The peer's address, for per-IP rate limits (`limits::ClientIp`).
        let service = tower::Layer::layer(
            &axum::Extension(axum::extract::ConnectInfo(peer)),
            service.clone(),
        );
        let service = TowerToHyperService::new(service);
        let connection = http
            .serve_connection(TokioIo::new(socket), service)
            .with_upgrades();
        let stop = stop.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut connection = pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                () = stop.cancelled() => {
                    // Answers the request in flight, if any, then closes.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = served {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let deadline = tokio::time::Instant::now() + limits.drain;
    tracing::info!(
        open = connections.len(),
        drain_secs = limits.drain.as_secs_f64(),
        "stopped listening; finishing in-flight requests and deliveries"
    );
    connections.close();
    workers.tracker.close();
    let drained = tokio::time::timeout_at(deadline, async {
        tokio::join!(connections.wait(), workers.tracker.wait())
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            workers = workers.tracker.len(),
            "drain time is over; closing what is still open"
        );
    }
    Ok(())
}

/// Accept errors are per connection (reset before accept) or a shortage of
/// file descriptors; the latter gets a pause so the loop does not spin.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %err, "cannot accept a connection; pausing 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// How often the plugin registry file is checked for changes made by the
/// `frontdesk plugin` CLI while the server runs.
const PLUGIN_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Follows changes another process makes to the plugin registry (X2): when
/// the file changes, the host switches the affected plugins to the versions it
/// names, with no restart. Changes through the admin API apply at once. It
/// stops with the other workers.
pub fn watch_plugins(host: frontdesk_plugin_host::PluginHost, workers: &crate::node::Workers) {
    let path = host.registry_path();
    let modified = move || std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let stop = workers.stop.clone();
    workers.tracker.spawn(async move {
        let mut seen = modified();
        let mut tick = tokio::time::interval(PLUGIN_POLL);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = modified();
            if now == seen {
                continue;
            }
            seen = now;
            let host = host.clone();
            match tokio::task::spawn_blocking(move || host.reload()).await {
                Ok(Ok(changed)) if !changed.is_empty() => {
                    tracing::info!(?changed, "plugins switched version")
                }
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::error!(error = %err, "cannot reload the plugin registry"),
                Err(err) => tracing::error!(error = %err, "plugin reload panicked"),
            }
        }
    });
}
