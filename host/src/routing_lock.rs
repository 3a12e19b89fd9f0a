//! One routing engine per database (issue 22 item 5).
//!
//! The routing engine keeps its state in memory and does not coordinate with
//! other nodes yet, so two engines on one database hand sessions to two agents
//! and break limits. Until several-nodes support lands, the node that starts
//! the engine holds a lock for the process's life and every other node
//! refuses to route, saying so in its log, in `/healthz` and in a 503 to each
//! routing action:
//!
//! - PostgreSQL: a session-level advisory lock ([`ADVISORY_KEY`]) on a
//!   connection of its own. If that connection drops, the lock is gone with
//!   it; the holder checks the connection every [`CHECK_EVERY`] and stops
//!   routing once it cannot be sure it still holds the lock. It then tries
//!   to take the lock again on a new connection, as often, and routes again
//!   (its router rebuilt from the store, see [`RoutingLease::generation`])
//!   once it holds it: a restarted database or a cut connection heals by
//!   itself, and while another node holds the lock this one stays refused.
//! - SQLite: an exclusive file lock on `{database file}.routing.lock`, held
//!   by an open file the kernel releases when the process ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::Connection;

/// The advisory lock key frontdesk's routing engine holds on PostgreSQL
/// (`pg_try_advisory_lock(ADVISORY_KEY)`): "fdRT" in ASCII. It fits in 31
/// bits, so `pg_locks` shows it as `classid = 0, objid = ADVISORY_KEY`.
pub const ADVISORY_KEY: i64 = 0x6664_5254;

/// How often the holder makes sure its lock connection is still there.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What a second node says when it finds the lock taken.
pub const ANOTHER_NODE: &str = "another node routes this database; run one serve per database until several-nodes support lands";

/// Whether this process may run the routing engine. Cheap to clone; every
/// clone sees a refusal at once. A node refused at start stays refused; a
/// holder that lost its PostgreSQL lock is refused until it holds it again,
/// and then its [`generation`](RoutingLease::generation) moves on, so the
/// engine rebuilds its router from the store before it routes again.
#[derive(Clone, Debug)]
pub struct RoutingLease {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    refused: Mutex<Option<String>>,
    /// How many times the lock was taken again after it was lost.
    generation: AtomicU64,
    /// The SQLite lock file, held open (and locked) while the process runs.
    _file: Option<std::fs::File>,
}

/// Why the lock could not even be tried.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "cannot open the routing lock file {path}: {source}; make its directory writable for frontdesk"
    )]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open a connection for the routing lock: {0}")]
    Postgres(#[from] sqlx::Error),
}

impl RoutingLease {
    /// A lease nothing else competes for: an in-memory database, or a test
    /// that runs the engine in-process.
    pub fn unguarded() -> Self {
        Self::new(None)
    }

    fn new(file: Option<std::fs::File>) -> Self {
        RoutingLease {
            inner: Arc::new(Inner {
                refused: Mutex::new(None),
                generation: AtomicU64::new(0),
                _file: file,
            }),
        }
    }

    /// A lease that refuses from the start, with `reason`.
    pub fn refused_because(reason: impl Into<String>) -> Self {
        let lease = Self::new(None);
        lease.refuse(reason.into());
        lease
    }

    /// Takes the routing lock for `database_url` (as `serve` gets it). A lock
    /// another process holds gives a refusing lease, not an error. On
    /// PostgreSQL the task that keeps the lock runs under `workers` and
    /// stops with them.
    pub async fn acquire(
        database_url: &str,
        workers: &crate::node::Workers,
    ) -> Result<Self, LockError> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            return postgres(database_url, workers).await;
        }
        let path = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .unwrap_or(database_url);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path.contains(":memory:") {
            return Ok(Self::unguarded());
        }
        sqlite(Path::new(path))
    }

    /// Why this node does not route, if it does not.
    pub fn refusal(&self) -> Option<String> {
        self.refused().clone()
    }

    /// Moves on each time the lock is taken again after it was lost: the
    /// engine then rebuilds its router, since another node may have routed
    /// in between.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.inner.refused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops routing; logs the reason when it changes.
    fn refuse(&self, reason: String) {
        let mut refused = self.refused();
        if refused.as_deref() != Some(reason.as_str()) {
            tracing::error!(
                %reason,
                "this node does not run the routing engine: routing actions answer 503"
            );
            *refused = Some(reason);
        }
    }

    /// The lock is held again: routing resumes after a rebuild.
    fn resume(&self) {
        let mut refused = self.refused();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        if refused.take().is_some() {
            tracing::info!(
                "this node holds the routing lock again; routing resumes once the router is rebuilt from the store"
            );
        }
    }
}

fn sqlite(db: &Path) -> Result<RoutingLease, LockError> {
    let mut name = db.as_os_str().to_owned();
    name.push(".routing.lock");
    let path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::File {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(RoutingLease::new(Some(file))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(RoutingLease::refused_because(format!(
            "{ANOTHER_NODE} (another process holds {})",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(source)) => Err(LockError::File { path, source }),
    }
}

async fn postgres(url: &str, workers: &crate::node::Workers) -> Result<RoutingLease, LockError> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    if !try_lock(&mut conn).await? {
        // The connection goes: a lock it never got needs nothing kept open.
        let _ = conn.close().await;
        return Ok(RoutingLease::refused_because(format!(
            "{ANOTHER_NODE} (PostgreSQL advisory lock {ADVISORY_KEY} is held by another session)"
        )));
    }
    let lease = RoutingLease::new(None);
    let (url, stop, held) = (url.to_string(), workers.stop.clone(), lease.clone());
    workers.tracker.spawn(async move {
        // On shutdown the connection closes, and with it the lock.
        tokio::select! {
            () = watch(url, conn, held) => {}
            () = stop.cancelled() => {}
        }
    });
    Ok(lease)
}

async fn try_lock(conn: &mut sqlx::PgConnection) -> Result<bool, sqlx::Error> {
    let (held,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(ADVISORY_KEY)
        .fetch_one(conn)
        .await?;
    Ok(held)
}

/// Keeps the lock for the process's life: refuses routing as soon as it
/// cannot show the lock is still held (a dropped connection has released
/// it, and another node may take it), then takes it again when it can.
async fn watch(url: String, mut conn: sqlx::PgConnection, lease: RoutingLease) {
    loop {
        let reason = hold(&mut conn).await;
        lease.refuse(format!(
            "this node lost the routing lock ({reason}); it stopped routing and takes the lock again as soon as no other node holds it"
        ));
        conn = retake(&url, &lease).await;
        lease.resume();
    }
}

/// Returns, with the reason, once the lock is no longer provably held.
async fn hold(conn: &mut sqlx::PgConnection) -> String {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let check = sqlx::query_as::<_, (bool,)>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND classid::bigint = 0 AND objid::bigint = $1 AND objsubid = 1 AND granted AND pid = pg_backend_pid())",
        )
        .bind(ADVISORY_KEY)
        .fetch_one(&mut *conn);
        return match tokio::time::timeout(CHECK_EVERY * 2, check).await {
            Ok(Ok((true,))) => continue,
            Ok(Ok((false,))) => "the lock is no longer held".to_string(),
            Ok(Err(err)) => format!("its connection failed: {err}"),
            Err(_) => format!("its connection did not answer within {:?}", CHECK_EVERY * 2),
        };
    }
}

/// Tries every [`CHECK_EVERY`] until a new connection holds the lock.
async fn retake(url: &str, lease: &RoutingLease) -> sqlx::PgConnection {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let attempt = async {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            let held = try_lock(&mut conn).await?;
            Ok::<_, sqlx::Error>(held.then_some(conn))
        };
        match tokio::time::timeout(CHECK_EVERY * 2, attempt).await {
            Ok(Ok(Some(conn))) => return conn,
            Ok(Ok(None)) => lease.refuse(format!(
                "this node lost the routing lock and another node holds it now; {ANOTHER_NODE}"
            )),
            Ok(Err(err)) => tracing::debug!(error = %err, "cannot take the routing lock again yet"),
            Err(_) => tracing::debug!("taking the routing lock again timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_of_the_sqlite_file_is_refused_and_the_first_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let first = RoutingLease::acquire(&url, &crate::node::Workers::default())
            .await
            .unwrap();
        assert_eq!(first.refusal(), None);
        let second = RoutingLease::acquire(&url, &crate::node::Workers::default())
            .await
            .unwrap();
        let why = second.refusal().expect("the second is refused");
        assert!(why.starts_with(ANOTHER_NODE), "{why}");
        assert!(why.contains("db.sqlite.routing.lock"), "{why}");
        // The lock goes with its holder: a later start routes again.
        drop(first);
        let third = RoutingLease::acquire(&url, &crate::node::Workers::default())
            .await
            .unwrap();
        assert_eq!(third.refusal(), None);
    }

    #[tokio::test]
    async fn an_in_memory_database_needs_no_lock() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let a = RoutingLease::acquire(url, &crate::node::Workers::default())
                .await
                .unwrap();
            let b = RoutingLease::acquire(url, &crate::node::Workers::default())
                .await
                .unwrap();
            assert_eq!((a.refusal(), b.refusal()), (None, None), "{url}");
        }
    }
}
