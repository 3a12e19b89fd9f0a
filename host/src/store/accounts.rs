//! What signing in needs from the store (P5, P6): password hashes, the
//! failed-attempt counter, browser sessions and one-time setup links.
//!
//! Every secret arrives here already hashed; the store never sees a password,
//! a session cookie or a link token in the clear (P2).

use async_trait::async_trait;

use super::{Millis, Result, User};

/// A user as the sign-in form needs them: the password hash and the lockout.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInRecord {
    #[sqlx(flatten)]
    pub user: User,
    /// An argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    /// Wrong passwords since the last successful sign-in.
    pub failed_sign_ins: i64,
    /// Sign-in is refused until then (after too many wrong passwords).
    pub locked_until: Option<Millis>,
    /// Whether sign-in also asks for a code from an authenticator app.
    pub totp_enabled: bool,
}

/// A browser session that has not expired, with the user it signs in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebSession {
    #[sqlx(flatten)]
    pub user: User,
    /// What the page must echo in `X-CSRF-Token` on every change it asks for.
    pub csrf_token: String,
    pub expires_at: Millis,
}

/// A browser session to store; `token_hash` is the hash of the cookie.
#[derive(Debug, Clone)]
pub struct NewWebSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub now: Millis,
    pub expires_at: Millis,
}

/// Who a one-time setup link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFor {
    /// Creates the first admin (P6); refused once any admin exists.
    FirstAdmin,
    /// Sets this user's password.
    User(i64),
}

/// Using a setup link: the password it sets, and for the first admin the
/// name and the (never shown) API token hash the new row needs.
#[derive(Debug, Clone)]
pub struct LinkUse<'a> {
    pub link_hash: &'a str,
    pub password_hash: &'a str,
    pub now: Millis,
    /// For [`LinkFor::FirstAdmin`]: the new admin's name and token hash.
    pub new_admin: Option<(&'a str, &'a str)>,
}

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// The user with this name and their password state, disabled or not.
    async fn sign_in_record(&self, name: &str) -> Result<Option<SignInRecord>>;
    /// Sets a password, clears the lockout and ends the user's browser sessions.
    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()>;
    /// Counts one more wrong password; returns the count so far.
    async fn sign_in_failed(&self, user_id: i64) -> Result<i64>;
    /// Refuses sign-in for this user until `until`.
    async fn lock_sign_in(&self, user_id: i64, until: Millis) -> Result<()>;
    /// A right password: the counter and the lock start again.
    async fn sign_in_succeeded(&self, user_id: i64) -> Result<()>;

    async fn create_web_session(&self, session: &NewWebSession<'_>) -> Result<()>;
    /// The unexpired session behind a cookie's hash, with its user.
    async fn web_session(&self, token_hash: &str, now: Millis) -> Result<Option<WebSession>>;
    async fn end_web_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every browser session of a user (disabled, new password); returns how many.
    async fn end_web_sessions_of(&self, user_id: i64) -> Result<u64>;

    /// Whether an enabled admin exists (P6: no setup link once one does).
    async fn has_admin(&self) -> Result<bool>;
    async fn create_setup_link(
        &self,
        token_hash: &str,
        link_for: LinkFor,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()>;
    /// Who an unused, unexpired link is for.
    async fn setup_link(&self, token_hash: &str, now: Millis) -> Result<Option<LinkFor>>;
    /// Uses a link once, in one transaction: marks it used and sets the
    /// password, creating the first admin when the link is for one.
    /// `NotFound` for a used, expired or unknown link; `Conflict` for a
    /// first-admin link once an admin exists or when the name is taken.
    async fn use_setup_link(&self, link: &LinkUse<'_>) -> Result<User>;
}
