//! Two-factor sign-in (P5): each person may turn on time-based codes from
//! an authenticator app (RFC 6238). Enrolment gives a secret to type into
//! the app and is confirmed with a code from it; only then does sign-in ask
//! for codes, and ten one-time recovery codes are shown, once. Turning it
//! off takes a current code or the password; an admin can turn it off for
//! someone who lost their phone and their recovery codes (audited).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::auth::totp;
use crate::store::{Millis, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(totp_status, enrol, disable))
        .routes(routes!(confirm))
        .routes(routes!(disable_for_user))
}

/// Whether the caller's sign-in asks for a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpStatus {
    pub enabled: bool,
    /// Enrolment started and not confirmed yet.
    pub pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

#[utoipa::path(get, path = "/me/totp", tag = "sign-in",
    responses((status = 200, body = TotpStatus)))]
async fn totp_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TotpStatus>, ApiError> {
    let id = caller.0.id;
    let now = state.store.totp_state(id).await?;
    Ok(Json(TotpStatus {
        enabled: now.totp_enabled,
        pending: !now.totp_enabled && now.totp_secret.is_some(),
        recovery_codes_left: state.store.recovery_codes_left(id).await?,
    }))
}

/// The secret to put into an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32, as apps ask for it when typed by hand.
    pub secret: String,
    /// The same as an `otpauth://` URI (what a QR code would hold).
    pub uri: String,
}

/// Starts turning two-factor sign-in on: a new secret, not asked for at
/// sign-in until confirmed with a code.
#[utoipa::path(post, path = "/me/totp", tag = "sign-in",
    responses((status = 201, body = TotpEnrolment), (status = 409, body = ErrorBody)))]
async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<TotpEnrolment>), ApiError> {
    let secret = totp::new_secret();
    let uri = totp::uri(&secret, &caller.0.name)
        .ok_or_else(|| ApiError::Internal("no otpauth URI for a new secret".into()))?;
    state
        .store
        .begin_totp(caller.0.id, &secret)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => already_on(),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(TotpEnrolment { secret, uri })))
}

/// A code from the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    pub code: String,
}

/// The recovery codes, each usable once in place of a code; shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Confirms enrolment with a code from the app: sign-in asks for codes from now on.
#[utoipa::path(post, path = "/me/totp/confirm", tag = "sign-in", request_body = TotpCode,
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(given): ApiJson<TotpCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let id = caller.0.id;
    let current = state.store.totp_state(id).await?;
    if current.totp_enabled {
        return Err(already_on());
    }
    let secret = current.totp_secret.ok_or_else(|| {
        ApiError::Conflict(
            "start turning two-factor sign-in on first (POST /api/v1/me/totp)".into(),
        )
    })?;
    let step = totp::check(&secret, &given.code, state.clock.now()).ok_or_else(|| {
        ApiError::invalid(
            "code: that is not the code the app shows now; check that the secret was typed in full and the phone's time is right",
        )
    })?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    state.store.enable_totp(id, step, &hashes).await?;
    tracing::info!(user = %caller.0.name, "two-factor sign-in turned on");
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Proof for turning the second factor off: a current code or the password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpOff {
    pub code: Option<String>,
    pub password: Option<String>,
}

/// Turns two-factor sign-in off, with a current code or the password.
#[utoipa::path(delete, path = "/me/totp", tag = "sign-in", request_body = TotpOff,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(proof): ApiJson<TotpOff>,
) -> Result<StatusCode, ApiError> {
    let id = caller.0.id;
    let now = state.clock.now();
    let proved = match (proof.code.as_deref(), proof.password) {
        (Some(code), _) if !code.trim().is_empty() => matches!(
            second_factor(&state, id, Some(code), None, now).await?,
            Second::Passed
        )
        .then_some(())
        .ok_or_else(|| {
            ApiError::Forbidden(
                "code: that is not the code your app shows now (or it was used already)".into(),
            )
        }),
        (_, Some(given)) => {
            let record = state
                .store
                .sign_in_record(&caller.0.name)
                .await?
                .ok_or_else(|| ApiError::not_found("user", id))?;
            let right = super::passwords::checked(&given, record.password_hash).await?;
            right.then_some(()).ok_or_else(|| {
                ApiError::Forbidden("password: that is not your current password".into())
            })
        }
        _ => Err(ApiError::invalid(
            "code: give a code from your authenticator app, or your password",
        )),
    };
    proved?;
    state.store.disable_totp(id).await?;
    tracing::info!(user = %caller.0.name, "two-factor sign-in turned off");
    Ok(StatusCode::NO_CONTENT)
}

/// Turns someone's two-factor sign-in off (admins only, audited): for a
/// person who lost both their phone and their recovery codes.
#[utoipa::path(delete, path = "/users/{id}/totp", tag = "sign-in", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn disable_for_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin], "turning off someone's two-factor sign-in")?;
    if state.store.user(id).await?.is_none() {
        return Err(ApiError::not_found("user", id));
    }
    state.store.disable_totp(id).await?;
    let target = format!("user:{id}");
    state
        .store
        .record_audit(
            caller.0.id,
            "user.totp_off",
            &target,
            &serde_json::json!({}),
            state.clock.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How a sign-in's second factor went.
pub(super) enum Second {
    Passed,
    /// Neither a code nor a recovery code was given.
    Missing,
    /// Wrong, replayed or already-used: counts as a wrong password does.
    Wrong,
}

/// Checks a code (each time step accepted once) or a recovery code (each
/// accepted once) for a user whose second factor is on.
pub(super) async fn second_factor(
    state: &AppState,
    user_id: i64,
    code: Option<&str>,
    recovery_code: Option<&str>,
    now: Millis,
) -> Result<Second, ApiError> {
    if let Some(code) = given(code) {
        let current = state.store.totp_state(user_id).await?;
        let Some(secret) = current.totp_secret.filter(|_| current.totp_enabled) else {
            return Ok(Second::Wrong);
        };
        return Ok(match totp::check(&secret, code, now) {
            Some(step) if state.store.use_totp_step(user_id, step).await? => Second::Passed,
            _ => Second::Wrong,
        });
    }
    if let Some(recovery) = given(recovery_code) {
        let hash = totp::recovery_hash(recovery);
        return Ok(
            if state.store.use_recovery_code(user_id, &hash, now).await? {
                tracing::info!(user_id, "signed in with a recovery code");
                Second::Passed
            } else {
                Second::Wrong
            },
        );
    }
    Ok(Second::Missing)
}

/// A field that was sent and is not blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn already_on() -> ApiError {
    ApiError::Conflict(
        "two-factor sign-in is on already; turn it off first to set up a new authenticator app"
            .into(),
    )
}
