//! The delivery worker (S5): sends what the outbox holds, through the
//! channel's connector, retrying with backoff.
//!
//! An item is claimed with a lease, sent, and then marked sent, due again, or
//! failed. A success is never sent again. A worker that dies between the
//! provider's answer and the mark sends that one item again when the lease
//! runs out: the only way to avoid that would be to mark before sending,
//! which loses messages instead. Receivers can drop such a repeat by its
//! delivery id (the outbox id, stable across retries).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::api::AppState;
use crate::identity::AgentIdentity;
use crate::ingest::{AuthorIdentity, Outbound, SendError};
use crate::store::{Delivery, Millis, OutboundJob};

/// Attempts before an item is marked failed for admins to see.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed item is kept from other workers while it is sent.
const LEASE_MS: i64 = 60_000;
/// Items claimed at once.
const BATCH: i64 = 32;
/// How often the worker looks for items nobody told it about (engine notices).
const POLL: Duration = Duration::from_secs(1);

/// Delay before retry number `attempts + 1`: 1 s, 2 s, 4 s, ... at most an hour.
pub fn backoff_ms(attempts: i64) -> Millis {
    (1_000_i64 << attempts.clamp(0, 12)).min(3_600_000)
}

/// Starts the worker; `wake` makes it look at once (after a reply is queued).
pub fn start(state: AppState, wake: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            let now = state.clock.now();
            match state.store.claim_outbox(now, LEASE_MS, BATCH).await {
                Ok(jobs) if !jobs.is_empty() => {
                    for job in jobs {
                        deliver(&state, job).await;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(err) => {
                    state.store.health().observe(&err);
                    tracing::error!(error = %err, "cannot read the outbox");
                }
            }
            let due = state
                .store
                .next_outbox_due()
                .await
                .ok()
                .flatten()
                .unwrap_or(i64::MAX);
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = state.clock.sleep_until(due) => {}
            }
        }
    });
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
    if let Err(err) = state
        .store
        .finish_outbox(job.id, &outcome, state.clock.now())
        .await
    {
        state.store.health().observe(&err);
        // The lease runs out and the item is tried again.
        tracing::error!(outbox = job.id, error = %err, "cannot record a delivery");
    }
}

#[cfg(test)]
mod tests;
