//! What a hook's script reads of a session's transcript (A1–A4, W2, Q1):
//! the message counts and the last times, in one query instead of reading
//! every message.

use super::*;

/// Customers' messages (`in`) and agents' replies (`out` with an author;
/// notices and bot texts have none), counted, with the times of the newest
/// ones in message order and who wrote the newest of them.
const FIGURES: &str = "SELECT \
     COALESCE(SUM(CASE WHEN direction = 'in' THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN direction = 'out' AND author_id IS NOT NULL THEN 1 ELSE 0 END), 0), \
     (SELECT created_at FROM messages WHERE session_id = $1 AND direction = 'in' \
      ORDER BY id DESC LIMIT 1), \
     (SELECT created_at FROM messages WHERE session_id = $1 AND direction = 'in' \
      ORDER BY id DESC LIMIT 1 OFFSET 1), \
     (SELECT created_at FROM messages WHERE session_id = $1 AND direction = 'out' \
      AND author_id IS NOT NULL ORDER BY id DESC LIMIT 1), \
     (SELECT direction FROM messages WHERE session_id = $1 \
      AND (direction = 'in' OR author_id IS NOT NULL) ORDER BY id DESC LIMIT 1) \
     FROM messages WHERE session_id = $1";

type Row = (
    i64,
    i64,
    Option<Millis>,
    Option<Millis>,
    Option<Millis>,
    Option<String>,
);

/// The transcript figures of `session_id`; all zero and `None` for a
/// session without messages.
pub(crate) async fn transcript_figures(
    pool: &Pool<Db>,
    session_id: i64,
) -> Result<TranscriptFigures> {
    let (customer, agent, last_customer, previous_customer, last_agent, last): Row =
        sqlx::query_as(FIGURES)
            .bind(session_id)
            .fetch_one(pool)
            .await?;
    Ok(TranscriptFigures {
        customer_messages: customer,
        agent_messages: agent,
        last_customer_message_at: last_customer,
        previous_customer_message_at: previous_customer,
        last_agent_message_at: last_agent,
        last_from_customer: last.map(|direction| direction == "in"),
    })
}
