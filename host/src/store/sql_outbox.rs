//! The durable outbox's SQL (S5), shared by both backends (see `sql.rs`).
//!
//! Claiming pushes an item's `next_attempt_at` forward by a lease instead of
//! locking it for the whole send: a worker that dies mid-send leaves the item
//! to be tried again when the lease runs out, and on PostgreSQL `SKIP LOCKED`
//! keeps two nodes from claiming the same item.

macro_rules! sql_outbox_store {
    ($Store:ident, $skip_locked:literal) => {
        /// Queues a text the host sends by itself (a routing notice, a
        /// script's or a bot's reply): an outbound message and its outbox
        /// item, in the caller's transaction, so both commit with the step
        /// that decided on them (S5).
        async fn queue_customer_text(
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
            sqlx::query("INSERT INTO outbox (message_id, channel_id, next_attempt_at, created_at) VALUES ($1, $2, $3, $3)")
                .bind(message_id)
                .bind(channel_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::store::OutboxStore for $Store {
            async fn claim_outbox(&self, now: Millis, lease_ms: i64, limit: i64) -> Result<Vec<OutboundJob>> {
                let claimed: Vec<(i64, i64, i64, i64)> = sqlx::query_as(concat!(
                    "UPDATE outbox SET next_attempt_at = $1 + $2 WHERE id IN (SELECT id FROM outbox \
                     WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $3",
                    $skip_locked,
                    ") RETURNING id, message_id, channel_id, attempts"
                ))
                .bind(now)
                .bind(lease_ms)
                .bind(limit)
                .fetch_all(&self.write)
                .await?;
                let mut jobs = Vec::with_capacity(claimed.len());
                for (id, message_id, channel_id, attempts) in claimed {
                    let (body, chat_id, author_id): (String, String, Option<i64>) = sqlx::query_as(
                        "SELECT m.body, s.chat_id, m.author_id FROM messages m JOIN sessions s ON s.id = m.session_id \
                         WHERE m.id = $1",
                    )
                    .bind(message_id)
                    .fetch_one(&self.read)
                    .await?;
                    jobs.push(OutboundJob { id, message_id, author_id, channel_id, attempts, chat_id, text: body });
                }
                Ok(jobs)
            }

            async fn next_outbox_due(&self) -> Result<Option<Millis>> {
                let (due,): (Option<i64>,) =
                    sqlx::query_as("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
                        .fetch_one(&self.read)
                        .await?;
                Ok(due)
            }

            async fn finish_outbox(&self, id: i64, outcome: &Delivery, now: Millis) -> Result<()> {
                let (state, next, error) = match outcome {
                    Delivery::Sent => ("sent", now, None),
                    Delivery::Retry { at, error } => ("pending", *at, Some(error.as_str())),
                    Delivery::Failed { error } => ("failed", now, Some(error.as_str())),
                };
                sqlx::query(
                    "UPDATE outbox SET state = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
                     sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE id = $1",
                )
                .bind(id)
                .bind(state)
                .bind(next)
                .bind(error)
                .bind(now)
                .execute(&self.write)
                .await?;
                Ok(())
            }
        }
    };
}
pub(super) use sql_outbox_store;
