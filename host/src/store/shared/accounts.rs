//! [`AccountStore`]: passwords, the lockout, browser sessions and setup
//! links (P5, P6).

use async_trait::async_trait;

use super::Backend;
use crate::store::{
    AccountStore, LinkFor, LinkUse, Millis, NewWebSession, Result, Role, SignInRecord, StoreError,
    User, WebSession,
};

#[async_trait]
impl AccountStore for Backend {
    async fn sign_in_record(&self, name: &str) -> Result<Option<SignInRecord>> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.write)
            .await?)
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL \
             WHERE id = $2",
        )
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sign_in_failed(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 \
             RETURNING failed_sign_ins",
        )
        .bind(user_id)
        .fetch_one(&self.write)
        .await?)
    }

    async fn lock_sign_in(&self, user_id: i64, until: Millis) -> Result<()> {
        sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(until)
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn sign_in_succeeded(&self, user_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_sign_ins = 0, locked_until = NULL \
             WHERE id = $1 AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)",
        )
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn create_web_session(&self, session: &NewWebSession<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.token_hash)
        .bind(session.user_id)
        .bind(session.csrf_token)
        .bind(session.now)
        .bind(session.expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn web_session(&self, token_hash: &str, now: Millis) -> Result<Option<WebSession>> {
        Ok(sqlx::query_as(
            "SELECT u.*, w.csrf_token, w.expires_at FROM web_sessions w \
             JOIN users u ON u.id = w.user_id \
             WHERE w.token_hash = $1 AND w.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    async fn end_web_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn end_web_sessions_of(&self, user_id: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    async fn has_admin(&self) -> Result<bool> {
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = $2")
                .bind(Role::Admin.as_str())
                .bind(false)
                .fetch_one(&self.read)
                .await?;
        Ok(admins > 0)
    }

    async fn create_setup_link(
        &self,
        token_hash: &str,
        link_for: LinkFor,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()> {
        let user_id = match link_for {
            LinkFor::FirstAdmin => None,
            LinkFor::User(id) => Some(id),
        };
        sqlx::query(
            "INSERT INTO setup_links (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.write)
        .await
        .map_err(|e| crate::store::conflict(e, || format!("user {user_id:?}")))?;
        Ok(())
    }

    async fn setup_link(&self, token_hash: &str, now: Millis) -> Result<Option<LinkFor>> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT user_id FROM setup_links \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(user,)| user.map_or(LinkFor::FirstAdmin, LinkFor::User)))
    }

    async fn use_setup_link(&self, link: &LinkUse<'_>) -> Result<User> {
        let mut tx = self.write.begin().await?;
        let claimed: Option<(Option<i64>,)> = sqlx::query_as(
            "UPDATE setup_links SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
        )
        .bind(link.now)
        .bind(link.link_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = claimed else {
            return Err(StoreError::NotFound("setup link"));
        };
        let user: User = match (user_id, link.new_admin) {
            (Some(id), _) => {
                sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_as(
                    "UPDATE users SET password_hash = $1, failed_sign_ins = 0, \
                     locked_until = NULL WHERE id = $2 RETURNING *",
                )
                .bind(link.password_hash)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound("user"))?
            }
            (None, Some((name, token_hash))) => {
                let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1")
                    .bind(Role::Admin.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if admins > 0 {
                    return Err(StoreError::Conflict("an admin already exists".into()));
                }
                sqlx::query_as(
                    "INSERT INTO users (name, role, token_hash, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING *",
                )
                .bind(name)
                .bind(Role::Admin.as_str())
                .bind(token_hash)
                .bind(link.password_hash)
                .bind(link.now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| crate::store::conflict(e, || format!("a user named {name:?}")))?
            }
            (None, None) => {
                return Err(StoreError::Invalid(
                    "this link creates the first admin: give a name".into(),
                ));
            }
        };
        tx.commit().await?;
        Ok(user)
    }
}
