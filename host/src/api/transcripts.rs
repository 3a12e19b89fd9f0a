//! O3: the transcript by email, sent on the customer's request by the agent
//! in the chat (the widget has its own button, see `webchat`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::visible;
use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::app::transcript_mail::send_transcript;
use crate::store::Viewer;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(email_transcript))
}

/// Where to send the transcript.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRequest {
    /// The address; without it, the contact's email.
    pub email: Option<String>,
}

/// Where it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptSent {
    pub sent_to: String,
}

/// Emails the session's transcript to the customer, in the channel's
/// language (O3). Answered after the mail relay accepted it.
#[utoipa::path(post, path = "/sessions/{id}/transcript", tag = "sessions", params(("id" = i64, Path)),
    request_body = TranscriptRequest,
    responses((status = 200, body = TranscriptSent), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`not_configured`: the server runs without `--smtp-relay`"),
        (status = 503, body = ErrorBody, description = "the mail relay cannot be reached now")))]
async fn email_transcript(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<TranscriptRequest>,
) -> Result<Json<TranscriptSent>, ApiError> {
    let session = visible(&state, &caller, id).await?;
    let to = match request.email {
        Some(email) => email,
        None => {
            let viewer = Viewer {
                user_id: 0,
                role: crate::store::Role::Admin,
            };
            state
                .store
                .contact(viewer, session.contact_id)
                .await?
                .and_then(|c| c.email)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "the contact has no email address: send {\"email\": \"...\"} with the address to use",
                    )
                })?
        }
    };
    let sent_to = send_transcript(&state, id, &to)
        .await
        .map_err(crate::app::Error::from)?;
    Ok(Json(TranscriptSent { sent_to }))
}
