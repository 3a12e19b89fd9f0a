//! Whether the database takes writes now, as `/healthz` reports it (S4).
//!
//! A full disk, an I/O error or a lost PostgreSQL connection fails writes
//! while reads may still work, so answering a `SELECT 1` says nothing about
//! whether a message sent now would be stored. The writers (group commit, the
//! routing engine, the outbox, the REST API) report each storage fault here.
//! A fault is over only when none was seen for [`FAULT_HOLD`] and a probe
//! write then commits: on a nearly full disk small writes still fit where a
//! message does not, so one small success proves little while failures go on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Millis, StoreError};

/// How long after the last storage fault the database counts as faulty.
pub const FAULT_HOLD: Duration = Duration::from_secs(5);

/// The storage fault in force: since when, and the latest failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// When writes started failing (unix milliseconds, wall clock).
    pub since: Millis,
    /// The latest failure, as the database said it.
    pub error: String,
    /// Whether that failure is recent enough to rule out a probe.
    #[serde(skip)]
    pub recent: bool,
}

#[derive(Debug)]
struct Recorded {
    since: Millis,
    last: Instant,
    error: String,
}

/// A store's [`StorageHealth`]: every worker that writes holds this to
/// report its storage faults.
pub trait HealthStore: Send + Sync + 'static {
    /// Whether writes fail now; every writer reports its storage faults here.
    fn health(&self) -> &StorageHealth;
}

/// Shared by every writer of one store; cheap to check on the hot path.
#[derive(Debug, Default)]
pub struct StorageHealth {
    /// Set while `fault` holds something, so a healthy check costs one load.
    faulty: AtomicBool,
    fault: Mutex<Option<Recorded>>,
}

impl StorageHealth {
    /// Records `err` if it is a storage fault; other errors (a conflict, a
    /// missing row) say nothing about the database's health.
    pub fn observe(&self, err: &StoreError) {
        if err.is_unavailable() {
            self.failed(err.to_string());
        }
    }

    /// Records a storage fault the caller already recognised.
    pub fn failed(&self, error: String) {
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        match fault.as_mut() {
            Some(fault) => {
                fault.last = Instant::now();
                fault.error = error;
            }
            None => {
                tracing::error!(%error, "the database stopped taking writes; requests that need one are refused with 503 until it recovers");
                *fault = Some(Recorded {
                    since: wall_millis(),
                    last: Instant::now(),
                    error,
                });
            }
        }
        self.faulty.store(true, Ordering::Release);
    }

    /// A probe write committed after the hold: the fault is over.
    pub fn recovered(&self) {
        if !self.faulty.load(Ordering::Acquire) {
            return;
        }
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gone) = fault.take() {
            tracing::info!(since = gone.since, "the database takes writes again");
        }
        self.faulty.store(false, Ordering::Release);
    }

    /// The fault in force, if any.
    pub fn fault(&self) -> Option<Fault> {
        if !self.faulty.load(Ordering::Acquire) {
            return None;
        }
        let fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        fault.as_ref().map(|f| Fault {
            since: f.since,
            error: f.error.clone(),
            recent: f.last.elapsed() < FAULT_HOLD,
        })
    }
}

fn wall_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// SQLite's primary result codes that mean the storage itself failed
/// (<https://www.sqlite.org/rescode.html>); extended codes keep them in the low byte.
const SQLITE_STORAGE_CODES: &[i64] = &[
    5,  // SQLITE_BUSY: another process holds the file past the busy timeout
    7,  // SQLITE_NOMEM
    8,  // SQLITE_READONLY
    10, // SQLITE_IOERR
    11, // SQLITE_CORRUPT
    13, // SQLITE_FULL
    14, // SQLITE_CANTOPEN
    26, // SQLITE_NOTADB
];

/// PostgreSQL SQLSTATE classes that mean the server or the connection
/// failed, not the statement: connection exceptions, insufficient resources
/// (disk full), operator intervention (`pg_terminate_backend`), system errors.
const POSTGRES_STORAGE_CLASSES: &[&str] = &["08", "53", "57", "58", "XX"];

impl StoreError {
    /// The database could not do the work now, whatever the work was: the
    /// caller should say 503 and the sender try again later.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| storage_code(&code)),
            _ => false,
        }
    }
}

/// PostgreSQL reports a five-character SQLSTATE (some all digits, such as
/// `53100`), SQLite a number of at most four digits.
fn storage_code(code: &str) -> bool {
    if code.len() == 5 {
        return POSTGRES_STORAGE_CLASSES.iter().any(|c| code.starts_with(c));
    }
    code.parse::<i64>()
        .is_ok_and(|sqlite| SQLITE_STORAGE_CODES.contains(&(sqlite & 0xff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_full_and_io_errors_are_storage_faults_constraints_are_not() {
        assert!(storage_code("13")); // SQLITE_FULL
        assert!(storage_code("778")); // SQLITE_IOERR_WRITE
        assert!(!storage_code("2067")); // SQLITE_CONSTRAINT_UNIQUE
        assert!(!storage_code("1")); // SQLITE_ERROR (bad SQL)
    }

    #[test]
    fn postgres_connection_and_disk_classes_are_storage_faults() {
        assert!(storage_code("57P01")); // admin_shutdown (pg_terminate_backend)
        assert!(storage_code("53100")); // disk_full
        assert!(storage_code("08006")); // connection_failure
        assert!(!storage_code("23505")); // unique_violation
        assert!(!storage_code("40001")); // serialization_failure: a conflict, retried
    }

    #[test]
    fn a_fault_keeps_its_start_and_its_latest_error_until_it_is_over() {
        let health = StorageHealth::default();
        assert_eq!(health.fault(), None);
        health.failed("disk is full".into());
        let since = health.fault().unwrap().since;
        health.failed("disk is still full".into());
        let fault = health.fault().unwrap();
        assert_eq!(
            (fault.since, fault.error.as_str()),
            (since, "disk is still full")
        );
        assert!(fault.recent);
        health.recovered();
        assert_eq!(health.fault(), None);
    }

    #[test]
    fn errors_that_are_not_storage_faults_leave_health_alone() {
        let health = StorageHealth::default();
        health.observe(&StoreError::NotFound("session"));
        health.observe(&StoreError::Conflict("user".into()));
        assert_eq!(health.fault(), None);
        health.observe(&StoreError::Database(sqlx::Error::PoolTimedOut));
        assert!(health.fault().is_some());
    }
}
