//! Retention (issue 19): per channel, closed sessions whose last message is
//! older than `retention_days` (channel config; off when absent) lose their
//! messages, attachments, events, ratings' comments and bot data, and stay
//! as stubs with the columns statistics read, so the figures of their period
//! do not change (docs/data-protection.md).
//!
//! Any node may run it, every `--retention-every`: each batch is one short
//! transaction of at most [`BATCH`] sessions, followed by a rest as long as
//! the batch took, so ingest's group commits get the writer in between; two nodes working
//! on one channel at once only find fewer sessions left. Every run that
//! removed something is audited with its counts (`retention.run`).

use std::time::Duration;

use crate::app::App;
use crate::store::{ChannelConfig, Millis, RetentionCounts, RetentionStore, Role, Viewer};

/// Sessions (and failed inbound requests) per transaction.
pub const BATCH: i64 = 50;
/// `--retention-every`'s default.
pub const DEFAULT_EVERY: &str = "1h";
/// The longest retention a channel may set: 100 years.
pub const MAX_DAYS: i64 = 36_500;
const DAY_MS: Millis = 86_400_000;

/// The channel config key (read by [`ChannelConfig::retention_days`]).
pub const CONFIG_KEY: &str = ChannelConfig::RETENTION_DAYS;

/// Checks `retention_days` in a channel config an admin saves.
pub fn validate(config: &serde_json::Value) -> Result<(), String> {
    match config.get(CONFIG_KEY) {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(days) if days.as_i64().is_some_and(|d| (1..=MAX_DAYS).contains(&d)) => Ok(()),
        Some(other) => Err(format!(
            "config.{CONFIG_KEY} must be a whole number of days from 1 to {MAX_DAYS} \
             (conversations older than that are removed; leave it out to keep everything), not {other}"
        )),
    }
}

/// One channel's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRun {
    pub channel_id: i64,
    pub days: i64,
    pub counts: RetentionCounts,
}

/// Runs retention once over every channel that has it, at `now`; stops
/// between batches once `stop` is cancelled. Returns the channels where
/// something was removed (each audited).
pub async fn run_once(
    store: &dyn RetentionStore,
    now: Millis,
    stop: &tokio_util::sync::CancellationToken,
) -> crate::store::Result<Vec<ChannelRun>> {
    let everyone = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let mut runs = Vec::new();
    for channel in store.list_channels(everyone).await? {
        let Some(days) = channel.config.retention_days() else {
            continue;
        };
        let before = now.saturating_sub(days.saturating_mul(DAY_MS));
        let mut counts = RetentionCounts::default();
        while !stop.is_cancelled() {
            let started = std::time::Instant::now();
            let batch = store.retain_batch(channel.id, before, BATCH, now).await?;
            counts.add(batch);
            if batch.sessions < BATCH as u64 && batch.failed_inbound < BATCH as u64 {
                break;
            }
            // Rest as long as the batch took: retention holds SQLite's one
            // writer at most half the time, even with a large backlog (the
            // first run after retention is turned on), so ingest keeps going.
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(started.elapsed()) => {}
            }
        }
        if counts.is_empty() {
            continue;
        }
        store
            .audit_retention(channel.id, days, &counts, now)
            .await?;
        metrics::counter!("frontdesk_retention_sessions_total").increment(counts.sessions);
        metrics::counter!("frontdesk_retention_messages_total").increment(counts.messages);
        tracing::info!(
            channel = channel.id,
            days,
            sessions = counts.sessions,
            messages = counts.messages,
            attachments = counts.attachments,
            failed_inbound = counts.failed_inbound,
            "retention removed old conversations"
        );
        runs.push(ChannelRun {
            channel_id: channel.id,
            days,
            counts,
        });
    }
    Ok(runs)
}

/// Starts the worker on this node: a run at start, then every `every`.
pub fn start(app: &App, every: Duration) {
    let (store, clock) = (app.store.clone(), app.clock.clone());
    let stop = app.workers.stop.clone();
    app.workers.tracker.spawn(async move {
        loop {
            if let Err(err) = run_once(store.as_ref(), clock.now(), &stop).await {
                tracing::error!(error = %err, "retention run failed; it runs again later");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_off_unless_a_positive_number_of_days() {
        let days_of = |text: &str| ChannelConfig::parse(text).retention_days();
        assert_eq!(days_of("{}"), None);
        assert_eq!(days_of(r#"{"retention_days": 30}"#), Some(30));
        assert_eq!(days_of(r#"{"retention_days": 0}"#), None);
        assert!(validate(&serde_json::json!({"retention_days": 30})).is_ok());
        assert!(validate(&serde_json::json!({"retention_days": null})).is_ok());
        let err = validate(&serde_json::json!({"retention_days": "30"})).unwrap_err();
        assert!(err.contains("whole number of days"), "{err}");
        assert!(validate(&serde_json::json!({"retention_days": 0})).is_err());
    }
}
