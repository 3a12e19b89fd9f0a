//! [`UserStore`]: users, their status and profile, and who a token names.

use super::*;

#[async_trait::async_trait]
impl crate::store::UserStore for Backend {
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Millis,
    ) -> Result<User> {
        let mut tx = self.write.begin().await?;
        // users.token_hash is no longer read (tokens live in
        // api_tokens) but is NOT NULL UNIQUE: a unique stand-in.
        let unused = format!("unused:{}", crate::auth::new_secret());
        let user = sqlx::query_as::<_, User>(
            "INSERT INTO users (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&unused)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("a user named {name:?}")))?;
        sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.id)
        .bind(FIRST_TOKEN_NAME)
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || "that API token".to_string()))?;
        tx.commit().await?;
        Ok(user)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT * FROM users ORDER BY id")
            .fetch_all(&self.read)
            .await?)
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        Ok(
            sqlx::query_as::<_, User>("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn access_fingerprint(&self) -> Result<u64> {
        use std::hash::{Hash, Hasher};
        // Only compared within this process, so the std hasher is enough.
        let mut digest = std::collections::hash_map::DefaultHasher::new();
        sqlx::query_as::<_, (i64, String, bool)>(
            "SELECT id, role, disabled FROM users ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?
        .hash(&mut digest);
        // Live tokens, not when they were last used: a revoked one
        // leaves this list, so its sockets re-check and close.
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT id, user_id FROM api_tokens WHERE revoked_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?
        .hash(&mut digest);
        // Browser sessions too: signing out ends that browser's sockets.
        sqlx::query_as::<_, (String, i64)>(
            "SELECT token_hash, user_id FROM web_sessions ORDER BY token_hash",
        )
        .fetch_all(&self.read)
        .await?
        .hash(&mut digest);
        for table in [
            "SELECT channel_id, user_id FROM queue_agents ORDER BY channel_id, user_id",
            "SELECT channel_id, user_id FROM channel_supervisors ORDER BY channel_id, user_id",
        ] {
            sqlx::query_as::<_, (i64, i64)>(table)
                .fetch_all(&self.read)
                .await?
                .hash(&mut digest);
        }
        Ok(digest.finish())
    }

    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>> {
        Ok(self.token_owner(token_hash).await?.map(|owner| owner.user))
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(
            sqlx::query_as::<_, User>("SELECT * FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn update_user_status(
        &self,
        actor: Option<i64>,
        id: i64,
        patch: &UserStatusPatch,
        now: Millis,
    ) -> Result<User> {
        let mut tx = self.write.begin().await?;
        let user = sqlx::query_as::<_, User>(
            "UPDATE users SET disabled = COALESCE($2, disabled), dismissed = COALESCE($3, dismissed), \
             vacation = COALESCE($4, vacation) WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(patch.disabled)
        .bind(patch.dismissed)
        .bind(patch.vacation)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
        let detail = serde_json::json!({
            "disabled": patch.disabled, "dismissed": patch.dismissed, "vacation": patch.vacation,
        });
        audit(
            &mut tx,
            actor,
            "user.status",
            &format!("user:{id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn set_profile(
        &self,
        id: i64,
        display_name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<User> {
        sqlx::query_as::<_, User>(
            "UPDATE users SET display_name = $2, avatar_url = $3 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(display_name)
        .bind(avatar_url)
        .fetch_optional(&self.write)
        .await?
        .ok_or(StoreError::NotFound("user"))
    }
}
