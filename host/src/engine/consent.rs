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

use frontdesk_routing::{AgentId, QueueId, Router, Timestamp};
use frontdesk_rules::{
    ConsentGate as Decision, ConsentNotice, ConsentRecord, ConsentStatus, consent_prompt,
    parse_consent_answer,
};

use super::{EngineError, Event};
use crate::store::{
    ConsentGateStore, ConsentRow, Direction, Role, RoutingBatch, StoreError, Viewer,
};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

/// What the gate reads of a channel: its notice (or none), and the
/// language the notice is shown in (O3).
#[derive(Clone)]
struct ChannelNotice {
    notice: Option<Arc<ConsentNotice>>,
    language: String,
}

/// The consent gate the driver owns: each channel's notice, read once per
/// channel change, and the answers the step being built records.
pub(super) struct ConsentGate {
    store: Arc<dyn ConsentGateStore>,
    /// Each channel's notice and language.
    notices: HashMap<i64, ChannelNotice>,
    /// Answers given in the step being built, by contact: they are written
    /// with the step (in its transaction), so until then they are read here.
    answered: HashMap<i64, ConsentRecord>,
}

impl ConsentGate {
    pub(super) fn new(store: Arc<dyn ConsentGateStore>) -> ConsentGate {
        ConsentGate {
            store,
            notices: HashMap::new(),
            answered: HashMap::new(),
        }
    }

    /// Forgets a channel's notice after an admin changed the channel.
    pub(super) fn forget(&mut self, channel: i64) {
        self.notices.remove(&channel);
    }

    /// The step with this gate's answers was written (or dropped, and the
    /// router rebuilt from the store): the store is the truth again.
    pub(super) fn stepped(&mut self) {
        self.answered.clear();
    }

    /// The channel's consent notice; a stored notice that no longer reads is
    /// logged and treated as none (the API validates it on save).
    async fn notice(&mut self, channel: i64) -> Result<Option<Arc<ConsentNotice>>, EngineError> {
        Ok(self.channel(channel).await?.notice)
    }

    /// The channel's notice and language, read once per channel change.
    async fn channel(&mut self, channel: i64) -> Result<ChannelNotice, EngineError> {
        if let Some(read) = self.notices.get(&channel) {
            return Ok(read.clone());
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
        let read = ChannelNotice {
            notice,
            language: row.config.language().to_string(),
        };
        self.notices.insert(channel, read.clone());
        Ok(read)
    }

    /// Where the session's contact stands with the channel's notice, or
    /// `None` when the channel has no notice.
    async fn decide(
        &mut self,
        channel: i64,
        contact: i64,
    ) -> Result<Option<(Arc<ConsentNotice>, Decision)>, EngineError> {
        let Some(notice) = self.notice(channel).await? else {
            return Ok(None);
        };
        let record = self.record(contact).await?;
        let gate = Decision::decide(Some(&notice), record.as_ref());
        Ok(Some((notice, gate)))
    }

    /// The contact's standing with the channel's notice, as scripts read it
    /// (`contact.consent`); costs a read only where the channel has a notice.
    pub(super) async fn status(
        &mut self,
        channel: i64,
        contact: i64,
    ) -> Result<ConsentStatus, EngineError> {
        let Some(notice) = self.notice(channel).await? else {
            return Ok(ConsentStatus::NotRequired);
        };
        let record = self.record(contact).await?;
        Ok(ConsentStatus::of(Some(&notice), record.as_ref()))
    }

    async fn record(&self, contact: i64) -> Result<Option<ConsentRecord>, EngineError> {
        if let Some(record) = self.answered.get(&contact) {
            return Ok(Some(*record));
        }
        Ok(self.store.consent(contact).await?.map(|row| ConsentRecord {
            accepted: row.accepted,
            at: Timestamp::from_millis(row.at),
            notice_version: u32::try_from(row.notice_version).unwrap_or(0),
        }))
    }

    /// Whether a session must wait for consent before it is routed; for the
    /// sessions a restart finds unrouted, which were told the notice already.
    pub(super) async fn awaits(&mut self, session: i64) -> Result<bool, EngineError> {
        let Some(row) = self.store.session(ADMIN, session).await? else {
            return Ok(false);
        };
        Ok(self
            .decide(row.channel_id, row.contact_id)
            .await?
            .is_some_and(|(_, gate)| !gate.proceeds()))
    }

    /// Passes an event on to routing, or holds it for consent. A new session
    /// of a contact who has not accepted gets the notice and is held (`None`);
    /// a message in a held session is read as the answer, and a yes opens the
    /// session for routing. The notice and the answer go into `batch`, so
    /// they are written in the step's transaction.
    pub(super) async fn pass(
        &mut self,
        router: &Router,
        batch: &mut RoutingBatch,
        now: Timestamp,
        event: Event,
    ) -> Result<Option<Event>, EngineError> {
        let (session, channel, contact, responsible) = match event {
            // Ingest handed over the contact and its responsible agent.
            Event::SessionOpened {
                session,
                channel,
                contact,
                responsible,
            } => (session, channel, contact, responsible),
            // A session the router does not know waits for consent: the
            // only case that reads the session and its contact.
            Event::CustomerMessage { session } if router.session(session).is_none() => {
                let Some(row) = self.store.session(ADMIN, session.0).await? else {
                    return Ok(Some(event));
                };
                if self.notice(row.channel_id).await?.is_none() {
                    return Ok(Some(event));
                }
                let contact = self.store.contact(ADMIN, row.contact_id).await?;
                let responsible = contact.and_then(|c| c.responsible_user_id);
                (
                    session,
                    QueueId(row.channel_id),
                    row.contact_id,
                    responsible.map(AgentId),
                )
            }
            _ => return Ok(Some(event)),
        };
        let Some((notice, gate)) = self.decide(channel.0, contact).await? else {
            return Ok(Some(event));
        };
        let opened = Event::SessionOpened {
            session,
            channel,
            contact,
            responsible,
        };
        if gate.proceeds() {
            return Ok(Some(opened));
        }
        // The first message only asks; later ones may be the answer.
        if matches!(event, Event::CustomerMessage { .. }) {
            let answer = self
                .store
                .messages(session.0, 0, 10_000)
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
                self.answered.insert(
                    contact,
                    ConsentRecord {
                        accepted,
                        at: now,
                        notice_version: notice.version,
                    },
                );
                batch.consents.push((contact, record));
                tracing::info!(
                    session = session.0,
                    contact,
                    accepted,
                    "consent answered (G1)"
                );
                if accepted {
                    return Ok(Some(opened));
                }
            }
        }
        let language = self.channel(channel.0).await?.language;
        batch
            .notices
            .push((session.0, consent_prompt(&notice, &language)));
        Ok(None)
    }
}
