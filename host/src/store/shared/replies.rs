//! An agent's reply, written in the routing step that let it through (R18),
//! so routing never counts a session answered without its reply stored.

use super::*;

/// Stores `reply` as an outbound message and queues it in the outbox (S5),
/// in the step's transaction; the session's last message is now.
pub(crate) async fn store_reply(
    tx: &mut sqlx::Transaction<'_, Db>,
    reply: &AgentReply,
    now: Millis,
) -> Result<(Message, OutboxItem)> {
    let (channel_id,): (i64,) = sqlx::query_as("SELECT channel_id FROM sessions WHERE id = $1")
        .bind(reply.session_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("session"))?;
    let message = sqlx::query_as::<_, Message>(
        "INSERT INTO messages (session_id, channel_id, direction, author_id, body, created_at) \
         VALUES ($1, $5, 'out', $2, $3, $4) RETURNING *",
    )
    .bind(reply.session_id)
    .bind(reply.author_id)
    .bind(&reply.body)
    .bind(now)
    .bind(channel_id)
    .fetch_one(&mut **tx)
    .await?;
    let outbox = sqlx::query_as::<_, OutboxItem>(
        "INSERT INTO outbox (message_id, channel_id, session_id, next_attempt_at, created_at) \
         VALUES ($1, $2, $4, $3, $3) RETURNING id, message_id, channel_id, state, attempts, \
         next_attempt_at, last_error, created_at",
    )
    .bind(message.id)
    .bind(channel_id)
    .bind(now)
    .bind(reply.session_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("UPDATE sessions SET updated_at = $2, last_message_at = $2 WHERE id = $1")
        .bind(reply.session_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok((message, outbox))
}
