//! The loop that holds the routing lease on PostgreSQL (issue 18): a
//! follower tries to take the lease every [`Settings::retry_every`]; the
//! leader renews it every [`Settings::renew_every`] and stops routing by
//! itself once it could not renew before its own deadline. The deadline
//! counts from when the last successful renewal was *sent*, minus a
//! margin, so it falls before the database lets the lease run out.
//!
//! The deadline keeps `/healthz` honest; safety does not rest on it, but
//! on the fencing token every routing write checks (a node paused past its
//! deadline writes nothing once another node took over).
//!
//! The loop is one [`Keeper::round`] at a time, each returning when the
//! next is due, so a test drives it by hand (a paused leader is one whose
//! rounds are not called) and a state machine can replace it later.

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ANOTHER_NODE, RoutingLease, sql};

/// How long a lease lasts and how often it is renewed or tried for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a lease lasts after each renewal, by the database's clock:
    /// how long the other nodes wait for a leader that stopped answering.
    pub ttl: Duration,
    /// How often the leader renews: a few times per ttl, so one slow or
    /// lost renewal does not cost the lease.
    pub renew_every: Duration,
    /// How often a follower tries to take the lease.
    pub retry_every: Duration,
    /// How much before the ttl runs out (counted from when the renewal was
    /// sent) the leader stops routing by itself: room for clocks that run
    /// at slightly different rates.
    pub margin: Duration,
}

impl Default for Settings {
    /// A new leader within about ttl + retry (4 s) of a leader's death.
    fn default() -> Self {
        Settings {
            ttl: Duration::from_secs(3),
            renew_every: Duration::from_secs(1),
            retry_every: Duration::from_secs(1),
            margin: Duration::from_millis(500),
        }
    }
}

/// Where this node stands, as the keeper last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// It holds the lease with `token`.
    Leader { token: i64 },
    /// It does not. (A leader whose renewals fail stays [`Held::Leader`]
    /// and keeps renewing: its own lease renews as long as nobody took it
    /// over, even past its deadline, since the token did not move.)
    Follower,
}

/// Holds the lease for one node: `holder` names it in the row (node id and
/// process token, so a restarted process never renews its predecessor's).
pub struct Keeper {
    pool: PgPool,
    holder: String,
    settings: Settings,
    lease: RoutingLease,
    held: Held,
}

impl Keeper {
    /// A follower that has not tried yet; `lease` shows what it finds.
    pub fn new(pool: PgPool, holder: String, settings: Settings, lease: RoutingLease) -> Self {
        Keeper {
            pool,
            holder,
            settings,
            lease,
            held: Held::Follower,
        }
    }

    /// The lease this keeper updates.
    pub fn lease(&self) -> &RoutingLease {
        &self.lease
    }

    /// One round: a leader renews, a follower tries to take the lease.
    /// Returns when the next is due.
    pub async fn round(&mut self) -> Instant {
        let sent = Instant::now();
        match self.held {
            Held::Leader { token } => self.renew(token, sent).await,
            Held::Follower => self.acquire(sent).await,
        }
        // Also when nothing changed: a deadline that passed between rounds
        // shows on `/metrics` too.
        self.lease.publish();
        sent + match self.held {
            Held::Leader { .. } => self.settings.renew_every,
            Held::Follower => self.settings.retry_every,
        }
    }

    /// Renews. A lease another node took over stops routing at once; a
    /// renewal that failed for another reason keeps the lease until the
    /// deadline, and the next round tries again.
    async fn renew(&mut self, token: i64, sent: Instant) {
        let renewal = sql::renew(&self.pool, &self.holder, token, self.settings.ttl);
        match tokio::time::timeout(self.settings.renew_every, renewal).await {
            Ok(Ok(true)) => self.lease.lead(token, self.deadline(sent)),
            Ok(Ok(false)) => {
                self.held = Held::Follower;
                self.lease.refuse(format!(
                    "this node lost the routing lease: another node took over routing (this node's token was {token}); it routes again once it takes the lease over"
                ));
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "renewing the routing lease failed; trying again");
            }
            Err(_) => {
                tracing::warn!(
                    "renewing the routing lease took longer than {:?}; trying again",
                    self.settings.renew_every
                );
            }
        }
    }

    async fn acquire(&mut self, sent: Instant) {
        let attempt = async {
            let token = sql::acquire(&self.pool, &self.holder, self.settings.ttl).await?;
            let standing = match token {
                Some(_) => None,
                None => Some(sql::standing(&self.pool).await?),
            };
            Ok::<_, sqlx::Error>((token, standing))
        };
        match tokio::time::timeout(self.settings.retry_every, attempt).await {
            Ok(Ok((Some(token), _))) => {
                self.held = Held::Leader { token };
                self.lease.lead(token, self.deadline(sent));
            }
            Ok(Ok((None, standing))) => {
                let holder = standing
                    .and_then(|s| s.holder)
                    .unwrap_or_else(|| "another node".into());
                self.lease.refuse(format!(
                    "{ANOTHER_NODE} ({holder} holds the routing lease); this node takes over routing if that node stops renewing it"
                ));
            }
            Ok(Err(err)) => {
                self.lease.refuse(format!(
                    "this node cannot reach the routing lease in the database ({err}); it routes once it holds the lease"
                ));
            }
            Err(_) => self.lease.refuse(format!(
                "taking the routing lease took longer than {:?}; this node tries again",
                self.settings.retry_every
            )),
        }
    }

    /// When a renewal sent at `sent` stops letting this node route.
    fn deadline(&self, sent: Instant) -> Instant {
        sent + self.settings.ttl.saturating_sub(self.settings.margin)
    }

    /// Ends the lease if this node holds it, so another node takes over at
    /// once (a clean shutdown). This node stops routing first.
    pub async fn release(&mut self) {
        let Held::Leader { token } = self.held else {
            return;
        };
        self.lease
            .refuse("this node is shutting down and handed the routing lease back".into());
        self.held = Held::Follower;
        let release = sql::release(&self.pool, &self.holder, token);
        match tokio::time::timeout(self.settings.renew_every, release).await {
            Ok(Ok(true)) => tracing::info!(token, "routing lease handed back"),
            Ok(Ok(false)) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "cannot hand the routing lease back; another node takes over when it runs out")
            }
            Err(_) => tracing::warn!(
                "handing the routing lease back timed out; another node takes over when it runs out"
            ),
        }
    }

    /// Rounds from `next` on until `stop`, then hands the lease back.
    pub async fn run(mut self, mut next: Instant, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => next = self.round().await,
                () = stop.cancelled() => break,
            }
        }
        self.release().await;
        self.pool.close().await;
    }
}
