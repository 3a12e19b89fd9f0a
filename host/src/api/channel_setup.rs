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
//! setup again, and so does `POST /api/v1/channels/{id}/setup`. Disabled
//! channels are not set up.
//!
//! The outcome of the last setup is kept per channel (in the store's
//! key-value table, under a scope no plugin can name) so the channel list
//! shows it to every admin on every node (U1).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, AppState};
use crate::ingest::SetupError;
use crate::store::{Channel, Millis};

/// The key-value scope of host records: plugin names cannot start with `@`.
const HOST_SCOPE: &str = "@host";
const SETUP_KEY: &str = "setup";

/// How a channel's last provider setup went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SetupResult {
    /// Whether the provider accepted it.
    pub ok: bool,
    /// What happened, with the provider's own words when it refused.
    pub message: String,
    /// When it ran.
    pub at: Millis,
}

/// The last setup result recorded for `channel`, if any.
pub async fn last(state: &AppState, channel: i64) -> Result<Option<SetupResult>, ApiError> {
    let raw = state
        .store
        .kv_get(HOST_SCOPE, &channel.to_string(), SETUP_KEY)
        .await?;
    Ok(raw.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

async fn record(state: &AppState, channel: i64, ok: bool, message: String) {
    let result = SetupResult {
        ok,
        message,
        at: state.clock.now(),
    };
    let bytes = serde_json::to_vec(&result).unwrap_or_default();
    if let Err(err) = state
        .store
        .kv_set(HOST_SCOPE, &channel.to_string(), SETUP_KEY, &bytes, 1 << 20)
        .await
    {
        tracing::warn!(channel, error = %err, "the setup result could not be recorded");
    }
}

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
    let outcome = setup(channel, connector.setup(channel, &url).await, &url);
    let message = match &outcome {
        Ok(()) if state.connectors.contains_key(&channel.kind) => {
            format!("Built in, no provider to set up: messages are posted, signed, to {url}.")
        }
        Ok(()) => format!(
            "The {} connector's setup succeeded; its webhook is {url}.",
            channel.kind
        ),
        Err(err) => err.to_string(),
    };
    record(state, channel.id, outcome.is_ok(), message).await;
    outcome
}

/// The API's answer for a setup outcome.
fn setup(channel: &Channel, result: Result<(), SetupError>, url: &str) -> Result<(), ApiError> {
    match result {
        Ok(()) => {
            tracing::info!(channel = channel.id, kind = %channel.kind, webhook = %url, "connector setup done");
            Ok(())
        }
        Err(err) => {
            metrics::counter!("frontdesk_connector_setup_failed_total").increment(1);
            tracing::warn!(channel = channel.id, kind = %channel.kind, error = %err, "connector setup failed");
            let (id, kind) = (channel.id, &channel.kind);
            let retry = format!(
                "Fix the cause, then run the setup again: POST /api/v1/channels/{id}/setup \
                 (Run setup again in the settings), or PATCH the channel's config"
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
