//! Channel settings (W1, O3), canned responses (A6) and session ratings (Q3).

use axum::Json;
use axum::extract::State;
use frontdesk_routing::QueueId;
use frontdesk_rules::{CannedList, WorkingHours};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::engine::Event;
use crate::store::{Channel, ChannelPatch, Rater, RatingRow, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_channel))
        .routes(routes!(get_canned, put_canned))
        .routes(routes!(rate_session, list_ratings))
}

/// Checks the settings scripts read, so a typo is refused here with the
/// field named instead of silently meaning "always open".
fn validate_config(config: &serde_json::Value) -> Result<(), ApiError> {
    if !config.is_object() {
        return Err(ApiError::invalid("config must be a JSON object"));
    }
    if let Some(hours) = config.get("working_hours") {
        serde_json::from_value::<WorkingHours>(hours.clone())
            .map_err(|e| ApiError::invalid(format!("config.working_hours: {e}")))?;
    }
    if let Some(language) = config.get("language")
        && !language
            .as_str()
            .is_some_and(|l| (2..=8).contains(&l.len()))
    {
        return Err(ApiError::invalid(
            "config.language must be a language code such as \"en\" or \"de\"",
        ));
    }
    if let Some(consent) = config.get("consent") {
        let notice = serde_json::from_value::<frontdesk_rules::ConsentNotice>(consent.clone())
            .map_err(|e| {
                ApiError::invalid(format!(
                    "config.consent: {e}; write {{\"text\": \"...\", \"version\": 1}}"
                ))
            })?;
        notice
            .validate()
            .map_err(|e| ApiError::invalid(format!("config.{e}")))?;
    }
    crate::retention::validate(config).map_err(ApiError::invalid)?;
    if let Some(identity) = config.get("agent_identity") {
        crate::identity::AgentIdentity::parse(identity).map_err(ApiError::invalid)?;
    }
    if let Some(leads) = config.get("leads")
        && serde_json::from_value::<crate::store::LeadMode>(leads.clone()).is_err()
    {
        return Err(ApiError::invalid(
            "config.leads must be \"auto\" (a lead for every new customer who can be reached again), \"manual\" (an agent's click) or \"off\"",
        ));
    }
    if let Some(text) = config.get("off_hours_text")
        && !text
            .as_str()
            .is_some_and(|t| !t.trim().is_empty() && t.chars().count() <= 4000)
    {
        return Err(ApiError::invalid(
            "config.off_hours_text must be a text of 1 to 4000 characters; {opens} stands for the next opening",
        ));
    }
    if let Some(timeout) = config.get("timeout_secs")
        && timeout.as_i64().is_none_or(|t| t <= 0)
    {
        return Err(ApiError::invalid(
            "config.timeout_secs must be a positive number of seconds",
        ));
    }
    Ok(())
}

/// Changes a channel's name, enabled flag or settings (admins only; audited).
///
/// Setting `config`, or `enabled: true`, runs the connector's provider setup
/// again (Telegram: `setWebhook`); if it fails the change stays saved and the
/// answer is 502 `provider_setup_failed` (see `channel_setup.rs`).
///
/// Settings the auto-actions read: `working_hours` (W1: `{"time_zone":
/// "Europe/Berlin", "days": {"mon": ["09:00-17:00"]}, "holidays": ["2026-12-25"]}`),
/// `language` (O3), `timeout_secs` (A5) and `consent` (G1: `{"text": "...",
/// "version": 1}`; bump the version to ask everybody again).
#[utoipa::path(patch, path = "/channels/{id}", tag = "channels", params(("id" = i64, Path)), request_body = ChannelPatch,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "saved, but the provider refused the connector's setup or could not be reached")))]
async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut patch): ApiJson<ChannelPatch>,
) -> Result<Json<Channel>, ApiError> {
    caller.require(&[Role::Admin], "changing channels")?;
    if let Some(config) = &mut patch.config {
        validate_config(config)?;
        state.check_callback_url(config).await?;
        if let Some(current) = state.store.channel(id).await? {
            state.keep_secrets(&current, config);
            state.validate_plugin_config(&current.kind, config)?;
        }
    }
    if patch
        .name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 200)
    {
        return Err(ApiError::invalid("name must be 1 to 200 characters"));
    }
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    let channel = state
        .store
        .update_channel(caller.0.id, id, &patch, state.clock.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => ApiError::not_found("channel", id),
            other => other.into(),
        })?;
    state.channels.invalidate(id);
    state
        .engine
        .send(Event::ChannelChanged {
            channel: QueueId(id),
        })
        .await?;
    if patch.enabled == Some(true) || patch.config.is_some() {
        super::channel_setup::run(&state, &channel).await?;
    }
    Ok(Json(state.present_channel(channel)))
}

/// A channel's canned-response lists (A6).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    /// Lists of `{"name", "responses": [{"name", "shortcut", "text"}]}`.
    #[schema(value_type = Vec<Object>)]
    pub lists: Vec<CannedList>,
}

async fn visible_channel(state: &AppState, caller: &Caller, id: i64) -> Result<Channel, ApiError> {
    state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))
}

/// The canned responses agents of this channel can insert (A6).
#[utoipa::path(get, path = "/channels/{id}/canned", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Canned), (status = 404, body = ErrorBody)))]
async fn get_canned(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Canned>, ApiError> {
    visible_channel(&state, &caller, id).await?;
    let lists = match state.store.canned(id).await? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| ApiError::Internal(format!("stored canned lists: {e}")))?,
        None => Vec::new(),
    };
    Ok(Json(Canned { lists }))
}

/// Replaces the channel's canned responses (admins only; audited).
#[utoipa::path(put, path = "/channels/{id}/canned", tag = "channels", params(("id" = i64, Path)), request_body = Canned,
    responses((status = 200, body = Canned), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_canned(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(canned): ApiJson<Canned>,
) -> Result<Json<Canned>, ApiError> {
    caller.require(&[Role::Admin], "changing canned responses")?;
    visible_channel(&state, &caller, id).await?;
    for (i, list) in canned.lists.iter().enumerate() {
        list.validate()
            .map_err(|e| ApiError::invalid(format!("lists[{i}]: {e}")))?;
    }
    let json =
        serde_json::to_string(&canned.lists).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .store
        .set_canned(caller.0.id, id, &json, state.clock.now())
        .await?;
    Ok(Json(canned))
}

/// A supervisor's rating of a session (Q3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// 1 (poor) to 5 (excellent).
    pub score: i64,
    pub comment: Option<String>,
}

/// Rates a session with a comment (supervisors and admins, Q3).
#[utoipa::path(post, path = "/sessions/{id}/ratings", tag = "sessions", params(("id" = i64, Path)), request_body = NewRating,
    responses((status = 200, body = RatingRow), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rate_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(rating): ApiJson<NewRating>,
) -> Result<Json<RatingRow>, ApiError> {
    caller.require(&[Role::Supervisor, Role::Admin], "rating sessions")?;
    state
        .store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))?;
    if !(1..=5).contains(&rating.score) {
        return Err(ApiError::invalid(format!(
            "score is {}; it must be 1 to 5",
            rating.score
        )));
    }
    if rating.comment.as_ref().is_some_and(|c| c.len() > 4000) {
        return Err(ApiError::invalid("comment is longer than 4000 bytes"));
    }
    let now = state.clock.now();
    let row = state
        .store
        .rate(
            id,
            Rater::Supervisor,
            rating.score,
            rating.comment.as_deref(),
            Some(caller.0.id),
            now,
        )
        .await?;
    Ok(Json(row))
}

/// The session's ratings: the customer's (Q1) and a supervisor's (Q3).
#[utoipa::path(get, path = "/sessions/{id}/ratings", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RatingRow>), (status = 404, body = ErrorBody)))]
async fn list_ratings(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<RatingRow>>, ApiError> {
    state
        .store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))?;
    Ok(Json(state.store.ratings(id).await?))
}
