//! The email connector's rows (issue 6), shared by both backends (see `sql.rs`).

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
