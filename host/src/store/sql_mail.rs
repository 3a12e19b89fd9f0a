//! The email connector's rows (issue 6), shared by both backends (see `sql.rs`).

macro_rules! sql_mail_store {
    ($Store:ident) => {
        #[async_trait::async_trait]
        impl crate::store::MailStore for $Store {
            async fn imap_cursor(&self, channel_id: i64, mailbox: &str) -> Result<Option<ImapCursor>> {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT uid_validity, last_uid FROM imap_cursors WHERE channel_id = $1 AND mailbox = $2",
                )
                .bind(channel_id)
                .bind(mailbox)
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|(uid_validity, last_uid)| ImapCursor { uid_validity, last_uid }))
            }

            async fn set_imap_cursor(&self, channel_id: i64, mailbox: &str, cursor: ImapCursor, now: Millis) -> Result<()> {
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
    };
}

pub(super) use sql_mail_store;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::store::{ImapCursor, Store};
    use crate::test_support::{sqlite_store, with_postgres};

    async fn cursor_story(store: Arc<dyn Store>) {
        assert_eq!(store.imap_cursor(1, "INBOX").await.unwrap(), None);
        let first = ImapCursor {
            uid_validity: 7,
            last_uid: 3,
        };
        store.set_imap_cursor(1, "INBOX", first, 10).await.unwrap();
        let moved = ImapCursor {
            last_uid: 4,
            ..first
        };
        store.set_imap_cursor(1, "INBOX", moved, 11).await.unwrap();
        assert_eq!(store.imap_cursor(1, "INBOX").await.unwrap(), Some(moved));
        assert_eq!(store.imap_cursor(1, "Archive").await.unwrap(), None);
        assert_eq!(store.imap_cursor(2, "INBOX").await.unwrap(), None);
    }

    #[tokio::test]
    async fn imap_cursor_on_sqlite() {
        let (store, _dir) = sqlite_store().await;
        cursor_story(store).await;
    }

    #[tokio::test]
    async fn imap_cursor_on_postgres() {
        with_postgres(cursor_story).await;
    }
}
