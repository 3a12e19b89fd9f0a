//! What the settings' channel list needs beyond the channels themselves
//! (U1): each channel's health, running its provider setup again, and the
//! kinds of channel an admin can create with the config each one takes.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::channel_setup::{self, SetupResult};
use super::{ApiError, ApiPath, AppState, Caller, ErrorBody};
use crate::store::{ChannelActivity, Millis, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(run_setup))
        .routes(routes!(kinds))
}

/// How a channel is doing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelHealth {
    /// When the newest customer message arrived; none before the first.
    pub last_inbound_at: Option<Millis>,
    /// Replies that failed after their last try (see `GET /api/v1/outbox`).
    pub failed_outbox: i64,
    /// Webhook requests the connector could not read (see
    /// `GET /api/v1/inbound/failed`), counted up to 1000.
    pub failed_inbound: i64,
    /// The last provider setup; none while the channel was never set up
    /// (a disabled channel, or one made before setups were recorded).
    pub setup: Option<SetupResult>,
    /// Where the provider posts inbound messages.
    pub webhook_url: String,
}

/// The channel's health: last inbound message, failed replies and failed
/// webhooks, the last provider setup (admins and the channel's supervisors).
#[utoipa::path(get, path = "/channels/{id}/health", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = ChannelHealth), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn health(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChannelHealth>, ApiError> {
    caller.require(
        &[Role::Admin, Role::Supervisor],
        "reading a channel's health",
    )?;
    let channel = state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))?;
    let ChannelActivity {
        last_inbound_at,
        failed_outbox,
    } = state.store.channel_activity(id).await?;
    let failed_inbound = state.store.failed_inbound(Some(id), 1000).await?.len() as i64;
    Ok(Json(ChannelHealth {
        last_inbound_at,
        failed_outbox,
        failed_inbound,
        setup: channel_setup::last(&state, id).await?,
        webhook_url: channel_setup::webhook_url(&state, &channel),
    }))
}

/// Runs the channel's provider setup again (admins only; audited, P4), as
/// creating it did: 200 with the result, or 502 `provider_setup_failed` in
/// the provider's words, or 400 when the channel is disabled.
#[utoipa::path(post, path = "/channels/{id}/setup", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = SetupResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody, description = "the provider refused the setup or could not be reached")))]
async fn run_setup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SetupResult>, ApiError> {
    caller.require(&[Role::Admin], "running a channel's setup")?;
    let channel = state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))?;
    if !channel.enabled {
        return Err(ApiError::invalid(
            "enabled: the channel is disabled; enable it (which runs the setup) instead",
        ));
    }
    let outcome = channel_setup::run(&state, &channel).await;
    state
        .store
        .record_audit(
            caller.0.id,
            "channel.setup",
            &format!("channel:{id}"),
            &serde_json::json!({"ok": outcome.is_ok()}),
            state.clock.now(),
        )
        .await?;
    outcome?;
    channel_setup::last(&state, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::Internal("the setup result was not recorded".into()))
}

/// A kind of channel an admin can create.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelKind {
    /// What `POST /api/v1/channels` takes as `kind`.
    pub kind: String,
    /// Implemented by the server's own code (`api`) rather than by a plugin;
    /// plugins the binary carries (`GET /api/v1/plugins` shows them as
    /// `source: built-in`) are `false` here.
    pub builtin: bool,
    /// The plugin's one line for admins.
    pub description: Option<String>,
    /// The config the channel takes, field by field as in the plugin's
    /// manifest: `{"token": {"type": "string", "required": true, "secret":
    /// true, "description": "..."}}`; types are string, url, integer,
    /// number, boolean and string-list.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Every kind of channel that can be created, with its config schema (admins and supervisors).
#[utoipa::path(get, path = "/channel-kinds", tag = "channels",
    responses((status = 200, body = Vec<ChannelKind>), (status = 403, body = ErrorBody)))]
async fn kinds(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ChannelKind>>, ApiError> {
    caller.require(&[Role::Admin, Role::Supervisor], "listing channel kinds")?;
    let kinds = state
        .connector_kinds()
        .into_iter()
        .map(|kind| {
            let builtin = state.connectors.contains_key(&kind);
            let manifest = (!builtin)
                .then(|| state.plugins.as_ref().and_then(|h| h.manifest(&kind)))
                .flatten();
            ChannelKind {
                builtin,
                description: match &manifest {
                    Some(m) => m.description.clone(),
                    None if kind == "api" => Some(
                        "Built in: your own system posts signed JSON messages to the webhook and takes replies from a callback URL.".into(),
                    ),
                    None => None,
                },
                config: match manifest {
                    Some(m) => serde_json::to_value(&m.config).unwrap_or_default(),
                    None if kind == "api" => serde_json::json!({"callback_url": {
                        "type": "url", "required": false, "secret": false,
                        "description": "Where replies are POSTed, signed like inbound webhooks; without it replies fail with the reason shown in the outbox."}}),
                    None => serde_json::json!({}),
                },
                kind,
            }
        })
        .collect();
    Ok(Json(kinds))
}
