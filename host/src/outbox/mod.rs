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
//! Deliveries run side by side, at most [`PER_CHANNEL`] to one channel and
//! [`IN_FLIGHT`] in all, so a slow receiver delays only its own channel. A
//! chat's replies go one at a time, in the order they were queued: the next
//! waits until the one before is sent or has failed for good.
//!
//! On shutdown the worker claims nothing more; deliveries in flight finish
//! and are recorded within the drain time (see [`crate::server::run`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use crate::api::AppState;
use crate::identity::AgentIdentity;
use crate::ingest::{AuthorIdentity, Outbound, SendError};
use crate::store::{Delivery, Millis, OutboundJob};

/// Attempts before an item is marked failed for admins to see.
pub const MAX_ATTEMPTS: i64 = 8;
/// Deliveries in flight at once to one channel.
pub const PER_CHANNEL: usize = 4;
/// Deliveries in flight at once on this node.
pub const IN_FLIGHT: usize = 64;
/// How long a claimed item is kept from other workers while it is sent:
/// longer than any connector's send may take (the `api` callback gives up
/// after 15 s). It only matters when a node dies and does not come back.
const LEASE_MS: i64 = 60_000;
/// Candidates read at once.
const CANDIDATES: i64 = 256;
/// How often the worker looks for items nobody on this node told it about
/// (another node's replies); this node's API and engine wake it at once.
const POLL: Duration = Duration::from_secs(1);

/// Delay before retry number `attempts + 1`: 1 s, 2 s, 4 s, ... at most an hour.
pub fn backoff_ms(attempts: i64) -> Millis {
    (1_000_i64 << attempts.clamp(0, 12)).min(3_600_000)
}

/// Starts the worker; `wake` makes it look at once (after a reply is queued).
pub fn start(state: AppState, wake: Arc<Notify>) {
    let tracker = state.workers.tracker.clone();
    tracker.spawn(dispatch(state, wake));
}

/// Deliveries in flight, by channel.
#[derive(Default)]
struct InFlight {
    by_channel: HashMap<i64, usize>,
    total: usize,
}

impl InFlight {
    fn has_room(&self, channel: i64) -> bool {
        self.total < IN_FLIGHT && self.by_channel.get(&channel).copied().unwrap_or(0) < PER_CHANNEL
    }

    fn started(&mut self, channel: i64) {
        *self.by_channel.entry(channel).or_default() += 1;
        self.total += 1;
    }

    fn finished(&mut self, channel: i64) {
        if let Some(n) = self.by_channel.get_mut(&channel) {
            *n -= 1;
            if *n == 0 {
                self.by_channel.remove(&channel);
            }
        }
        self.total -= 1;
    }
}

async fn dispatch(state: AppState, wake: Arc<Notify>) {
    let stop = state.workers.stop.clone();
    let claimant = state.claimant.clone();
    match state
        .store
        .release_outbox_claims(&claimant.node, state.clock.now())
        .await
    {
        Ok(0) => {}
        Ok(released) => tracing::info!(
            released,
            node = %claimant.node,
            "replies this node was sending when it stopped are due again"
        ),
        Err(err) => {
            tracing::error!(error = %err, "cannot release this node's earlier outbox claims; they come back when their lease runs out")
        }
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<i64>();
    let mut in_flight = InFlight::default();
    while !stop.is_cancelled() {
        while let Ok(channel) = done_rx.try_recv() {
            in_flight.finished(channel);
        }
        let now = state.clock.now();
        if in_flight.total < IN_FLIGHT {
            match state
                .store
                .due_outbox(now, PER_CHANNEL as i64, CANDIDATES)
                .await
            {
                Ok(due) => {
                    for item in due {
                        if stop.is_cancelled() {
                            break;
                        }
                        if !in_flight.has_room(item.channel_id) {
                            continue;
                        }
                        let claim = (claimant.node.as_ref(), claimant.token.as_ref());
                        match state
                            .store
                            .claim_outbox(item.id, claim, now, LEASE_MS)
                            .await
                        {
                            Ok(Some(job)) => {
                                in_flight.started(job.channel_id);
                                let (state, done) = (state.clone(), done_tx.clone());
                                state.workers.tracker.clone().spawn(async move {
                                    let channel = job.channel_id;
                                    deliver(&state, job).await;
                                    let _ = done.send(channel);
                                });
                            }
                            // Another node took it, or it was finished meanwhile.
                            Ok(None) => {}
                            Err(err) => {
                                state.store.health().observe(&err);
                                tracing::error!(outbox = item.id, error = %err, "cannot claim an outbox item");
                                break;
                            }
                        }
                    }
                }
                Err(err) => {
                    state.store.health().observe(&err);
                    tracing::error!(error = %err, "cannot read the outbox");
                }
            }
        }
        // Items due now but not sendable yet wait for a delivery to finish
        // (their chat's older reply) or the poll, not for their due time.
        let next = state
            .store
            .next_outbox_due(now)
            .await
            .ok()
            .flatten()
            .unwrap_or(Millis::MAX);
        tokio::select! {
            () = stop.cancelled() => {}
            () = wake.notified() => {}
            Some(channel) = done_rx.recv() => in_flight.finished(channel),
            () = tokio::time::sleep(POLL) => {}
            () = state.clock.sleep_until(next) => {}
        }
    }
}

async fn attempt(state: &AppState, job: &OutboundJob) -> Result<(), SendError> {
    let channel = state
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
    let connector = state
        .connector(&channel.kind)
        .ok_or_else(|| SendError::Transient {
            message: format!(
                "no connector is installed for channel kind {:?}",
                channel.kind
            ),
            retry_after_ms: None,
        })?;
    let author = match job.author_id {
        Some(agent) => shown_author(state, &channel.config, agent).await,
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
        state
            .webchat
            .push(state, job.channel_id, &job.chat_id, job.message_id, &frame)
            .await;
    }
    Ok(())
}

/// I1: the agent as the channel shows them. A user who cannot be read now
/// is sent without a name rather than holding the customer's reply back.
async fn shown_author(
    state: &AppState,
    channel_config: &str,
    agent: i64,
) -> Option<AuthorIdentity> {
    let identity = AgentIdentity::of_channel_config(channel_config);
    if identity == AgentIdentity::Hidden {
        return None;
    }
    match state.store.user(agent).await {
        Ok(Some(user)) => identity.shown(&user),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(agent, error = %err, "cannot read the agent for their name; sending without it");
            None
        }
    }
}

async fn deliver(state: &AppState, job: OutboundJob) {
    let outcome = match attempt(state, &job).await {
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
            let at = state.clock.now() + retry_after_ms.unwrap_or_else(|| backoff_ms(job.attempts));
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
    let token = state.claimant.token.as_ref();
    match state
        .store
        .finish_outbox(job.id, token, &outcome, state.clock.now())
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
            state.store.health().observe(&err);
            tracing::error!(outbox = job.id, error = %err, "cannot record a delivery");
        }
    }
}

#[cfg(test)]
mod tests;
