//! The attachments' SQL (issue 6).
//!
//! Ingest writes an inbound message's attachments with the message, in its
//! transaction (S3: a repeated webhook stores none of them twice), with one
//! multi-row insert per batch, and none at all when no message of the batch
//! has attachments, so the group-commit path pays nothing for them. The
//! fetch worker claims pending ones with a lease, like the outbox.

use std::sync::LazyLock;

use super::*;

/// Claims due attachments; PostgreSQL skips rows another node has locked.
/// An attachment with its bytes if the viewer may see its session: `$1`
/// attachment, `$2` sees all, `$3` viewer.
static ATTACHMENT_FILE: LazyLock<String> = LazyLock::new(|| {
    let visible = visible_channels("$3");
    format!(
        "SELECT a.id, a.message_id, a.kind, a.file_name, a.mime_type, \
         COALESCE(a.size, a.declared_size) AS size, a.state, a.last_error AS error, a.data \
         FROM attachments a JOIN sessions s ON s.id = a.session_id \
         WHERE a.id = $1 AND ($2 OR s.agent_id = $3 OR s.channel_id IN {visible})"
    )
});

static CLAIM_ATTACHMENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE attachments SET next_attempt_at = $1 + $2 WHERE id IN (SELECT id FROM attachments \
         WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3{SKIP_LOCKED}) \
         RETURNING id, channel_id, attempts, kind, file_name, mime_type, declared_size, url, provider_file_id"
    )
});

/// Attachment rows per insert statement: SQLite binds at most 32,766
/// parameters per statement, and each row binds 18.
const ATTACHMENT_ROWS_PER_INSERT: usize = 500;

/// Writes the attachments of the batch's newly stored messages.
/// `stored` gives each (item, message id, session id).
pub(crate) async fn insert_attachments(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &[IngestItem],
    stored: &[(usize, i64, i64)],
    now: Millis,
) -> Result<()> {
    let rows: Vec<(i64, i64, i64, i64, &NewAttachment)> = stored
        .iter()
        .flat_map(|&(i, message_id, session_id)| {
            let item = &batch[i];
            item.message
                .attachments
                .iter()
                .enumerate()
                .map(move |(position, attachment)| {
                    (
                        message_id,
                        session_id,
                        item.channel_id,
                        position as i64,
                        attachment,
                    )
                })
        })
        .collect();
    for chunk in rows.chunks(ATTACHMENT_ROWS_PER_INSERT) {
        let mut insert = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO attachments (id, message_id, session_id, channel_id, position, kind, file_name, \
             mime_type, declared_size, size, url, provider_file_id, state, next_attempt_at, last_error, \
             created_at, stored_at, data) ",
        );
        insert.push_values(
            chunk,
            |mut row, &(message_id, session_id, channel_id, position, a)| {
                let (state, error) = a.initial_state();
                let data = if state == AttachmentState::Stored {
                    a.data.as_deref()
                } else {
                    None
                };
                row.push_bind(format!("{:032x}", rand::random::<u128>()))
                    .push_bind(message_id)
                    .push_bind(session_id)
                    .push_bind(channel_id)
                    .push_bind(position)
                    .push_bind(a.kind)
                    .push_bind(a.file_name.as_deref())
                    .push_bind(a.mime_type.as_deref())
                    .push_bind(a.declared_size)
                    .push_bind(data.map(|d| d.len() as i64))
                    .push_bind(a.url.as_deref())
                    .push_bind(a.provider_file_id.as_deref())
                    .push_bind(state)
                    .push_bind(now)
                    .push_bind(error)
                    .push_bind(now)
                    .push_bind(data.map(|_| now))
                    .push_bind(data);
            },
        );
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Fills in the attachments of `messages`, all of one session.
pub(crate) async fn attach_files(
    pool: &sqlx::Pool<Db>,
    session_id: i64,
    messages: &mut [Message],
) -> Result<()> {
    let (Some(first), Some(last)) = (
        messages.first().map(|m| m.id),
        messages.last().map(|m| m.id),
    ) else {
        return Ok(());
    };
    let files = sqlx::query_as::<_, AttachmentInfo>(
        "SELECT id, message_id, kind, file_name, mime_type, COALESCE(size, declared_size) AS size, state, \
         last_error AS error FROM attachments WHERE session_id = $1 AND message_id BETWEEN $2 AND $3 \
         ORDER BY message_id, position",
    )
    .bind(session_id)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await?;
    for file in files {
        if let Ok(at) = messages.binary_search_by_key(&file.message_id, |m| m.id) {
            messages[at].attachments.push(file);
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::AttachmentStore for Backend {
    async fn claim_attachments(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<AttachmentJob>> {
        Ok(
            sqlx::query_as::<_, AttachmentJob>(CLAIM_ATTACHMENTS.as_str())
                .bind(now)
                .bind(lease_ms)
                .bind(limit)
                .fetch_all(&self.write)
                .await?,
        )
    }

    async fn next_attachment_due(&self) -> Result<Option<Millis>> {
        let (due,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_attempt_at) FROM attachments WHERE state = 'pending'")
                .fetch_one(&self.read)
                .await?;
        Ok(due)
    }

    async fn finish_attachment(&self, id: &str, outcome: &FetchOutcome, now: Millis) -> Result<()> {
        let query = match outcome {
            FetchOutcome::Stored { mime_type, data } => sqlx::query(
                "UPDATE attachments SET state = 'stored', mime_type = $2, size = $3, data = $4, \
                 attempts = attempts + 1, last_error = NULL, stored_at = $5 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(mime_type.as_str())
            .bind(data.len() as i64)
            .bind(data.as_slice())
            .bind(now),
            FetchOutcome::Retry { at, error } => sqlx::query(
                "UPDATE attachments SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 \
                 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(*at)
            .bind(error.as_str()),
            FetchOutcome::Failed { error } => sqlx::query(
                "UPDATE attachments SET state = 'failed', attempts = attempts + 1, last_error = $2 \
                 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(error.as_str()),
        };
        query.execute(&self.write).await?;
        Ok(())
    }

    async fn attachment_file(&self, viewer: Viewer, id: &str) -> Result<Option<AttachmentFile>> {
        // The same rule as `session`: admins, the session's agent, and
        // the members and supervisors of its channel (P1).
        let row = sqlx::query(ATTACHMENT_FILE.as_str())
            .bind(id)
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let info = <AttachmentInfo as sqlx::FromRow<_>>::from_row(&row)?;
        let data: Option<Vec<u8>> = sqlx::Row::try_get(&row, "data")?;
        let data = if info.state == AttachmentState::Stored {
            data
        } else {
            None
        };
        Ok(Some(AttachmentFile { info, data }))
    }
}
