//! Leads (C2, C3): customers worth following up, created automatically for
//! new customers or by an agent's click in the chat, and only for customers
//! who can be reached again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::visible;
use super::{ApiError, ApiPath, AppState, Caller, ErrorBody};
use crate::store::{Lead, LeadOutcome, Message};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_lead, create_session_lead))
        .routes(routes!(get_lead))
}

/// A session's lead, or why it has none.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionLead {
    pub lead: Option<Lead>,
    /// Why no lead was created (leads off or manual in this channel, a known
    /// contact, a customer who cannot be reached again); null with a lead.
    pub note: Option<String>,
}

/// The session's lead, or the reason it has none (C2).
#[utoipa::path(get, path = "/sessions/{id}/lead", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = SessionLead), (status = 404, body = ErrorBody)))]
async fn session_lead(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionLead>, ApiError> {
    visible(&state, &caller, id).await?;
    let lead = state.store.leads(Some(id), 1).await?.into_iter().next();
    let note = match lead {
        Some(_) => None,
        None => state.store.lead_note(id).await?,
    };
    Ok(Json(SessionLead { lead, note }))
}

/// An agent's "create lead" click (C2): 201 with the new lead, 200 with the
/// one the session has already, 400 `lead_refused` saying why not.
#[utoipa::path(post, path = "/sessions/{id}/lead", tag = "leads", params(("id" = i64, Path)),
    responses((status = 201, body = Lead), (status = 200, body = Lead),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_session_lead(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<Lead>), ApiError> {
    visible(&state, &caller, id).await?;
    let by = format!("agent:{}", caller.0.id);
    match state.store.create_lead(id, &by, state.clock.now()).await? {
        LeadOutcome::Created { lead } => Ok((StatusCode::CREATED, Json(lead))),
        LeadOutcome::Exists { lead } => Ok((StatusCode::OK, Json(lead))),
        LeadOutcome::Refused { reason } => Err(ApiError::BadRequest {
            code: "lead_refused",
            message: format!("no lead was created: {reason}"),
        }),
    }
}

/// A lead with the message log of the session it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadDetail {
    pub lead: Lead,
    pub messages: Vec<Message>,
}

/// One lead with its message log (C2). Visible to whoever may see its session.
#[utoipa::path(get, path = "/leads/{id}", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = LeadDetail), (status = 404, body = ErrorBody)))]
async fn get_lead(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LeadDetail>, ApiError> {
    let lead = state
        .store
        .lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead", id))?;
    let messages = match lead.session_id {
        Some(session) => {
            // P2: a lead of a session the caller may not see does not exist for them.
            visible(&state, &caller, session)
                .await
                .map_err(|_| ApiError::not_found("lead", id))?;
            state.store.messages(session, 0, 10_000).await?
        }
        None => {
            caller.require(
                &[crate::store::Role::Admin],
                "reading a lead without a session",
            )?;
            Vec::new()
        }
    };
    Ok(Json(LeadDetail { lead, messages }))
}
