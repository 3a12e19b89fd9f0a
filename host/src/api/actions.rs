//! What agents do with sessions and their own shift (R7, R12, R18).

use axum::Json;
use axum::extract::State;
use frontdesk_routing::{AgentId, QueueId, SessionId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::engine::{Actor, Event};
use crate::store::{Role, Session, User};

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

/// The caller as R18's holder rule sees them for `session`: admins and the
/// supervisors of its channel oversee it; agents act only on their own.
pub(super) async fn actor(
    state: &AppState,
    caller: &Caller,
    session: &Session,
) -> Result<Actor, ApiError> {
    let oversees = match caller.0.role {
        Role::Admin => true,
        Role::Supervisor => state
            .store
            .visible_channel(caller.viewer(), session.channel_id)
            .await?
            .is_some(),
        Role::Agent => false,
    };
    Ok(Actor {
        user: caller.0.id,
        oversees,
    })
}

/// Runs an event through the engine and answers with the session as stored
/// after it. `guarded` events are refused on a session someone else holds
/// (R18) unless the caller oversees its channel.
async fn act(
    state: &AppState,
    caller: &Caller,
    session: i64,
    event: Event,
    guarded: bool,
) -> Result<Json<Session>, ApiError> {
    let before = visible(state, caller, session).await?;
    if guarded {
        let actor = actor(state, caller, &before).await?;
        state.engine.send_as(actor, event).await?;
    } else {
        state.engine.send(event).await?;
    }
    Ok(Json(visible(state, caller, session).await?))
}

/// A transfer's target agent, if the caller may see them: anyone for
/// admins, the agents of the caller's channels' queues for everyone else.
/// Anyone else answers like a user who does not exist (P2), so a transfer
/// tells nothing about other channels' people.
async fn target_agent(state: &AppState, caller: &Caller, agent: i64) -> Result<(), ApiError> {
    let seen = super::live::colleague_ids(state, caller.viewer())
        .await?
        .is_none_or(|ids| ids.contains(&agent));
    if seen && state.store.user(agent).await?.is_some() {
        Ok(())
    } else {
        Err(ApiError::not_found("agent", agent))
    }
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
            session: SessionId(id),
            agent: AgentId(caller.0.id),
        },
        false,
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
            session: SessionId(id),
            agent: AgentId(caller.0.id),
        },
        false,
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
    responses((status = 200, body = Session), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the session is not open, or another agent holds it (R18)")))]
async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(to): ApiJson<Transfer>,
) -> Result<Json<Session>, ApiError> {
    let event = match (to.agent_id, to.channel_id) {
        (Some(agent), None) => {
            target_agent(&state, &caller, agent).await?;
            Event::TransferToAgent {
                session: SessionId(id),
                agent: AgentId(agent),
            }
        }
        (None, Some(channel)) => {
            state
                .store
                .visible_channel(caller.viewer(), channel)
                .await?
                .ok_or_else(|| ApiError::not_found("channel", channel))?;
            Event::TransferToQueue {
                session: SessionId(id),
                channel: QueueId(channel),
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of agent_id and channel_id",
            ));
        }
    };
    act(&state, &caller, id, event, true).await
}

/// Closes a session (R18); with a close delay it waits in `closing` first (A4).
#[utoipa::path(post, path = "/sessions/{id}/close", tag = "agent actions", params(("id" = i64, Path)),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Session>, ApiError> {
    act(
        &state,
        &caller,
        id,
        Event::Close {
            session: SessionId(id),
        },
        true,
    )
    .await
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
        .send(Event::Activity {
            agent: AgentId(caller.0.id),
        })
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
