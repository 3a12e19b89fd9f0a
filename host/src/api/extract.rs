//! Extractors whose rejections use the one error shape, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::auth::token_hash;
use crate::store::{Role, User, Viewer};

/// `axum::Json`, rejected as `invalid_json` / `payload_too_large`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path`, rejected as `invalid_input`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query`, rejected as `invalid_query`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The authenticated user behind a bearer token (P1, P2).
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// The caller as the store's access rules see them.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.0.id,
            role: self.0.role,
        }
    }

    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], doing: &str) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden(format!(
            "{doing} needs the {} role; you are {}",
            names.join(" or "),
            self.0.role.as_str()
        )))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("send your API token as Authorization: Bearer <token>".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be Bearer <token>".into())
            })?;
        let ip = crate::limits::ClientIp::of(parts, state);
        Caller::signed_in(state, token, ip).await
    }
}

impl Caller {
    /// [`Caller::from_token`] for a request from `ip`: a wrong token counts
    /// against the IP's failures (L1), and past their limit the answer is
    /// 429 instead of 401. A right token is never held back.
    pub async fn signed_in(
        state: &AppState,
        token: &str,
        ip: crate::limits::ClientIp,
    ) -> Result<Self, ApiError> {
        let signed_in = Caller::from_token(state, token).await;
        if let Err(ApiError::Unauthorized(_)) = &signed_in {
            state.limits.auth_failed(ip)?;
        }
        signed_in
    }

    /// The user behind an API token, checked as for every API request; for
    /// places where the token cannot come as a header (a browser WebSocket).
    pub async fn from_token(state: &AppState, token: &str) -> Result<Self, ApiError> {
        let user = state
            .store
            .user_by_token_hash(&token_hash(token.trim()))
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "unknown API token; create one with `frontdesk user add`".into(),
                )
            })?;
        if user.disabled {
            return Err(ApiError::Unauthorized(format!(
                "user {} is disabled; ask an admin",
                user.name
            )));
        }
        Ok(Caller(user))
    }
}
