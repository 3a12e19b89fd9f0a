//! Users (P1, R13, I1): creating and finding them, their status flags and
//! profile, and the digest live sockets watch for access changes.

use async_trait::async_trait;

use super::{Millis, Result, Role, User, UserStatusPatch};

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates a user and their first API token, given as its hash and
    /// named [`FIRST_TOKEN_NAME`](super::FIRST_TOKEN_NAME) (P2).
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Millis,
    ) -> Result<User>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    /// A digest of who may see what: users' roles and flags, their live tokens,
    /// queue members and supervisors. It changes whenever access does, so
    /// the live sockets can re-check themselves (P1).
    async fn access_fingerprint(&self) -> Result<u64>;
    /// Finds an enabled-or-not user by token hash; the caller checks `disabled`.
    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>>;
    async fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    /// Sets status flags and writes the change to the audit log (P4).
    async fn update_user_status(
        &self,
        actor: Option<i64>,
        id: i64,
        patch: &UserStatusPatch,
        now: Millis,
    ) -> Result<User>;
    /// I1: sets the name and avatar customers may see; `None` clears one.
    async fn set_profile(
        &self,
        id: i64,
        display_name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<User>;
}
