//! Sessions, their history and messages (S1, O2), and agent replies (S5).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::{Message, OutboxItem, Session, SessionEvent, SessionFilter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(list_messages, reply))
}

/// Sessions the caller may see, newest first.
#[utoipa::path(get, path = "/sessions", tag = "sessions", params(SessionFilter),
    responses((status = 200, body = Vec<Session>), (status = 400, body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<SessionFilter>,
) -> Result<Json<Vec<Session>>, ApiError> {
    Ok(Json(
        state.store.list_sessions(caller.viewer(), &filter).await?,
    ))
}

/// A session with its state history.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDetail {
    pub session: Session,
    pub history: Vec<SessionEvent>,
}

pub(super) async fn visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Session, ApiError> {
    state
        .store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))
}

/// One session and every state move it made (S1).
#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = SessionDetail), (status = 404, body = ErrorBody)))]
async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionDetail>, ApiError> {
    let session = visible(&state, &caller, id).await?;
    let history = state.store.session_events(id).await?;
    Ok(Json(SessionDetail { session, history }))
}

/// Paging through a message log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagePage {
    /// Only messages with a larger id (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many (default 200, at most 1000).
    pub limit: Option<i64>,
}

/// The session's messages, oldest first (O2).
#[utoipa::path(get, path = "/sessions/{id}/messages", tag = "sessions", params(("id" = i64, Path), MessagePage),
    responses((status = 200, body = Vec<Message>), (status = 404, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<MessagePage>,
) -> Result<Json<Vec<Message>>, ApiError> {
    visible(&state, &caller, id).await?;
    let limit = page.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .messages(id, page.after.unwrap_or(0), limit)
            .await?,
    ))
}

/// An agent's reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub text: String,
}

/// The stored reply and its outbox entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyQueued {
    pub message: Message,
    pub outbox: OutboxItem,
}

/// Replies to the customer: stored and queued in the durable outbox (S5)
/// by [`crate::app::App::send_reply`].
#[utoipa::path(post, path = "/sessions/{id}/messages", tag = "sessions", params(("id" = i64, Path)),
    request_body = Reply, responses((status = 202, body = ReplyQueued), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the session is closed, or another agent holds it (R18)")))]
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(reply): ApiJson<Reply>,
) -> Result<(StatusCode, Json<ReplyQueued>), ApiError> {
    let session = visible(&state, &caller, id).await?;
    state.check_reply(&session, &reply.text)?;
    // R18: only the holder, or someone who oversees the channel, replies in a held session.
    let actor = super::actions::actor(&state, &caller, &session).await?;
    let (message, outbox) = state
        .send_reply(actor, id, caller.0.id, &reply.text)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ReplyQueued { message, outbox })))
}
