//! The email connector's rows (issue 6).

use super::*;

#[async_trait::async_trait]
impl crate::store::MailStore for Backend {
    async fn imap_cursor(&self, channel_id: i64, mailbox: &str) -> Result<Option<ImapCursor>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT uid_validity, last_uid FROM imap_cursors WHERE channel_id = $1 AND mailbox = $2",
        )
        .bind(channel_id)
        .bind(mailbox)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(uid_validity, last_uid)| ImapCursor {
            uid_validity,
            last_uid,
        }))
    }

    async fn set_imap_cursor(
        &self,
        channel_id: i64,
        mailbox: &str,
        cursor: ImapCursor,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO imap_cursors (channel_id, mailbox, uid_validity, last_uid, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, mailbox) DO UPDATE SET \
             uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        )
        .bind(channel_id)
        .bind(mailbox)
        .bind(cursor.uid_validity)
        .bind(cursor.last_uid)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
