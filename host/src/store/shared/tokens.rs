//! [`TokenStore`]: API tokens and the TOTP second factor (P2, P5).

use async_trait::async_trait;

use super::Backend;
use crate::store::{ApiToken, Millis, Result, StoreError, TokenOwner, TokenStore, TotpState};

/// `last_used_at` is written at most this often per token: one write a
/// minute instead of one per request.
const USE_NOTED_EVERY_MS: Millis = 60_000;

#[async_trait]
impl TokenStore for Backend {
    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        now: Millis,
    ) -> Result<ApiToken> {
        sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4) \
             RETURNING id, user_id, name, created_at, last_used_at, revoked_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| crate::store::conflict(e, || format!("user {user_id}")))
    }

    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?)
    }

    async fn revoke_api_token(&self, user_id: i64, token_id: i64, now: Millis) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE id = $1 AND user_id = $2",
        )
        .bind(token_id)
        .bind(user_id)
        .bind(now)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }

    async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        Ok(sqlx::query_as(
            "SELECT u.*, t.id AS token_id, t.last_used_at AS token_last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?)
    }

    async fn token_used(&self, token_id: i64, now: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(token_id)
        .bind(now)
        .bind(now - USE_NOTED_EVERY_MS)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn totp_state(&self, user_id: i64) -> Result<TotpState> {
        sqlx::query_as("SELECT totp_secret, totp_enabled, totp_last_step FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn begin_totp(&self, user_id: i64, secret: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE users SET totp_secret = $2, totp_last_step = NULL \
             WHERE id = $1 AND totp_enabled = $3",
        )
        .bind(user_id)
        .bind(secret)
        .bind(false)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("two-factor sign-in".into()));
        }
        Ok(())
    }

    async fn enable_totp(&self, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE users SET totp_enabled = $2, totp_last_step = $3 WHERE id = $1")
            .bind(user_id)
            .bind(true)
            .bind(step)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn disable_totp(&self, user_id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_enabled = $2, totp_secret = NULL, totp_last_step = NULL \
             WHERE id = $1",
        )
        .bind(user_id)
        .bind(false)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(code_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.read)
        .await?)
    }
}
