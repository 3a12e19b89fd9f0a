//! How the driver gets a router it may route with: built empty, loaded
//! from the store when this node leads (at start, or on taking the routing
//! lease over later), rebuilt after a step that could not be stored or
//! under a new lease token, and refused while this node does not lead.

use std::sync::Arc;

use frontdesk_routing::{AgentId, NewSession, QueueId, Router, SessionId, Timestamp};
use tokio::sync::{Notify, mpsc};

use frontdesk_rules::Rules;

use super::Driver;
use crate::clock::Clock;
use crate::engine::bots::{BotRouter, Bots};
use crate::engine::closing::Closing;
use crate::engine::consent::ConsentGate;
use crate::engine::convert::{agent_status, channel_queue_config};
use crate::engine::hooks::HookRunner;
use crate::engine::refusal::refuse_all;
use crate::engine::restore::restore;
use crate::engine::written::Written;
use crate::engine::{EngineError, Job, MAX_STEP, RECOVER_EVERY};
use crate::live::Live;
use crate::node::Workers;
use crate::routing_lock::RoutingLease;
use crate::store::{EngineStore, Role, RoutingBatch, Viewer};

/// What the driver is made of.
pub(in crate::engine) struct Parts {
    pub store: Arc<dyn EngineStore>,
    pub clock: Arc<dyn Clock>,
    pub outbox: Arc<Notify>,
    pub rules: Arc<Rules>,
    pub bots: Bots,
    pub live: Live,
    pub lease: RoutingLease,
    pub workers: Workers,
}

impl Driver {
    /// A driver with an empty router, marked stale: it reads nothing (a
    /// follower must not: loading writes, it fires due timers and routes
    /// sessions it never heard of) and loads the router from the store
    /// through [`Driver::recover`] once this node leads.
    pub(in crate::engine) fn new(parts: Parts) -> Driver {
        let Parts {
            store,
            clock,
            outbox,
            rules,
            bots,
            live,
            lease,
            workers,
        } = parts;
        let now = Timestamp::from_millis(clock.now());
        let router = Router::new(now);
        Driver {
            written: Written::of(&router),
            router,
            outbox,
            pending: RoutingBatch::default(),
            due_hooks: Vec::new(),
            hooks: HookRunner::new(store.clone(), rules),
            consent: ConsentGate::new(store.clone()),
            closing: Closing::new(store.clone()),
            bots: BotRouter::new(bots.link.clone(), store.clone()),
            store,
            clock,
            live,
            stale: true,
            lease_token: None,
            lease,
            idle_bots: Some((bots, workers)),
            inbox: None,
        }
    }

    /// Builds the router from the store, which holds every step this or
    /// another node stored, so memory and disk never disagree: at start,
    /// after a step that could not be stored (the store still holds the
    /// state before it), and when this node takes the routing lease over.
    /// The first time it succeeds, the bot worker starts.
    pub(in crate::engine) async fn recover(&mut self) -> Result<(), EngineError> {
        // Read first: a token that moves during the rebuild rebuilds again.
        self.lease_token = self.lease.token();
        let router = restore(self.store.as_ref(), self.now()).await?;
        self.written = Written::of(&router);
        self.router = router;
        self.pending = RoutingBatch::default();
        self.consent.stepped();
        self.due_hooks.clear();
        self.stale = false;
        if let Err(err) = self.catch_up().await {
            self.stale = true;
            return Err(err);
        }
        if let Some((bots, workers)) = self.idle_bots.take() {
            bots.start(&workers);
        }
        tracing::info!("routing resumed: the router was rebuilt from the store");
        Ok(())
    }

    /// Brings a router just rebuilt from the store up to date: due timers,
    /// the users and queues as they are now, and sessions it never heard of
    /// (opened before a restart, while a step could not be stored, or while
    /// another node led).
    async fn catch_up(&mut self) -> Result<(), EngineError> {
        let now = self.now();
        self.router.handle_timeout(now);
        let users = self.store.list_users().await?;
        for user in &users {
            let status = agent_status(user);
            if self.router.agent(AgentId(user.id)).map(|a| a.status) != Some(status) {
                self.router
                    .handle_agent_upsert(now, AgentId(user.id), status);
            }
        }
        let admin = Viewer {
            user_id: 0,
            role: Role::Admin,
        };
        for channel in self.store.list_channels(admin).await? {
            let config = channel_queue_config(&channel, &self.store.queue(channel.id).await?);
            if self.router.queue(QueueId(channel.id)) != Some(&config) {
                self.router.handle_queue_config(now, config)?;
            }
        }
        for (channel, session) in self.store.load_routing().await?.unrouted {
            if self.consent.awaits(session).await? {
                continue;
            }
            tracing::info!(session, "routing a session the engine has not routed yet");
            let new = NewSession {
                id: SessionId(session),
                queue: QueueId(channel),
                responsible: None,
                bot: false,
            };
            self.router.handle_session_opened(now, new)?;
        }
        self.step(now).await?;
        Ok(())
    }

    /// While the router is stale: tries to rebuild it now and then, and
    /// refuses the events that arrive meanwhile (the callers get a 503 and
    /// may retry; new sessions are picked up by the rebuild from the store).
    pub(super) async fn wait_and_recover(
        &mut self,
        rx: &mut mpsc::Receiver<Job>,
        jobs: &mut Vec<Job>,
    ) {
        if let Err(err) = self.recover().await {
            tracing::warn!(error = %err, "routing still paused: the router cannot be rebuilt yet");
        }
        if !self.stale {
            return;
        }
        // Wall time, not the injected clock: a test clock that nobody moves
        // must not keep routing paused.
        tokio::select! {
            received = rx.recv_many(jobs, MAX_STEP) => {
                if received == 0 {
                    return;
                }
                refuse_all(jobs, || {
                    EngineError::NotStored(
                        "routing is paused until the database takes writes again".into(),
                    )
                });
            }
            () = tokio::time::sleep(RECOVER_EVERY) => {}
        }
    }

    /// Whether this node still routes; the lease is checked again right
    /// before each write, so a lost lease stops the next step at the latest
    /// (and the write's fencing token stops it if the lease moved since).
    pub(super) fn routing(&self) -> Result<(), EngineError> {
        match self.lease.refusal() {
            Some(reason) => Err(EngineError::NotRouting(reason)),
            None if self.lease.token() != self.lease_token => Err(EngineError::NotStored(
                "this node took the routing lease over; its router is rebuilt from the store first"
                    .into(),
            )),
            None => Ok(()),
        }
    }
}
