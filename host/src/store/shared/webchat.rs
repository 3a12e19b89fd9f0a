//! The live-chat widget's rows (issue 7):
//! the server's own secrets, visitors' contacts and a visitor's chat log.

use super::*;

#[async_trait::async_trait]
impl crate::store::WebchatStore for Backend {
    async fn server_secret(&self, name: &str, fresh: &str, now: Millis) -> Result<String> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .bind(now)
        .execute(&self.write)
        .await?;
        let (value,): (String,) =
            sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.write)
                .await?;
        Ok(value)
    }

    async fn visitor_contact(
        &self,
        channel_id: i64,
        visitor_id: &str,
        verified: bool,
        details: &crate::store::VisitorDetails,
        now: Millis,
    ) -> Result<i64> {
        // C1: matched and stored in the same forms as the ingest path's.
        let email = crate::contacts::normalize::lenient_email(details.email.as_deref());
        let phone = crate::contacts::normalize::lenient_phone(details.phone.as_deref());
        let mut tx = self.write.begin().await?;
        let known: Option<(i64,)> = sqlx::query_as(
            "SELECT contact_id FROM contact_identities WHERE channel_id = $1 AND external_id = $2",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        let contact = match known {
            Some((id,)) => {
                // An anonymous visitor corrects only their own claims,
                // never a contact an agent merged them into (C1).
                sqlx::query(
                    "UPDATE contacts SET name = COALESCE($1, name), email = COALESCE($2, email), \
                     phone = COALESCE($3, phone) WHERE id = $4 AND ($5 OR unverified)",
                )
                .bind(&details.name)
                .bind(&email)
                .bind(&phone)
                .bind(id)
                .bind(verified)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                // The same match as the ingest path's (C1): vouched for on both sides.
                let matched: Option<(i64,)> = if verified {
                    sqlx::query_as(
                        "SELECT id FROM contacts WHERE NOT unverified AND (($1 IS NOT NULL AND email = $1) \
                         OR ($2 IS NOT NULL AND phone = $2)) ORDER BY id LIMIT 1",
                    )
                    .bind(&email)
                    .bind(&phone)
                    .fetch_optional(&mut *tx)
                    .await?
                } else {
                    None
                };
                let id = match matched {
                    Some((id,)) => id,
                    None => {
                        let name = details
                            .name
                            .clone()
                            .unwrap_or_else(|| visitor_id.to_string());
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO contacts (name, email, phone, created_at, unverified) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        )
                        .bind(name)
                        .bind(&email)
                        .bind(&phone)
                        .bind(now)
                        .bind(!verified)
                        .fetch_one(&mut *tx)
                        .await?;
                        id
                    }
                };
                sqlx::query(
                    "INSERT INTO contact_identities (channel_id, external_id, contact_id) VALUES ($1, $2, $3)",
                )
                .bind(channel_id)
                .bind(visitor_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, || format!("visitor {visitor_id}")))?;
                id
            }
        };
        tx.commit().await?;
        Ok(contact)
    }

    async fn chat_messages(
        &self,
        channel_id: i64,
        chat_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<crate::store::ChatMessage>> {
        Ok(sqlx::query_as(super::sql_webchat::CHAT_AFTER.as_str())
            .bind(channel_id)
            .bind(chat_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    async fn latest_chat_session(&self, channel_id: i64, chat_id: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE channel_id = $1 AND chat_id = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(channel_id)
        .bind(chat_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn chat_message(&self, message_id: i64) -> Result<Option<crate::store::ChatMessage>> {
        Ok(sqlx::query_as(super::sql_webchat::CHAT_ONE.as_str())
            .bind(message_id)
            .fetch_optional(&self.read)
            .await?)
    }
}
