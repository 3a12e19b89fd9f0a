//! The durable outbox's SQL (S5).
//!
//! An item is claimed alone, just before it is sent: the claim pushes its
//! `next_attempt_at` forward by a lease and records who holds it (the node
//! and this process's token). The claim is a conditional update, so of two
//! nodes racing for one item only one gets it. A worker that dies mid-send
//! leaves the item to its node, which makes it due at once when it starts
//! again ([`OutboxStore::release_outbox_claims`]); a node that never comes
//! back leaves it to the lease.
//!
//! [`OutboxStore::release_outbox_claims`]: crate::store::OutboxStore::release_outbox_claims

use super::*;

/// Queues a text the host sends by itself (a routing notice, a
/// script's or a bot's reply): an outbound message and its outbox
/// item, in the caller's transaction, so both commit with the step
/// that decided on them (S5).
pub(crate) async fn queue_customer_text(
    tx: &mut sqlx::Transaction<'_, Db>,
    session_id: i64,
    channel_id: i64,
    text: &str,
    now: Millis,
) -> Result<()> {
    let (message_id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (session_id, channel_id, direction, body, created_at) \
         VALUES ($1, $2, 'out', $3, $4) RETURNING id",
    )
    .bind(session_id)
    .bind(channel_id)
    .bind(text)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (message_id, channel_id, session_id, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(message_id)
    .bind(channel_id)
    .bind(session_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::OutboxStore for Backend {
    async fn release_outbox_claims(&self, node: &str, now: Millis) -> Result<u64> {
        let released = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $2, claimed_by = NULL, claim_token = NULL \
             WHERE claimed_by = $1 AND state = 'pending'",
        )
        .bind(node)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(released.rows_affected())
    }

    async fn due_outbox(
        &self,
        now: Millis,
        per_channel: i64,
        limit: i64,
    ) -> Result<Vec<DueOutbox>> {
        // A chat's item waits while an older one of the same chat is
        // pending (in flight, or due again later): replies keep their order.
        let due: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, channel_id FROM ( \
               SELECT o.id, o.channel_id, \
                      ROW_NUMBER() OVER (PARTITION BY o.channel_id ORDER BY o.id) AS pos \
               FROM outbox o JOIN sessions s ON s.id = o.session_id \
               WHERE o.state = 'pending' AND o.next_attempt_at <= $1 \
                 AND NOT EXISTS ( \
                   SELECT 1 FROM sessions chat JOIN outbox older ON older.session_id = chat.id \
                   WHERE chat.channel_id = s.channel_id AND chat.chat_id = s.chat_id \
                     AND older.state = 'pending' AND older.id < o.id) \
             ) heads WHERE pos <= $2 ORDER BY id LIMIT $3",
        )
        .bind(now)
        .bind(per_channel)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(due
            .into_iter()
            .map(|(id, channel_id)| DueOutbox { id, channel_id })
            .collect())
    }

    async fn claim_outbox(
        &self,
        id: i64,
        claimant: (&str, &str),
        now: Millis,
        lease_ms: i64,
    ) -> Result<Option<OutboundJob>> {
        let (node, token) = claimant;
        let claimed: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "UPDATE outbox SET next_attempt_at = $2 + $3, claimed_by = $4, claim_token = $5 \
             WHERE id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
             RETURNING id, message_id, channel_id, attempts",
        )
        .bind(id)
        .bind(now)
        .bind(lease_ms)
        .bind(node)
        .bind(token)
        .fetch_optional(&self.write)
        .await?;
        let Some((id, message_id, channel_id, attempts)) = claimed else {
            return Ok(None);
        };
        let (body, chat_id, author_id): (String, String, Option<i64>) = sqlx::query_as(
            "SELECT m.body, s.chat_id, m.author_id FROM messages m JOIN sessions s ON s.id = m.session_id \
             WHERE m.id = $1",
        )
        .bind(message_id)
        .fetch_one(&self.read)
        .await?;
        Ok(Some(OutboundJob {
            id,
            message_id,
            author_id,
            channel_id,
            attempts,
            chat_id,
            text: body,
        }))
    }

    async fn next_outbox_due(&self, after: Millis) -> Result<Option<Millis>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND next_attempt_at > $1",
        )
        .bind(after)
        .fetch_one(&self.read)
        .await?;
        Ok(due)
    }

    async fn finish_outbox(
        &self,
        id: i64,
        token: &str,
        outcome: &Delivery,
        now: Millis,
    ) -> Result<bool> {
        let (state, next, error) = match outcome {
            Delivery::Sent => (OutboxState::Sent, now, None),
            Delivery::Retry { at, error } => (OutboxState::Pending, *at, Some(error.as_str())),
            Delivery::Failed { error } => (OutboxState::Failed, now, Some(error.as_str())),
        };
        let finished = sqlx::query(
            "UPDATE outbox SET state = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END, claimed_by = NULL, claim_token = NULL \
             WHERE id = $1 AND claim_token = $6 AND state = 'pending'",
        )
        .bind(id)
        .bind(state)
        .bind(next)
        .bind(error)
        .bind(now)
        .bind(token)
        .execute(&self.write)
        .await?;
        Ok(finished.rows_affected() == 1)
    }

    async fn retry_outbox(&self, actor: i64, id: i64, now: Millis) -> Result<Option<OutboxItem>> {
        let mut tx = self.write.begin().await?;
        let item = sqlx::query_as::<_, OutboxItem>(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, last_error = NULL \
             WHERE id = $1 AND state = 'failed' \
             RETURNING id, message_id, channel_id, state, attempts, next_attempt_at, last_error, created_at",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(item) = item else {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return match exists {
                Some(_) => Ok(None),
                None => Err(StoreError::NotFound("outbox item")),
            };
        };
        let detail = serde_json::json!({"message_id": item.message_id});
        audit(
            &mut tx,
            Some(actor),
            "outbox.retry",
            &format!("outbox/{id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(item))
    }
}
