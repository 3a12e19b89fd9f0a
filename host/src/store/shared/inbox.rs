//! The routing inbox's SQL (issue 18, migration 0024; see `inbox_store.rs`).
//!
//! Compiled for both backends like every shared file, but only PostgreSQL
//! has the tables: every statement here runs only where `ROUTING_INBOX`
//! is set, so SQLite keeps routing in memory with no inbox at all.

use super::*;
use crate::store::inbox_store::{
    ANSWER_CHANNEL, InboxListener, InboxRow, ROUTING_CHANNEL, RoutingInboxStore, StoredAnswer,
};

#[async_trait::async_trait]
impl RoutingInboxStore for Backend {
    fn has_routing_inbox(&self) -> bool {
        ROUTING_INBOX
    }

    async fn push_inbox(&self, origin: &str, event: &str, wants_answer: bool) -> Result<i64> {
        no_inbox_here()?;
        let mut tx = self.write.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO routing_inbox (origin, event, wants_answer) VALUES ($1, $2::jsonb, $3) RETURNING id",
        )
        .bind(origin)
        .bind(event)
        .bind(wants_answer)
        .fetch_one(&mut *tx)
        .await?;
        notify_leader(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn read_inbox(&self, limit: i64) -> Result<Vec<InboxRow>> {
        if !ROUTING_INBOX {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, String, bool)> = sqlx::query_as(
            "SELECT id, origin, event::text, wants_answer FROM routing_inbox ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, origin, event, wants_answer)| InboxRow {
                id,
                origin,
                event,
                wants_answer,
            })
            .collect())
    }

    async fn take_answer(&self, inbox_id: i64) -> Result<Option<StoredAnswer>> {
        no_inbox_here()?;
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "DELETE FROM routing_answers WHERE inbox_id = $1 RETURNING outcome::text, message_id",
        )
        .bind(inbox_id)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|(outcome, message_id)| StoredAnswer {
            outcome,
            message_id,
        }))
    }

    async fn stored_reply(&self, message_id: i64) -> Result<Option<(Message, OutboxItem)>> {
        let message = sqlx::query_as::<_, Message>("SELECT * FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&self.read)
            .await?;
        let Some(message) = message else {
            return Ok(None);
        };
        let outbox = sqlx::query_as::<_, OutboxItem>(
            "SELECT id, message_id, channel_id, state, attempts, next_attempt_at, last_error, created_at \
             FROM outbox WHERE message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(outbox.map(|outbox| (message, outbox)))
    }

    async fn sweep_answers(&self, older_than_secs: i64) -> Result<u64> {
        if !ROUTING_INBOX {
            return Ok(0);
        }
        let done = sqlx::query(
            "DELETE FROM routing_answers WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(older_than_secs as f64)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    async fn inbox_listener(&self) -> Result<Option<Box<dyn InboxListener>>> {
        inbox_listener(&self.write).await
    }
}

/// Refuses a call that only makes sense with an inbox (a programming error
/// on SQLite: the engine never forwards there).
fn no_inbox_here() -> Result<()> {
    if ROUTING_INBOX {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "the {BACKEND} store has no routing inbox; only PostgreSQL forwards routing events"
        )))
    }
}

/// Wakes the leader when the transaction commits (a `NOTIFY` is delivered
/// only then, and the same one twice in a transaction only once).
async fn notify_leader(tx: &mut sqlx::Transaction<'_, Db>) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(ROUTING_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ingest's part: an inbox row for each stored message that routing must
/// hear of (a new session, a customer message), in the message's own
/// transaction, so an acknowledged message is always routed. Nothing on
/// SQLite, where the caller hands the event to the engine in memory.
pub(crate) async fn write_inbound(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &[IngestItem],
    answers: &[Accepted],
) -> Result<()> {
    if !ROUTING_INBOX {
        return Ok(());
    }
    let events: Vec<String> = batch
        .iter()
        .zip(answers)
        .filter_map(|(item, accepted)| crate::engine::wire::inbound(item.channel_id, accepted))
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::<Db>::new("INSERT INTO routing_inbox (origin, event) ");
    insert.push_values(&events, |mut row, event| {
        row.push_bind("ingest")
            .push_bind(event.as_str())
            .push_unseparated("::jsonb");
    });
    insert.build().execute(&mut **tx).await?;
    notify_leader(tx).await
}

/// The routing step's part: deletes the inbox rows the step applied and
/// writes the answers forwarding nodes wait for, in the step's transaction.
/// A row already gone was applied by another leader: the step fails and
/// rolls back, so no event is applied twice.
pub(crate) async fn applied(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &RoutingBatch,
    replies: &[(Message, OutboxItem)],
) -> Result<()> {
    if batch.inbox_applied.is_empty() && batch.inbox_answers.is_empty() {
        return Ok(());
    }
    no_inbox_here()?;
    if !batch.inbox_applied.is_empty() {
        let mut delete = sqlx::QueryBuilder::<Db>::new("DELETE FROM routing_inbox WHERE id IN (");
        let mut ids = delete.separated(", ");
        for id in &batch.inbox_applied {
            ids.push_bind(*id);
        }
        delete.push(")");
        let found = delete.build().execute(&mut **tx).await?.rows_affected();
        let expected = batch.inbox_applied.len() as u64;
        if found != expected {
            return Err(StoreError::InboxRace { expected, found });
        }
    }
    if batch.inbox_answers.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO routing_answers (inbox_id, outcome, message_id) ",
    );
    insert.push_values(&batch.inbox_answers, |mut row, answer| {
        let message = answer
            .reply
            .and_then(|i| replies.get(i))
            .map(|(message, _)| message.id);
        row.push_bind(answer.inbox_id)
            .push_bind(answer.outcome.as_str())
            .push_unseparated("::jsonb")
            .push_bind(message);
    });
    insert.build().execute(&mut **tx).await?;
    let mut notify = sqlx::QueryBuilder::<Db>::new("SELECT pg_notify(");
    notify
        .push_bind(ANSWER_CHANNEL)
        .push(", inbox_id::text) FROM routing_answers WHERE inbox_id IN (");
    let mut ids = notify.separated(", ");
    for answer in &batch.inbox_answers {
        ids.push_bind(answer.inbox_id);
    }
    notify.push(")");
    notify.build().execute(&mut **tx).await?;
    Ok(())
}
