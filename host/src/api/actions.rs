//! What agents do with sessions and their own shift (R7, R12, R18).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::engine::Event;
use crate::store::{Session, User};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(take))
        .routes(routes!(accept))
        .routes(routes!(transfer))
        .routes(routes!(close))
        .routes(routes!(presence))
        .routes(routes!(shift))
}

async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Session, ApiError> {
    state
        .store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))
}

/// Runs an event through the engine and answers with the session as stored after it.
async fn act(
    state: &AppState,
    caller: &Caller,
    session: i64,
    event: Event,
) -> Result<Json<Session>, ApiError> {
    visible(state, caller, session).await?;
    state.engine.send(event).await?;
    Ok(Json(visible(state, caller, session).await?))
}

/// Takes a session by hand: from the queue or an offer (R18).
#[utoipa::path(post, path = "/sessions/{id}/take", tag = "agent actions", params(("id" = i64, Path)),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn take(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Session>, ApiError> {
    act(
        &state,
        &caller,
        id,
        Event::Take {
            session: id,
            agent: caller.0.id,
        },
    )
    .await
}

/// Accepts a session offered to the caller (R3, R4).
#[utoipa::path(post, path = "/sessions/{id}/accept", tag = "agent actions", params(("id" = i64, Path)),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Session>, ApiError> {
    act(
        &state,
        &caller,
        id,
        Event::Accept {
            session: id,
            agent: caller.0.id,
        },
    )
    .await
}

/// Where to transfer a session: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Another agent.
    pub agent_id: Option<i64>,
    /// Another channel's queue.
    pub channel_id: Option<i64>,
}

/// Transfers a session to another agent or another queue (R18).
#[utoipa::path(post, path = "/sessions/{id}/transfer", tag = "agent actions", params(("id" = i64, Path)),
    request_body = Transfer,
    responses((status = 200, body = Session), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(to): ApiJson<Transfer>,
) -> Result<Json<Session>, ApiError> {
    let event = match (to.agent_id, to.channel_id) {
        (Some(agent), None) => Event::TransferToAgent { session: id, agent },
        (None, Some(channel)) => {
            state
                .store
                .visible_channel(caller.viewer(), channel)
                .await?
                .ok_or_else(|| ApiError::not_found("channel", channel))?;
            Event::TransferToQueue {
                session: id,
                channel,
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of agent_id and channel_id",
            ));
        }
    };
    act(&state, &caller, id, event).await
}

/// Closes a session (R18); with a close delay it waits in `closing` first (A4).
#[utoipa::path(post, path = "/sessions/{id}/close", tag = "agent actions", params(("id" = i64, Path)),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Session>, ApiError> {
    act(&state, &caller, id, Event::Close { session: id }).await
}

/// Console heartbeat: the caller is active (R12). Ten minutes without one is offline.
#[utoipa::path(post, path = "/me/presence", tag = "agent actions",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn presence(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .engine
        .send(Event::Activity { agent: caller.0.id })
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Clock in or out, start or end a break (R7); omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub clocked_in: Option<bool>,
    pub on_break: Option<bool>,
}

/// Sets the caller's shift status (R7).
#[utoipa::path(put, path = "/me/shift", tag = "agent actions", request_body = Shift,
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn shift(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(shift): ApiJson<Shift>,
) -> Result<Json<User>, ApiError> {
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    let user = state
        .store
        .set_shift(caller.0.id, shift.clocked_in, shift.on_break)
        .await?;
    state.engine.send(Event::AgentChanged(user.clone())).await?;
    Ok(Json(user))
}
