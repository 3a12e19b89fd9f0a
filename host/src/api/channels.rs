//! Channels, their queues and supervisors (R1, R5, R6, O5, P4).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use frontdesk_routing::QueueId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::auth::new_secret;
use crate::engine::{Event, queue_config};
use crate::store::{Channel, NewChannel, Queue, Role};

/// Bounds of the forward (R5) and unanswered (R6) intervals: 1 minute to 12 hours.
pub const INTERVAL_SECS: std::ops::RangeInclusive<i64> = 60..=12 * 3600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel))
        .routes(routes!(get_queue, put_queue))
        .routes(routes!(get_supervisors, put_supervisors))
}

/// The channels the caller belongs to (all of them for admins).
#[utoipa::path(get, path = "/channels", tag = "channels", responses((status = 200, body = Vec<Channel>)))]
async fn list_channels(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Channel>>, ApiError> {
    let channels = state.store.list_channels(caller.viewer()).await?;
    Ok(Json(
        channels
            .into_iter()
            .map(|c| state.present_channel(c))
            .collect(),
    ))
}

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// Shown to customers (O1).
    pub name: String,
    /// The connector: `api` is built in (X3).
    #[serde(default = "api_kind")]
    pub kind: String,
    /// Connector settings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Option<serde_json::Value>,
}

fn api_kind() -> String {
    "api".into()
}

/// A created channel with its webhook secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedChannel {
    pub channel: Channel,
    /// Sign webhook bodies with this (HMAC-SHA256, `X-Frontdesk-Signature: sha256=<hex>`).
    pub secret: String,
    /// Where the provider posts inbound messages.
    pub webhook_path: String,
}

/// Creates a channel with a default queue (admins only). A config the
/// plugin's schema refuses is a 400 naming the field, with nothing saved. A
/// connector plugin's channel is then set up at its provider (Telegram:
/// `setWebhook` to `{public_url}/hooks/{id}`); if that fails the channel
/// stays saved and the answer is 502 `provider_setup_failed`, saying whether
/// the provider refused (in its words) or could not be reached.
#[utoipa::path(post, path = "/channels", tag = "channels", request_body = CreateChannel,
    responses((status = 201, body = CreatedChannel), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "saved, but the provider refused the connector's setup or could not be reached")))]
async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<CreateChannel>,
) -> Result<(StatusCode, Json<CreatedChannel>), ApiError> {
    caller.require(&[Role::Admin], "creating channels")?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid("name must be 1 to 200 characters"));
    }
    if state.connector(&new.kind).is_none() {
        return Err(ApiError::invalid(format!(
            "unknown channel kind {:?}; installed kinds: {}",
            new.kind,
            state.connector_kinds().join(", ")
        )));
    }
    let secret = new_secret();
    let config = new.config.unwrap_or_else(|| serde_json::json!({}));
    if !config.is_object() {
        return Err(ApiError::invalid("config must be a JSON object"));
    }
    state.validate_plugin_config(&new.kind, &config)?;
    state.check_callback_url(&config).await?;
    let row = NewChannel {
        name: name.into(),
        kind: new.kind,
        secret: secret.clone(),
        config: config.to_string(),
    };
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    let channel = state
        .store
        .create_channel(caller.0.id, &row, state.clock.now())
        .await?;
    let queue = state.store.queue(channel.id).await?;
    state
        .engine
        .send(Event::QueueChanged {
            channel: QueueId(channel.id),
            queue,
        })
        .await?;
    // Saved first: a failed setup leaves the channel for a PATCH to retry.
    super::channel_setup::run(&state, &channel).await?;
    let webhook_path = format!("/hooks/{}", channel.id);
    Ok((
        StatusCode::CREATED,
        Json(CreatedChannel {
            channel: state.present_channel(channel),
            secret,
            webhook_path,
        }),
    ))
}

async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Channel, ApiError> {
    state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))
}

/// One channel, if the caller belongs to it.
#[utoipa::path(get, path = "/channels/{id}", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(
        state.present_channel(visible(&state, &caller, id).await?),
    ))
}

/// The channel's queue: mode, intervals and agents in order (R1).
#[utoipa::path(get, path = "/channels/{id}/queue", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Queue), (status = 404, body = ErrorBody)))]
async fn get_queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Queue>, ApiError> {
    visible(&state, &caller, id).await?;
    Ok(Json(state.store.queue(id).await?))
}

/// Replaces the channel's queue (admins only; audited, P4).
#[utoipa::path(put, path = "/channels/{id}/queue", tag = "channels", params(("id" = i64, Path)), request_body = Queue,
    responses((status = 200, body = Queue), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(queue): ApiJson<Queue>,
) -> Result<Json<Queue>, ApiError> {
    caller.require(&[Role::Admin], "changing queues")?;
    visible(&state, &caller, id).await?;
    for (field, secs) in [
        ("forward_interval_secs", queue.forward_interval_secs),
        ("unanswered_interval_secs", queue.unanswered_interval_secs),
    ] {
        if !INTERVAL_SECS.contains(&secs) {
            return Err(ApiError::invalid(format!(
                "{field} is {secs}; it must be from 60 (1 minute) to 43200 (12 hours)"
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = queue.agents.iter().find(|a| !seen.insert(**a)) {
        return Err(ApiError::invalid(format!(
            "agent {dup} is in the queue twice"
        )));
    }
    queue_config(id, &queue)
        .validate()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    state
        .store
        .set_queue(caller.0.id, id, &queue, state.clock.now())
        .await?;
    // Agents taken out of the queue stop seeing it on their open consoles (P1).
    state.engine.live().access().changed();
    state.channels.invalidate(id);
    // Users added from the command line since the engine started are news to it.
    for agent in &queue.agents {
        if let Some(user) = state.store.user(*agent).await? {
            state.engine.send(Event::AgentChanged(user)).await?;
        }
    }
    state
        .engine
        .send(Event::QueueChanged {
            channel: QueueId(id),
            queue: queue.clone(),
        })
        .await?;
    Ok(Json(state.store.queue(id).await?))
}

/// The users who supervise a channel (Q3).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Supervisors {
    pub users: Vec<i64>,
}

/// The channel's supervisors' user ids (anyone who may see the channel).
#[utoipa::path(get, path = "/channels/{id}/supervisors", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Supervisors), (status = 404, body = ErrorBody)))]
async fn get_supervisors(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Supervisors>, ApiError> {
    visible(&state, &caller, id).await?;
    Ok(Json(Supervisors {
        users: state.store.supervisors(id).await?,
    }))
}

/// Replaces the channel's supervisors (admins only; audited, P4).
#[utoipa::path(put, path = "/channels/{id}/supervisors", tag = "channels", params(("id" = i64, Path)),
    request_body = Supervisors, responses((status = 204), (status = 404, body = ErrorBody)))]
async fn put_supervisors(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Supervisors>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin], "changing supervisors")?;
    visible(&state, &caller, id).await?;
    state
        .store
        .set_supervisors(caller.0.id, id, &body.users, state.clock.now())
        .await?;
    state.engine.live().access().changed();
    Ok(StatusCode::NO_CONTENT)
}
