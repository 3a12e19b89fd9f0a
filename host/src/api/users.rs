//! Users and their status (P1, R13): admins manage, everybody reads themselves.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::passwords::{check_name, hashed};
use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::auth::{new_token, password, token_hash};
use crate::engine::Event;
use crate::store::{Role, User, UserStatusPatch};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, update_me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(update_profile))
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/me", tag = "users",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn me(caller: Caller) -> Json<User> {
    Json(caller.0)
}

/// What a user shows customers of themselves (I1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Shown instead of the user name on channels that show agents' profiles.
    pub display_name: Option<String>,
    /// An http(s) URL of the avatar.
    pub avatar_url: Option<String>,
}

/// Sets the caller's own display name and avatar (I1); a missing field is cleared.
#[utoipa::path(patch, path = "/me", tag = "users", request_body = Profile,
    responses((status = 200, body = User), (status = 400, body = ErrorBody)))]
async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(profile): ApiJson<Profile>,
) -> Result<Json<User>, ApiError> {
    let name = checked_profile(&profile)?;
    Ok(Json(
        state
            .store
            .set_profile(
                caller.0.id,
                name,
                profile.avatar_url.as_deref().filter(|u| !u.is_empty()),
            )
            .await?,
    ))
}

/// The display name to store (trimmed, `None` when blank) once the profile
/// passes its checks; the avatar URL must be http(s).
fn checked_profile(profile: &Profile) -> Result<Option<&str>, ApiError> {
    let name = profile
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 80) {
        return Err(ApiError::invalid(
            "display_name must be at most 80 characters",
        ));
    }
    if let Some(url) = profile.avatar_url.as_deref().filter(|u| !u.is_empty()) {
        crate::identity::check_avatar_url(url).map_err(ApiError::invalid)?;
    }
    Ok(name)
}

/// Sets someone's display name and avatar (admins only, audited as
/// `user.profile`); a missing field is cleared.
#[utoipa::path(patch, path = "/users/{id}/profile", tag = "users", request_body = Profile,
    params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(profile): ApiJson<Profile>,
) -> Result<Json<User>, ApiError> {
    caller.require(&[Role::Admin], "changing someone's profile")?;
    let name = checked_profile(&profile)?;
    let avatar = profile.avatar_url.as_deref().filter(|u| !u.is_empty());
    let user = state
        .store
        .set_profile(id, name, avatar)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => ApiError::not_found("user", id),
            other => other.into(),
        })?;
    let detail = serde_json::json!({ "display_name": name, "avatar_url": avatar });
    state
        .store
        .record_audit(
            caller.0.id,
            "user.profile",
            &format!("user:{id}"),
            &detail,
            state.clock.now(),
        )
        .await?;
    state.engine.send(Event::AgentChanged(user.clone())).await?;
    Ok(Json(user))
}

/// Every user (admins only).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    caller.require(&[Role::Admin], "listing users")?;
    Ok(Json(state.store.list_users().await?))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    /// Their console password (P5); without one, make them a setup link
    /// (`POST /users/{id}/setup-link`) or let them use the API token.
    pub password: Option<String>,
    /// Shown to customers instead of the name (I1).
    pub display_name: Option<String>,
    /// An http(s) URL of their avatar (I1).
    pub avatar_url: Option<String>,
}

/// The created user and their API token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: User,
    pub token: String,
}

/// Creates a user and returns their API token (admins only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    caller.require(&[Role::Admin], "creating users")?;
    let name = new.name.trim();
    check_name(name)?;
    if let Some(password) = &new.password {
        password::check_rules(password)
            .map_err(|why| ApiError::invalid(format!("password: {why}")))?;
    }
    let profile = Profile {
        display_name: new.display_name.clone(),
        avatar_url: new.avatar_url.clone(),
    };
    let display_name = checked_profile(&profile)?;
    let avatar = profile.avatar_url.as_deref().filter(|u| !u.is_empty());
    let token = new_token();
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    let now = state.clock.now();
    let mut user = state
        .store
        .create_user(name, new.role, &token_hash(&token), now)
        .await?;
    if display_name.is_some() || avatar.is_some() {
        user = state
            .store
            .set_profile(user.id, display_name, avatar)
            .await?;
    }
    let detail = serde_json::json!({ "name": user.name, "role": user.role.as_str() });
    state
        .store
        .record_audit(
            caller.0.id,
            "user.create",
            &format!("user:{}", user.id),
            &detail,
            now,
        )
        .await?;
    if let Some(password) = new.password {
        let hash = hashed(password).await?;
        state.store.set_password(user.id, &hash).await?;
    }
    state.engine.send(Event::AgentChanged(user.clone())).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user, token })))
}

/// Sets a user's disabled, dismissed or vacation flags (admins only).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserStatusPatch,
    params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserStatusPatch>,
) -> Result<Json<User>, ApiError> {
    caller.require(&[Role::Admin], "changing users")?;
    // A node that does not route refuses before storing: the routing node
    // would not hear of the change until it restarts.
    state.engine.routes()?;
    let user = state
        .store
        .update_user_status(Some(caller.0.id), id, &patch, state.clock.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => ApiError::not_found("user", id),
            other => other.into(),
        })?;
    // A disabled user's browser sessions end and their open consoles close
    // before this answers (P1, P5).
    if user.disabled {
        state.store.end_web_sessions_of(user.id).await?;
    }
    state.engine.live().access().changed();
    state.engine.send(Event::AgentChanged(user.clone())).await?;
    Ok(Json(user))
}
