//! The plugins' `kv` import, kept in the database so it survives restarts
//! and is shared by every node.

use std::sync::Arc;

use frontdesk_plugin_host::{KvError, KvScope, KvStore};

use crate::store::ConfigStore;

/// Bytes of keys plus values one plugin may keep per channel.
pub const KV_QUOTA_BYTES: i64 = 1024 * 1024;

/// [`KvStore`] on the server's database.
pub struct StoreKv {
    pub store: Arc<dyn ConfigStore>,
    pub quota_bytes: i64,
}

fn unavailable(err: crate::store::StoreError) -> KvError {
    KvError::Unavailable(err.to_string())
}

#[async_trait::async_trait]
impl KvStore for StoreKv {
    async fn get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.store
            .kv_get(&scope.plugin, &scope.channel, key)
            .await
            .map_err(unavailable)
    }

    async fn set(&self, scope: &KvScope, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        let stored = self
            .store
            .kv_set(&scope.plugin, &scope.channel, key, &value, self.quota_bytes)
            .await
            .map_err(unavailable)?;
        if stored {
            Ok(())
        } else {
            Err(KvError::QuotaExceeded(format!(
                "{} may keep {} bytes per channel; delete keys first",
                scope.plugin, self.quota_bytes
            )))
        }
    }

    async fn delete(&self, scope: &KvScope, key: &str) -> Result<(), KvError> {
        self.store
            .kv_delete(&scope.plugin, &scope.channel, key)
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sqlite_store, with_postgres};

    async fn kv_story(store: Arc<dyn crate::store::Store>) {
        let kv = StoreKv {
            store,
            quota_bytes: 64,
        };
        let scope = KvScope {
            plugin: "echo".into(),
            channel: "1".into(),
        };
        let other = KvScope {
            plugin: "echo".into(),
            channel: "2".into(),
        };
        assert_eq!(kv.get(&scope, "cursor").await.unwrap(), None);
        kv.set(&scope, "cursor", b"42".to_vec()).await.unwrap();
        kv.set(&scope, "cursor", b"43".to_vec()).await.unwrap();
        assert_eq!(
            kv.get(&scope, "cursor").await.unwrap(),
            Some(b"43".to_vec())
        );
        assert_eq!(
            kv.get(&other, "cursor").await.unwrap(),
            None,
            "scoped per channel"
        );
        let err = kv.set(&scope, "big", vec![0; 100]).await.unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded(_)), "{err}");
        assert_eq!(
            kv.get(&scope, "big").await.unwrap(),
            None,
            "nothing stored over quota"
        );
        kv.delete(&scope, "cursor").await.unwrap();
        kv.delete(&scope, "cursor").await.unwrap();
        assert_eq!(kv.get(&scope, "cursor").await.unwrap(), None);
    }

    #[tokio::test]
    async fn plugin_kv_on_sqlite() {
        let (store, _dir) = sqlite_store().await;
        kv_story(store).await;
    }

    #[tokio::test]
    async fn plugin_kv_on_postgres() {
        with_postgres(kv_story).await;
    }
}
