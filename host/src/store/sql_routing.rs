//! The routing engine's rows, shared SQL for both backends (see `sql.rs`).

macro_rules! sql_routing_store {
    ($Store:ident) => {
        #[async_trait::async_trait]
        impl crate::store::RoutingStore for $Store {
            async fn load_routing(&self) -> Result<RoutingRows> {
                let agents: Vec<(String,)> = sqlx::query_as("SELECT snapshot FROM routing_agents ORDER BY agent_id")
                    .fetch_all(&self.read)
                    .await?;
                let sessions: Vec<(String,)> =
                    sqlx::query_as("SELECT snapshot FROM routing_sessions ORDER BY session_id")
                        .fetch_all(&self.read)
                        .await?;
                let timers: Vec<(String, i64, i64)> =
                    sqlx::query_as("SELECT kind, subject, due_at FROM routing_timers ORDER BY due_at")
                        .fetch_all(&self.read)
                        .await?;
                let unrouted: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT channel_id, id FROM sessions s WHERE state NOT IN ('closed', 'rating') \
                     AND NOT EXISTS (SELECT 1 FROM routing_sessions r WHERE r.session_id = s.id) ORDER BY id",
                )
                .fetch_all(&self.read)
                .await?;
                Ok(RoutingRows {
                    agents: agents.into_iter().map(|(s,)| s).collect(),
                    sessions: sessions.into_iter().map(|(s,)| s).collect(),
                    timers,
                    unrouted,
                })
            }

            async fn apply_routing(&self, batch: &RoutingBatch, now: Millis) -> Result<()> {
                let mut tx = self.write.begin().await?;
                for (id, snapshot) in &batch.save_sessions {
                    sqlx::query(
                        "INSERT INTO routing_sessions (session_id, snapshot) VALUES ($1, $2) \
                         ON CONFLICT (session_id) DO UPDATE SET snapshot = excluded.snapshot",
                    )
                    .bind(id)
                    .bind(snapshot)
                    .execute(&mut *tx)
                    .await?;
                }
                for id in &batch.forget_sessions {
                    sqlx::query("DELETE FROM routing_sessions WHERE session_id = $1").bind(id).execute(&mut *tx).await?;
                }
                for (id, snapshot) in &batch.save_agents {
                    sqlx::query(
                        "INSERT INTO routing_agents (agent_id, snapshot) VALUES ($1, $2) \
                         ON CONFLICT (agent_id) DO UPDATE SET snapshot = excluded.snapshot",
                    )
                    .bind(id)
                    .bind(snapshot)
                    .execute(&mut *tx)
                    .await?;
                }
                for (kind, subject) in &batch.clear_timers {
                    sqlx::query("DELETE FROM routing_timers WHERE kind = $1 AND subject = $2")
                        .bind(kind)
                        .bind(subject)
                        .execute(&mut *tx)
                        .await?;
                }
                for (kind, subject, due_at) in &batch.set_timers {
                    sqlx::query(
                        "INSERT INTO routing_timers (kind, subject, due_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at",
                    )
                    .bind(kind)
                    .bind(subject)
                    .bind(due_at)
                    .execute(&mut *tx)
                    .await?;
                }
                for t in &batch.transitions {
                    sqlx::query("UPDATE sessions SET state = $2, agent_id = $3, updated_at = $4 WHERE id = $1")
                        .bind(t.session_id)
                        .bind(&t.to_state)
                        .bind(t.agent_id)
                        .bind(t.at)
                        .execute(&mut *tx)
                        .await?;
                    // Ingest recorded the opening move in the message's own transaction.
                    if t.from_state.is_none() {
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO session_events (session_id, from_state, to_state, cause, actor_id, at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(t.session_id)
                    .bind(&t.from_state)
                    .bind(&t.to_state)
                    .bind(&t.cause)
                    .bind(t.agent_id)
                    .bind(t.at)
                    .execute(&mut *tx)
                    .await?;
                }
                for (session_id, text) in &batch.notices {
                    let (message_id, channel_id): (i64, i64) = sqlx::query_as(
                        "INSERT INTO messages (session_id, direction, body, created_at) VALUES ($1, 'out', $2, $3) \
                         RETURNING id, (SELECT channel_id FROM sessions WHERE id = $1)",
                    )
                    .bind(session_id)
                    .bind(text)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO outbox (message_id, channel_id, next_attempt_at, created_at) VALUES ($1, $2, $3, $3)",
                    )
                    .bind(message_id)
                    .bind(channel_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_shift(
                &self,
                user_id: i64,
                clocked_in: Option<bool>,
                on_break: Option<bool>,
            ) -> Result<User> {
                sqlx::query_as::<_, User>(
                    "UPDATE users SET clocked_in = COALESCE($2, clocked_in), on_break = COALESCE($3, on_break) \
                     WHERE id = $1 RETURNING *",
                )
                .bind(user_id)
                .bind(clocked_in)
                .bind(on_break)
                .fetch_optional(&self.write)
                .await?
                .ok_or(StoreError::NotFound("user"))
            }
        }
    };
}
pub(super) use sql_routing_store;
