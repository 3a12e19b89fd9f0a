//! The inbound path's SQL.
//!
//! A batch is written with a handful of multi-row statements instead of a
//! few per message: per-statement overhead, not the disk, is what limits
//! SQLite once group commit has shared out the fsync.

use super::*;
use super::{insert_attachments, lead_in, note_no_lead};

/// Stores a batch of inbound messages inside one transaction (S3).
///
/// Every key is claimed first, in one statement: the keys that come
/// back are new; the rest were stored by an earlier batch (answered
/// from `messages`), and a key repeated inside the batch is answered
/// like its first occurrence. On PostgreSQL a second node claiming the
/// same key waits for this transaction, then finds the key taken.
pub(crate) async fn ingest_batch(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &[IngestItem],
    now: Millis,
) -> Result<Vec<Accepted>> {
    use std::collections::{HashMap, HashSet};
    if batch.is_empty() {
        return Ok(Vec::new());
    }

    let mut claim = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO inbound_keys (channel_id, external_id, created_at) ",
    );
    // Keys are claimed in one global order, so two nodes claiming
    // overlapping batches wait for each other instead of deadlocking.
    let mut keys: Vec<(i64, &str)> = batch
        .iter()
        .map(|item| (item.channel_id, item.message.external_id.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    claim.push_values(&keys, |mut row, &(channel, external)| {
        row.push_bind(channel).push_bind(external).push_bind(now);
    });
    claim.push(" ON CONFLICT DO NOTHING RETURNING channel_id, external_id");
    let claimed: HashSet<(i64, String)> = claim
        .build_query_as::<(i64, String)>()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();

    // Which items are new, which were stored before, which repeat an item of this batch.
    let mut first: HashMap<(i64, &str), usize> = HashMap::new();
    let (mut fresh, mut earlier) = (Vec::new(), Vec::new());
    for (i, item) in batch.iter().enumerate() {
        let key = (item.channel_id, item.message.external_id.as_str());
        if first.contains_key(&key) {
            continue;
        }
        first.insert(key, i);
        if claimed.contains(&(key.0, key.1.to_string())) {
            fresh.push(i);
        } else {
            earlier.push(i);
        }
    }

    let mut answers: Vec<Option<Accepted>> = vec![None; batch.len()];
    if !earlier.is_empty() {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT channel_id, external_id, id, session_id FROM messages WHERE (channel_id, external_id) IN (",
        );
        q.push_values(&earlier, |mut row, &i| {
            row.push_bind(batch[i].channel_id)
                .push_bind(batch[i].message.external_id.as_str());
        });
        q.push(")");
        let found: HashMap<(i64, String), (i64, i64)> = q
            .build_query_as::<(i64, String, i64, i64)>()
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|(c, e, m, s)| ((c, e), (m, s)))
            .collect();
        for &i in &earlier {
            let key = (batch[i].channel_id, batch[i].message.external_id.clone());
            let &(message_id, session_id) = found.get(&key).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "inbound key {key:?} is claimed but its message is missing"
                ))
            })?;
            answers[i] = Some(Accepted {
                message_id,
                session_id,
                duplicate: true,
                new_session: false,
                contact: None,
            });
        }
    }

    if !fresh.is_empty() {
        let sessions = sessions_for(tx, batch, &fresh, now).await?;
        let mut insert = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO messages (session_id, channel_id, direction, external_id, body, created_at, edit_of) ",
        );
        insert.push_values(&fresh, |mut row, &i| {
            let item = &batch[i];
            row.push_bind(sessions.of(item))
                .push_bind(item.channel_id)
                .push_bind(Direction::In)
                .push_bind(item.message.external_id.as_str())
                .push_bind(item.message.text.as_str())
                .push_bind(now)
                .push_bind(item.message.edit_of.as_deref());
        });
        insert.push(" RETURNING channel_id, external_id, id");
        let ids: HashMap<(i64, String), i64> = insert
            .build_query_as::<(i64, String, i64)>()
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|(c, e, id)| ((c, e), id))
            .collect();
        let mut with_files = Vec::new();
        for &i in &fresh {
            let item = &batch[i];
            let session_id = sessions.of(item);
            let message_id = ids[&(item.channel_id, item.message.external_id.clone())];
            let opened = sessions
                .opened_by
                .get(&session_id)
                .filter(|(item, _)| *item == i);
            answers[i] = Some(Accepted {
                message_id,
                session_id,
                duplicate: false,
                new_session: opened.is_some(),
                contact: opened.map(|(_, contact)| *contact),
            });
            if !item.message.attachments.is_empty() {
                with_files.push((i, message_id, session_id));
            }
        }
        // In the message's transaction, so a retry stores none twice (S3).
        if !with_files.is_empty() {
            insert_attachments(tx, batch, &with_files, now).await?;
        }
    }

    // Repeats inside the batch get their first occurrence's answer.
    let mut out = Vec::with_capacity(batch.len());
    for (i, item) in batch.iter().enumerate() {
        let answer = match answers[i] {
            Some(answer) => answer,
            None => {
                let original = first[&(item.channel_id, item.message.external_id.as_str())];
                let answer = answers[original].expect("the first occurrence is answered");
                Accepted {
                    duplicate: true,
                    new_session: false,
                    contact: None,
                    ..answer
                }
            }
        };
        out.push(answer);
    }
    // PostgreSQL: routing hears of the messages from this transaction's rows.
    super::inbox::write_inbound(tx, batch, &out).await?;
    Ok(out)
}

/// The open session of each chat in the batch, opening those that have none.
struct ChatSessions {
    by_chat: std::collections::HashMap<(i64, String), i64>,
    /// Q1: a score from a chat with no open session answers the
    /// chat's session that waits for its rating, keyed by
    /// (channel, external id), instead of opening a new session.
    rating_answers: std::collections::HashMap<(i64, String), i64>,
    /// Sessions opened by this batch, with the item that opened them and
    /// their contact.
    opened_by: std::collections::HashMap<i64, (usize, SessionContact)>,
}

impl ChatSessions {
    fn of(&self, item: &IngestItem) -> i64 {
        let key = (item.channel_id, item.message.external_id.clone());
        match self.rating_answers.get(&key) {
            Some(&session) => session,
            None => self.by_chat[&(item.channel_id, item.message.chat_id.clone())],
        }
    }
}

async fn sessions_for(
    tx: &mut sqlx::Transaction<'_, Db>,
    batch: &[IngestItem],
    fresh: &[usize],
    now: Millis,
) -> Result<ChatSessions> {
    let mut chats: Vec<(i64, &str)> = fresh
        .iter()
        .map(|&i| (batch[i].channel_id, batch[i].message.chat_id.as_str()))
        .collect();
    chats.sort_unstable();
    chats.dedup();
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT channel_id, chat_id, id FROM sessions WHERE state NOT IN ('closed', 'rating') \
         AND (channel_id, chat_id) IN (",
    );
    q.push_values(&chats, |mut row, &(channel, chat)| {
        row.push_bind(channel).push_bind(chat);
    });
    q.push(")");
    let by_chat: std::collections::HashMap<(i64, String), i64> = q
        .build_query_as::<(i64, String, i64)>()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(c, chat, id)| ((c, chat), id))
        .collect();
    let mut sessions = ChatSessions {
        by_chat,
        rating_answers: Default::default(),
        opened_by: Default::default(),
    };
    if !sessions.by_chat.is_empty() {
        let mut touch = sqlx::QueryBuilder::<Db>::new("UPDATE sessions SET last_message_at = ");
        touch
            .push_bind(now)
            .push(", updated_at = ")
            .push_bind(now)
            .push(" WHERE id IN (");
        let mut ids = touch.separated(", ");
        for id in sessions.by_chat.values() {
            ids.push_bind(*id);
        }
        touch.push(")");
        touch.build().execute(&mut **tx).await?;
    }
    for &i in fresh {
        let item = &batch[i];
        let key = (item.channel_id, item.message.chat_id.clone());
        // Rare (a score-like text with no open session), so one query each is fine.
        if !sessions.by_chat.contains_key(&key)
            && frontdesk_rules::parse_score(&item.message.text).is_some()
        {
            let rating: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM sessions WHERE channel_id = $1 AND chat_id = $2 AND state = 'rating' \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(item.channel_id)
            .bind(&item.message.chat_id)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some((id,)) = rating {
                sessions
                    .rating_answers
                    .insert((item.channel_id, item.message.external_id.clone()), id);
                continue;
            }
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = sessions.by_chat.entry(key) {
            let (id, contact) = open_session(tx, &batch[i], now).await?;
            slot.insert(id);
            sessions.opened_by.insert(id, (i, contact));
        }
    }
    Ok(sessions)
}

/// Opens a session for a chat with no open one, matching or creating the
/// contact (C1); returns it with its contact.
async fn open_session(
    tx: &mut sqlx::Transaction<'_, Db>,
    item: &IngestItem,
    now: Millis,
) -> Result<(i64, SessionContact)> {
    let sender = &item.message.sender;
    let email = crate::contacts::normalize::lenient_email(sender.email.as_deref());
    let phone = crate::contacts::normalize::lenient_phone(sender.phone.as_deref());
    let known: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT c.id, c.responsible_user_id FROM contact_identities i \
         JOIN contacts c ON c.id = i.contact_id WHERE i.channel_id = $1 AND i.external_id = $2",
    )
    .bind(item.channel_id)
    .bind(&sender.id)
    .fetch_optional(&mut **tx)
    .await?;
    let contact = match known {
        Some((id, responsible)) => SessionContact { id, responsible },
        None => {
            // C1: only details the channel vouches for find a known
            // contact, and only a contact whose details were vouched for.
            let matched: Option<(i64, Option<i64>)> = if sender.verified {
                sqlx::query_as(
                    "SELECT id, responsible_user_id FROM contacts WHERE NOT unverified AND (($1 IS NOT NULL AND email = $1) \
                     OR ($2 IS NOT NULL AND phone = $2)) ORDER BY id LIMIT 1",
                )
                .bind(&email)
                .bind(&phone)
                .fetch_optional(&mut **tx)
                .await?
            } else {
                None
            };
            let contact = match matched {
                Some((id, responsible)) => SessionContact { id, responsible },
                None => {
                    let name = sender.name.clone().unwrap_or_else(|| sender.id.clone());
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO contacts (name, email, phone, created_at, unverified) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(name)
                    .bind(&email)
                    .bind(&phone)
                    .bind(now)
                    .bind(!sender.verified)
                    .fetch_one(&mut **tx)
                    .await?;
                    SessionContact {
                        id,
                        responsible: None,
                    }
                }
            };
            sqlx::query(
                "INSERT INTO contact_identities (channel_id, external_id, contact_id) VALUES ($1, $2, $3)",
            )
            .bind(item.channel_id)
            .bind(&sender.id)
            .bind(contact.id)
            .execute(&mut **tx)
            .await?;
            contact
        }
    };
    let contact_id = contact.id;
    let (session_id,): (i64,) = sqlx::query_as(
        "INSERT INTO sessions (channel_id, contact_id, chat_id, source, state, created_at, updated_at, last_message_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5) RETURNING id",
    )
    .bind(item.channel_id)
    .bind(contact_id)
    .bind(&item.message.chat_id)
    .bind(&item.source)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO session_events (session_id, from_state, to_state, cause, at) \
         VALUES ($1, NULL, 'queued', 'first inbound message', $2)",
    )
    .bind(session_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    auto_lead(tx, item.channel_id, session_id, contact_id, now).await?;
    Ok((session_id, contact))
}

/// C2: a new customer's session gets a lead when the channel creates
/// them automatically; otherwise the session notes why it has none.
async fn auto_lead(
    tx: &mut sqlx::Transaction<'_, Db>,
    channel_id: i64,
    session_id: i64,
    contact_id: i64,
    now: Millis,
) -> Result<()> {
    use crate::store::LeadMode;
    // Unknown means no conversation before this one: a contact made
    // moments ago by the widget's pre-chat form is still new (C2).
    let earlier: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM sessions WHERE contact_id = $1 AND id <> $2 LIMIT 1")
            .bind(contact_id)
            .bind(session_id)
            .fetch_optional(&mut **tx)
            .await?;
    let new_contact = earlier.is_none();
    let (config,): (String,) = sqlx::query_as("SELECT config FROM channels WHERE id = $1")
        .bind(channel_id)
        .fetch_one(&mut **tx)
        .await?;
    let note = match ChannelConfig::parse(&config).leads() {
        LeadMode::Off => "this channel creates no leads (setting `leads`: off)",
        LeadMode::Manual => "in this channel an agent creates the lead (setting `leads`: manual)",
        LeadMode::Auto if !new_contact => "the customer was already a known contact (C1)",
        LeadMode::Auto => {
            lead_in(tx, session_id, "auto", now).await?;
            return Ok(());
        }
    };
    note_no_lead(tx, session_id, note).await
}
