//! Webhooks: `POST` and `GET /hooks/{channel}[/{rest}]` (S3, S4, P3).
//!
//! The connector sees the method, the path after the channel, the raw query
//! and the raw body bytes. The answer (the host's JSON, or the connector's
//! own reply) goes out only after the messages' transaction committed; a
//! repeated external id gets the same answer and stores nothing. The steps
//! are the application's (`app::App::receive_inbound`); this file is HTTP.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{ApiError, ApiPath, AppState};
use crate::app::Received;
use crate::ingest::InboundRequest;
use crate::limits::ClientIp;
use crate::store::Accepted;

/// What a webhook is answered with: where each message landed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookAnswer {
    pub messages: Vec<Accepted>,
}

impl IntoResponse for Received {
    fn into_response(self) -> Response {
        match self.reply {
            Some(reply) => (reply.status, reply.headers, reply.body).into_response(),
            None => Json(HookAnswer {
                messages: self.accepted,
            })
            .into_response(),
        }
    }
}

/// `GET` and `POST /hooks/{channel}`, and the same under a sub-path.
pub fn routes() -> Router<AppState> {
    // GET carries handshakes (Messenger's `hub.challenge`); a provider that
    // posts to a sub-path (`/hooks/7/events`) gets that path passed on.
    Router::new()
        .route("/hooks/{channel}", get(receive).post(receive))
        .route("/hooks/{channel}/{*rest}", get(receive).post(receive))
}

async fn receive(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(params): ApiPath<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Received, ApiError> {
    let channel_id = params
        .get("channel")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| ApiError::invalid("the channel in /hooks/{channel} must be a number"))?;
    let path = params
        .get("rest")
        .map(|rest| format!("/{rest}"))
        .unwrap_or_default();
    let request = InboundRequest {
        method,
        path,
        query: uri.query().unwrap_or_default().to_string(),
        headers: untrusted(headers),
        body: body?,
    };
    let received = state
        .app
        .receive_inbound(channel_id, request)
        .await
        .map_err(ApiError::from);
    // L1: refusals are counted, never valid webhooks, so a provider's
    // traffic is not held back by someone else's forgeries.
    match &received {
        Err(ApiError::BadSignature(_)) => state.limits.webhook_refused(ip, Some(channel_id))?,
        Err(ApiError::NotFound { .. }) => state.limits.webhook_refused(ip, None)?,
        _ => {}
    }
    received
}

/// Headers the host sets itself for a connector (the widget's
/// `x-frontdesk-visitor`, after checking the visitor's token) are dropped
/// from outside requests, so nobody can pose as a visitor through a webhook.
fn untrusted(mut headers: HeaderMap) -> HeaderMap {
    let trusted: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(crate::webchat::TRUSTED_HEADERS))
        .cloned()
        .collect();
    for name in trusted {
        headers.remove(name);
    }
    headers
}
