//! Checking and trying a script before it is saved (U2, X1): the same as
//! `frontdesk rules check` and `frontdesk rules test`, with nothing stored.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::hook;
use crate::api::{ApiError, ApiJson, AppState, Caller, ErrorBody};
use crate::store::Role;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_script))
        .routes(routes!(test_script))
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
