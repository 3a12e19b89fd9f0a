//! The loop that holds the routing lease on PostgreSQL (issue 18): a thin
//! driver around the sans-IO leadership core, [`frontdesk_cluster::Node`].
//! The core decides when to acquire, renew, step down and hand the lease
//! back; this driver runs each lease call as the statement in [`sql`],
//! turns its outcome into a [`Reply`] (an error or a call that outlives
//! [`Settings::call_timeout`] is [`Reply::Failed`]), and carries
//! `BecomeLeader` / `StepDown` out on the [`RoutingLease`] the engine reads.
//! So the seeded simulation in `host/cluster` tests the very decisions this
//! server makes.
//!
//! The leader's own deadline keeps `/healthz` honest; safety does not rest
//! on it, but on the fencing token every routing write checks (a node paused
//! past its deadline writes nothing once another node took over).
//!
//! The loop is one [`Keeper::step`] at a time, each returning when the
//! next is due; a test drives it by hand with [`Keeper::round`] (a paused
//! leader is one whose rounds are not called).

use frontdesk_cluster::{Action, Node, Reply, Role, Settings, StepDownReason, Token, WriteFailure};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ANOTHER_NODE, RoutingLease, sql};

/// Holds the lease for one node: `holder` names it in the row (node id and
/// process token, so a restarted process never renews its predecessor's).
pub struct Keeper {
    pool: PgPool,
    holder: String,
    node: Node,
    lease: RoutingLease,
}

impl Keeper {
    /// A follower that has not tried yet; `lease` shows what it finds. The
    /// error says which setting to change.
    pub fn new(
        pool: PgPool,
        holder: String,
        settings: Settings,
        lease: RoutingLease,
    ) -> Result<Self, frontdesk_cluster::Error> {
        let node = Node::new(Instant::now().into_std(), settings)?;
        Ok(Keeper {
            pool,
            holder,
            node,
            lease,
        })
    }

    /// The lease this keeper updates.
    pub fn lease(&self) -> &RoutingLease {
        &self.lease
    }

    /// Where the core stands, for `/healthz` and tests.
    pub fn role(&self) -> Role {
        self.node.role()
    }

    /// The next round, as [`Keeper::run`] would run it: waits until the
    /// core's next deadline (at once if it passed, as for a node resumed
    /// after a pause, or if a routing write was fenced meanwhile), then
    /// [`Keeper::step`]s. Returns when the round after is due.
    pub async fn round(&mut self) -> Instant {
        if !self.report_write_failures()
            && let Some(due) = self.node.poll_timeout()
        {
            tokio::time::sleep_until(Instant::from_std(due)).await;
        }
        self.step().await
    }

    /// One step: tells the core what the engine's writes found and what
    /// time it is, and carries out what it asks (a leader renews when due, a
    /// follower tries to take the lease when due, a leader past its own
    /// deadline stops). Returns when the next step is due.
    pub(super) async fn step(&mut self) -> Instant {
        self.report_write_failures();
        self.node.handle_timeout(Instant::now().into_std());
        self.carry_out().await;
        // Also when nothing changed: a deadline that passed between rounds
        // shows on `/metrics` too.
        self.lease.publish();
        match self.node.poll_timeout() {
            Some(next) => Instant::from_std(next),
            // Only once stopped, when no round is due at all; `run` has left
            // its loop by then.
            None => Instant::now() + self.node.settings().acquire_every,
        }
    }

    /// Hands the engine's fenced writes to the core, which ends that term
    /// (unless it already ended) and waits its turn to acquire again.
    /// Whether there were any.
    fn report_write_failures(&mut self) -> bool {
        let fenced = self.lease.take_fenced();
        for &held in &fenced {
            let now = Instant::now().into_std();
            self.node
                .handle_write_failure(now, Token(held), WriteFailure::Fenced);
        }
        !fenced.is_empty()
    }

    /// Runs the core's actions until it has none left.
    async fn carry_out(&mut self) {
        while let Some(action) = self.node.poll_action() {
            match action {
                Action::Acquire { led } => {
                    let reply = self.acquire(led).await;
                    self.answer(reply);
                }
                Action::Renew { token } => {
                    let reply = self.renew(token).await;
                    self.answer(reply);
                    // A renewal moves the leader's own deadline.
                    if let Role::Leader { token, valid_until } = self.node.role() {
                        self.lease.lead(token.0, Instant::from_std(valid_until));
                    }
                }
                Action::Release { token } => {
                    let reply = self.release_call(token).await;
                    self.answer(reply);
                }
                Action::BecomeLeader { token } => {
                    if let Role::Leader { valid_until, .. } = self.node.role() {
                        self.lease.lead(token.0, Instant::from_std(valid_until));
                    }
                }
                Action::StepDown { token, reason } => self.step_down(token, reason),
            }
        }
    }

    fn answer(&mut self, reply: Reply) {
        if let Err(err) = self.node.handle_reply(Instant::now().into_std(), reply) {
            // A bug in this driver (it answers each call once, in kind), not
            // something an operator can fix; the core ignored the reply.
            tracing::error!(error = %err, "the routing lease keeper answered its core wrongly");
        }
    }

    fn step_down(&mut self, token: Token, reason: StepDownReason) {
        let token = token.0;
        let why = match reason {
            StepDownReason::Lost => format!(
                "this node lost the routing lease: another node took over routing (this node's token was {token}); it routes again once it takes the lease over"
            ),
            StepDownReason::Expired => "this node could not renew its routing lease in time, so it stopped routing; it routes again once it takes the lease again".into(),
            StepDownReason::Fenced => {
                // The engine already refused, naming the newer token.
                if self.lease.refusal().is_some() {
                    return;
                }
                format!(
                    "this node lost the routing lease: a routing write found that another node took over routing (this node's token was {token}); it routes again once it takes the lease over"
                )
            }
            StepDownReason::WriteUncertain => format!(
                "whether a routing write under token {token} was stored is unknown, so this node stopped routing; it takes the lease again as a new term and rebuilds its router from the store"
            ),
            StepDownReason::Shutdown => {
                "this node is shutting down and handed the routing lease back".into()
            }
        };
        self.lease.refuse(why);
    }

    async fn acquire(&mut self, led: Option<Token>) -> Reply {
        let ttl = self.node.settings().ttl;
        let led = led.map_or(0, |t| t.0);
        let call = sql::acquire(&self.pool, &self.holder, led, ttl);
        match tokio::time::timeout(self.node.settings().call_timeout, call).await {
            Ok(Ok(Some(token))) => Reply::Acquired {
                token: Token(token),
            },
            Ok(Ok(None)) => {
                let holder = self.holder_now().await;
                self.lease.refuse(format!(
                    "{ANOTHER_NODE} ({holder} holds the routing lease); this node takes over routing if that node stops renewing it"
                ));
                Reply::Busy
            }
            Ok(Err(err)) => {
                self.lease.refuse(format!(
                    "this node cannot reach the routing lease in the database ({err}); it routes once it holds the lease"
                ));
                Reply::Failed
            }
            Err(_) => {
                self.lease.refuse(format!(
                    "taking the routing lease took longer than {:?}; this node tries again",
                    self.node.settings().call_timeout
                ));
                Reply::Failed
            }
        }
    }

    /// Who holds the lease, for a follower's reason only (never a decision).
    async fn holder_now(&self) -> String {
        let read = sql::standing(&self.pool);
        match tokio::time::timeout(self.node.settings().call_timeout, read).await {
            Ok(Ok(sql::Standing {
                holder: Some(holder),
                ..
            })) => holder,
            _ => "another node".into(),
        }
    }

    async fn renew(&mut self, token: Token) -> Reply {
        let call = sql::renew(&self.pool, &self.holder, token.0, self.node.settings().ttl);
        let timeout = self.node.settings().call_timeout;
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(true)) => Reply::Renewed,
            Ok(Ok(false)) => Reply::Lost,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "renewing the routing lease failed; trying again");
                Reply::Failed
            }
            Err(_) => {
                tracing::warn!(
                    "renewing the routing lease took longer than {timeout:?}; trying again"
                );
                Reply::Failed
            }
        }
    }

    async fn release_call(&mut self, token: Token) -> Reply {
        let call = sql::release(&self.pool, &self.holder, token.0);
        match tokio::time::timeout(self.node.settings().call_timeout, call).await {
            Ok(Ok(true)) => {
                tracing::info!(token = token.0, "routing lease handed back");
                Reply::Released
            }
            Ok(Ok(false)) => Reply::Lost,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "cannot hand the routing lease back; another node takes over when it runs out");
                Reply::Failed
            }
            Err(_) => {
                tracing::warn!(
                    "handing the routing lease back timed out; another node takes over when it runs out"
                );
                Reply::Failed
            }
        }
    }

    /// Stops for good: a leader stops routing first, then hands the lease
    /// back so another node takes over at once (a clean shutdown). Does
    /// nothing more on a keeper already stopped.
    pub async fn release(&mut self) {
        self.node.shutdown(Instant::now().into_std());
        self.carry_out().await;
    }

    /// Rounds from `next` on until `stop`, then hands the lease back. A
    /// fenced write wakes it at once, so the core hears of it before its
    /// next renewal.
    pub async fn run(mut self, mut next: Instant, stop: CancellationToken) {
        let lease = self.lease.clone();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => next = self.step().await,
                () = lease.write_failed() => next = self.step().await,
                () = stop.cancelled() => break,
            }
        }
        self.release().await;
        self.pool.close().await;
    }
}
