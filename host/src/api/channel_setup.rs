//! Connector setup when a channel is created, enabled or reconfigured: the
//! connector tells its provider where the webhook is (Telegram's `setWebhook`).
//!
//! The channel is saved before setup runs, and stays saved when setup fails:
//! the admin gets 502 `provider_setup_failed` with what the provider said,
//! fixes the cause (a wrong token, a public URL the provider refuses), and a
//! `PATCH /api/v1/channels/{id}` that sets `config` or `enabled: true` runs
//! setup again. Disabled channels are not set up.

use super::{ApiError, AppState};
use crate::ingest::SetupError;
use crate::store::Channel;

/// The webhook URL a provider is given for `channel`.
pub fn webhook_url(state: &AppState, channel: &Channel) -> String {
    format!("{}/hooks/{}", state.public_url, channel.id)
}

/// Runs the channel's connector setup; built-in kinds need none.
pub async fn run(state: &AppState, channel: &Channel) -> Result<(), ApiError> {
    if !channel.enabled {
        return Ok(());
    }
    let Some(connector) = state.connector(&channel.kind) else {
        return Ok(());
    };
    let url = webhook_url(state, channel);
    match connector.setup(channel, &url).await {
        Ok(()) => {
            tracing::info!(channel = channel.id, kind = %channel.kind, webhook = %url, "connector setup done");
            Ok(())
        }
        Err(err) => {
            metrics::counter!("frontdesk_connector_setup_failed_total").increment(1);
            tracing::warn!(channel = channel.id, kind = %channel.kind, error = %err, "connector setup failed");
            let cause = match err {
                SetupError::Provider(m) => format!("the provider refused it: {m}"),
                SetupError::Connector(m) => format!("the connector could not run: {m}"),
            };
            Err(ApiError::ProviderSetup(format!(
                "channel {id} is saved, but its {kind} setup (webhook {url}) failed: {cause}. \
                 Fix the cause, then PATCH /api/v1/channels/{id} with the config or \
                 {{\"enabled\": true}} to run the setup again",
                id = channel.id,
                kind = channel.kind,
            )))
        }
    }
}
