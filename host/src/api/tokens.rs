//! API tokens for integrations (P2): each person creates, names, lists and
//! revokes their own; admins see and revoke anyone's. A token is shown once,
//! when created; the server keeps only its hash. Revoking one refuses it at
//! once, and closes the live sockets it opened (P1).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::auth::{new_token, token_hash};
use crate::store::{ApiToken, Role, StoreError};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_tokens, create_token))
        .routes(routes!(revoke_my_token))
        .routes(routes!(user_tokens))
        .routes(routes!(revoke_user_token))
}

/// A new token's name, so its owner knows later which one to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
}

/// The token created, and the token itself, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub api_token: ApiToken,
    /// Send it as `Authorization: Bearer <token>`; it is not shown again.
    pub token: String,
}

/// The caller's own API tokens, revoked ones too, newest first.
#[utoipa::path(get, path = "/me/tokens", tag = "tokens",
    responses((status = 200, body = [ApiToken])))]
async fn my_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(state.store.api_tokens(caller.0.id).await?))
}

/// Creates an API token for the caller; the answer is the only time the
/// token is shown.
#[utoipa::path(post, path = "/me/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name: give the token a name of 1 to 100 characters, such as what will use it",
        ));
    }
    let token = new_token();
    let now = state.clock.now();
    let api_token = state
        .store
        .create_api_token(caller.0.id, name, &token_hash(&token), now)
        .await?;
    audit(&state, &caller, "api_token.create", &api_token).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { api_token, token })))
}

/// Revokes one of the caller's tokens: refused from now on.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody, description = "the token sent was revoked"),
        (status = 404, body = ErrorBody)))]
async fn revoke_my_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &caller, caller.0.id, id).await
}

/// A user's API tokens (admins, or the user themselves).
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 200, body = [ApiToken]), (status = 404, body = ErrorBody)))]
async fn user_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    owner_or_admin(&state, &caller, id).await?;
    Ok(Json(state.store.api_tokens(id).await?))
}

/// Revokes a user's token (admins, or the user themselves; audited).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token}", tag = "tokens",
    params(("id" = i64, Path), ("token" = i64, Path, description = "the token's id")),
    responses((status = 204), (status = 401, body = ErrorBody, description = "the token sent was revoked"),
        (status = 404, body = ErrorBody)))]
async fn revoke_user_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, token)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    owner_or_admin(&state, &caller, id).await?;
    revoke(&state, &caller, id, token).await
}

/// Someone else's tokens are an admin's business only; to anyone else they
/// look like an unknown user's (P2).
async fn owner_or_admin(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let allowed = caller.0.id == id || caller.0.role == Role::Admin;
    if !allowed || state.store.user(id).await?.is_none() {
        return Err(ApiError::not_found("user", id));
    }
    Ok(())
}

async fn revoke(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    token_id: i64,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    state
        .store
        .revoke_api_token(user_id, token_id, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ApiError::not_found("token", token_id),
            other => other.into(),
        })?;
    // Sockets opened with this token re-check it now, not at the next poll.
    state.engine.live().access().changed();
    let revoked = state
        .store
        .api_tokens(user_id)
        .await?
        .into_iter()
        .find(|t| t.id == token_id)
        .ok_or_else(|| ApiError::not_found("token", token_id))?;
    audit(state, caller, "api_token.revoke", &revoked).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// P4: who created or revoked which token (its name, never the token).
async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    token: &ApiToken,
) -> Result<(), ApiError> {
    let target = format!("user:{}", token.user_id);
    let detail = serde_json::json!({"token_id": token.id, "name": token.name});
    state
        .store
        .record_audit(caller.0.id, action, &target, &detail, state.clock.now())
        .await?;
    Ok(())
}
