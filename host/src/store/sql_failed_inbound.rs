//! Failed inbound: authentic webhook requests a connector could not parse,
//! kept raw for admins (the provider was answered 200, so nothing retries
//! them). The SQL is in `shared/failed_inbound.rs`.

use async_trait::async_trait;
use serde::Serialize;

use super::{Millis, Result};

/// A request to keep, as the webhook received it.
#[derive(Debug, Clone)]
pub struct NewFailedInbound {
    pub channel_id: i64,
    /// The request headers as a JSON object, credentials already redacted.
    pub headers: serde_json::Value,
    /// The raw body, byte for byte.
    pub body: Vec<u8>,
    /// What the connector said was wrong.
    pub reason: String,
}

/// A kept request.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FailedInbound {
    pub id: i64,
    pub channel_id: i64,
    /// JSON object text.
    pub headers: String,
    pub body: Vec<u8>,
    pub reason: String,
    pub received_at: Millis,
}

/// Where failed inbound requests are kept.
#[async_trait]
pub trait FailedInboundStore: Send + Sync + 'static {
    /// Keeps one request durably; returns its id once committed.
    async fn add_failed_inbound(&self, new: &NewFailedInbound, now: Millis) -> Result<i64>;
    /// The newest first, optionally of one channel.
    async fn failed_inbound(&self, channel: Option<i64>, limit: i64) -> Result<Vec<FailedInbound>>;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::{NewChannel, Role, Store};
    use crate::test_support::{sqlite_store, with_postgres};

    async fn story(store: Arc<dyn Store>) {
        let admin = store.create_user("ada", Role::Admin, "h", 1).await.unwrap();
        let new_channel = |name: &str| NewChannel {
            name: name.into(),
            kind: "telegram".into(),
            secret: "s".into(),
            config: "{}".into(),
        };
        let one = store
            .create_channel(admin.id, &new_channel("One"), 1)
            .await
            .unwrap();
        let two = store
            .create_channel(admin.id, &new_channel("Two"), 1)
            .await
            .unwrap();
        // Not UTF-8 on purpose: the body is kept byte for byte.
        let body = vec![0xff, 0x00, b'{', 0x80];
        let kept = |channel_id: i64, reason: &str| NewFailedInbound {
            channel_id,
            headers: serde_json::json!({"content-type": "application/json"}),
            body: body.clone(),
            reason: reason.into(),
        };
        let first = store
            .add_failed_inbound(&kept(one.id, "first"), 10)
            .await
            .unwrap();
        let second = store
            .add_failed_inbound(&kept(two.id, "second"), 20)
            .await
            .unwrap();
        let third = store
            .add_failed_inbound(&kept(one.id, "third"), 20)
            .await
            .unwrap();

        let all = store.failed_inbound(None, 10).await.unwrap();
        let ids: Vec<i64> = all.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![third, second, first], "newest first");
        assert_eq!(all[2].body, body);
        assert_eq!(all[2].reason, "first");
        assert_eq!(all[2].received_at, 10);
        assert_eq!(all[2].headers, r#"{"content-type":"application/json"}"#);

        let of_one = store.failed_inbound(Some(one.id), 10).await.unwrap();
        assert_eq!(
            of_one.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![third, first]
        );
        assert_eq!(store.failed_inbound(None, 1).await.unwrap().len(), 1);
        assert!(
            store
                .add_failed_inbound(&kept(9999, "no such channel"), 30)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn failed_inbound_on_sqlite() {
        let (store, _dir) = sqlite_store().await;
        story(store).await;
    }

    #[tokio::test]
    async fn failed_inbound_on_postgres() {
        with_postgres(story).await;
    }
}
