//! Extractors whose rejections use the one error shape, and the caller's
//! identity: an API token (`Authorization: Bearer`) or a browser session
//! cookie, which must bring its CSRF token on every change (P2, P5).

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use subtle::ConstantTimeEq as _;

use crate::auth::token_hash;
use crate::auth::web::{CSRF_HEADER, SESSION_COOKIE, cookie_value};
use crate::limits::ClientIp;
use crate::store::{Role, User, Viewer, WebSession};

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

/// How a request proved who it is from: an API token or a browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API token (integrations, P2).
    Token(String),
    /// A browser session cookie (people, P5).
    Session(String),
}

/// The authenticated user behind a request (P1, P2, P5).
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
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    ApiError::Unauthorized("the Authorization header must be Bearer <token>".into())
                })?;
            let ip = ClientIp::of(parts, state.limits.proxies());
            return Caller::signed_in(state, token, ip).await;
        }
        let Some(session) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::Unauthorized(
                "sign in at /console/, or send your API token as Authorization: Bearer <token>"
                    .into(),
            ));
        };
        let web = web_session(state, &session).await?;
        // A change asked for with only the cookie must also carry the page's
        // CSRF token: another site can make the browser send the cookie, but
        // cannot read the token to copy it.
        if !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(sent.ct_eq(web.csrf_token.as_bytes())) {
                return Err(ApiError::Forbidden(
                    "this change needs the X-CSRF-Token header with the value of the frontdesk_csrf cookie; reload the console and try again".into(),
                ));
            }
        }
        Ok(Caller(web.user))
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
        let owner = state
            .store
            .token_owner(&token_hash(token.trim()))
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "unknown or revoked API token; create one under Settings, My account, or with `frontdesk user add`".into(),
                )
            })?;
        let user = enabled(owner.user)?;
        let now = state.clock.now();
        // "Last used" is about when, not a log: one write a minute at most.
        if owner.token_last_used_at.is_none_or(|at| now - at >= 60_000)
            && let Err(err) = state.store.token_used(owner.token_id, now).await
        {
            // Noting the use is bookkeeping; the request goes on without it.
            tracing::warn!(error = %err, token = owner.token_id, "could not note an API token's use");
        }
        Ok(Caller(user))
    }

    /// The user behind a token or a browser session, checked again (the live
    /// socket does this after every access change).
    pub async fn from_credential(
        state: &AppState,
        credential: &Credential,
    ) -> Result<Self, ApiError> {
        match credential {
            Credential::Token(token) => Caller::from_token(state, token).await,
            Credential::Session(cookie) => Ok(Caller(web_session(state, cookie).await?.user)),
        }
    }
}

/// The unexpired browser session behind a cookie, its user enabled.
async fn web_session(state: &AppState, cookie: &str) -> Result<WebSession, ApiError> {
    let mut web = state
        .store
        .web_session(&token_hash(cookie), state.clock.now())
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized("your sign-in has ended; sign in again at /console/".into())
        })?;
    web.user = enabled(web.user)?;
    Ok(web)
}

fn enabled(user: User) -> Result<User, ApiError> {
    if user.disabled {
        return Err(ApiError::Unauthorized(format!(
            "user {} is disabled; ask an admin",
            user.name
        )));
    }
    Ok(user)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(parts, state.limits.proxies()))
    }
}
