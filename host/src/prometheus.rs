//! `/metrics`: the process-wide Prometheus recorder, and every series a
//! scrape shows from the first one on (X4).
//!
//! Prometheus users expect each series to exist before anything happened:
//! an alert on `rate(frontdesk_webhook_refused_total[5m])` must not be blind
//! until the first refusal. So every counter this binary records is
//! registered at zero here, with each label value it uses, beside the
//! process's own metrics (CPU, memory, open files) and `frontdesk_build_info`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Counters without labels, registered at zero.
const COUNTERS: &[&str] = &[
    "frontdesk_connector_setup_failed_total",
    "frontdesk_engine_events_dropped_total",
    "frontdesk_imap_fetched_total",
    "frontdesk_imap_poll_failed_total",
    "frontdesk_inbound_duplicates_total",
    "frontdesk_inbound_failed_total",
    "frontdesk_inbound_messages_total",
    "frontdesk_live_bus_reconnects_total",
    "frontdesk_live_bus_sent_total",
    // Times this node took over routing (issue 18).
    "frontdesk_routing_handovers_total",
    "frontdesk_smtp_accepted_total",
    "frontdesk_smtp_deferred_total",
    "frontdesk_webhook_refused_total",
];

/// Counters with an `outcome` label, and every outcome they record.
const OUTCOMES: &[(&str, &[&str])] = &[
    (
        "frontdesk_outbox_attempts_total",
        &["sent", "retry", "failed"],
    ),
    (
        "frontdesk_attachment_fetches_total",
        &["stored", "retry", "failed"],
    ),
    ("frontdesk_bot_events_total", &["ok", "failed", "silent"]),
];

/// Group-commit batch sizes, as a histogram: a summary's quantiles over a
/// few small values read as nonsense (0 with a sum of 1).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// What `/metrics` renders; installed once per process, shared by every app.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// The process's recorder, installed on first use.
    pub fn get() -> Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(install).clone()
    }

    /// The Prometheus text exposition, process metrics read just now.
    pub fn render(&self) -> String {
        metrics_process::Collector::default().collect();
        self.handle.render()
    }
}

fn install() -> Metrics {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("frontdesk_ingest_batch_size".into()),
            BATCH_BUCKETS,
        )
        .expect("the bucket list is not empty")
        .build_recorder();
    let handle = recorder.handle();
    // Fails only if another recorder was installed first; metrics then go there.
    let _ = metrics::set_global_recorder(recorder);
    for name in COUNTERS {
        metrics::counter!(*name).increment(0);
    }
    for (name, outcomes) in OUTCOMES {
        for outcome in *outcomes {
            metrics::counter!(*name, "outcome" => *outcome).increment(0);
        }
    }
    // Requests refused by a rate limit (L1), by what was limited.
    for kind in crate::limits::Rule::KINDS {
        metrics::counter!("frontdesk_rate_limited_total", "kind" => kind).increment(0);
    }
    // 1 while this node leads routing (issue 18); the routing lease keeps it.
    metrics::gauge!("frontdesk_routing_leader").set(0.0);
    metrics::gauge!("frontdesk_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics_process::Collector::default().describe();
    Metrics { handle }
}
