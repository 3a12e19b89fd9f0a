//! The core `Store` impl: users, channels, queues, sessions, messages,
//! the audit log.

use std::sync::LazyLock;

use super::*;

/// A channel if the viewer may see it (P2): `$1` channel, `$2` sees all, `$3` viewer.
static VISIBLE_CHANNEL: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$3");
    format!("SELECT * FROM channels WHERE id = $1 AND ($2 OR id IN {visible})")
});

/// The channels the viewer may see (P2): `$1` sees all, `$2` viewer.
static LIST_CHANNELS: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$2");
    format!("SELECT * FROM channels WHERE $1 OR id IN {visible} ORDER BY id")
});

/// The contacts the viewer may see (P2) that match a LIKE pattern, with their
/// possible matches (C1): `$1` sees all, `$2` viewer, `$3` pattern, `$4` limit.
static LIST_CONTACTS: LazyLock<String> = LazyLock::new(|| {
    let possible = possible_match("$1", "$2");
    let visible = visible_channels("$2");
    format!(
        "SELECT c.*, {possible} FROM contacts c WHERE ($1 OR c.responsible_user_id = $2 \
         OR EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id \
         AND i.channel_id IN {visible})) AND ($3 IS NULL OR c.name LIKE $3 ESCAPE '\\' \
         OR c.email LIKE $3 ESCAPE '\\' OR c.phone LIKE $3 ESCAPE '\\') ORDER BY c.id LIMIT $4"
    )
});

/// A session if the viewer may see it (P1, P2): `$1` session, `$2` sees
/// all, `$3` viewer.
static SESSION: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$3");
    format!(
        "SELECT * FROM sessions WHERE id = $1 AND ($2 OR agent_id = $3 OR channel_id IN {visible})"
    )
});

/// The sessions the viewer may see (P1, P2), newest first: `$1` sees all,
/// `$2` viewer, `$3` channel, `$4` state, `$5` pattern, `$6` limit.
static LIST_SESSIONS: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$2");
    format!(
        "SELECT s.* FROM sessions s JOIN contacts c ON c.id = s.contact_id \
         WHERE ($1 OR s.agent_id = $2 OR s.channel_id IN {visible}) \
         AND ($3 IS NULL OR s.channel_id = $3) AND ($4 IS NULL OR s.state = $4) \
         AND ($5 IS NULL OR c.name LIKE $5 ESCAPE '\\' OR c.email LIKE $5 ESCAPE '\\' \
         OR c.phone LIKE $5 ESCAPE '\\') ORDER BY s.id DESC LIMIT $6"
    )
});

#[async_trait::async_trait]
impl crate::store::Store for Backend {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn probe_write(&self, now: Millis) -> Result<()> {
        // As large as a typical message, so a disk with room for the
        // probe but not for a message does not read as healthy.
        let pad = "-".repeat(4096);
        sqlx::query(
            "INSERT INTO health_probe (id, at, pad) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
        )
        .bind(now)
        .bind(pad)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn create_channel(&self, actor: i64, new: &NewChannel, now: Millis) -> Result<Channel> {
        let mut tx = self.write.begin().await?;
        let channel = sqlx::query_as::<_, Channel>(
            "INSERT INTO channels (name, kind, secret, config, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(&new.name)
        .bind(&new.kind)
        .bind(&new.secret)
        .bind(&new.config)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO queues (channel_id) VALUES ($1)")
            .bind(channel.id)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({ "name": new.name, "kind": new.kind });
        audit(
            &mut tx,
            Some(actor),
            "channel.create",
            &format!("channel:{}", channel.id),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    async fn visible_channel(&self, viewer: Viewer, id: i64) -> Result<Option<Channel>> {
        Ok(sqlx::query_as::<_, Channel>(VISIBLE_CHANNEL.as_str())
            .bind(id)
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn set_queue(
        &self,
        actor: i64,
        channel_id: i64,
        queue: &Queue,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query(
            "UPDATE queues SET mode = $2, forward_interval_secs = $3, unanswered_interval_secs = $4, \
             options = $5 WHERE channel_id = $1",
        )
        .bind(channel_id)
        .bind(queue.mode.as_str())
        .bind(queue.forward_interval_secs)
        .bind(queue.unanswered_interval_secs)
        .bind(serde_json::to_string(&queue.options).unwrap_or_else(|_| "{}".into()))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("channel"));
        }
        sqlx::query("DELETE FROM queue_agents WHERE channel_id = $1")
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        for (position, user_id) in queue.agents.iter().enumerate() {
            sqlx::query(
                "INSERT INTO queue_agents (channel_id, user_id, position) VALUES ($1, $2, $3)",
            )
            .bind(channel_id)
            .bind(user_id)
            .bind(position as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, || format!("agent {user_id} in the queue")))?;
        }
        let detail = serde_json::to_value(queue).unwrap_or_default();
        audit(
            &mut tx,
            Some(actor),
            "queue.update",
            &format!("channel:{channel_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn supervisors(&self, channel_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT user_id FROM channel_supervisors WHERE channel_id = $1 ORDER BY user_id",
        )
        .bind(channel_id)
        .fetch_all(&self.read)
        .await?)
    }

    async fn set_supervisors(
        &self,
        actor: i64,
        channel_id: i64,
        users: &[i64],
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM channel_supervisors WHERE channel_id = $1")
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        for user_id in users {
            sqlx::query("INSERT INTO channel_supervisors (channel_id, user_id) VALUES ($1, $2)")
                .bind(channel_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, || format!("supervisor {user_id}")))?;
        }
        let detail = serde_json::json!({ "supervisors": users });
        audit(
            &mut tx,
            Some(actor),
            "channel.supervisors",
            &format!("channel:{channel_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_contact(&self, new: &NewContact, now: Millis) -> Result<Contact> {
        sqlx::query_as::<_, Contact>(
            "INSERT INTO contacts (name, email, phone, responsible_user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(&new.name)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(new.responsible_user_id)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| conflict(e, || "the contact's responsible user".to_string()))
    }

    async fn list_contacts(
        &self,
        viewer: Viewer,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Contact>> {
        Ok(sqlx::query_as::<_, Contact>(LIST_CONTACTS.as_str())
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .bind(q.map(like_pattern))
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    async fn list_sessions(&self, viewer: Viewer, filter: &SessionFilter) -> Result<Vec<Session>> {
        Ok(sqlx::query_as::<_, Session>(LIST_SESSIONS.as_str())
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .bind(filter.channel_id)
            .bind(filter.state.as_deref())
            .bind(filter.q.as_deref().map(like_pattern))
            .bind(filter.limit.unwrap_or(100).clamp(1, 500))
            .fetch_all(&self.read)
            .await?)
    }

    async fn ingest(&self, batch: &[IngestItem], now: Millis) -> Result<Vec<Accepted>> {
        let mut tx = self.write.begin().await?;
        let answers = ingest_batch(&mut tx, batch, now).await?;
        tx.commit().await?;
        Ok(answers)
    }

    async fn channel_activity(&self, channel_id: i64) -> Result<ChannelActivity> {
        let (last_inbound_at,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(created_at) FROM messages WHERE channel_id = $1 AND direction = 'in'",
        )
        .bind(channel_id)
        .fetch_one(&self.read)
        .await?;
        let (failed_outbox,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND channel_id = $1",
        )
        .bind(channel_id)
        .fetch_one(&self.read)
        .await?;
        Ok(ChannelActivity {
            last_inbound_at,
            failed_outbox,
        })
    }

    async fn list_outbox(&self, state: Option<&str>, limit: i64) -> Result<Vec<OutboxItem>> {
        Ok(sqlx::query_as::<_, OutboxItem>(
            "SELECT id, message_id, channel_id, state, attempts, next_attempt_at, last_error, created_at \
             FROM outbox WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(state)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // A trailing `.` asks for every action under it; LIKE's own
        // wildcards in the text are escaped.
        let action = filter.action.as_deref().map(|a| {
            let escaped = a
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            if a.ends_with('.') {
                format!("{escaped}%")
            } else {
                escaped
            }
        });
        Ok(sqlx::query_as::<_, AuditEntry>(
            "SELECT * FROM audit_log WHERE ($1 IS NULL OR actor_id = $1) \
             AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.actor_id)
        .bind(action)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.limit)
        .fetch_all(&self.read)
        .await?)
    }

    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(
            sqlx::query_as::<_, AuditEntry>("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&self.read)
                .await?,
        )
    }
}

impl crate::store::HealthStore for Backend {
    fn health(&self) -> &crate::store::StorageHealth {
        &self.health
    }
}

#[async_trait::async_trait]
impl crate::store::ChannelStore for Backend {
    async fn channel(&self, id: i64) -> Result<Option<Channel>> {
        Ok(
            sqlx::query_as::<_, Channel>("SELECT * FROM channels WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn list_channels(&self, viewer: Viewer) -> Result<Vec<Channel>> {
        Ok(sqlx::query_as::<_, Channel>(LIST_CHANNELS.as_str())
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .fetch_all(&self.read)
            .await?)
    }

    async fn queue(&self, channel_id: i64) -> Result<Queue> {
        let row: Option<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT mode, forward_interval_secs, unanswered_interval_secs, options FROM queues WHERE channel_id = $1",
        )
        .bind(channel_id)
        .fetch_optional(&self.read)
        .await?;
        let (mode, forward_interval_secs, unanswered_interval_secs, options) =
            row.ok_or(StoreError::NotFound("channel"))?;
        let options = serde_json::from_str(&options).map_err(|e| {
            StoreError::Invalid(format!("stored queue options are unreadable: {e}"))
        })?;
        let agents: Vec<(i64,)> = sqlx::query_as(
            "SELECT user_id FROM queue_agents WHERE channel_id = $1 ORDER BY position",
        )
        .bind(channel_id)
        .fetch_all(&self.read)
        .await?;
        Ok(Queue {
            mode: QueueMode::parse(&mode).ok_or_else(|| {
                StoreError::Invalid(format!("unknown queue mode {mode:?} stored"))
            })?,
            forward_interval_secs,
            unanswered_interval_secs,
            agents: agents.into_iter().map(|(id,)| id).collect(),
            options,
        })
    }
}

#[async_trait::async_trait]
impl crate::store::TranscriptStore for Backend {
    async fn session(&self, viewer: Viewer, id: i64) -> Result<Option<Session>> {
        Ok(sqlx::query_as::<_, Session>(SESSION.as_str())
            .bind(id)
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn session_events(&self, session_id: i64) -> Result<Vec<SessionEvent>> {
        Ok(sqlx::query_as::<_, SessionEvent>(
            "SELECT from_state, to_state, cause, actor_id, at FROM session_events \
             WHERE session_id = $1 ORDER BY id",
        )
        .bind(session_id)
        .fetch_all(&self.read)
        .await?)
    }

    async fn messages(&self, session_id: i64, after: i64, limit: i64) -> Result<Vec<Message>> {
        let mut messages = sqlx::query_as::<_, Message>(
            "SELECT * FROM messages WHERE session_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(session_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        attach_files(&self.read, session_id, &mut messages).await?;
        Ok(messages)
    }
}

/// Writes one admin change to the audit log inside the change's transaction (P4).
pub(crate) async fn audit(
    tx: &mut sqlx::Transaction<'_, Db>,
    actor: Option<i64>,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor_id, action, target, detail, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
