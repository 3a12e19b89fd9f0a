//! One routing leader per database (issue 18).
//!
//! The routing engine keeps its state in memory, so exactly one node of
//! those sharing a database may route at a time; every other node refuses
//! routing actions, saying so in its log, in `/healthz` and in a 503 to each
//! routing action, until it leads:
//!
//! - PostgreSQL: a lease row (`routing_lease`, migration 0022) with a
//!   fencing token, held by [`keeper`], the driver of the sans-IO
//!   leadership core `frontdesk_cluster::Node`. The leader renews it every
//!   second; a follower tries to take it every second and gets it once it
//!   has run out (3 s after the leader's last renewal, by the database's
//!   clock), with the next token. The leader stops routing by itself when
//!   it could not renew in time, and every routing write checks its token
//!   in its own transaction (`StoreError::Fenced`), so a paused or cut-off
//!   former leader never writes after another node took over. A new leader
//!   (or an old one leading again) rebuilds its router from the store
//!   first: see [`RoutingLease::token`].
//! - SQLite: one node per file, by an exclusive file lock on
//!   `{database file}.routing.lock`, held by an open file the kernel
//!   releases when the process ends.

pub mod keeper;
pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::postgres::PgPoolOptions;
use tokio::time::Instant;

pub use frontdesk_cluster::Settings;
pub use keeper::Keeper;

/// How a follower's refusal starts, on both backends.
pub const ANOTHER_NODE: &str = "another node routes this database";

/// Whether this process may run the routing engine. Cheap to clone; every
/// clone sees a change at once. A follower leads once it holds the lease;
/// a leader that lost it, or could not renew it in time, is refused until
/// it holds it again.
#[derive(Clone, Debug)]
pub struct RoutingLease {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    refused: Mutex<Option<String>>,
    /// The fencing token of the lease this node holds or last held (0
    /// before the first, and always without a lease row).
    token: AtomicI64,
    /// Whether routing writes carry the token (PostgreSQL).
    fenced: bool,
    /// Past this, a leader that has not renewed stops routing by itself.
    /// `None`: nothing to renew (SQLite, unguarded).
    valid_until: Mutex<Option<Instant>>,
    /// Wakes whoever waits for this node to lead (the engine, to load its
    /// router at once rather than at its next look).
    led: tokio::sync::Notify,
    /// The tokens of routing writes the database fenced out, for the keeper
    /// to hand to its core ([`RoutingLease::take_fenced`]).
    fenced_writes: Mutex<Vec<i64>>,
    /// Wakes the keeper when one is added.
    write_failed: tokio::sync::Notify,
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
    #[error(
        "cannot open a connection for the routing lease: {0}; check that PostgreSQL is reachable at the database URL"
    )]
    Postgres(#[from] sqlx::Error),
    #[error("the routing lease settings are inconsistent: {0}")]
    Settings(#[from] frontdesk_cluster::Error),
}

impl RoutingLease {
    /// A lease nothing else competes for: an in-memory database, or a test
    /// that runs the engine in-process.
    pub fn unguarded() -> Self {
        Self::new(None, false)
    }

    fn new(file: Option<std::fs::File>, fenced: bool) -> Self {
        RoutingLease {
            inner: Arc::new(Inner {
                refused: Mutex::new(None),
                token: AtomicI64::new(0),
                fenced,
                valid_until: Mutex::new(None),
                led: tokio::sync::Notify::new(),
                fenced_writes: Mutex::new(Vec::new()),
                write_failed: tokio::sync::Notify::new(),
                _file: file,
            }),
        }
    }

    /// A lease that refuses from the start, with `reason`.
    pub fn refused_because(reason: impl Into<String>) -> Self {
        let lease = Self::new(None, false);
        lease.refuse(reason.into());
        lease
    }

    /// A PostgreSQL follower whose [`Keeper`] has not run yet: it refuses
    /// until the keeper takes the lease, and fences its writes after.
    pub fn follower() -> Self {
        let lease = Self::new(None, true);
        // Not logged: the keeper's first round says how it stands.
        *lease.refused() = Some(format!(
            "{ANOTHER_NODE}, or none does yet: this node has not tried to take the routing lease yet"
        ));
        lease
    }

    /// This node's routing lease for `database_url` (as `serve` gets it),
    /// `holder` naming this process in the lease row. On PostgreSQL it has
    /// tried once to take the lease (a node that finds it held starts as a
    /// follower), and the keeper runs under `workers` from then on, handing
    /// the lease back when they stop.
    pub async fn acquire(
        database_url: &str,
        holder: &str,
        workers: &crate::node::Workers,
    ) -> Result<Self, LockError> {
        // The recorder must exist before the first change of leadership is
        // recorded on `/metrics`.
        let _ = crate::prometheus::Metrics::get();
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            return postgres(database_url, holder, workers).await;
        }
        let path = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .unwrap_or(database_url);
        let path = path.split('?').next().unwrap_or(path);
        let lease = if path.is_empty() || path.contains(":memory:") {
            Self::unguarded()
        } else {
            sqlite(Path::new(path))?
        };
        lease.publish();
        Ok(lease)
    }

    /// Why this node does not route, if it does not: another node leads,
    /// this one lost the lease, or could not renew it in time.
    pub fn refusal(&self) -> Option<String> {
        if let Some(reason) = self.refused().clone() {
            return Some(reason);
        }
        let until = *self.valid_until();
        match until {
            Some(until) if Instant::now() >= until => Some(
                "this node could not renew its routing lease in time, so it stopped routing; it routes again once it renews or takes the lease"
                    .into(),
            ),
            _ => None,
        }
    }

    /// The fencing token every routing write carries (issue 18): `None`
    /// without a lease row (SQLite, unguarded). A new value means another
    /// node may have routed meanwhile: the engine rebuilds its router from
    /// the store before routing under it.
    pub fn token(&self) -> Option<i64> {
        self.inner
            .fenced
            .then(|| self.inner.token.load(Ordering::Acquire))
    }

    /// Moves on each time this node takes the lease over (the fencing
    /// token on PostgreSQL; always 0 on SQLite).
    pub fn generation(&self) -> u64 {
        self.inner
            .token
            .load(Ordering::Acquire)
            .max(0)
            .unsigned_abs()
    }

    /// Returns the next time this node starts leading (a missed wake-up is
    /// caught by the caller's own periodic look at [`RoutingLease::refusal`]).
    pub async fn led(&self) {
        self.inner.led.notified().await
    }

    /// A routing write was refused: the database's token is `current`, not
    /// `held`. Unless `current` is this node's own newer token (it took the
    /// lease again meanwhile), another node took over: stop routing now,
    /// not at the keeper's next round.
    pub fn fenced(&self, held: i64, current: i64) {
        if self.inner.fenced && current == self.inner.token.load(Ordering::Acquire) {
            return;
        }
        self.refuse(format!(
            "this node lost the routing lease: another node took over routing (token {current}, this node's was {held}); it routes again once it takes the lease over"
        ));
        // The keeper's core ends the term too, so it neither renews it nor
        // leads under it again. (Only a lease row has a keeper to tell.)
        if self.inner.fenced {
            self.inner
                .fenced_writes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(held);
            // `notify_one` keeps the wake-up for a keeper busy with a call.
            self.inner.write_failed.notify_one();
        }
    }

    /// The tokens of the writes fenced out since the last call.
    fn take_fenced(&self) -> Vec<i64> {
        std::mem::take(
            &mut *self
                .inner
                .fenced_writes
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Returns once a routing write was fenced out (see [`Self::fenced`]).
    async fn write_failed(&self) {
        self.inner.write_failed.notified().await
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.inner.refused.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn valid_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.inner
            .valid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Stops routing; logs the reason when it changes.
    fn refuse(&self, reason: String) {
        let mut refused = self.refused();
        if refused.as_deref() != Some(reason.as_str()) {
            // A warning, not an error: following is normal with several nodes.
            tracing::warn!(
                %reason,
                "this node does not run the routing engine: routing actions answer 503"
            );
            *refused = Some(reason);
        }
        drop(refused);
        self.publish();
    }

    /// This node holds the lease with `token` until `until` (by its own
    /// clock): it routes, after rebuilding its router if the token is new.
    fn lead(&self, token: i64, until: Instant) {
        *self.valid_until() = Some(until);
        let mut refused = self.refused();
        let previous = self.inner.token.swap(token, Ordering::AcqRel);
        let was_refused = refused.take().is_some();
        drop(refused);
        if previous != token {
            metrics::counter!("frontdesk_routing_handovers_total").increment(1);
            tracing::info!(
                token,
                "this node took over routing; it routes once its router is rebuilt from the store"
            );
        } else if was_refused {
            tracing::info!(
                token,
                "this node holds its routing lease again; it routes once its router is rebuilt from the store"
            );
        }
        self.publish();
        self.inner.led.notify_waiters();
    }

    /// Shows on `/metrics` whether this node leads.
    fn publish(&self) {
        let leads = if self.refusal().is_none() { 1.0 } else { 0.0 };
        metrics::gauge!("frontdesk_routing_leader").set(leads);
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
        Ok(()) => Ok(RoutingLease::new(Some(file), false)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(RoutingLease::refused_because(format!(
            "{ANOTHER_NODE} (another process holds {}); run one serve per SQLite file, or move to PostgreSQL for several nodes",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(source)) => Err(LockError::File { path, source }),
    }
}

async fn postgres(
    url: &str,
    holder: &str,
    workers: &crate::node::Workers,
) -> Result<RoutingLease, LockError> {
    let settings = Settings::default();
    // A pool of its own: renewals must not queue behind the store's work.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(settings.call_timeout)
        .connect(url)
        .await?;
    let mut keeper = Keeper::new(pool, holder.to_string(), settings, RoutingLease::follower())?;
    let next = keeper.step().await;
    let lease = keeper.lease().clone();
    let stop = workers.stop.clone();
    workers.tracker.spawn(keeper.run(next, stop));
    Ok(lease)
}

#[cfg(test)]
mod tests_postgres;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_of_the_sqlite_file_is_refused_and_the_first_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let first = RoutingLease::acquire(&url, "test", &crate::node::Workers::default())
            .await
            .unwrap();
        assert_eq!(first.refusal(), None);
        let second = RoutingLease::acquire(&url, "test", &crate::node::Workers::default())
            .await
            .unwrap();
        let why = second.refusal().expect("the second is refused");
        assert!(why.starts_with(ANOTHER_NODE), "{why}");
        assert!(why.contains("db.sqlite.routing.lock"), "{why}");
        // The lock goes with its holder: a later start routes again.
        drop(first);
        let third = RoutingLease::acquire(&url, "test", &crate::node::Workers::default())
            .await
            .unwrap();
        assert_eq!(third.refusal(), None);
    }

    #[tokio::test]
    async fn an_in_memory_database_needs_no_lock() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let a = RoutingLease::acquire(url, "test", &crate::node::Workers::default())
                .await
                .unwrap();
            let b = RoutingLease::acquire(url, "test", &crate::node::Workers::default())
                .await
                .unwrap();
            assert_eq!((a.refusal(), b.refusal()), (None, None), "{url}");
        }
    }
}
