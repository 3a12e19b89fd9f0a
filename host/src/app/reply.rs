//! Sending an agent's reply: stored and queued in the durable outbox (S5),
//! after routing allowed it (R18).

use frontdesk_routing::{AgentId, SessionId};

use super::{App, Error};
use crate::engine::{Actor, EngineError, Event, Outcome};
use crate::store::{Message, OutboxItem, Session, SessionState};

/// The longest reply text accepted, in bytes.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

impl App {
    /// Whether `text` may be sent in `session` at all: not empty, not too
    /// long, and the session still open. Checked before who may send it, so
    /// a wrong reply is told so whoever sends it.
    pub fn check_reply(&self, session: &Session, text: &str) -> Result<(), Error> {
        if text.trim().is_empty() {
            return Err(Error::invalid("text must not be empty"));
        }
        if text.len() > MAX_REPLY_BYTES {
            return Err(Error::invalid(format!(
                "text is longer than {MAX_REPLY_BYTES} bytes"
            )));
        }
        if session.state == SessionState::Closed {
            return Err(Error::Conflict(format!(
                "session {} is closed; the customer's next message opens a new one",
                session.id
            )));
        }
        Ok(())
    }

    /// Sends `text` as agent `agent`'s reply in session `session`, acting as
    /// `actor` ([`App::check_reply`] first). Routing decides, and the step
    /// that lets it through stores the message and its outbox entry in its
    /// own transaction; a refused reply (from a dismissed agent, say) stores
    /// nothing (R18, S5). The engine wakes the outbox worker.
    pub async fn send_reply(
        &self,
        actor: Actor,
        session: i64,
        agent: i64,
        text: &str,
    ) -> Result<(Message, OutboxItem), Error> {
        let event = Event::AgentMessage {
            session: SessionId(session),
            agent: AgentId(agent),
            text: text.to_string(),
        };
        match self.engine.send_as(actor, event).await? {
            Outcome::Replied(stored) => Ok(*stored),
            // Only a step that stored the reply answers `Replied`.
            outcome => Err(EngineError::NotStored(format!(
                "the routing engine answered {outcome:?} without the stored reply"
            ))
            .into()),
        }
    }
}
