//! A contact's export and erasure (issue 19, GDPR art. 15, 17, 20).
//!
//! Which tables name a contact is read from the schema (`KEYED_COLUMNS_SQL`,
//! per backend): every table with a `contact_id` or `session_id` column,
//! and the outbox by its message as well (its `session_id` is empty on rows
//! older than migration 0014). A table added by a later migration is
//! exported and erased without a change here.

use std::collections::BTreeMap;

use base64::Engine as _;
use sqlx::{Column, Row};

use super::*;
use crate::store::{ContactExport, Erasure, MIN_NEEDLE_LEN, contains};

/// The contact's sessions, as a subquery on `$1`.
const THEIR_SESSIONS: &str = "SELECT id FROM sessions WHERE contact_id = $1";

/// Columns an export leaves out: attachment bytes go as files of their own;
/// a bot's config may hold the business's API keys; a claim token is the
/// server's.
const NOT_EXPORTED: [(&str, &str); 3] = [
    ("attachments", "data"),
    ("bot_sessions", "config"),
    ("outbox", "claim_token"),
];

/// A table with a column that names a contact or one of their sessions.
struct Keyed {
    table: String,
    contact: bool,
    session: bool,
}

impl Keyed {
    /// `WHERE` text selecting the rows of the contact `$1`.
    fn condition(&self) -> String {
        let mut parts = Vec::new();
        if self.contact {
            parts.push("contact_id = $1".to_string());
        }
        if self.session {
            parts.push(format!("session_id IN ({THEIR_SESSIONS})"));
        }
        if self.table == "outbox" {
            parts.push(format!(
                "message_id IN (SELECT id FROM messages WHERE session_id IN ({THEIR_SESSIONS}))"
            ));
        }
        parts.join(" OR ")
    }

    /// Erasure order: what refers to messages first, then the rest, then
    /// messages and sessions themselves (foreign keys hold throughout).
    fn erase_order(&self) -> u8 {
        match self.table.as_str() {
            "outbox" | "attachments" => 0,
            "messages" => 2,
            "sessions" => 3,
            _ => 1,
        }
    }
}

/// The schema's keyed tables, by name.
async fn keyed_tables(conn: &mut <Db as sqlx::Database>::Connection) -> Result<Vec<Keyed>> {
    let columns: Vec<(String, String)> = sqlx::query_as(KEYED_COLUMNS_SQL)
        .fetch_all(&mut *conn)
        .await?;
    let mut tables: BTreeMap<String, Keyed> = BTreeMap::new();
    for (table, column) in columns {
        // Names come from the schema; anything that would need escaping is
        // not one of frontdesk's tables.
        if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let keyed = tables.entry(table.clone()).or_insert(Keyed {
            table,
            contact: false,
            session: false,
        });
        match column.as_str() {
            "contact_id" => keyed.contact = true,
            _ => keyed.session = true,
        }
    }
    Ok(tables.into_values().collect())
}

/// A row as a JSON object, whatever its table: integers, booleans, text,
/// and bytes as base64.
fn row_json(table: &str, row: &<Db as sqlx::Database>::Row) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name();
        if NOT_EXPORTED.contains(&(table, name)) {
            continue;
        }
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
            serde_json::json!(v.map(|b| base64::engine::general_purpose::STANDARD.encode(b)))
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        };
        object.insert(name.to_string(), value);
    }
    serde_json::Value::Object(object)
}

/// What erasure looks for in rows that hold raw provider data: the
/// contact's identities (on their channel) and email and phone (anywhere).
struct Needles {
    by_channel: Vec<(i64, String)>,
    anywhere: Vec<String>,
}

impl Needles {
    async fn of(tx: &mut sqlx::Transaction<'_, Db>, contact_id: i64) -> Result<Needles> {
        let by_channel: Vec<(i64, String)> = sqlx::query_as(
            "SELECT channel_id, external_id FROM contact_identities WHERE contact_id = $1",
        )
        .bind(contact_id)
        .fetch_all(&mut **tx)
        .await?;
        let (email, phone): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT email, phone FROM contacts WHERE id = $1")
                .bind(contact_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(Needles {
            by_channel: by_channel
                .into_iter()
                .filter(|(_, id)| id.len() >= MIN_NEEDLE_LEN)
                .collect(),
            anywhere: [email, phone]
                .into_iter()
                .flatten()
                .filter(|v| v.len() >= MIN_NEEDLE_LEN)
                .collect(),
        })
    }

    /// Whether any of `parts` of a row of `channel` names the contact.
    fn found(&self, channel: &str, parts: &[&[u8]]) -> bool {
        let hit = |needle: &str| parts.iter().any(|p| contains(p, needle.as_bytes()));
        self.anywhere.iter().any(|n| hit(n))
            || self
                .by_channel
                .iter()
                .any(|(c, n)| c.to_string() == channel && hit(n))
    }
}

impl Backend {
    pub(super) async fn export_contact(&self, contact_id: i64) -> Result<Option<ContactExport>> {
        // One read transaction: every table from the same moment.
        let mut tx = self.read.begin().await?;
        let Some(contact) = sqlx::query("SELECT * FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let mut export = ContactExport::default();
        export
            .tables
            .insert("contacts".into(), vec![row_json("contacts", &contact)]);
        for keyed in keyed_tables(&mut tx).await? {
            let sql = format!("SELECT * FROM {} WHERE {}", keyed.table, keyed.condition());
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(contact_id)
                .fetch_all(&mut *tx)
                .await?;
            let rows = rows.iter().map(|r| row_json(&keyed.table, r)).collect();
            export.tables.insert(keyed.table, rows);
        }
        export.files = sqlx::query_as(concat!(
            "SELECT id, file_name, data FROM attachments WHERE data IS NOT NULL AND session_id IN (",
            "SELECT id FROM sessions WHERE contact_id = $1",
            ") ORDER BY id"
        ))
        .bind(contact_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.rollback().await?;
        Ok(Some(export))
    }

    pub(super) async fn erase(&self, actor: i64, contact_id: i64, now: Millis) -> Result<Erasure> {
        let mut tx = self.write.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(Erasure::NotFound);
        }
        let open: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE contact_id = $1 AND state <> 'closed' ORDER BY id",
        )
        .bind(contact_id)
        .fetch_all(&mut *tx)
        .await?;
        if !open.is_empty() {
            return Ok(Erasure::OpenSessions(
                open.into_iter().map(|(id,)| id).collect(),
            ));
        }
        let mut removed = BTreeMap::new();
        let needles = Needles::of(&mut tx, contact_id).await?;
        removed.insert(
            "failed_inbound".to_string(),
            erase_failed_inbound(&mut tx, &needles).await?,
        );
        removed.insert(
            "plugin_kv".to_string(),
            erase_plugin_kv(&mut tx, &needles).await?,
        );
        let (bytes,): (i64,) = sqlx::query_as(concat!(
            "SELECT CAST(COALESCE(SUM(COALESCE(size, 0)), 0) AS BIGINT) FROM attachments ",
            "WHERE data IS NOT NULL AND session_id IN (SELECT id FROM sessions WHERE contact_id = $1)"
        ))
        .bind(contact_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut keyed = keyed_tables(&mut tx).await?;
        keyed.sort_by_key(Keyed::erase_order);
        for table in keyed {
            let sql = format!("DELETE FROM {} WHERE {}", table.table, table.condition());
            let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(contact_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            *removed.entry(table.table).or_default() += n;
        }
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        removed.insert("contacts".into(), 1);
        removed.insert("attachment_bytes".into(), bytes as u64);
        // Counts only: the audit names the contact by id, which no longer
        // leads anywhere.
        let detail = serde_json::json!({ "removed": removed });
        audit(
            &mut tx,
            Some(actor),
            "contact.erase",
            &format!("contact:{contact_id}"),
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Erasure::Erased(removed))
    }
}

/// Failed inbound requests whose headers or body name the contact.
async fn erase_failed_inbound(
    tx: &mut sqlx::Transaction<'_, Db>,
    needles: &Needles,
) -> Result<u64> {
    let rows: Vec<(i64, i64, String, Vec<u8>)> =
        sqlx::query_as("SELECT id, channel_id, headers, body FROM failed_inbound")
            .fetch_all(&mut **tx)
            .await?;
    let mut removed = 0;
    for (id, channel, headers, body) in rows {
        if needles.found(&channel.to_string(), &[headers.as_bytes(), &body]) {
            sqlx::query("DELETE FROM failed_inbound WHERE id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Plugin kv entries whose key or value names one of the contact's
/// identities on that channel (or their email or phone).
async fn erase_plugin_kv(tx: &mut sqlx::Transaction<'_, Db>, needles: &Needles) -> Result<u64> {
    let rows: Vec<(String, String, String, Vec<u8>)> =
        sqlx::query_as("SELECT plugin, channel, key, value FROM plugin_kv")
            .fetch_all(&mut **tx)
            .await?;
    let mut removed = 0;
    for (plugin, channel, key, value) in rows {
        if needles.found(&channel, &[key.as_bytes(), &value]) {
            sqlx::query("DELETE FROM plugin_kv WHERE plugin = $1 AND channel = $2 AND key = $3")
                .bind(&plugin)
                .bind(&channel)
                .bind(&key)
                .execute(&mut **tx)
                .await?;
            removed += 1;
        }
    }
    Ok(removed)
}
