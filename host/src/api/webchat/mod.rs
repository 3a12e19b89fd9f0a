//! The live-chat widget over HTTP (issue 7): `/widget.js`, the widget's
//! config, visitor tokens and the visitor's WebSocket. The hub of open
//! sockets and the token format are the application's (`crate::webchat`).
//!
//! - `GET /chat/{channel}/config`: what the widget shows before the chat
//!   (name O1, language, consent notice G1, pre-chat fields C2).
//! - `POST /chat/{channel}/visitors`: a signed visitor token; a logged-in
//!   site user is verified by the site's identity HMAC.
//! - `GET /chat/{channel}/ws?token=T`: the chat itself (see `socket.rs`).
//!
//! Messages go through the `webchat` connector plugin like any channel's;
//! replies come back as the connector's `push` frames (see `hub.rs`).

mod assets;
mod socket;
mod transcript;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use crate::api::{ApiError, ApiJson, ApiPath, AppState};
use crate::limits::ClientIp;
use crate::store::{Channel, ConsentRow, VisitorDetails};
use crate::webchat::KIND;
use crate::webchat::token::{self, Visitor};

/// The largest client frame a socket takes; a message is at most 10,000 characters.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The widget's routes. They answer any origin: the widget runs on the
/// customer's site, and a visitor's token, not a cookie, is what counts.
pub fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    Router::new()
        .route("/chat/{channel}/config", get(config))
        .route("/chat/{channel}/visitors", post(visitors))
        .route("/chat/{channel}/ws", get(ws))
        .route(
            "/chat/{channel}/transcript",
            post(transcript::email_transcript),
        )
        .layer(cors)
        .route("/widget.js", get(assets::widget_js))
}

/// An enabled webchat channel, or the error the widget shows.
async fn webchat_channel(state: &AppState, id: i64) -> Result<(Channel, Value), ApiError> {
    let channel = state
        .store
        .channel(id)
        .await?
        .filter(|c| c.kind == KIND)
        .ok_or_else(|| ApiError::not_found("webchat channel", id))?;
    if !channel.enabled {
        return Err(ApiError::Unavailable(format!(
            "channel {id} is disabled; an admin can enable it"
        )));
    }
    let config = channel.config.plugin_config();
    Ok((channel, config))
}

/// The channel's consent notice (G1), if it has one that reads.
fn consent(config: &Value) -> Option<frontdesk_rules::ConsentNotice> {
    serde_json::from_value(config.get("consent")?.clone()).ok()
}

/// What the widget needs before the chat starts.
#[derive(Debug, Serialize)]
struct WidgetConfig {
    channel_id: i64,
    /// Shown in the widget's header (O1).
    name: String,
    /// `en` or `de`: the widget's texts (O3).
    language: String,
    consent: Option<Value>,
    prechat: Vec<String>,
}

async fn config(
    State(state): State<AppState>,
    ApiPath(channel_id): ApiPath<i64>,
) -> Result<Json<WidgetConfig>, ApiError> {
    let (channel, config) = webchat_channel(&state, channel_id).await?;
    let prechat = config["prechat_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|f| PRECHAT.contains(f))
        .map(str::to_string)
        .collect();
    Ok(Json(WidgetConfig {
        channel_id,
        name: channel.name,
        language: config["language"].as_str().unwrap_or("en").to_string(),
        consent: consent(&config).map(|n| json!({"text": n.text, "version": n.version})),
        prechat,
    }))
}

/// The pre-chat fields a channel may ask for.
const PRECHAT: &[&str] = &["name", "email", "phone"];

/// `POST /chat/{channel}/visitors`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVisitor {
    user_id: Option<String>,
    user_hash: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    consent_version: Option<u32>,
}

#[derive(Debug, Serialize)]
struct VisitorToken {
    visitor_id: String,
    token: String,
    /// True only for a logged-in user whose site's HMAC matched.
    verified: bool,
}

/// Trims a field and drops it when empty; refuses it when over `max` characters.
fn field(value: Option<String>, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "{name} must be at most {max} characters, without control characters"
        )));
    }
    Ok(Some(value))
}

fn details(body: &mut NewVisitor) -> Result<VisitorDetails, ApiError> {
    let name = field(body.name.take(), "name", 200)?;
    let email = field(body.email.take(), "email", 254)?;
    if let Some(email) = &email
        && !email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
    {
        return Err(ApiError::invalid("email must look like name@example.com"));
    }
    let phone = field(body.phone.take(), "phone", 32)?;
    if let Some(phone) = &phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if digits < 5
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()/.".contains(c))
        {
            return Err(ApiError::invalid(
                "phone must have at least 5 digits and only + - ( ) / . and spaces besides",
            ));
        }
    }
    Ok(VisitorDetails { name, email, phone })
}

/// The visitor id: `u:<user id>` only when the site's HMAC over the user id
/// matches (compared in constant time); otherwise a fresh random id.
fn visitor_id(config: &Value, body: &NewVisitor) -> Result<String, ApiError> {
    let Some(user_id) = &body.user_id else {
        return Ok(format!("v:{}", hex::encode(rand::random::<[u8; 16]>())));
    };
    if user_id.is_empty()
        || user_id.len() > 128
        || !user_id.chars().all(|c| (' '..='~').contains(&c))
    {
        return Err(ApiError::invalid(
            "user_id must be 1-128 printable ASCII characters",
        ));
    }
    let secret = config["identity_secret"].as_str().filter(|s| !s.is_empty());
    let Some(secret) = secret else {
        return Err(ApiError::invalid(
            "this channel has no identity_secret, so it cannot take a user_id; leave it out",
        ));
    };
    let hash = body.user_hash.as_deref().unwrap_or_default();
    if !token::identity_matches(secret, user_id, hash) {
        return Err(ApiError::Unauthorized(
            "user_hash is not hex HMAC-SHA256(identity_secret, user_id); the visitor is not verified"
                .into(),
        ));
    }
    Ok(format!("u:{user_id}"))
}

async fn visitors(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(channel_id): ApiPath<i64>,
    ApiJson(mut body): ApiJson<NewVisitor>,
) -> Result<Json<VisitorToken>, ApiError> {
    let (_, config) = webchat_channel(&state, channel_id).await?;
    state.limits.new_visitor(ip, channel_id)?;
    let visitor_id = visitor_id(&config, &body)?;
    let details = details(&mut body)?;
    let notice = consent(&config);
    let accepted = match (body.consent_version, &notice) {
        (None, _) => None,
        (Some(version), Some(notice)) if version == notice.version => Some(version),
        (Some(_), Some(_)) => {
            return Err(ApiError::Conflict(
                "the consent notice changed; fetch /config and show the new one".into(),
            ));
        }
        (Some(_), None) => None,
    };
    let given = details.name.is_some() || details.email.is_some() || details.phone.is_some();
    let visitor = Visitor {
        channel_id,
        visitor_id,
    };
    if given || accepted.is_some() {
        let now = state.clock.now();
        // C1: only the site's HMAC makes the visitor someone the store may match.
        let contact = state
            .store
            .visitor_contact(
                channel_id,
                &visitor.visitor_id,
                visitor.verified(),
                &details,
                now,
            )
            .await?;
        if let Some(version) = accepted {
            // G1: recorded with its time, so the in-chat prompt is not sent.
            let answer = ConsentRow {
                accepted: true,
                notice_version: i64::from(version),
                at: now,
            };
            state.store.set_consent(contact, &answer).await?;
        }
    }
    let token = state.webchat.signer(&state).await?.issue(&visitor);
    Ok(Json(VisitorToken {
        verified: visitor.verified(),
        visitor_id: visitor.visitor_id,
        token,
    }))
}

#[derive(Debug, Deserialize)]
struct Connect {
    token: Option<String>,
}

async fn ws(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(channel_id): ApiPath<i64>,
    Query(connect): Query<Connect>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    webchat_channel(&state, channel_id).await?;
    let signer = state.webchat.signer(&state).await?;
    let token = connect.token.as_deref();
    let Some(visitor) = token.and_then(|t| signer.check(t, channel_id)) else {
        if token.is_some() {
            state.limits.auth_failed(ip)?;
        }
        return Err(ApiError::Unauthorized(
            "the visitor token is missing or not valid for this channel; get one from POST /chat/{channel}/visitors".into(),
        ));
    };
    Ok(upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(crate::live::SOCKET_READ_BUFFER)
        .on_upgrade(move |socket| {
            // The socket outlives its HTTP connection, so the node's drain tracks it.
            let tracker = state.workers.tracker.clone();
            tracker.track_future(socket::serve(socket, state, visitor, ip))
        }))
}

/// Browsers check for a newer widget on each page load (a 304 when unchanged is up to proxies).
fn no_cache() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
}
