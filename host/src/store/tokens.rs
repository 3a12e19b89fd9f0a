//! What API tokens (P2) and the second factor (P5) need from the store:
//! several named, revocable tokens per user, the TOTP secret and the
//! one-time recovery codes.
//!
//! As in `accounts`, every token and recovery code arrives already hashed.

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Millis, Result, User};

/// The name of the token every user is created with (and every token that
/// existed before tokens had names).
pub const FIRST_TOKEN_NAME: &str = "created with the user";

/// An API token as its owner and admins see it: never the token itself.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    /// What the owner called it ("CRM sync"), so they know which to revoke.
    pub name: String,
    pub created_at: Millis,
    /// Updated at most once a minute, so this is "about when".
    pub last_used_at: Option<Millis>,
    /// Set once revoked; a revoked token is refused and stays listed.
    pub revoked_at: Option<Millis>,
}

/// The user behind a token that is not revoked, with what the "last used"
/// bookkeeping needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenOwner {
    #[sqlx(flatten)]
    pub user: User,
    pub token_id: i64,
    pub token_last_used_at: Option<Millis>,
}

/// A user's second-factor state.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TotpState {
    /// Base32; set from enrolment on, cleared when turned off.
    pub totp_secret: Option<String>,
    /// Whether sign-in asks for a code.
    pub totp_enabled: bool,
    /// The last time step a code was accepted for.
    pub totp_last_step: Option<i64>,
}

#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a new token for `user_id` under `name`.
    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: Millis,
    ) -> Result<ApiToken>;
    /// A user's tokens, revoked ones too, newest first.
    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    /// Revokes one of `user_id`'s tokens (again is fine); `NotFound` when
    /// the user has no such token.
    async fn revoke_api_token(&self, user_id: i64, token_id: i64, now: Millis) -> Result<()>;
    /// The owner of an unrevoked token, disabled or not.
    async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>>;
    /// Notes a token's use, unless one was noted in the minute before `now`.
    async fn token_used(&self, token_id: i64, now: Millis) -> Result<()>;

    async fn totp_state(&self, user_id: i64) -> Result<TotpState>;
    /// Starts enrolment: stores a new secret, not yet asked for at sign-in.
    async fn begin_totp(&self, user_id: i64, secret: &str) -> Result<()>;
    /// Turns the second factor on with the step of the code that proved
    /// it, replacing the recovery codes with these hashes.
    async fn enable_totp(&self, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()>;
    /// Turns it off: the secret and the recovery codes go.
    async fn disable_totp(&self, user_id: i64) -> Result<()>;
    /// Accepts a code's time step once: false when it or a later one was
    /// accepted before (a replayed code).
    async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool>;
    /// Uses an unused recovery code; false when there is none with that hash.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now: Millis) -> Result<bool>;
    /// How many recovery codes are left unused.
    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64>;
}
