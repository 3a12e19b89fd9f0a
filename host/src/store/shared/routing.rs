//! The routing engine's rows.

use super::*;

#[async_trait::async_trait]
impl crate::store::RoutingStore for Backend {
    async fn load_routing(&self) -> Result<RoutingRows> {
        let agents: Vec<(String,)> =
            sqlx::query_as("SELECT snapshot FROM routing_agents ORDER BY agent_id")
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
        let last_messages: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT r.session_id, s.last_message_at FROM routing_sessions r JOIN sessions s ON s.id = r.session_id",
        )
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
            last_messages,
            unrouted,
        })
    }

    async fn transcript_figures(&self, session_id: i64) -> Result<TranscriptFigures> {
        transcript_figures(&self.read, session_id).await
    }

    async fn apply_routing(
        &self,
        batch: &RoutingBatch,
        now: Millis,
    ) -> Result<Vec<(Message, OutboxItem)>> {
        let mut tx = self.write.begin().await?;
        // First, so a node that lost the lease writes nothing at all.
        check_fence(&mut tx, batch.fence).await?;
        let saved: Vec<(&i64, &String)> = batch
            .sessions
            .iter()
            .filter_map(|(id, s)| s.as_ref().map(|s| (id, s)))
            .collect();
        upsert(
            &mut tx,
            "routing_sessions (session_id, snapshot)",
            "session_id",
            "snapshot",
            &saved,
        )
        .await?;
        let forgotten: Vec<i64> = batch
            .sessions
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(id, _)| *id)
            .collect();
        if !forgotten.is_empty() {
            let mut q =
                sqlx::QueryBuilder::<Db>::new("DELETE FROM routing_sessions WHERE session_id IN (");
            let mut ids = q.separated(", ");
            for id in &forgotten {
                ids.push_bind(*id);
            }
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        let agents: Vec<(&i64, &String)> = batch.agents.iter().collect();
        upsert(
            &mut tx,
            "routing_agents (agent_id, snapshot)",
            "agent_id",
            "snapshot",
            &agents,
        )
        .await?;

        let cleared: Vec<&(String, i64)> = batch
            .timers
            .iter()
            .filter(|(_, due)| due.is_none())
            .map(|(key, _)| key)
            .collect();
        if !cleared.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "DELETE FROM routing_timers WHERE (kind, subject) IN (",
            );
            q.push_values(&cleared, |mut row, (kind, subject)| {
                row.push_bind(kind.as_str()).push_bind(*subject);
            });
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        let set: Vec<(&(String, i64), i64)> = batch
            .timers
            .iter()
            .filter_map(|(key, due)| due.map(|d| (key, d)))
            .collect();
        if !set.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO routing_timers (kind, subject, due_at) ",
            );
            q.push_values(&set, |mut row, ((kind, subject), due)| {
                row.push_bind(kind.as_str())
                    .push_bind(*subject)
                    .push_bind(*due);
            });
            q.push(" ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at");
            q.build().execute(&mut *tx).await?;
        }

        for t in &batch.transitions {
            sqlx::query(
                "UPDATE sessions SET state = $2, agent_id = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(t.session_id)
            .bind(t.to_state)
            .bind(t.agent_id)
            .bind(t.at)
            .execute(&mut *tx)
            .await?;
        }
        // Ingest recorded each session's opening move in the message's own transaction.
        let moves: Vec<&TransitionRow> = batch
            .transitions
            .iter()
            .filter(|t| t.from_state.is_some())
            .collect();
        if !moves.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO session_events (session_id, from_state, to_state, cause, actor_id, at) ",
            );
            q.push_values(&moves, |mut row, t| {
                row.push_bind(t.session_id)
                    .push_bind(t.from_state)
                    .push_bind(t.to_state)
                    .push_bind(t.cause.as_str())
                    .push_bind(t.agent_id)
                    .push_bind(t.at);
            });
            q.build().execute(&mut *tx).await?;
        }

        // Ingest recorded each opening as `queued`; one the bot took (B1) opened in `bot`.
        for t in batch
            .transitions
            .iter()
            .filter(|t| t.from_state.is_none() && t.to_state != SessionState::Queued)
        {
            sqlx::query("UPDATE session_events SET to_state = $2 WHERE session_id = $1 AND from_state IS NULL")
                .bind(t.session_id)
                .bind(t.to_state)
                .execute(&mut *tx)
                .await?;
        }

        for (session_id, agent_id, replace) in &batch.responsible {
            sqlx::query(
                "UPDATE contacts SET responsible_user_id = $2 \
                 WHERE id = (SELECT contact_id FROM sessions WHERE id = $1) \
                 AND ($3 OR responsible_user_id IS NULL)",
            )
            .bind(session_id)
            .bind(agent_id)
            .bind(replace)
            .execute(&mut *tx)
            .await?;
        }
        // R6's mark, for the unanswered count (O6); the first mark counts.
        for session_id in &batch.unanswered {
            sqlx::query(
                "UPDATE sessions SET unanswered_at = $2 WHERE id = $1 AND unanswered_at IS NULL",
            )
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }

        // G1 answers and Q1 scores read by the engine in this step.
        for (contact_id, answer) in &batch.consents {
            sqlx::query(super::config::SET_CONSENT)
                .bind(contact_id)
                .bind(i64::from(answer.accepted))
                .bind(answer.notice_version)
                .bind(answer.at)
                .execute(&mut *tx)
                .await?;
        }
        for (session_id, score) in &batch.ratings {
            sqlx::query(super::config::RATE)
                .bind(session_id)
                .bind("customer")
                .bind(score)
                .bind(None::<&str>)
                .bind(None::<i64>)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }

        // The agents' replies the step let through, before any notice it made.
        let mut replies = Vec::with_capacity(batch.replies.len());
        for reply in &batch.replies {
            replies.push(store_reply(&mut tx, reply, now).await?);
        }
        for (session_id, text) in &batch.notices {
            let (channel_id,): (i64,) =
                sqlx::query_as("SELECT channel_id FROM sessions WHERE id = $1")
                    .bind(session_id)
                    .fetch_one(&mut *tx)
                    .await?;
            queue_customer_text(&mut tx, *session_id, channel_id, text, now).await?;
        }
        // PostgreSQL: the inbox rows this step applied go with it (issue 18).
        super::inbox::applied(&mut tx, batch, &replies).await?;
        tx.commit().await?;
        Ok(replies)
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

/// Inserts or replaces snapshot rows, all in one statement.
async fn upsert(
    tx: &mut sqlx::Transaction<'_, Db>,
    table_and_columns: &'static str,
    key: &'static str,
    value: &'static str,
    rows: &[(&i64, &String)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO ");
    q.push(table_and_columns).push(" ");
    q.push_values(rows, |mut row, (id, snapshot)| {
        row.push_bind(**id).push_bind(snapshot.as_str());
    });
    q.push(" ON CONFLICT (")
        .push(key)
        .push(") DO UPDATE SET ")
        .push(value)
        .push(" = excluded.")
        .push(value);
    q.build().execute(&mut **tx).await?;
    Ok(())
}
