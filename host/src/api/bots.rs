//! Chat bots through the API (B1, C2): which bot a channel's new sessions go
//! to, what a bot collected in a session, and the leads bots created.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use frontdesk_plugin_host::PluginKind;
use frontdesk_routing::QueueId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::engine::{DEFAULT_BOT_TIMEOUT_SECS, Event};
use crate::store::{BotSession, ChannelBot, Lead, Role};

/// Bounds of a channel's bot timeout: 5 seconds to a day.
const TIMEOUT_SECS: std::ops::RangeInclusive<i64> = 5..=86_400;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_bot, put_bot, delete_bot))
        .routes(routes!(session_bot))
        .routes(routes!(list_leads))
}

/// A channel's bot setting; `bot` is null when new sessions go straight to the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelBotView {
    pub bot: Option<ChannelBot>,
}

/// Which bot gets the channel's new sessions first (B1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBot {
    /// An installed plugin of kind `bot` (`GET /api/v1/plugins` lists them).
    pub plugin: String,
    /// How long the bot may leave a customer's message unanswered before the
    /// session goes to the queue; 5 to 86400, default 60.
    pub timeout_secs: Option<i64>,
    /// The bot's own settings, checked against its manifest's config schema.
    #[schema(value_type = Object)]
    pub config: Option<serde_json::Value>,
}

async fn channel_exists(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))?;
    Ok(())
}

/// The channel's bot, if it has one.
#[utoipa::path(get, path = "/channels/{id}/bot", tag = "bots", params(("id" = i64, Path)),
    responses((status = 200, body = ChannelBotView), (status = 404, body = ErrorBody)))]
async fn get_bot(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChannelBotView>, ApiError> {
    channel_exists(&state, &caller, id).await?;
    Ok(Json(ChannelBotView {
        bot: state.store.channel_bot(id).await?,
    }))
}

/// Gives the channel's new sessions to a bot first (admins only; audited).
/// Sessions already open keep what they have.
#[utoipa::path(put, path = "/channels/{id}/bot", tag = "bots", params(("id" = i64, Path)), request_body = SetBot,
    responses((status = 200, body = ChannelBotView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_bot(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetBot>,
) -> Result<Json<ChannelBotView>, ApiError> {
    caller.require(&[Role::Admin], "choosing a channel's bot")?;
    channel_exists(&state, &caller, id).await?;
    let host = state.plugins.as_ref().ok_or_else(|| {
        ApiError::Unavailable("this server runs without a plugin directory".into())
    })?;
    let is_bot = host
        .manifest(&body.plugin)
        .is_some_and(|m| m.kind == PluginKind::Bot);
    if !is_bot {
        let bots: Vec<String> = host
            .list()
            .into_iter()
            .filter(|p| p.kind == PluginKind::Bot)
            .map(|p| p.name)
            .collect();
        let installed = if bots.is_empty() {
            "none; install one with `frontdesk plugin install` or POST /api/v1/plugins/install"
                .into()
        } else {
            bots.join(", ")
        };
        return Err(ApiError::invalid(format!(
            "plugin {:?} is not an installed bot; installed bots: {installed}",
            body.plugin
        )));
    }
    let timeout_secs = body.timeout_secs.unwrap_or(DEFAULT_BOT_TIMEOUT_SECS);
    if !TIMEOUT_SECS.contains(&timeout_secs) {
        return Err(ApiError::invalid(format!(
            "timeout_secs is {timeout_secs}; it must be from 5 to 86400 seconds"
        )));
    }
    let config = body.config.unwrap_or_else(|| serde_json::json!({}));
    let channel = frontdesk_plugin_host::types::Channel {
        id: id.to_string(),
        plugin: body.plugin.clone(),
        config: config.clone(),
    };
    host.validate_channel(&channel)
        .map_err(|e| ApiError::invalid(format!("config: {e}")))?;
    let bot = ChannelBot {
        plugin: body.plugin,
        timeout_secs,
        config,
    };
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    state
        .store
        .set_channel_bot(caller.0.id, id, Some(&bot), state.clock.now())
        .await?;
    state
        .engine
        .send(Event::ChannelChanged {
            channel: QueueId(id),
        })
        .await?;
    Ok(Json(ChannelBotView { bot: Some(bot) }))
}

/// New sessions of the channel go straight to the queue again (admins only; audited).
#[utoipa::path(delete, path = "/channels/{id}/bot", tag = "bots", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_bot(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin], "removing a channel's bot")?;
    channel_exists(&state, &caller, id).await?;
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    state
        .store
        .set_channel_bot(caller.0.id, id, None, state.clock.now())
        .await?;
    state
        .engine
        .send(Event::ChannelChanged {
            channel: QueueId(id),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a bot did in a session: its data, its note for the agent, the lead.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBot {
    /// Null when no bot had the session.
    pub bot: Option<BotSession>,
    pub lead: Option<Lead>,
}

/// The bot's side of a session, for the agent who takes it over.
#[utoipa::path(get, path = "/sessions/{id}/bot", tag = "bots", params(("id" = i64, Path)),
    responses((status = 200, body = SessionBot), (status = 404, body = ErrorBody)))]
async fn session_bot(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionBot>, ApiError> {
    state
        .store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))?;
    let bot = state.store.bot_session(id).await?;
    let lead = state.store.leads(Some(id), 1).await?.into_iter().next();
    Ok(Json(SessionBot { bot, lead }))
}

/// Filters for leads.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// Only the lead of this session.
    pub session_id: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

/// Leads, newest first (C2). Admins see all; others give a `session_id` they may see.
#[utoipa::path(get, path = "/leads", tag = "bots", params(LeadQuery),
    responses((status = 200, body = Vec<Lead>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such `session_id`, or one the caller may not see")))]
async fn list_leads(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LeadQuery>,
) -> Result<Json<Vec<Lead>>, ApiError> {
    match query.session_id {
        Some(session) => {
            state
                .store
                .session(caller.viewer(), session)
                .await?
                .ok_or_else(|| ApiError::not_found("session", session))?;
        }
        None => caller.require(&[Role::Admin], "listing all leads")?,
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(state.store.leads(query.session_id, limit).await?))
}
