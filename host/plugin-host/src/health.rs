//! Fault counting and quarantine for one plugin version.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

/// Why and when a version was quarantined; shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    /// The last fault, e.g. "plugin x 1.0.0 did not finish within 1s".
    pub reason: String,
    /// How many faults in a row led to it.
    pub faults: u32,
    /// Unix milliseconds.
    pub since_ms: u64,
}

/// Counts consecutive faults; a success resets the count.
#[derive(Debug, Default)]
pub(crate) struct Health {
    consecutive_faults: AtomicU32,
    quarantine: Mutex<Option<Quarantine>>,
}

impl Health {
    pub fn with_quarantine(quarantine: Option<Quarantine>) -> Health {
        Health {
            consecutive_faults: AtomicU32::new(0),
            quarantine: Mutex::new(quarantine),
        }
    }

    pub fn quarantine(&self) -> Option<Quarantine> {
        self.quarantine.lock().expect("health lock").clone()
    }

    pub fn record_success(&self) {
        self.consecutive_faults.store(0, Ordering::Relaxed);
    }

    /// Records a fault; returns the new quarantine if this fault caused one.
    pub fn record_fault(&self, reason: &str, threshold: u32, now_ms: u64) -> Option<Quarantine> {
        let faults = self.consecutive_faults.fetch_add(1, Ordering::Relaxed) + 1;
        if faults < threshold {
            return None;
        }
        let mut quarantine = self.quarantine.lock().expect("health lock");
        if quarantine.is_some() {
            return None;
        }
        let new = Quarantine {
            reason: reason.to_string(),
            faults,
            since_ms: now_ms,
        };
        *quarantine = Some(new.clone());
        Some(new)
    }

    pub fn release(&self) {
        self.consecutive_faults.store(0, Ordering::Relaxed);
        *self.quarantine.lock().expect("health lock") = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantines_after_consecutive_faults_only() {
        let health = Health::default();
        assert!(health.record_fault("a", 3, 1).is_none());
        assert!(health.record_fault("b", 3, 2).is_none());
        health.record_success();
        assert!(health.record_fault("c", 3, 3).is_none());
        assert!(health.record_fault("d", 3, 4).is_none());
        let quarantine = health
            .record_fault("e", 3, 5)
            .expect("third fault in a row");
        assert_eq!((quarantine.reason.as_str(), quarantine.faults), ("e", 3));
        assert!(health.record_fault("f", 3, 6).is_none(), "reported once");
        assert_eq!(health.quarantine().unwrap().reason, "e");
        health.release();
        assert!(health.quarantine().is_none());
    }
}
