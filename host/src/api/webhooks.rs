//! Webhooks: `POST` and `GET /hooks/{channel}[/{rest}]` (S3, S4, P3).
//!
//! The connector sees the method, the path after the channel, the raw query
//! and the raw body bytes. The answer (the host's JSON, or the connector's
//! own reply) goes out only after the messages' transaction committed; a
//! repeated external id gets the same answer and stores nothing.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

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
use crate::engine::Event;
use crate::ingest::{ConnectorError, InboundRequest, Reply};
use crate::limits::ClientIp;
use crate::store::{Accepted, AttachmentState, Channel, IngestItem};

/// How long a channel's settings are reused before they are read again.
///
/// Webhooks are the hot path; reading the channel row for each would double
/// the queries per message. Local admin changes invalidate at once; changes
/// made on another node show up within this time.
const CHANNEL_TTL: Duration = Duration::from_secs(5);

/// Recently read channels, for the webhook path.
#[derive(Default)]
pub struct WebhookChannels(RwLock<HashMap<i64, (Instant, Channel)>>);

impl WebhookChannels {
    /// Forgets a channel after an admin changed it.
    pub fn invalidate(&self, id: i64) {
        self.0.write().expect("channel cache lock").remove(&id);
    }

    async fn get(&self, state: &AppState, id: i64) -> Result<Option<Channel>, ApiError> {
        if let Some((at, channel)) = self.0.read().expect("channel cache lock").get(&id)
            && at.elapsed() < CHANNEL_TTL
        {
            return Ok(Some(channel.clone()));
        }
        let channel = state.store.channel(id).await?;
        if let Some(channel) = &channel {
            self.0
                .write()
                .expect("channel cache lock")
                .insert(id, (Instant::now(), channel.clone()));
        }
        Ok(channel)
    }
}

/// What a webhook is answered with: where each message landed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookAnswer {
    pub messages: Vec<Accepted>,
}

/// The outcome of one inbound request whose messages are all committed.
#[derive(Debug)]
pub struct Received {
    /// Where each message landed, in the order the connector returned them.
    pub accepted: Vec<Accepted>,
    /// The connector's own answer for the provider, if it chose one.
    pub reply: Option<Reply>,
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
    let received = receive_inbound(&state, channel_id, request).await;
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

/// The core of every inbound path (webhooks now, the SMTP listener too):
/// the channel's connector verifies and parses `request`, its messages are
/// committed (S3, S4), routing is told, and only then is there an answer.
///
/// An `Err` is never an acknowledgement: a refused signature stored nothing
/// (P3), and a failed commit tells the sender to try again. The SMTP
/// listener builds its request with [`InboundRequest::post`] and answers 250
/// only on `Ok`.
pub async fn receive_inbound(
    state: &AppState,
    channel_id: i64,
    request: InboundRequest,
) -> Result<Received, ApiError> {
    let channel = state
        .channels
        .get(state, channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", channel_id))?;
    if !channel.enabled {
        return Err(ApiError::Unavailable(format!(
            "channel {channel_id} is disabled; an admin can enable it"
        )));
    }
    let connector = state.connector(&channel.kind).ok_or_else(|| {
        ApiError::Unavailable(format!(
            "no connector is installed for channel kind {:?}",
            channel.kind
        ))
    })?;
    let parsed = match connector.verify_and_parse(&channel, &request).await {
        // Authentic but unreadable: kept for admins, and 200 so the provider
        // does not hold back the chat's later updates.
        Err(ConnectorError::Unprocessable(reason)) => {
            super::failed_inbound::keep(
                state,
                channel_id,
                &request.headers,
                &request.body,
                &reason,
            )
            .await?;
            return Ok(Received {
                accepted: Vec::new(),
                reply: None,
            });
        }
        Err(err) => return Err(refused(state, channel_id, &request, err).await),
        Ok(parsed) => parsed,
    };
    let mut accepted = Vec::with_capacity(parsed.messages.len());
    for message in parsed.messages {
        let fetch = message
            .attachments
            .iter()
            .any(|a| a.initial_state().0 == AttachmentState::Pending);
        let item = IngestItem {
            channel_id,
            source: connector.network().to_string(),
            message,
        };
        let answer = state.ingest.submit(item).await?;
        if fetch && !answer.duplicate {
            state.attachments.notify_one();
        }
        route(state, channel_id, answer).await;
        accepted.push(answer);
    }
    Ok(Received {
        accepted,
        reply: parsed.reply,
    })
}

/// What a webhook caller, who may be anyone, learns of a refusal: its kind,
/// never the connector's own words, which can hold a guest's panic text or a
/// configured host. Those go to the log, and a connector's fault also to
/// failed inbound, where admins see it with the request.
async fn refused(
    state: &AppState,
    channel_id: i64,
    request: &InboundRequest,
    err: ConnectorError,
) -> ApiError {
    metrics::counter!("frontdesk_webhook_refused_total").increment(1);
    tracing::info!(channel = channel_id, error = %err, "webhook refused");
    match err {
        ConnectorError::Unauthenticated(_) => ApiError::BadSignature(
            "the request's signature or secret token is missing or wrong; nothing was stored (P3)"
                .into(),
        ),
        // Only after the request proved authentic: the sender may know why.
        ConnectorError::Malformed(detail) => ApiError::BadRequest {
            code: "invalid_payload",
            message: detail,
        },
        ConnectorError::Unavailable(detail) | ConnectorError::Unprocessable(detail) => {
            let reason = format!("the channel's connector failed: {detail}");
            let kept = super::failed_inbound::keep(
                state,
                channel_id,
                &request.headers,
                &request.body,
                &reason,
            )
            .await;
            if let Err(err) = kept {
                tracing::warn!(channel = channel_id, error = %err, "cannot keep the failed request for admins");
            }
            ApiError::Unavailable(
                "the channel's connector could not take the request now; nothing was stored, send it again later"
                    .into(),
            )
        }
    }
}

/// Tells the routing engine about a stored message, without making the
/// provider wait for routing: the message is safe already, and sessions the
/// engine missed in a crash are routed when it starts again. Waits for room
/// in the engine's inbox rather than dropping the event.
async fn route(state: &AppState, channel: i64, answer: Accepted) {
    let Some(event) = Event::inbound(channel, &answer) else {
        return;
    };
    if let Err(err) = state.engine.enqueue(event).await {
        // Stored already; the engine routes it when it starts again.
        tracing::warn!(session = answer.session_id, error = %err, "message not handed to routing");
    }
}
