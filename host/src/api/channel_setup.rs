//! Connector setup when a channel is created, enabled or reconfigured: the
//! connector tells its provider where the webhook is (Telegram's `setWebhook`).
//!
//! A config the plugin's schema refuses (a missing field, a `webhook_secret`
//! outside Telegram's characters) is a 400 naming the field before anything
//! is saved. Setup needs the channel's id (its webhook URL), so the channel
//! is saved before setup runs and stays saved when setup fails: the admin
//! gets 502 `provider_setup_failed` saying whether the provider refused
//! (with its words) or could not be reached, or 400 `invalid_config` when
//! the connector found the config unusable without calling anyone; then a
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
            let (id, kind) = (channel.id, &channel.kind);
            let retry = format!(
                "Fix the cause, then PATCH /api/v1/channels/{id} with the config or \
                 {{\"enabled\": true}} to run the setup again"
            );
            let cause = match err {
                SetupError::Config(m) => {
                    return Err(ApiError::BadRequest {
                        code: "invalid_config",
                        message: format!(
                            "channel {id} is saved, but its {kind} connector cannot use its \
                             config, so the provider was not called: {m}. {retry}"
                        ),
                    });
                }
                SetupError::Refused(m) => format!("the provider refused it: {m}"),
                SetupError::Unreachable(m) => format!(
                    "the provider could not be reached or failed for now (check the \
                     provider's URL in the config and the network): {m}"
                ),
                SetupError::Connector(m) => format!("the connector could not run: {m}"),
            };
            Err(ApiError::ProviderSetup(format!(
                "channel {id} is saved, but its {kind} setup (webhook {url}) failed: {cause}. {retry}"
            )))
        }
    }
}
