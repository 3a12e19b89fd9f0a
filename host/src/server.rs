//! Serving: bind, serve until shutdown, then drain in-flight requests.

use std::future::Future;

use tokio::net::TcpListener;

use crate::api::{AppState, app};

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (every acknowledged message is already committed).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
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
/// names, with no restart. Changes through the admin API apply at once.
pub fn watch_plugins(host: frontdesk_plugin_host::PluginHost) {
    let path = host.registry_path();
    let modified = move || std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    tokio::spawn(async move {
        let mut seen = modified();
        let mut tick = tokio::time::interval(PLUGIN_POLL);
        loop {
            tick.tick().await;
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
