//! O3: the widget's "Email transcript" button. The visitor's own token
//! (`Authorization: Bearer`) names the chat; its latest session is sent.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};

use super::webchat_channel;
use crate::api::{ApiError, ApiJson, ApiPath, AppState};
use crate::transcript_mail::send_transcript;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRequest {
    email: String,
}

pub async fn email_transcript(
    State(state): State<AppState>,
    ApiPath(channel_id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<TranscriptRequest>,
) -> Result<Json<Value>, ApiError> {
    webchat_channel(&state, channel_id).await?;
    let signer = state.webchat.signer(&state).await?;
    let visitor = headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|token| signer.check(token.trim(), channel_id))
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "send the visitor token as `Authorization: Bearer TOKEN`; get one from POST /chat/{channel}/visitors".into(),
            )
        })?;
    let session = state
        .store
        .latest_chat_session(channel_id, &visitor.visitor_id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid("there is no conversation to send yet: write a message first")
        })?;
    let sent_to = send_transcript(&state, session, &request.email)
        .await
        .map_err(crate::api::transcript_error)?;
    Ok(Json(json!({ "sent_to": sent_to })))
}
