//! One error type for every HTTP answer, with one JSON shape:
//! `{"error": {"code": "channel_not_found", "message": "..."}}`.
//!
//! Internal errors are logged once here and hidden from clients, who get a
//! generic message; everything else says what was wrong and what to do.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ingest::{ConnectorError, IngestError};
use crate::store::StoreError;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; `code` names the kind, e.g. `invalid_json`.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No token, or one that is unknown or disabled.
    #[error("{0}")]
    Unauthorized(String),
    /// The password was right but sign-in needs a second factor
    /// (`totp_required`) or the one given is wrong (`totp_invalid`): 401.
    #[error("{message}")]
    SecondFactor { code: &'static str, message: String },
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or the caller may not see it: both look the same (P2).
    #[error("{what} {id} does not exist or you may not see it")]
    NotFound { what: &'static str, id: String },
    /// No route at this path.
    #[error("no route for {0}; the API lives under /api/v1 (see /api/v1/openapi.json)")]
    NoRoute(String),
    /// A unique value is taken already.
    #[error("{0}")]
    Conflict(String),
    /// The body is over the size limit.
    #[error("the request body is larger than the {0} bytes accepted")]
    PayloadTooLarge(usize),
    /// Webhook authentication failed (P3); nothing was stored.
    #[error("{0}")]
    BadSignature(String),
    /// This server is not set up for the request (no mail relay for a
    /// transcript, say): retrying will not help until its operator changes
    /// that, so it is not a 503.
    #[error("{0}")]
    NotConfigured(String),
    /// The server cannot take the request now; the client should retry.
    #[error("{0}")]
    Unavailable(String),
    /// Over a rate limit or locked out after wrong passwords (L1, P5): 429
    /// with `Retry-After`; the message says what and for how long.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// The channel was saved, but the connector's setup at its provider
    /// (e.g. Telegram's `setWebhook`) failed: refused, in the provider's
    /// words, or the provider could not be reached.
    #[error("{0}")]
    ProviderSetup(String),
    /// The database cannot take writes now (a full disk, an I/O error, a
    /// lost connection): nothing was changed and the client should retry.
    /// The database's own words go to the log and to `/healthz`.
    #[error("the database cannot store this now; nothing was changed, try again shortly")]
    StorageUnavailable(String),
    /// A bug or an outage; details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Marks a response that failed on a storage fault, so the layer that
/// records storage health (see `api::app`) learns of it.
#[derive(Debug, Clone)]
pub struct StorageFault(pub String);

/// How long a client told 503 waits before it tries again, in seconds.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable machine-readable code and a sentence for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// The most bytes any request body may have.
pub const BODY_LIMIT: usize = 1024 * 1024;

impl ApiError {
    /// Shorthand for a 400 with the `invalid_input` code.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "invalid_input",
            message: message.into(),
        }
    }

    /// Shorthand for a 404 that does not tell "missing" from "not yours".
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        ApiError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// The code and message a client is shown, for answers that are not
    /// HTTP responses (the widget's WebSocket error frames); internal
    /// details stay in the log, as for responses.
    pub fn code_and_message(&self) -> (String, String) {
        let (_, code) = self.status_and_code();
        let message = match self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "something went wrong on the server; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        (code, message)
    }

    fn status_and_code(&self) -> (StatusCode, String) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, (*code).into()),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized".into()),
            ApiError::SecondFactor { code, .. } => (StatusCode::UNAUTHORIZED, (*code).into()),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden".into()),
            ApiError::NotFound { what, .. } => (StatusCode::NOT_FOUND, format!("{what}_not_found")),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "route_not_found".into()),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict".into()),
            ApiError::NotConfigured(_) => (StatusCode::CONFLICT, "not_configured".into()),
            ApiError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
            }
            ApiError::BadSignature(_) => (StatusCode::FORBIDDEN, "bad_signature".into()),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable".into()),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
            }
            ApiError::StorageUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable".into(),
            ),
            ApiError::ProviderSetup(_) => (StatusCode::BAD_GATEWAY, "provider_setup_failed".into()),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "something went wrong on the server; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::StorageUnavailable(detail) = self {
            tracing::error!(%detail, "request refused: the database cannot store it now");
            response.extensions_mut().insert(StorageFault(detail));
        }
        response
    }
}

impl From<crate::limits::RateLimited> for ApiError {
    fn from(limited: crate::limits::RateLimited) -> Self {
        ApiError::TooManyRequests {
            message: limited.to_string(),
            retry_after_secs: limited.retry_after_secs,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound {
                what,
                id: "given".into(),
            },
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Invalid(message) => ApiError::invalid(message),
            other if other.is_unavailable() => ApiError::StorageUnavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        match err {
            IngestError::ShuttingDown => ApiError::Unavailable(err.to_string()),
            IngestError::Store(inner) if inner.is_unavailable() => {
                ApiError::StorageUnavailable(inner.to_string())
            }
            IngestError::Store(inner) => {
                tracing::error!(error = %inner, "inbound message not stored");
                ApiError::Unavailable(
                    "the message could not be stored; nothing was kept, send it again".into(),
                )
            }
        }
    }
}

impl From<ConnectorError> for ApiError {
    fn from(err: ConnectorError) -> Self {
        match err {
            ConnectorError::Unauthenticated(m) => ApiError::BadSignature(m),
            ConnectorError::Malformed(m) => ApiError::BadRequest {
                code: "invalid_payload",
                message: m,
            },
            ConnectorError::Unavailable(m) => ApiError::Unavailable(format!(
                "the channel's connector failed: {m}; send it again"
            )),
            // The webhook keeps these as failed inbound; elsewhere it is a bad payload.
            ConnectorError::Unprocessable(m) => ApiError::BadRequest {
                code: "unprocessable_payload",
                message: m,
            },
        }
    }
}

fn too_large_or(status: StatusCode, otherwise: ApiError) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(BODY_LIMIT)
    } else {
        otherwise
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        too_large_or(
            status,
            ApiError::BadRequest {
                code: "invalid_json",
                message: rejection.body_text(),
            },
        )
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        too_large_or(status, ApiError::invalid(rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::invalid(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            code: "invalid_query",
            message: rejection.body_text(),
        }
    }
}

/// The one place a use case's failure becomes an HTTP answer.
impl From<crate::app::Error> for ApiError {
    fn from(err: crate::app::Error) -> Self {
        use crate::app::Error as E;
        match err {
            E::NotFound { what, id } => ApiError::NotFound { what, id },
            E::Refused(m) => ApiError::BadSignature(m),
            E::Invalid { code, message } => ApiError::BadRequest { code, message },
            E::Conflict(m) => ApiError::Conflict(m),
            E::NotConfigured(m) => ApiError::NotConfigured(m),
            E::Unavailable(m) => ApiError::Unavailable(m),
            E::Store(e) => e.into(),
            E::Ingest(e) => e.into(),
            E::Engine(e) => e.into(),
        }
    }
}

impl From<crate::engine::EngineError> for ApiError {
    fn from(err: crate::engine::EngineError) -> Self {
        use frontdesk_routing::Error as R;
        match err {
            crate::engine::EngineError::Refused(refused) => match refused {
                R::UnknownAgent(_) | R::UnknownQueue(_) | R::DuplicateMember { .. } => {
                    ApiError::invalid(refused.to_string())
                }
                R::IntervalOutOfRange { .. }
                | R::ZeroLimit { .. }
                | R::NegativeCloseDelay { .. } => ApiError::invalid(refused.to_string()),
                _ => ApiError::Conflict(refused.to_string()),
            },
            crate::engine::EngineError::Store(store) if store.is_unavailable() => {
                ApiError::StorageUnavailable(store.to_string())
            }
            crate::engine::EngineError::Store(store) => ApiError::Internal(store.to_string()),
            crate::engine::EngineError::NotStored(why) => ApiError::StorageUnavailable(why),
            crate::engine::EngineError::Stopped | crate::engine::EngineError::NotRouting(_) => {
                ApiError::Unavailable(err.to_string())
            }
        }
    }
}
