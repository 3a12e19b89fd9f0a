//! Contacts' and leads' SQL (C1–C3).

use std::sync::LazyLock;

use super::*;

/// A contact if the viewer may see it (P2), with its possible match (C1):
/// `$1` contact, `$2` sees all, `$3` viewer.
static CONTACT: LazyLock<String> = LazyLock::new(|| {
    let possible = possible_match("$2", "$3");
    let visible = visible_channels("$3");
    format!(
        "SELECT c.*, {possible} FROM contacts c WHERE c.id = $1 \
         AND ($2 OR c.responsible_user_id = $3 OR EXISTS (SELECT 1 FROM contact_identities i \
         WHERE i.contact_id = c.id AND i.channel_id IN {visible}))"
    )
});

/// C2: the session's lead, created in the caller's transaction if the
/// customer can be reached again; a refusal is noted on the session
/// so an agent can read why there is no lead.
pub(crate) async fn lead_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    session_id: i64,
    created_by: &str,
    now: Millis,
) -> Result<crate::store::LeadOutcome> {
    use crate::store::LeadOutcome;
    if let Some(lead) = sqlx::query_as::<_, Lead>("SELECT * FROM leads WHERE session_id = $1")
        .bind(session_id)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(LeadOutcome::Exists { lead });
    }
    let (contact_id, channel_id, source, name, email, phone): (
        i64,
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT c.id, s.channel_id, s.source, c.name, c.email, c.phone \
         FROM sessions s JOIN contacts c ON c.id = s.contact_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(reason) =
        crate::store::unreachable_reason(&source, email.as_deref(), phone.as_deref())
    {
        note_no_lead(tx, session_id, &reason).await?;
        return Ok(LeadOutcome::Refused { reason });
    }
    let lead = sqlx::query_as::<_, Lead>(
        "INSERT INTO leads (contact_id, session_id, channel_id, source, name, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(contact_id)
    .bind(session_id)
    .bind(channel_id)
    .bind(&source)
    .bind(&name)
    .bind(created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    note_no_lead(tx, session_id, "").await?;
    Ok(LeadOutcome::Created { lead })
}

/// Records why a session has no lead; an empty reason clears it.
pub(crate) async fn note_no_lead(
    tx: &mut sqlx::Transaction<'_, Db>,
    session_id: i64,
    reason: &str,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET lead_note = $2 WHERE id = $1")
        .bind(session_id)
        .bind((!reason.is_empty()).then_some(reason))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::ContactStore for Backend {
    async fn merge_contacts(
        &self,
        actor: i64,
        kept: i64,
        merged: i64,
        now: Millis,
    ) -> Result<Option<Contact>> {
        let mut tx = self.write.begin().await?;
        let fetch = "SELECT * FROM contacts WHERE id = $1";
        let (Some(keep), Some(gone)) = (
            sqlx::query_as::<_, Contact>(fetch)
                .bind(kept)
                .fetch_optional(&mut *tx)
                .await?,
            sqlx::query_as::<_, Contact>(fetch)
                .bind(merged)
                .fetch_optional(&mut *tx)
                .await?,
        ) else {
            return Ok(None);
        };
        for moved in [
            "UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE sessions SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE leads SET contact_id = $1 WHERE contact_id = $2",
        ] {
            sqlx::query(moved)
                .bind(kept)
                .bind(merged)
                .execute(&mut *tx)
                .await?;
        }
        // G1: the newer consent answer of the two stands.
        sqlx::query(
            "DELETE FROM contact_consents WHERE contact_id = $1 AND EXISTS \
             (SELECT 1 FROM contact_consents o WHERE o.contact_id = $2 AND o.at > contact_consents.at)",
        )
        .bind(kept)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE contact_consents SET contact_id = $1 WHERE contact_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM contact_consents k WHERE k.contact_id = $1)",
        )
        .bind(kept)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(merged)
            .execute(&mut *tx)
            .await?;
        let contact = sqlx::query_as::<_, Contact>(
            // C1: an agent's merge is their judgement that these are one
            // customer; the result is as verified as the better of the two.
            "UPDATE contacts SET email = COALESCE(email, $2), phone = COALESCE(phone, $3), \
             responsible_user_id = COALESCE(responsible_user_id, $4), \
             unverified = (unverified AND $5) WHERE id = $1 RETURNING *",
        )
        .bind(kept)
        .bind(&gone.email)
        .bind(&gone.phone)
        .bind(gone.responsible_user_id)
        .bind(gone.unverified)
        .fetch_one(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "merged": gone, "into": keep });
        audit(
            &mut tx,
            Some(actor),
            "contact.merge",
            &format!("contact:{kept}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(contact))
    }

    async fn create_lead(
        &self,
        session_id: i64,
        created_by: &str,
        now: Millis,
    ) -> Result<crate::store::LeadOutcome> {
        let mut tx = self.write.begin().await?;
        let outcome = lead_in(&mut tx, session_id, created_by, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn lead_note(&self, session_id: i64) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT lead_note FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|(note,)| note))
    }

    async fn lead(&self, id: i64) -> Result<Option<Lead>> {
        Ok(
            sqlx::query_as::<_, Lead>("SELECT * FROM leads WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn contact(&self, viewer: Viewer, id: i64) -> Result<Option<Contact>> {
        Ok(sqlx::query_as::<_, Contact>(CONTACT.as_str())
            .bind(id)
            .bind(viewer.sees_all())
            .bind(viewer.user_id)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn consent(&self, contact_id: i64) -> Result<Option<ConsentRow>> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT accepted, notice_version, at FROM contact_consents WHERE contact_id = $1",
        )
        .bind(contact_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(accepted, notice_version, at)| ConsentRow {
            accepted: accepted != 0,
            notice_version,
            at,
        }))
    }

    async fn set_consent(&self, contact_id: i64, answer: &ConsentRow) -> Result<()> {
        sqlx::query(super::config::SET_CONSENT)
            .bind(contact_id)
            .bind(i64::from(answer.accepted))
            .bind(answer.notice_version)
            .bind(answer.at)
            .execute(&self.write)
            .await
            .map_err(|e| conflict(e, || format!("contact {contact_id}")))?;
        Ok(())
    }
}
