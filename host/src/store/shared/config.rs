//! Scripts, canned responses, ratings and channel changes.

use super::*;
use frontdesk_rules::ScriptScope;

/// Stores a rating, replacing the rater's earlier one for the session; the
/// engine writes a customer's score with its step (`apply_routing`) too.
pub(crate) const RATE: &str = "INSERT INTO ratings (session_id, rater, score, comment, rated_by, at) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (session_id, rater) DO UPDATE SET score = excluded.score, comment = excluded.comment, \
     rated_by = excluded.rated_by, at = excluded.at";

/// Records a contact's answer to a consent notice (G1), replacing the last;
/// written by the engine's step (`apply_routing`) and by `set_consent`.
pub(crate) const SET_CONSENT: &str = "INSERT INTO contact_consents (contact_id, accepted, notice_version, at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (contact_id) DO UPDATE SET accepted = excluded.accepted, \
     notice_version = excluded.notice_version, at = excluded.at";

/// The `channel_id` a scope's scripts are stored with; NULL is all channels.
fn scope_channel(scope: ScriptScope) -> Option<i64> {
    match scope {
        ScriptScope::AllChannels => None,
        ScriptScope::Channel(id) => Some(id),
    }
}

#[async_trait::async_trait]
impl crate::store::ConfigStore for Backend {
    async fn save_script(
        &self,
        scope: ScriptScope,
        hook: &str,
        source: Option<&str>,
        by: i64,
        now: Millis,
    ) -> Result<ScriptVersion> {
        let channel = scope_channel(scope);
        let mut tx = self.write.begin().await?;
        let version = sqlx::query_as::<_, ScriptVersion>(
            "INSERT INTO scripts (hook, source, saved_by, saved_at, channel_id) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(hook)
        .bind(source)
        .bind(by)
        .bind(now)
        .bind(channel)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("channel {channel:?}")))?;
        let detail =
            serde_json::json!({ "version": version.id, "reset": source.is_none(), "hook": hook });
        let target = match channel {
            Some(id) => format!("channel:{id}"),
            None => format!("hook:{hook}"),
        };
        audit(&mut tx, Some(by), "rules.save", &target, &detail, now).await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn script_versions(&self, scope: ScriptScope, hook: &str) -> Result<Vec<ScriptVersion>> {
        // `IS NOT DISTINCT FROM`: NULL (all channels) matches NULL.
        Ok(sqlx::query_as::<_, ScriptVersion>(
            "SELECT * FROM scripts WHERE hook = $1 AND channel_id IS NOT DISTINCT FROM $2 ORDER BY id DESC",
        )
        .bind(hook)
        .bind(scope_channel(scope))
        .fetch_all(&self.read)
        .await?)
    }

    async fn active_scripts(&self) -> Result<Vec<ScriptVersion>> {
        Ok(sqlx::query_as::<_, ScriptVersion>(
            "SELECT * FROM scripts s WHERE id = (SELECT MAX(id) FROM scripts t \
             WHERE t.hook = s.hook AND t.channel_id IS NOT DISTINCT FROM s.channel_id)",
        )
        .fetch_all(&self.read)
        .await?)
    }

    async fn set_canned(
        &self,
        actor: i64,
        channel_id: i64,
        lists: &str,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO canned_responses (channel_id, lists) VALUES ($1, $2) \
             ON CONFLICT (channel_id) DO UPDATE SET lists = excluded.lists",
        )
        .bind(channel_id)
        .bind(lists)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("channel {channel_id}")))?;
        let detail = serde_json::json!({});
        audit(
            &mut tx,
            Some(actor),
            "canned.update",
            &format!("channel:{channel_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn canned(&self, channel_id: i64) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT lists FROM canned_responses WHERE channel_id = $1")
                .bind(channel_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(lists,)| lists))
    }

    async fn rate(
        &self,
        session_id: i64,
        rater: Rater,
        score: i64,
        comment: Option<&str>,
        by: Option<i64>,
        now: Millis,
    ) -> Result<RatingRow> {
        // Two constants joined: no caller text reaches the SQL.
        let sql = format!("{RATE} RETURNING rater, score, comment, rated_by, at");
        Ok(sqlx::query_as::<_, RatingRow>(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(rater)
            .bind(score)
            .bind(comment)
            .bind(by)
            .bind(now)
            .fetch_one(&self.write)
            .await?)
    }

    async fn ratings(&self, session_id: i64) -> Result<Vec<RatingRow>> {
        Ok(sqlx::query_as::<_, RatingRow>(
            "SELECT rater, score, comment, rated_by, at FROM ratings WHERE session_id = $1 ORDER BY rater",
        )
        .bind(session_id)
        .fetch_all(&self.read)
        .await?)
    }

    async fn kv_get(&self, plugin: &str, channel: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT value FROM plugin_kv WHERE plugin = $1 AND channel = $2 AND key = $3",
        )
        .bind(plugin)
        .bind(channel)
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(value,)| value))
    }

    async fn kv_set(
        &self,
        plugin: &str,
        channel: &str,
        key: &str,
        value: &[u8],
        quota: i64,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        // The scope's size without the key being replaced.
        let (used,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS BIGINT) FROM plugin_kv \
             WHERE plugin = $1 AND channel = $2 AND key <> $3",
        )
        .bind(plugin)
        .bind(channel)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        if used + (key.len() + value.len()) as i64 > quota {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, channel, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin, channel, key) DO UPDATE SET value = excluded.value",
        )
        .bind(plugin)
        .bind(channel)
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn kv_delete(&self, plugin: &str, channel: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM plugin_kv WHERE plugin = $1 AND channel = $2 AND key = $3")
            .bind(plugin)
            .bind(channel)
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn record_audit(
        &self,
        actor: i64,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        audit(&mut tx, Some(actor), action, target, detail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_channel(
        &self,
        actor: i64,
        id: i64,
        patch: &ChannelPatch,
        now: Millis,
    ) -> Result<Channel> {
        let mut tx = self.write.begin().await?;
        let channel = sqlx::query_as::<_, Channel>(
            "UPDATE channels SET name = COALESCE($2, name), enabled = COALESCE($3, enabled), \
             config = COALESCE($4, config) WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(patch.name.as_deref())
        .bind(patch.enabled)
        .bind(patch.config.as_ref().map(|c| c.to_string()))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("channel"))?;
        let detail = serde_json::json!({ "name": patch.name, "enabled": patch.enabled, "config": patch.config });
        audit(
            &mut tx,
            Some(actor),
            "channel.update",
            &format!("channel:{id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }
}
