//! G1: the consent notice in front of routing.
//!
//! A channel with a `consent` notice in its config holds each new session of
//! a contact who has not accepted the current notice version: the message is
//! stored, the notice goes to the customer, and the session stays out of the
//! router (no routing, no A1/W2) until the customer answers yes. The answer
//! and its time are recorded on the contact, so the next session goes
//! straight through. A "no" is recorded too, and the notice is offered again
//! with each later message so the customer can change their mind.

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_routing::{SessionId, Timestamp};
use frontdesk_rules::{
    ConsentGate, ConsentNotice, ConsentRecord, ConsentStatus, consent_prompt, parse_consent_answer,
};

use super::driver::Driver;
use super::{EngineError, Event};
use crate::store::{ConsentRow, Direction, Role, Session, StoreError, Viewer};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

/// Each channel's notice (or none), read once per channel change.
pub(super) type ConsentCache = HashMap<i64, Option<Arc<ConsentNotice>>>;

impl Driver {
    /// The channel's consent notice; a stored notice that no longer reads is
    /// logged and treated as none (the API validates it on save).
    async fn consent_notice(
        &mut self,
        channel: i64,
    ) -> Result<Option<Arc<ConsentNotice>>, EngineError> {
        if let Some(notice) = self.consents.get(&channel) {
            return Ok(notice.clone());
        }
        let row = self
            .store
            .channel(channel)
            .await?
            .ok_or(StoreError::NotFound("channel"))?;
        let notice = match row.config.consent() {
            Some(Ok(notice)) => Some(Arc::new(notice)),
            Some(Err(err)) => {
                tracing::warn!(channel, error = %err, "consent notice ignored: it does not read");
                None
            }
            None => None,
        };
        self.consents.insert(channel, notice.clone());
        Ok(notice)
    }

    /// Where the session's contact stands with the channel's notice, or
    /// `None` when the channel has no notice.
    async fn consent_gate_of(
        &mut self,
        session: &Session,
    ) -> Result<Option<(Arc<ConsentNotice>, ConsentGate)>, EngineError> {
        let Some(notice) = self.consent_notice(session.channel_id).await? else {
            return Ok(None);
        };
        let record = self.consent_record(session.contact_id).await?;
        let gate = ConsentGate::decide(Some(&notice), record.as_ref());
        Ok(Some((notice, gate)))
    }

    /// The contact's standing with the channel's notice, as scripts read it
    /// (`contact.consent`); costs a read only where the channel has a notice.
    pub(super) async fn consent_status(
        &mut self,
        session: &Session,
    ) -> Result<ConsentStatus, EngineError> {
        let Some(notice) = self.consent_notice(session.channel_id).await? else {
            return Ok(ConsentStatus::NotRequired);
        };
        let record = self.consent_record(session.contact_id).await?;
        Ok(ConsentStatus::of(Some(&notice), record.as_ref()))
    }

    async fn consent_record(&self, contact: i64) -> Result<Option<ConsentRecord>, EngineError> {
        Ok(self.store.consent(contact).await?.map(|row| ConsentRecord {
            accepted: row.accepted,
            at: Timestamp::from_millis(row.at),
            notice_version: u32::try_from(row.notice_version).unwrap_or(0),
        }))
    }

    /// Whether a session must wait for consent before it is routed; for the
    /// sessions a restart finds unrouted, which were told the notice already.
    pub(super) async fn awaits_consent(&mut self, session: i64) -> Result<bool, EngineError> {
        let Some(row) = self.store.session(ADMIN, session).await? else {
            return Ok(false);
        };
        Ok(self
            .consent_gate_of(&row)
            .await?
            .is_some_and(|(_, gate)| !gate.proceeds()))
    }

    /// Passes an event on to routing, or holds it for consent. A new session
    /// of a contact who has not accepted gets the notice and is held (`None`);
    /// a message in a held session is read as the answer, and a yes opens the
    /// session for routing.
    pub(super) async fn consent_gate(
        &mut self,
        now: Timestamp,
        event: Event,
    ) -> Result<Option<Event>, EngineError> {
        let session = match &event {
            Event::SessionOpened {
                session, channel, ..
            } => {
                if self.consent_notice(*channel).await?.is_none() {
                    return Ok(Some(event));
                }
                *session
            }
            Event::CustomerMessage { session }
                if self.router.session(SessionId(*session)).is_none() =>
            {
                *session
            }
            _ => return Ok(Some(event)),
        };
        let Some(row) = self.store.session(ADMIN, session).await? else {
            return Ok(Some(event));
        };
        let Some((notice, gate)) = self.consent_gate_of(&row).await? else {
            return Ok(Some(event));
        };
        let opened = Event::SessionOpened {
            session,
            channel: row.channel_id,
            responsible: self
                .store
                .contact(ADMIN, row.contact_id)
                .await?
                .and_then(|c| c.responsible_user_id),
        };
        if gate.proceeds() {
            return Ok(Some(opened));
        }
        // The first message only asks; later ones may be the answer.
        if matches!(event, Event::CustomerMessage { .. }) {
            let answer = self
                .store
                .messages(session, 0, 10_000)
                .await?
                .into_iter()
                .rev()
                .find(|m| m.direction == Direction::In)
                .and_then(|m| parse_consent_answer(&m.body));
            if let Some(accepted) = answer {
                let record = ConsentRow {
                    accepted,
                    notice_version: i64::from(notice.version),
                    at: now.as_millis(),
                };
                self.store.set_consent(row.contact_id, &record).await?;
                tracing::info!(
                    session,
                    contact = row.contact_id,
                    accepted,
                    "consent answered (G1)"
                );
                if accepted {
                    return Ok(Some(opened));
                }
            }
        }
        let language = self
            .channel_for_hooks(row.channel_id)
            .await?
            .language
            .clone();
        self.notices
            .push((session, consent_prompt(&notice, &language)));
        Ok(None)
    }
}
