//! Sign-in for people (P5, P6): name and password to a browser session, the
//! first-run setup link, and passwords set by their owner or by an admin.
//!
//! A wrong password and an unknown name get the same answer after the same
//! work (an argon2 check either way). Five wrong passwords in a row lock the
//! name for 30 s, doubling with each further one up to 15 minutes; the
//! locked-out person is told when to try again (429 with `Retry-After`).
//! Wrong passwords and unknown names also count against the address's
//! sign-in failures (L1), so guessing across many names is slowed too.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::passwords::{check_name, checked, hashed};
use super::totp::{Second, second_factor};
use super::{ApiError, ApiJson, ApiPath, AppState, Caller, ErrorBody};
use crate::auth::web::{SESSION_COOKIE, SESSION_TTL_MS, cookie_value};
use crate::auth::{new_secret, new_token, password, token_hash, web};
use crate::engine::Event;
use crate::limits::ClientIp;
use crate::store::{LinkFor, LinkUse, NewWebSession, Role, StoreError, User};

/// How long a setup link an admin makes for a user stays usable.
const USER_LINK_TTL_MS: i64 = 7 * 24 * 3_600_000;
/// The first-run link works until used; a year stands in for "no end".
const FIRST_RUN_LINK_TTL_MS: i64 = 365 * 24 * 3_600_000;

/// P6: while no admin exists, a one-time link where the first one sets their
/// name and password; `serve` logs it at every start until an admin exists.
pub async fn first_run_link(state: &AppState) -> Result<Option<String>, ApiError> {
    if state.store.has_admin().await? {
        return Ok(None);
    }
    let expires_at = state.clock.now() + FIRST_RUN_LINK_TTL_MS;
    Ok(Some(
        new_link(state, LinkFor::FirstAdmin, expires_at).await?.url,
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(inspect_setup_link))
        .routes(routes!(use_setup_link))
        .routes(routes!(change_password))
        .routes(routes!(set_user_password))
        .routes(routes!(create_user_link))
}

/// A person's name and password, and when their two-factor sign-in is on
/// a code from their authenticator app or one of their recovery codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInForm {
    pub name: String,
    pub password: String,
    /// The 6-digit code the authenticator app shows now.
    pub code: Option<String>,
    /// A recovery code instead of `code`; each works once.
    pub recovery_code: Option<String>,
}

/// Who is signed in, and the token the page sends back as `X-CSRF-Token`
/// (also in the readable `frontdesk_csrf` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub user: User,
    pub csrf_token: String,
}

/// Signs a person in: sets the `frontdesk_session` cookie (`HttpOnly`,
/// `SameSite=Strict`, 12 hours) and the readable `frontdesk_csrf` cookie.
/// With two-factor sign-in on, a right password without a code answers
/// 401 `totp_required`; a wrong code is 401 `totp_invalid` and counts
/// toward the lockout as a wrong password does.
#[utoipa::path(post, path = "/sign-in", tag = "sign-in", request_body = SignInForm,
    responses((status = 200, body = SignedIn), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn sign_in(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(form): ApiJson<SignInForm>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let name = form.name.trim().to_string();
    let refused = || {
        ApiError::Unauthorized(
            "that name and password do not match; check both and try again".into(),
        )
    };
    let Some(record) = state.store.sign_in_record(&name).await? else {
        checked(&form.password, None).await?;
        tracing::info!(%name, "sign-in refused: no user by that name");
        // Guessing across names is limited per address (L1).
        state.limits.auth_failed(ip)?;
        return Err(refused());
    };
    let user_id = record.user.id;
    if let Some(until) = record.locked_until.filter(|until| *until > now) {
        return Err(locked(&name, until - now));
    }
    if !checked(&form.password, record.password_hash).await? {
        tracing::warn!(%name, "sign-in refused: wrong password");
        return Err(failed(&state, ip, &name, user_id, now, refused()).await?);
    }
    if record.user.disabled {
        return Err(ApiError::Unauthorized(format!(
            "user {name} is disabled; ask an admin"
        )));
    }
    if record.totp_enabled {
        let code = form.code.as_deref();
        match second_factor(&state, user_id, code, form.recovery_code.as_deref(), now).await? {
            Second::Passed => {}
            Second::Missing => {
                return Err(ApiError::SecondFactor {
                    code: "totp_required",
                    message: "two-factor sign-in is on for this account: also give the code \
                              from your authenticator app, or one of your recovery codes"
                        .into(),
                });
            }
            Second::Wrong => {
                tracing::warn!(%name, "sign-in refused: wrong second-factor code");
                let wrong = ApiError::SecondFactor {
                    code: "totp_invalid",
                    message: "that code is not right (or was used already); type the code \
                              your app shows now, or use a recovery code"
                        .into(),
                };
                return Err(failed(&state, ip, &name, user_id, now, wrong).await?);
            }
        }
    }
    state.store.sign_in_succeeded(user_id).await?;
    tracing::info!(%name, "signed in");
    start_session(&state, record.user, StatusCode::OK).await
}

/// A wrong password or second-factor code: counted toward the name's
/// lockout and the address's failures (L1). The error to answer with is
/// `refusal`, or the lockout once it starts.
async fn failed(
    state: &AppState,
    ip: ClientIp,
    name: &str,
    user_id: i64,
    now: i64,
    refusal: ApiError,
) -> Result<ApiError, ApiError> {
    let failures = state.store.sign_in_failed(user_id).await?;
    tracing::info!(%name, failures, "wrong sign-ins in a row");
    state.limits.auth_failed(ip)?;
    if let Some(until) = password::locked_until(failures, now) {
        state.store.lock_sign_in(user_id, until).await?;
        return Ok(locked(name, until - now));
    }
    Ok(refusal)
}

/// Ends this browser's session on the server and clears its cookies.
#[utoipa::path(post, path = "/sign-out", tag = "sign-in",
    responses((status = 204, description = "signed out (also when nobody was signed in)")))]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(cookie) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.end_web_session(&token_hash(&cookie)).await?;
        state.engine.live().access().changed();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in web::sign_out_cookies(secure(&state)) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A setup link's token (the part after `#setup=` in its URL).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    pub token: String,
}

/// What a setup link is for: the first admin, or an existing user's password.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkInfo {
    /// True when the link creates the first admin (the form asks for a name).
    pub first_admin: bool,
    /// The user whose password the link sets.
    pub name: Option<String>,
}

/// Says what an unused setup link is for, so the page shows the right form.
#[utoipa::path(post, path = "/setup/inspect", tag = "sign-in", request_body = LinkToken,
    responses((status = 200, body = LinkInfo), (status = 400, body = ErrorBody)))]
async fn inspect_setup_link(
    State(state): State<AppState>,
    ApiJson(link): ApiJson<LinkToken>,
) -> Result<Json<LinkInfo>, ApiError> {
    let now = state.clock.now();
    let info = match state
        .store
        .setup_link(&token_hash(&link.token), now)
        .await?
    {
        Some(LinkFor::FirstAdmin) => LinkInfo {
            first_admin: true,
            name: None,
        },
        Some(LinkFor::User(id)) => LinkInfo {
            first_admin: false,
            name: state.store.user(id).await?.map(|u| u.name),
        },
        None => return Err(link_gone()),
    };
    Ok(Json(info))
}

/// Using a setup link: the password, and for the first admin their name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkForm {
    pub token: String,
    /// Required for the first admin's link; ignored for a user's link.
    pub name: Option<String>,
    pub password: String,
}

/// Uses a setup link once: sets the password (creating the first admin when
/// the link is for one) and signs the browser in.
#[utoipa::path(post, path = "/setup", tag = "sign-in", request_body = LinkForm,
    responses((status = 201, body = SignedIn), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn use_setup_link(
    State(state): State<AppState>,
    ApiJson(form): ApiJson<LinkForm>,
) -> Result<Response, ApiError> {
    password::check_rules(&form.password).map_err(field("password"))?;
    let name = form.name.as_deref().map(str::trim);
    if let Some(name) = name {
        check_name(name)?;
    }
    let hash = hashed(form.password).await?;
    let admin_token = token_hash(&new_token());
    let link = LinkUse {
        link_hash: &token_hash(&form.token),
        password_hash: &hash,
        now: state.clock.now(),
        new_admin: name.map(|name| (name, admin_token.as_str())),
    };
    let user = state
        .store
        .use_setup_link(&link)
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => link_gone(),
            StoreError::Conflict(what) if what.contains("admin") => ApiError::Conflict(
                "an admin exists already, so this first-run link no longer works; sign in instead"
                    .into(),
            ),
            StoreError::Invalid(why) => ApiError::BadRequest {
                code: "invalid_input",
                message: format!("name: {why}"),
            },
            other => other.into(),
        })?;
    if link.new_admin.is_some() && user.role == Role::Admin {
        tracing::info!(name = %user.name, "first admin created through the setup link");
        state.engine.send(Event::AgentChanged(user.clone())).await?;
    }
    state.engine.live().access().changed();
    start_session(&state, user, StatusCode::CREATED).await
}

/// A new password for oneself, with the current one to prove it is you.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password; every browser session of theirs ends
/// and this one starts again with new cookies.
#[utoipa::path(put, path = "/me/password", tag = "sign-in", request_body = PasswordChange,
    responses((status = 200, body = SignedIn), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<Response, ApiError> {
    password::check_rules(&change.new_password).map_err(field("new_password"))?;
    let record = state
        .store
        .sign_in_record(&caller.0.name)
        .await?
        .ok_or_else(|| ApiError::not_found("user", caller.0.id))?;
    if !checked(&change.current_password, record.password_hash).await? {
        return Err(ApiError::Forbidden(
            "current_password: that is not your current password".into(),
        ));
    }
    let hash = hashed(change.new_password).await?;
    state.store.set_password(caller.0.id, &hash).await?;
    state.engine.live().access().changed();
    start_session(&state, caller.0, StatusCode::OK).await
}

/// A password an admin sets for someone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

/// Sets a user's password (admins only, audited); their browser sessions end.
#[utoipa::path(put, path = "/users/{id}/password", tag = "sign-in", request_body = NewPassword,
    params(("id" = i64, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_user_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin], "setting someone's password")?;
    password::check_rules(&new.password).map_err(field("password"))?;
    let hash = hashed(new.password).await?;
    state
        .store
        .set_password(id, &hash)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ApiError::not_found("user", id),
            other => other.into(),
        })?;
    let now = state.clock.now();
    let target = format!("user:{id}");
    state
        .store
        .record_audit(
            caller.0.id,
            "user.password",
            &target,
            &serde_json::json!({}),
            now,
        )
        .await?;
    state.engine.live().access().changed();
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time link for a user to set their own password.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupLink {
    /// Open it in a browser; it works once, until `expires_at`.
    pub url: String,
    pub expires_at: i64,
}

/// Makes a one-time link that lets a user set their password (admins only,
/// audited); valid for 7 days or until used.
#[utoipa::path(post, path = "/users/{id}/setup-link", tag = "sign-in",
    params(("id" = i64, Path)),
    responses((status = 201, body = SetupLink), (status = 404, body = ErrorBody)))]
async fn create_user_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<SetupLink>), ApiError> {
    caller.require(&[Role::Admin], "making a password link")?;
    if state.store.user(id).await?.is_none() {
        return Err(ApiError::not_found("user", id));
    }
    let now = state.clock.now();
    let link = new_link(&state, LinkFor::User(id), now + USER_LINK_TTL_MS).await?;
    let target = format!("user:{id}");
    state
        .store
        .record_audit(
            caller.0.id,
            "user.setup_link",
            &target,
            &serde_json::json!({}),
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// Stores a new one-time link and returns its URL (the token is in the
/// fragment, which browsers never send to a server or a proxy's log).
pub async fn new_link(
    state: &AppState,
    link_for: LinkFor,
    expires_at: i64,
) -> Result<SetupLink, ApiError> {
    let token = new_token();
    let now = state.clock.now();
    state
        .store
        .create_setup_link(&token_hash(&token), link_for, now, expires_at)
        .await?;
    Ok(SetupLink {
        url: format!("{}/console/#setup={token}", state.public_url),
        expires_at,
    })
}

/// Creates the browser session and answers with its cookies.
async fn start_session(
    state: &AppState,
    user: User,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (cookie, csrf) = (new_token(), new_secret());
    let now = state.clock.now();
    state
        .store
        .create_web_session(&NewWebSession {
            token_hash: &token_hash(&cookie),
            user_id: user.id,
            csrf_token: &csrf,
            now,
            expires_at: now + SESSION_TTL_MS,
        })
        .await?;
    let mut response = (
        status,
        Json(SignedIn {
            user,
            csrf_token: csrf.clone(),
        }),
    )
        .into_response();
    for value in web::sign_in_cookies(&cookie, &csrf, secure(state)) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// Cookies are marked `Secure` when the server is reached over HTTPS.
fn secure(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

fn locked(name: &str, remaining_ms: i64) -> ApiError {
    let secs = u64::try_from((remaining_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1);
    ApiError::TooManyRequests {
        message: format!(
            "too many wrong passwords for {name}; try again in {secs} s, or ask an admin for a new password"
        ),
        retry_after_secs: secs,
    }
}

fn link_gone() -> ApiError {
    ApiError::BadRequest {
        code: "setup_link_invalid",
        message: "this setup link was used already or has expired; ask an admin for a new one"
            .into(),
    }
}

fn field(name: &'static str) -> impl Fn(String) -> ApiError {
    move |why| ApiError::invalid(format!("{name}: {why}"))
}
