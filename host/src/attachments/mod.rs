//! The attachment fetch worker (issue 6): downloads the files connectors
//! named in inbound messages and stores them, with their content type, in
//! the database.
//!
//! A pending attachment is claimed with a lease (like the outbox), handed to
//! its channel's connector plugin (`fetch-attachment`), and then stored,
//! due again, or failed with the reason. The plugin fetches through the
//! host's `http` import, which checks the manifest's allow-list before any
//! socket opens: a URL a message names on a host outside it is refused,
//! never requested. The plugin host caps each response at
//! [`HostLimits::max_attachment_bytes`](frontdesk_plugin_host::HostLimits)
//! (`--max-attachment-bytes`) and stops reading there.

use std::sync::Arc;

use frontdesk_plugin_host::types::{self, ConnectorError};
use frontdesk_plugin_host::{CallError, PluginHost};

use crate::clock::Clock;
use crate::leased::{Caps, Lanes, LeasedQueue, backoff_ms};
use crate::store::{AttachmentJob, FetchOutcome, FetchStore, Millis, StorageHealth, StoreError};

/// Attempts before an attachment is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed attachment is kept from other workers; longer than a
/// fetch call may run (`HostLimits::attachment_timeout`).
const LEASE_MS: i64 = 5 * 60_000;
/// Attachments fetched side by side on this node (and from one channel).
pub const CAPS: Caps = Caps {
    per_lane: 4,
    total: 4,
};

/// The default for `--max-attachment-bytes`: 20 MiB.
pub const DEFAULT_MAX_BYTES: usize = 20 << 20;

/// What the fetch worker needs: the store, the clock, and the plugin host
/// whose connectors fetch (`None`: a server without plugins, whose pending
/// attachments wait and are retried).
#[derive(Clone)]
pub struct Fetcher {
    pub store: Arc<dyn FetchStore>,
    pub clock: Arc<dyn Clock>,
    pub plugins: Option<PluginHost>,
}

impl LeasedQueue for Fetcher {
    type Job = AttachmentJob;

    async fn claim(
        &self,
        now: Millis,
        room: &mut Lanes,
    ) -> Result<Vec<(i64, AttachmentJob)>, StoreError> {
        // A read first: claiming is a write, and mostly nothing is due.
        let due = self.store.next_attachment_due().await?;
        if due.is_none_or(|due| due > now) {
            return Ok(Vec::new());
        }
        let jobs = self
            .store
            .claim_attachments(now, LEASE_MS, room.free() as i64)
            .await?;
        Ok(jobs
            .into_iter()
            .map(|job| {
                // The total cap bounds the claim; one lane cannot exceed it.
                room.take(job.channel_id);
                (job.channel_id, job)
            })
            .collect())
    }

    async fn next_due(&self, now: Millis) -> Result<Option<Millis>, StoreError> {
        Ok(self
            .store
            .next_attachment_due()
            .await?
            .filter(|due| *due > now))
    }

    async fn work(&self, job: AttachmentJob) {
        fetch(self, job).await;
    }

    fn health(&self) -> &StorageHealth {
        self.store.health()
    }
}

/// Why an attempt did not store the file.
enum Failure {
    /// Worth another try (a 5xx, a timeout, a plugin fault), after the
    /// provider's wish if it said.
    Transient {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// Will never work (refused host, 404, over the size cap).
    Permanent(String),
}

fn transient(message: impl Into<String>) -> Failure {
    Failure::Transient {
        message: message.into(),
        retry_after_ms: None,
    }
}

async fn fetch(fetcher: &Fetcher, job: AttachmentJob) {
    let outcome = match attempt(fetcher, &job).await {
        Ok((mime_type, data)) => FetchOutcome::Stored { mime_type, data },
        Err(Failure::Permanent(error)) => FetchOutcome::Failed { error },
        Err(Failure::Transient { message, .. }) if job.attempts + 1 >= MAX_ATTEMPTS => {
            FetchOutcome::Failed {
                error: format!("gave up after {MAX_ATTEMPTS} attempts: {message}"),
            }
        }
        Err(Failure::Transient {
            message,
            retry_after_ms,
        }) => FetchOutcome::Retry {
            at: fetcher.clock.now() + retry_after_ms.unwrap_or_else(|| backoff_ms(job.attempts)),
            error: message,
        },
    };
    let label = match &outcome {
        FetchOutcome::Stored { .. } => "stored",
        FetchOutcome::Retry { .. } => "retry",
        FetchOutcome::Failed { error } => {
            tracing::warn!(attachment = %job.id, channel = job.channel_id, %error, "attachment could not be fetched");
            "failed"
        }
    };
    metrics::counter!("frontdesk_attachment_fetches_total", "outcome" => label).increment(1);
    if let Err(err) = fetcher
        .store
        .finish_attachment(&job.id, &outcome, fetcher.clock.now())
        .await
    {
        // The lease runs out and the attachment is fetched again.
        tracing::error!(attachment = %job.id, error = %err, "cannot record an attachment fetch");
    }
}

/// One fetch through the channel's connector: the content type and bytes.
async fn attempt(fetcher: &Fetcher, job: &AttachmentJob) -> Result<(String, Vec<u8>), Failure> {
    let channel = fetcher
        .store
        .channel(job.channel_id)
        .await
        .map_err(|e| transient(e.to_string()))?
        .ok_or_else(|| {
            Failure::Permanent(format!("channel {} no longer exists", job.channel_id))
        })?;
    let host = fetcher.plugins.as_ref().ok_or_else(|| {
        transient(format!(
            "channel kind {:?} needs a connector plugin, and this server runs without plugins",
            channel.kind
        ))
    })?;
    let max_bytes = host.limits().max_attachment_bytes;
    let attachment = types::Attachment {
        kind: job.kind.into(),
        url: job.url.clone(),
        provider_file_id: job.provider_file_id.clone(),
        file_name: job.file_name.clone(),
        mime_type: job.mime_type.clone(),
        size_bytes: job.declared_size.and_then(|n| u64::try_from(n).ok()),
        data: None,
    };
    let target = crate::ingest::plugin_channel(&channel.kind, &channel);
    let served = host.fetch_attachment(&target, &attachment).await.map_err(
        |error| match error {
            CallError::AttachmentTooLarge { limit, .. } => Failure::Permanent(over_limit(limit)),
            CallError::OutputTooLarge { limit, .. } => Failure::Permanent(format!(
                "the plugin returned more than the limit of {limit} bytes (--max-attachment-bytes)"
            )),
            other => transient(other.to_string()),
        },
    )?;
    let file = served.value.map_err(|error| match error {
        ConnectorError::Transient(m) => transient(m),
        ConnectorError::RateLimited(limit) => Failure::Transient {
            message: limit.message,
            retry_after_ms: Some(i64::try_from(limit.retry_after_ms).unwrap_or(i64::MAX)),
        },
        ConnectorError::Permanent(m)
        | ConnectorError::Malformed(m)
        | ConnectorError::Unauthorized(m)
        | ConnectorError::Unprocessable(m) => Failure::Permanent(m),
    })?;
    if file.body.len() > max_bytes {
        return Err(Failure::Permanent(over_limit(max_bytes)));
    }
    let mime_type = [file.mime_type.as_deref(), job.mime_type.as_deref()]
        .into_iter()
        .flatten()
        .find_map(content_type)
        .unwrap_or_else(|| "application/octet-stream".to_string());
    Ok((mime_type, file.body))
}

fn over_limit(limit: usize) -> String {
    format!("the file is larger than the limit of {limit} bytes (--max-attachment-bytes)")
}

/// A provider's content type, if it is a well-formed `type/subtype` with
/// optional parameters; the type and subtype are lowercased. Anything else
/// is not served as a content type.
pub fn content_type(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let (essence, params) = match raw.split_once(';') {
        Some((essence, params)) => (essence.trim(), Some(params)),
        None => (raw, None),
    };
    let (kind, subtype) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !token(kind) || !token(subtype) {
        return None;
    }
    let essence = format!(
        "{}/{}",
        kind.to_ascii_lowercase(),
        subtype.to_ascii_lowercase()
    );
    Some(match params {
        Some(params) => format!("{essence};{params}"),
        None => essence,
    })
}

#[cfg(test)]
mod tests;
