//! Retention's batches (issue 19): a channel's old closed sessions become
//! stubs that keep the columns statistics read (`created_at`,
//! `first_in_at`, `first_response_at`, `closed_at`, `unanswered_at`,
//! `agent_id`, the scores), and lose everything that holds what was said.
//! The `DataStore` impl is here; its export and erasure are in
//! `contact_data.rs`.

use super::*;
use crate::store::RetentionCounts;

/// What goes with each retained session, children before parents. Ratings
/// go (their comments are the customer's words); their scores stay on the
/// session row, where the ratings triggers copied them.
const SESSION_CHILDREN: [&str; 6] = [
    "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE session_id = $1)",
    "DELETE FROM session_events WHERE session_id = $1",
    "DELETE FROM ratings WHERE session_id = $1",
    "DELETE FROM bot_timers WHERE session_id = $1",
    "DELETE FROM bot_sessions WHERE session_id = $1",
    "DELETE FROM routing_sessions WHERE session_id = $1",
];

impl Backend {
    /// Turns one session into a stub inside `tx`; adds what went to `counts`.
    async fn retain_session(
        tx: &mut sqlx::Transaction<'_, Db>,
        id: i64,
        now: Millis,
        counts: &mut RetentionCounts,
    ) -> Result<()> {
        let (files, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(COALESCE(size, 0)), 0) AS BIGINT) \
             FROM attachments WHERE session_id = $1",
        )
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM attachments WHERE session_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        for sql in SESSION_CHILDREN {
            sqlx::query(sql).bind(id).execute(&mut **tx).await?;
        }
        let messages = sqlx::query("DELETE FROM messages WHERE session_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        // The chat id is the provider's handle on the customer; a stub no
        // longer answers to it.
        sqlx::query(
            "UPDATE sessions SET chat_id = $2, lead_note = NULL, retained_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(format!("retained:{id}"))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        counts.sessions += 1;
        counts.messages += messages;
        counts.attachments += files as u64;
        counts.attachment_bytes += bytes as u64;
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::store::DataStore for Backend {
    async fn retain_batch(
        &self,
        channel_id: i64,
        before: Millis,
        limit: i64,
        now: Millis,
    ) -> Result<RetentionCounts> {
        let mut tx = self.write.begin().await?;
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE channel_id = $1 AND retained_at IS NULL \
             AND state = 'closed' AND last_message_at < $2 ORDER BY last_message_at LIMIT $3",
        )
        .bind(channel_id)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut counts = RetentionCounts::default();
        for (id,) in ids {
            Self::retain_session(&mut tx, id, now, &mut counts).await?;
        }
        counts.failed_inbound = sqlx::query(
            "DELETE FROM failed_inbound WHERE id IN (SELECT id FROM failed_inbound \
             WHERE channel_id = $1 AND received_at < $2 ORDER BY id LIMIT $3)",
        )
        .bind(channel_id)
        .bind(before)
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(counts)
    }

    async fn audit_retention(
        &self,
        channel_id: i64,
        days: i64,
        counts: &RetentionCounts,
        now: Millis,
    ) -> Result<()> {
        let mut detail = serde_json::to_value(counts).unwrap_or_default();
        detail["retention_days"] = days.into();
        let mut tx = self.write.begin().await?;
        audit(
            &mut tx,
            None,
            "retention.run",
            &format!("channel:{channel_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn contact_export(&self, contact_id: i64) -> Result<Option<crate::store::ContactExport>> {
        self.export_contact(contact_id).await
    }

    async fn erase_contact(
        &self,
        actor: i64,
        contact_id: i64,
        now: Millis,
    ) -> Result<crate::store::Erasure> {
        self.erase(actor, contact_id, now).await
    }
}
