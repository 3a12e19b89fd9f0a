//! Auto-action scripts through the API (A1–A5, W2, Q1, Q2; U1, U2, O5, P4).
//!
//! A script belongs to a channel (`/channels/{id}/scripts/...`) or, saved
//! through `/scripts/...`, to every channel that has none of its own for the
//! hook; a channel without either runs the built-in default. A script is
//! compiled before it is saved: a compile error answers 400 with its line and
//! column, and the running version stays. Every saved version is kept and can
//! be restored; every save is in the audit log.

mod tools;

use std::str::FromStr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use frontdesk_rules::{Hook, ScriptScope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::store::{Role, ScriptVersion};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scripts))
        .routes(routes!(save_script, reset_script))
        .routes(routes!(script_versions))
        .routes(routes!(restore_version))
        .routes(routes!(list_channel_scripts))
        .routes(routes!(save_channel_script, reset_channel_script))
        .routes(routes!(channel_script_versions))
        .routes(routes!(restore_channel_version))
        .merge(tools::routes())
}

/// A hook and the script it runs now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptView {
    /// The hook's name, e.g. `first_message`.
    pub hook: String,
    /// The behaviour it implements, e.g. `A1`.
    pub spec_id: String,
    /// Whether this scope (the channel, or all channels) has a script of its own.
    pub custom: bool,
    /// Where the running script comes from: `channel` (its own),
    /// `all_channels` (the one saved for every channel) or `default`.
    pub runs: String,
    /// The script that runs now.
    pub source: String,
    /// What runs without a script of its own, and what "reset" goes back
    /// to: for a channel the script for all channels if there is one, else
    /// the built-in default.
    pub default_source: String,
}

pub(super) fn hook(name: &str) -> Result<Hook, ApiError> {
    Hook::from_str(name).map_err(|e| ApiError::not_found("hook", format!("{name:?} ({e})")))
}

fn view(state: &AppState, scope: ScriptScope, hook: Hook) -> ScriptView {
    ScriptView {
        hook: hook.name().into(),
        spec_id: hook.spec_id().into(),
        custom: state.rules.is_custom(scope, hook),
        runs: state.rules.origin(scope, hook).name().into(),
        source: state.rules.source(scope, hook),
        default_source: state.rules.fallback_source(scope, hook),
    }
}

/// Who may read a scope's scripts: admins, and supervisors of that channel
/// (supervisors may read the scripts for all channels too).
async fn may_read(state: &AppState, caller: &Caller, scope: ScriptScope) -> Result<(), ApiError> {
    caller.require(&[Role::Admin, Role::Supervisor], "reading scripts")?;
    channel_exists(state, caller, scope).await
}

/// Who may change a scope's scripts: admins only.
async fn may_change(
    state: &AppState,
    caller: &Caller,
    scope: ScriptScope,
    doing: &str,
) -> Result<(), ApiError> {
    caller.require(&[Role::Admin], doing)?;
    channel_exists(state, caller, scope).await
}

async fn channel_exists(
    state: &AppState,
    caller: &Caller,
    scope: ScriptScope,
) -> Result<(), ApiError> {
    if let ScriptScope::Channel(id) = scope {
        state
            .store
            .visible_channel(caller.viewer(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("channel", id))?;
    }
    Ok(())
}

/// A script to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScript {
    pub source: String,
}

async fn save(
    state: &AppState,
    caller: &Caller,
    scope: ScriptScope,
    hook: Hook,
    source: &str,
) -> Result<ScriptVersion, ApiError> {
    let compiled = state
        .rules
        .compile(source)
        .map_err(|e| ApiError::BadRequest {
            code: "script_error",
            message: format!("source: {e}; the running version stays until this compiles"),
        })?;
    let version = state
        .store
        .save_script(
            scope,
            hook.name(),
            Some(source),
            caller.0.id,
            state.clock.now(),
        )
        .await?;
    state.rules.install(scope, hook, compiled);
    Ok(version)
}

async fn reset(
    state: &AppState,
    caller: &Caller,
    scope: ScriptScope,
    hook: Hook,
) -> Result<ScriptVersion, ApiError> {
    let version = state
        .store
        .save_script(scope, hook.name(), None, caller.0.id, state.clock.now())
        .await?;
    state.rules.reset(scope, hook);
    Ok(version)
}

async fn restore(
    state: &AppState,
    caller: &Caller,
    scope: ScriptScope,
    hook: Hook,
    id: i64,
) -> Result<ScriptVersion, ApiError> {
    let versions = state.store.script_versions(scope, hook.name()).await?;
    let version = versions
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| ApiError::not_found("version", id))?;
    match version.source {
        Some(source) => save(state, caller, scope, hook, &source).await,
        None => reset(state, caller, scope, hook).await,
    }
}

/// Every hook with the script it runs on every channel without one of its
/// own (admins; supervisors may read them).
#[utoipa::path(get, path = "/scripts", tag = "auto-actions",
    responses((status = 200, body = Vec<ScriptView>), (status = 403, body = ErrorBody)))]
async fn list_scripts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ScriptView>>, ApiError> {
    may_read(&state, &caller, ScriptScope::AllChannels).await?;
    Ok(Json(
        Hook::ALL
            .iter()
            .map(|h| view(&state, ScriptScope::AllChannels, *h))
            .collect(),
    ))
}

/// Compiles and saves the script for every channel without one of its own;
/// it runs from the next event on (admins only).
#[utoipa::path(put, path = "/scripts/{hook}", tag = "auto-actions", params(("hook" = String, Path)),
    request_body = NewScript,
    responses((status = 200, body = ScriptVersion), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(script): ApiJson<NewScript>,
) -> Result<Json<ScriptVersion>, ApiError> {
    let scope = ScriptScope::AllChannels;
    may_change(&state, &caller, scope, "saving scripts").await?;
    Ok(Json(
        save(&state, &caller, scope, hook(&name)?, &script.source).await?,
    ))
}

/// Puts every channel without a script of its own back on the built-in
/// default (admins only; recorded as a version).
#[utoipa::path(delete, path = "/scripts/{hook}", tag = "auto-actions", params(("hook" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reset_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let scope = ScriptScope::AllChannels;
    may_change(&state, &caller, scope, "resetting scripts").await?;
    reset(&state, &caller, scope, hook(&name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every saved version of the script for all channels, newest first
/// (admins; supervisors may read them).
#[utoipa::path(get, path = "/scripts/{hook}/versions", tag = "auto-actions", params(("hook" = String, Path)),
    responses((status = 200, body = Vec<ScriptVersion>), (status = 404, body = ErrorBody)))]
async fn script_versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<ScriptVersion>>, ApiError> {
    let scope = ScriptScope::AllChannels;
    may_read(&state, &caller, scope).await?;
    let hook = hook(&name)?;
    Ok(Json(state.store.script_versions(scope, hook.name()).await?))
}

/// Saves an earlier version of the script for all channels again, as the
/// newest (admins only).
#[utoipa::path(post, path = "/scripts/{hook}/versions/{id}/restore", tag = "auto-actions",
    params(("hook" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ScriptVersion), (status = 404, body = ErrorBody)))]
async fn restore_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<Json<ScriptVersion>, ApiError> {
    let scope = ScriptScope::AllChannels;
    may_change(&state, &caller, scope, "restoring scripts").await?;
    Ok(Json(
        restore(&state, &caller, scope, hook(&name)?, id).await?,
    ))
}

/// Every hook with the script it runs on this channel and where that comes
/// from (admins; the channel's supervisors may read them).
#[utoipa::path(get, path = "/channels/{id}/scripts", tag = "auto-actions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ScriptView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_channel_scripts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ScriptView>>, ApiError> {
    let scope = ScriptScope::Channel(id);
    may_read(&state, &caller, scope).await?;
    Ok(Json(
        Hook::ALL.iter().map(|h| view(&state, scope, *h)).collect(),
    ))
}

/// Compiles and saves this channel's own script for a hook; it runs for this
/// channel only, from the next event on (admins only).
#[utoipa::path(put, path = "/channels/{id}/scripts/{hook}", tag = "auto-actions",
    params(("id" = i64, Path), ("hook" = String, Path)), request_body = NewScript,
    responses((status = 200, body = ScriptVersion), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_channel_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, name)): ApiPath<(i64, String)>,
    ApiJson(script): ApiJson<NewScript>,
) -> Result<Json<ScriptVersion>, ApiError> {
    let scope = ScriptScope::Channel(id);
    may_change(&state, &caller, scope, "saving scripts").await?;
    Ok(Json(
        save(&state, &caller, scope, hook(&name)?, &script.source).await?,
    ))
}

/// Removes this channel's own script for a hook: it runs the script for all
/// channels again, or the built-in default (admins only; recorded as a version).
#[utoipa::path(delete, path = "/channels/{id}/scripts/{hook}", tag = "auto-actions",
    params(("id" = i64, Path), ("hook" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reset_channel_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, name)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = ScriptScope::Channel(id);
    may_change(&state, &caller, scope, "resetting scripts").await?;
    reset(&state, &caller, scope, hook(&name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every saved version of this channel's own script for a hook, newest
/// first (admins; the channel's supervisors may read them).
#[utoipa::path(get, path = "/channels/{id}/scripts/{hook}/versions", tag = "auto-actions",
    params(("id" = i64, Path), ("hook" = String, Path)),
    responses((status = 200, body = Vec<ScriptVersion>), (status = 404, body = ErrorBody)))]
async fn channel_script_versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, name)): ApiPath<(i64, String)>,
) -> Result<Json<Vec<ScriptVersion>>, ApiError> {
    let scope = ScriptScope::Channel(id);
    may_read(&state, &caller, scope).await?;
    let hook = hook(&name)?;
    Ok(Json(state.store.script_versions(scope, hook.name()).await?))
}

/// Saves an earlier version of this channel's script again, as the newest
/// (admins only).
#[utoipa::path(post, path = "/channels/{id}/scripts/{hook}/versions/{version}/restore", tag = "auto-actions",
    params(("id" = i64, Path), ("hook" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = ScriptVersion), (status = 404, body = ErrorBody)))]
async fn restore_channel_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, name, version)): ApiPath<(i64, String, i64)>,
) -> Result<Json<ScriptVersion>, ApiError> {
    let scope = ScriptScope::Channel(id);
    may_change(&state, &caller, scope, "restoring scripts").await?;
    Ok(Json(
        restore(&state, &caller, scope, hook(&name)?, version).await?,
    ))
}
