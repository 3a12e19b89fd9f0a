//! O3: the widget's "Email transcript" button. The visitor's own token
//! (`Authorization: Bearer`) names the chat; its latest session is sent.
//! Mails are rate-limited per IP, visitor and address (L1, issue 14 item 5),
//! so nobody can make the server mail someone again and again.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};

use super::webchat_channel;
use crate::api::{ApiError, ApiJson, ApiPath, AppState};
use crate::app::transcript_mail::send_transcript;
use crate::contacts::normalize;
use crate::limits::ClientIp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptRequest {
    email: String,
}

pub async fn email_transcript(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(channel_id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<TranscriptRequest>,
) -> Result<Json<Value>, ApiError> {
    webchat_channel(&state, channel_id).await?;
    let signer = state.webchat.signer(&state).await?;
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let Some(visitor) = token.and_then(|token| signer.check(token.trim(), channel_id)) else {
        if token.is_some() {
            state.limits.auth_failed(ip)?;
        }
        return Err(ApiError::Unauthorized(
            "send the visitor token as `Authorization: Bearer TOKEN`; get one from POST /chat/{channel}/visitors".into(),
        ));
    };
    let session = state
        .store
        .latest_chat_session(channel_id, &visitor.visitor_id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid("there is no conversation to send yet: write a message first")
        })?;
    // L1: counted before the relay is asked, whatever it answers; an
    // address that does not read is refused first and counts nothing.
    let address = normalize::email(&request.email).ok_or_else(|| {
        ApiError::invalid(format!(
            "email {:?} is not an address like name@example.org",
            request.email
        ))
    })?;
    state
        .limits
        .transcript(ip, channel_id, &visitor.visitor_id, &address)?;
    let sent_to = send_transcript(&state, session, &address)
        .await
        .map_err(crate::app::Error::from)?;
    Ok(Json(json!({ "sent_to": sent_to })))
}
