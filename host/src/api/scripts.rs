//! Auto-action scripts through the API (A1–A5, W2, Q1, Q2; O5, P4).
//!
//! A script is compiled before it is saved: a compile error answers 400 with
//! its line and column, and the running version stays. Every saved version is
//! kept and can be restored; every save is in the audit log.

use std::str::FromStr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use frontdesk_rules::Hook;
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
        .routes(routes!(check_script))
        .routes(routes!(test_script))
}

/// A hook and the script it runs now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptView {
    /// The hook's name, e.g. `first_message`.
    pub hook: String,
    /// The behaviour it implements, e.g. `A1`.
    pub spec_id: String,
    /// Whether an admin's script runs instead of the built-in default.
    pub custom: bool,
    pub source: String,
    /// The built-in default, which runs when no script is saved and which
    /// "reset" goes back to.
    pub default_source: String,
}

fn hook(name: &str) -> Result<Hook, ApiError> {
    Hook::from_str(name).map_err(|e| ApiError::not_found("hook", format!("{name:?} ({e})")))
}

fn view(state: &AppState, hook: Hook) -> ScriptView {
    ScriptView {
        hook: hook.name().into(),
        spec_id: hook.spec_id().into(),
        custom: state.rules.is_custom(hook),
        source: state.rules.source(hook),
        default_source: hook.default_source().into(),
    }
}

/// Every hook with the script it runs (admins; supervisors may read them).
#[utoipa::path(get, path = "/scripts", tag = "auto-actions",
    responses((status = 200, body = Vec<ScriptView>), (status = 403, body = ErrorBody)))]
async fn list_scripts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ScriptView>>, ApiError> {
    caller.require(&[Role::Admin, Role::Supervisor], "reading scripts")?;
    Ok(Json(Hook::ALL.iter().map(|h| view(&state, *h)).collect()))
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
        .save_script(hook.name(), Some(source), caller.0.id, state.clock.now())
        .await?;
    state.rules.install(hook, compiled);
    Ok(version)
}

/// Compiles and saves a hook's script; it runs from the next event on (admins only).
#[utoipa::path(put, path = "/scripts/{hook}", tag = "auto-actions", params(("hook" = String, Path)),
    request_body = NewScript,
    responses((status = 200, body = ScriptVersion), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(script): ApiJson<NewScript>,
) -> Result<Json<ScriptVersion>, ApiError> {
    caller.require(&[Role::Admin], "saving scripts")?;
    Ok(Json(
        save(&state, &caller, hook(&name)?, &script.source).await?,
    ))
}

/// Goes back to the built-in default (admins only; recorded as a version).
#[utoipa::path(delete, path = "/scripts/{hook}", tag = "auto-actions", params(("hook" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reset_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin], "resetting scripts")?;
    let hook = hook(&name)?;
    state
        .store
        .save_script(hook.name(), None, caller.0.id, state.clock.now())
        .await?;
    state.rules.reset(hook);
    Ok(StatusCode::NO_CONTENT)
}

/// Every saved version of a hook's script, newest first (admins; supervisors may read them).
#[utoipa::path(get, path = "/scripts/{hook}/versions", tag = "auto-actions", params(("hook" = String, Path)),
    responses((status = 200, body = Vec<ScriptVersion>), (status = 404, body = ErrorBody)))]
async fn script_versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<ScriptVersion>>, ApiError> {
    caller.require(&[Role::Admin, Role::Supervisor], "reading script versions")?;
    Ok(Json(
        state.store.script_versions(hook(&name)?.name()).await?,
    ))
}

/// Saves an earlier version again, as the newest (admins only).
#[utoipa::path(post, path = "/scripts/{hook}/versions/{id}/restore", tag = "auto-actions",
    params(("hook" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ScriptVersion), (status = 404, body = ErrorBody)))]
async fn restore_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<Json<ScriptVersion>, ApiError> {
    caller.require(&[Role::Admin], "restoring scripts")?;
    let hook = hook(&name)?;
    let versions = state.store.script_versions(hook.name()).await?;
    let version = versions
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| ApiError::not_found("version", id))?;
    match version.source {
        Some(source) => Ok(Json(save(&state, &caller, hook, &source).await?)),
        None => {
            let reset = state
                .store
                .save_script(hook.name(), None, caller.0.id, state.clock.now())
                .await?;
            state.rules.reset(hook);
            Ok(Json(reset))
        }
    }
}

/// A script to check before saving.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckScript {
    pub source: String,
}

/// Where a script does not compile; `line` and `column` are 1-based (0 when
/// the compiler gives no position).
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct ScriptProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The result of a check: no errors means the script would save.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    pub errors: Vec<ScriptProblem>,
}

/// Compiles a script in the server's sandbox without saving it, as
/// `frontdesk rules check` does (admins only).
#[utoipa::path(post, path = "/scripts/check", tag = "auto-actions", request_body = CheckScript,
    responses((status = 200, body = CheckResult), (status = 403, body = ErrorBody)))]
async fn check_script(
    caller: Caller,
    ApiJson(script): ApiJson<CheckScript>,
) -> Result<Json<CheckResult>, ApiError> {
    caller.require(&[Role::Admin], "checking scripts")?;
    let errors = match frontdesk_rules::check(&script.source) {
        Ok(()) => Vec::new(),
        Err(e) => vec![ScriptProblem {
            line: e.line,
            column: e.column,
            message: e.message,
        }],
    };
    Ok(Json(CheckResult { errors }))
}

/// A script to try against an example event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestScript {
    /// The hook to run it as, e.g. `no_answer`.
    pub hook: String,
    pub source: String,
    /// The example event (see host/rules/examples/*.json): `now`, `session`,
    /// `channel`, and for some hooks `contact`, `message` or `rating`.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// The actions a script would take.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// Each action as `frontdesk rules test` prints it, e.g. `{"reply": "..."}`.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<frontdesk_rules::Action>,
}

/// Runs a script against an example event and answers the actions it would
/// take, checked as the engine checks them; nothing is sent or saved, as
/// with `frontdesk rules test` (admins only).
#[utoipa::path(post, path = "/scripts/test", tag = "auto-actions", request_body = TestScript,
    responses((status = 200, body = TestResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn test_script(
    caller: Caller,
    ApiJson(body): ApiJson<TestScript>,
) -> Result<Json<TestResult>, ApiError> {
    caller.require(&[Role::Admin], "testing scripts")?;
    let hook = hook(&body.hook)?;
    let event =
        serde_json::to_string(&body.event).map_err(|e| ApiError::Internal(e.to_string()))?;
    let actions = frontdesk_rules::test(&body.source, Some(hook), &event).map_err(|e| {
        use frontdesk_rules::TestError;
        let message = match e {
            TestError::Compile(c) => format!("source: {c}"),
            TestError::Event(why) => format!("event is not valid: {why}"),
            TestError::NoHook => "hook: name the hook to run".into(),
            TestError::Run(run) => format!("source: {run}"),
        };
        ApiError::BadRequest {
            code: "script_error",
            message,
        }
    })?;
    Ok(Json(TestResult { actions }))
}
