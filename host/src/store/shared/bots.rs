//! The bots' SQL (B1, C2).
//!
//! A bot event's results (replies into the outbox, data, contact fields, the
//! lead, timers, the pending question, the routing move) are written in one
//! transaction together with what the event consumed, so after a crash the
//! event is either fully done or handed to the bot again, never half done.

use super::lead_in;
use super::*;

#[async_trait::async_trait]
impl crate::store::BotStore for Backend {
    async fn channel_bot(&self, channel_id: i64) -> Result<Option<ChannelBot>> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT plugin, timeout_secs, config FROM channel_bots WHERE channel_id = $1",
        )
        .bind(channel_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(plugin, timeout_secs, config)| ChannelBot {
            plugin,
            timeout_secs,
            config: serde_json::from_str(&config).unwrap_or_default(),
        }))
    }

    async fn set_channel_bot(
        &self,
        actor: i64,
        channel_id: i64,
        bot: Option<&ChannelBot>,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        match bot {
            Some(bot) => {
                sqlx::query(
                    "INSERT INTO channel_bots (channel_id, plugin, timeout_secs, config, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id) DO UPDATE SET \
                     plugin = excluded.plugin, timeout_secs = excluded.timeout_secs, \
                     config = excluded.config, updated_at = excluded.updated_at",
                )
                .bind(channel_id)
                .bind(&bot.plugin)
                .bind(bot.timeout_secs)
                .bind(bot.config.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, || format!("channel {channel_id}")))?;
            }
            None => {
                sqlx::query("DELETE FROM channel_bots WHERE channel_id = $1")
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let detail = serde_json::json!({
            "plugin": bot.map(|b| b.plugin.as_str()),
            "timeout_secs": bot.map(|b| b.timeout_secs),
        });
        audit(
            &mut tx,
            Some(actor),
            "channel.bot",
            &format!("channel:{channel_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn bot_session(&self, session_id: i64) -> Result<Option<BotSession>> {
        let row = sqlx::query_as::<_, BotRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {BOT_COLUMNS} FROM bot_sessions WHERE session_id = $1"
        )))
        .bind(session_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(BotSession::from_row))
    }

    async fn start_bot_session(&self, session_id: i64, now: Millis) -> Result<Option<BotSession>> {
        if let Some(existing) = self.bot_session(session_id).await? {
            return Ok(Some(existing));
        }
        let session: Option<(i64, SessionState)> =
            sqlx::query_as("SELECT channel_id, state FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&self.read)
                .await?;
        let Some((channel_id, state)) = session else {
            return Ok(None);
        };
        if state != SessionState::Bot {
            return Ok(None);
        }
        let bot = self.channel_bot(channel_id).await?;
        let insert = "INSERT INTO bot_sessions (session_id, channel_id, plugin, timeout_secs, config, \
             status, exit, reason, due_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (session_id) DO NOTHING";
        let query = sqlx::query(insert).bind(session_id).bind(channel_id);
        let query = match &bot {
            Some(bot) => query
                .bind(&bot.plugin)
                .bind(bot.timeout_secs)
                .bind(bot.config.to_string())
                .bind("active")
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<i64>),
            // The admin removed the bot since the session opened: the queue takes it.
            None => query
                .bind("")
                .bind(0_i64)
                .bind("{}")
                .bind("leaving")
                .bind(Some(
                    serde_json::to_string(&BotExit::HandOver).expect("serialises"),
                ))
                .bind(Some("the channel has no bot any more".to_string()))
                .bind(Some(now)),
        };
        query.bind(now).execute(&self.write).await?;
        self.bot_session(session_id).await
    }

    async fn due_bot_timer(&self, session_id: i64, now: Millis) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT name FROM bot_timers WHERE session_id = $1 AND due_at <= $2 ORDER BY due_at, name LIMIT 1",
        )
        .bind(session_id)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(name,)| name))
    }

    async fn apply_bot_step(&self, step: &BotStep, now: Millis) -> Result<BotStepOutcome> {
        let id = step.session_id;
        let mut outcome = BotStepOutcome::default();
        let mut tx = self.write.begin().await?;
        let (data, plugin): (String, String) =
            sqlx::query_as("SELECT data, plugin FROM bot_sessions WHERE session_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("bot session"))?;
        match &step.consumed {
            BotConsumed::Started => {
                sqlx::query("UPDATE bot_sessions SET started = $2 WHERE session_id = $1")
                    .bind(id)
                    .bind(true)
                    .execute(&mut *tx)
                    .await?;
            }
            BotConsumed::Message(message) => {
                sqlx::query("UPDATE bot_sessions SET seen_message = $2 WHERE session_id = $1")
                    .bind(id)
                    .bind(message)
                    .execute(&mut *tx)
                    .await?;
            }
            BotConsumed::Timer(name) => {
                sqlx::query("DELETE FROM bot_timers WHERE session_id = $1 AND name = $2")
                    .bind(id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            BotConsumed::Nothing => {}
        }
        let (channel_id, contact_id): (i64, i64) =
            sqlx::query_as("SELECT channel_id, contact_id FROM sessions WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        for text in &step.replies {
            queue_customer_text(&mut tx, id, channel_id, text, now).await?;
        }
        if !step.data.is_empty() {
            let mut map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&data).unwrap_or_default();
            for (key, value) in &step.data {
                map.insert(key.clone(), serde_json::Value::String(value.clone()));
            }
            sqlx::query("UPDATE bot_sessions SET data = $2 WHERE session_id = $1")
                .bind(id)
                .bind(serde_json::Value::Object(map).to_string())
                .execute(&mut *tx)
                .await?;
        }
        if !step.contact.is_empty() {
            let c = &step.contact;
            sqlx::query(
                "UPDATE contacts SET name = COALESCE($2, name), email = COALESCE($3, email), \
                 phone = COALESCE($4, phone) WHERE id = $1",
            )
            .bind(contact_id)
            .bind(&c.name)
            .bind(crate::contacts::normalize::lenient_email(
                c.email.as_deref(),
            ))
            .bind(crate::contacts::normalize::lenient_phone(
                c.phone.as_deref(),
            ))
            .execute(&mut *tx)
            .await?;
        }
        if step.lead
            && let crate::store::LeadOutcome::Refused { reason } =
                lead_in(&mut tx, id, &format!("bot:{plugin}"), now).await?
        {
            outcome.lead_refused = Some(format!("no lead for session {id}: {reason}"));
        }
        for (name, due) in &step.timers {
            sqlx::query(
                "INSERT INTO bot_timers (session_id, name, due_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (session_id, name) DO UPDATE SET due_at = excluded.due_at",
            )
            .bind(id)
            .bind(name)
            .bind(due)
            .execute(&mut *tx)
            .await?;
        }
        match &step.ask {
            Some(Some((field, options))) => {
                // Asked in reply to a message: later messages answer it.
                // Asked at the start: the opening messages came before it.
                let after = match &step.consumed {
                    BotConsumed::Message(message) => *message,
                    _ => {
                        let (newest,): (i64,) = sqlx::query_as(
                            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = $1 AND direction = 'in'",
                        )
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                        newest
                    }
                };
                sqlx::query(
                    "UPDATE bot_sessions SET pending_field = $2, pending_options = $3, ask_after = $4 \
                     WHERE session_id = $1",
                )
                .bind(id)
                .bind(field)
                .bind(serde_json::to_string(options).expect("strings serialise"))
                .bind(after)
                .execute(&mut *tx)
                .await?;
            }
            Some(None) => {
                sqlx::query(
                    "UPDATE bot_sessions SET pending_field = NULL, pending_options = '[]' WHERE session_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            None => {}
        }
        if let Some(due) = step.due_at {
            sqlx::query("UPDATE bot_sessions SET due_at = $2 WHERE session_id = $1")
                .bind(id)
                .bind(due)
                .execute(&mut *tx)
                .await?;
        }
        if let Some((exit, note, reason)) = &step.exit {
            sqlx::query(
                "UPDATE bot_sessions SET status = 'leaving', exit = $2, note = COALESCE($3, note), \
                 reason = $4, due_at = $5 WHERE session_id = $1",
            )
            .bind(id)
            .bind(serde_json::to_string(exit).expect("exits serialise"))
            .bind(note)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE bot_sessions SET updated_at = $2 WHERE session_id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn finish_bot_session(
        &self,
        session_id: i64,
        reason: Option<&str>,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE bot_sessions SET status = CASE WHEN $2 THEN 'done' ELSE status END, \
             reason = COALESCE($3, reason), due_at = $4, updated_at = $5 WHERE session_id = $1",
        )
        .bind(session_id)
        .bind(retry_at.is_none())
        .bind(reason)
        .bind(retry_at)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn next_bot_due(&self) -> Result<Option<Millis>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(t) FROM (SELECT due_at AS t FROM bot_sessions WHERE status <> 'done' AND due_at IS NOT NULL \
             UNION ALL SELECT b.due_at AS t FROM bot_timers b JOIN bot_sessions s ON s.session_id = b.session_id \
             WHERE s.status = 'active') AS due",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(due)
    }

    async fn due_bot_sessions(&self, now: Millis) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT session_id FROM bot_sessions WHERE status <> 'done' AND due_at <= $1 \
             UNION SELECT b.session_id FROM bot_timers b JOIN bot_sessions s ON s.session_id = b.session_id \
             WHERE s.status = 'active' AND b.due_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn bot_sessions_to_resume(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT session_id FROM bot_sessions WHERE status <> 'done' \
             UNION SELECT id FROM sessions s WHERE state = 'bot' \
             AND NOT EXISTS (SELECT 1 FROM bot_sessions b WHERE b.session_id = s.id)",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn leads(&self, session_id: Option<i64>, limit: i64) -> Result<Vec<Lead>> {
        Ok(sqlx::query_as::<_, Lead>(
            "SELECT * FROM leads WHERE ($1 IS NULL OR session_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(session_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }
}
