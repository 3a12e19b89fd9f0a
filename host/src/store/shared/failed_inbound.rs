//! Failed inbound rows (P3): what admins see of webhooks a connector could not parse.

use super::*;

#[async_trait::async_trait]
impl crate::store::FailedInboundStore for Backend {
    async fn add_failed_inbound(
        &self,
        new: &crate::store::NewFailedInbound,
        now: Millis,
    ) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO failed_inbound (channel_id, headers, body, reason, received_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.channel_id)
        .bind(new.headers.to_string())
        .bind(&new.body)
        .bind(&new.reason)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| {
            conflict(e, || {
                format!("failed inbound of channel {}", new.channel_id)
            })
        })?;
        Ok(id)
    }

    async fn failed_inbound(
        &self,
        channel: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::store::FailedInbound>> {
        Ok(sqlx::query_as::<_, crate::store::FailedInbound>(
            "SELECT id, channel_id, headers, body, reason, received_at FROM failed_inbound \
             WHERE ($1 IS NULL OR channel_id = $1) ORDER BY received_at DESC, id DESC LIMIT $2",
        )
        .bind(channel)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }
}
