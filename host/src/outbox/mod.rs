//! The delivery worker (S5): sends what the outbox holds, through the
//! channel's connector, retrying with backoff.
//!
//! An item is claimed alone just before it is sent, with a lease and the
//! name of its claimant (this node and process), then marked sent, due
//! again, or failed. A success is never sent again. A process that dies
//! between the provider's answer and the mark leaves only the items it was
//! sending at that moment; its node makes them due at once when it starts
//! again (a node that never comes back leaves them to the lease), so they go
//! out a second time: the only way to avoid that would be to mark before
//! sending, which loses messages instead. Receivers can drop such a repeat
//! by its delivery id (the outbox id, stable across retries).
//!
//! Deliveries run side by side, at most [`CAPS`] to one channel and in all
//! (the claim-and-wait loop is [`crate::leased`]'s), so a slow receiver
//! delays only its own channel. A chat's replies go one at a time, in the
//! order they were queued: the next waits until the one before is sent or
//! has failed for good.
//!
//! On shutdown the worker claims nothing more; deliveries in flight finish
//! and are recorded within the drain time (see [`crate::server::run`]).

use std::sync::Arc;

use crate::clock::Clock;
use crate::identity::AgentIdentity;
use crate::ingest::{AuthorIdentity, Connectors, Outbound, SendError};
use crate::leased::{Caps, Lanes, LeasedQueue};
use crate::node::Claimant;
use crate::store::{
    ChannelConfig, Delivery, DeliveryStore, Millis, OutboundJob, StorageHealth, UserStore,
};
use crate::webchat::Hub;

pub use crate::leased::backoff_ms;

/// Attempts before an item is marked failed for admins to see.
pub const MAX_ATTEMPTS: i64 = 8;
/// Deliveries in flight at once to one channel, and on this node.
pub const CAPS: Caps = Caps {
    per_lane: 4,
    total: 64,
};
/// How long a claimed item is kept from other workers while it is sent:
/// longer than any connector's send may take (the `api` callback gives up
/// after 15 s). It only matters when a node dies and does not come back.
const LEASE_MS: i64 = 60_000;
/// Candidates read at once.
const CANDIDATES: i64 = 256;

/// What the delivery worker needs: the store, the clock, the connectors it
/// sends through, the widget sockets a connector may push to, and who it
/// claims as.
#[derive(Clone)]
pub struct Outbox {
    pub store: Arc<dyn DeliveryStore>,
    pub clock: Arc<dyn Clock>,
    pub connectors: Connectors,
    pub webchat: Arc<Hub>,
    pub claimant: Claimant,
}

impl LeasedQueue for Outbox {
    type Job = OutboundJob;

    async fn on_start(&self) {
        let node = &self.claimant.node;
        match self
            .store
            .release_outbox_claims(node, self.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(released) => tracing::info!(
                released,
                %node,
                "replies this node was sending when it stopped are due again"
            ),
            Err(err) => {
                tracing::error!(error = %err, "cannot release this node's earlier outbox claims; they come back when their lease runs out")
            }
        }
    }

    async fn claim(
        &self,
        now: Millis,
        room: &mut Lanes,
    ) -> Result<Vec<(i64, OutboundJob)>, crate::store::StoreError> {
        let due = self
            .store
            .due_outbox(now, room.per_lane() as i64, CANDIDATES)
            .await?;
        let claim = (self.claimant.node.as_ref(), self.claimant.token.as_ref());
        let mut claimed = Vec::new();
        for item in due {
            if room.free() == 0 {
                break;
            }
            if !room.take(item.channel_id) {
                continue;
            }
            match self.store.claim_outbox(item.id, claim, now, LEASE_MS).await {
                Ok(Some(job)) => claimed.push((job.channel_id, job)),
                // Another node took it, or it was finished meanwhile.
                Ok(None) => {}
                Err(err) if claimed.is_empty() => return Err(err),
                // What is claimed already goes out; the rest waits for the next look.
                Err(err) => {
                    self.store.health().observe(&err);
                    tracing::error!(outbox = item.id, error = %err, "cannot claim an outbox item");
                    break;
                }
            }
        }
        Ok(claimed)
    }

    async fn next_due(&self, now: Millis) -> Result<Option<Millis>, crate::store::StoreError> {
        self.store.next_outbox_due(now).await
    }

    async fn work(&self, job: OutboundJob) {
        deliver(self, job).await;
    }

    fn health(&self) -> &StorageHealth {
        self.store.health()
    }
}

async fn attempt(outbox: &Outbox, job: &OutboundJob) -> Result<(), SendError> {
    let channel = outbox
        .store
        .channel(job.channel_id)
        .await
        .map_err(|e| SendError::Transient {
            message: e.to_string(),
            retry_after_ms: None,
        })?
        .ok_or_else(|| {
            SendError::Permanent(format!("channel {} no longer exists", job.channel_id))
        })?;
    let connector = outbox
        .connectors
        .get(&channel.kind)
        .ok_or_else(|| SendError::Transient {
            message: format!(
                "no connector is installed for channel kind {:?}",
                channel.kind
            ),
            retry_after_ms: None,
        })?;
    let author = match job.author_id {
        Some(agent) => shown_author(outbox.store.as_ref(), &channel.config, agent).await,
        None => None,
    };
    let message = Outbound {
        delivery_id: job.id,
        message_id: job.message_id,
        chat_id: job.chat_id.clone(),
        text: job.text.clone(),
        author,
    };
    let sent = connector.deliver(&channel, &message).await?;
    if let Some(frame) = sent.push {
        // Live sockets on this node get it now; everyone else on resume.
        outbox
            .webchat
            .push(
                outbox.store.as_ref(),
                job.channel_id,
                &job.chat_id,
                job.message_id,
                &frame,
            )
            .await;
    }
    Ok(())
}

/// I1: the agent as the channel shows them. A user who cannot be read now
/// is sent without a name rather than holding the customer's reply back.
async fn shown_author(
    store: &dyn UserStore,
    channel_config: &ChannelConfig,
    agent: i64,
) -> Option<AuthorIdentity> {
    let identity = AgentIdentity::of_channel_config(channel_config);
    if identity == AgentIdentity::Hidden {
        return None;
    }
    match store.user(agent).await {
        Ok(Some(user)) => identity.shown(&user),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(agent, error = %err, "cannot read the agent for their name; sending without it");
            None
        }
    }
}

async fn deliver(outbox: &Outbox, job: OutboundJob) {
    let outcome = match attempt(outbox, &job).await {
        Ok(()) => Delivery::Sent,
        Err(SendError::Permanent(error)) => Delivery::Failed { error },
        Err(SendError::Transient { message, .. }) if job.attempts + 1 >= MAX_ATTEMPTS => {
            Delivery::Failed {
                error: format!("gave up after {MAX_ATTEMPTS} attempts: {message}"),
            }
        }
        Err(SendError::Transient {
            message,
            retry_after_ms,
        }) => {
            let at =
                outbox.clock.now() + retry_after_ms.unwrap_or_else(|| backoff_ms(job.attempts));
            Delivery::Retry { at, error: message }
        }
    };
    let label = match &outcome {
        Delivery::Sent => "sent",
        Delivery::Retry { .. } => "retry",
        Delivery::Failed { error } => {
            tracing::warn!(outbox = job.id, %error, "outbound message failed for good");
            "failed"
        }
    };
    metrics::counter!("frontdesk_outbox_attempts_total", "outcome" => label).increment(1);
    let token = outbox.claimant.token.as_ref();
    match outbox
        .store
        .finish_outbox(job.id, token, &outcome, outbox.clock.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            outbox = job.id,
            outcome = label,
            "a delivery outlived its claim; another worker has the item and records it"
        ),
        // The node's next start, or the lease, makes the item due again.
        Err(err) => {
            outbox.store.health().observe(&err);
            tracing::error!(outbox = job.id, error = %err, "cannot record a delivery");
        }
    }
}

#[cfg(test)]
mod tests;
