//! Receiving: the core of every inbound path (webhooks, the SMTP listener,
//! the IMAP poller, the widget's socket). The channel's connector verifies
//! and parses the request, its messages are committed (S3, S4), routing is
//! told, and only then is there an answer.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::{App, Error};
use crate::engine::Event;
use crate::ingest::{ConnectorError, InboundRequest, Reply};
use crate::store::{Accepted, AttachmentState, Channel, IngestItem};

/// How long a channel's settings are reused before they are read again.
///
/// Webhooks are the hot path; reading the channel row for each would double
/// the queries per message. Local admin changes invalidate at once; changes
/// made on another node show up within this time.
const CHANNEL_TTL: Duration = Duration::from_secs(5);

/// Recently read channels, for the inbound path.
#[derive(Default)]
pub struct InboundChannels(RwLock<HashMap<i64, (Instant, Channel)>>);

impl InboundChannels {
    /// Forgets a channel after an admin changed it.
    pub fn invalidate(&self, id: i64) {
        self.0.write().expect("channel cache lock").remove(&id);
    }

    async fn get(&self, app: &App, id: i64) -> Result<Option<Channel>, Error> {
        if let Some((at, channel)) = self.0.read().expect("channel cache lock").get(&id)
            && at.elapsed() < CHANNEL_TTL
        {
            return Ok(Some(channel.clone()));
        }
        let channel = app.store.channel(id).await?;
        if let Some(channel) = &channel {
            self.0
                .write()
                .expect("channel cache lock")
                .insert(id, (Instant::now(), channel.clone()));
        }
        Ok(channel)
    }
}

/// The outcome of one inbound request whose messages are all committed.
#[derive(Debug)]
pub struct Received {
    /// Where each message landed, in the order the connector returned them.
    pub accepted: Vec<Accepted>,
    /// The connector's own answer for the provider, if it chose one.
    pub reply: Option<Reply>,
}

impl App {
    /// Receives `request` for channel `channel_id`: the connector verifies and
    /// parses it, its messages are committed (S3, S4), routing is told.
    ///
    /// An `Err` is never an acknowledgement: a refused signature stored
    /// nothing (P3), and a failed commit tells the sender to try again
    /// ([`Error::is_temporary`]). The SMTP listener builds its request with
    /// [`InboundRequest::post`] and answers 250 only on `Ok`.
    pub async fn receive_inbound(
        &self,
        channel_id: i64,
        request: InboundRequest,
    ) -> Result<Received, Error> {
        let channel = self
            .channels
            .get(self, channel_id)
            .await?
            .ok_or_else(|| Error::not_found("channel", channel_id))?;
        if !channel.enabled {
            return Err(Error::Unavailable(format!(
                "channel {channel_id} is disabled; an admin can enable it"
            )));
        }
        let connector = self.connector(&channel.kind).ok_or_else(|| {
            Error::Unavailable(format!(
                "no connector is installed for channel kind {:?}",
                channel.kind
            ))
        })?;
        let parsed = match connector.verify_and_parse(&channel, &request).await {
            // Authentic but unreadable: kept for admins, and 200 so the provider
            // does not hold back the chat's later updates.
            Err(ConnectorError::Unprocessable(reason)) => {
                super::failed_inbound::keep(
                    self,
                    channel_id,
                    &request.headers,
                    &request.body,
                    &reason,
                )
                .await?;
                return Ok(Received {
                    accepted: Vec::new(),
                    reply: None,
                });
            }
            Err(err) => return Err(self.refused(channel_id, &request, err).await),
            Ok(parsed) => parsed,
        };
        let mut accepted = Vec::with_capacity(parsed.messages.len());
        for message in parsed.messages {
            let fetch = message
                .attachments
                .iter()
                .any(|a| a.initial_state().0 == AttachmentState::Pending);
            let item = IngestItem {
                channel_id,
                source: connector.network().to_string(),
                message,
            };
            let answer = self.ingest.submit(item).await?;
            if fetch && !answer.duplicate {
                self.attachments.notify_one();
            }
            self.route(channel_id, answer).await;
            accepted.push(answer);
        }
        Ok(Received {
            accepted,
            reply: parsed.reply,
        })
    }

    /// What a webhook caller, who may be anyone, learns of a refusal: its kind,
    /// never the connector's own words, which can hold a guest's panic text or a
    /// configured host. Those go to the log, and a connector's fault also to
    /// failed inbound, where admins see it with the request.
    async fn refused(
        &self,
        channel_id: i64,
        request: &InboundRequest,
        err: ConnectorError,
    ) -> Error {
        metrics::counter!("frontdesk_webhook_refused_total").increment(1);
        tracing::info!(channel = channel_id, error = %err, "webhook refused");
        match err {
            ConnectorError::Unauthenticated(_) => Error::Refused(
                "the request's signature or secret token is missing or wrong; nothing was stored (P3)"
                    .into(),
            ),
            // Only after the request proved authentic: the sender may know why.
            ConnectorError::Malformed(detail) => Error::Invalid {
                code: "invalid_payload",
                message: detail,
            },
            ConnectorError::Unavailable(detail) | ConnectorError::Unprocessable(detail) => {
                let reason = format!("the channel's connector failed: {detail}");
                let kept = super::failed_inbound::keep(
                    self,
                    channel_id,
                    &request.headers,
                    &request.body,
                    &reason,
                )
                .await;
                if let Err(err) = kept {
                    tracing::warn!(channel = channel_id, error = %err, "cannot keep the failed request for admins");
                }
                Error::Unavailable(
                    "the channel's connector could not take the request now; nothing was stored, send it again later"
                        .into(),
                )
            }
        }
    }

    /// Tells the routing engine about a stored message, without making the
    /// provider wait for routing: the message is safe already.
    ///
    /// On PostgreSQL ingest wrote the event into the routing inbox in the
    /// message's own transaction, so it reaches the routing leader whichever
    /// node this is, even if this node dies now; this only wakes this node's
    /// engine in case it leads. On SQLite the event goes to the engine in
    /// memory (sessions it missed in a crash are routed when it starts
    /// again), waiting for room in its queue rather than dropping it; ingest
    /// read the new session's contact and responsible agent (R14), so
    /// nothing is read again here.
    async fn route(&self, channel: i64, answer: Accepted) {
        if answer.duplicate {
            return;
        }
        if self.engine.inbox_written() {
            return;
        }
        let Some(event) = Event::inbound(channel, &answer) else {
            return;
        };
        if let Err(err) = self.engine.enqueue(event).await {
            // Stored already; the engine routes it when it starts again.
            tracing::warn!(session = answer.session_id, error = %err, "message not handed to routing");
        }
    }
}
