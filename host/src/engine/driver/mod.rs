//! The engine task: owns the router, writes each step, then lets effects out.
//! `leading` holds how it gets a router to route with (loading, rebuilding,
//! and waiting while this node does not lead).

mod leading;

pub(super) use leading::Parts;

use std::sync::Arc;

use frontdesk_routing::{
    AgentId, Command, MessageOutcome, NewSession, QueueId, Router, SessionId, State, Timestamp,
};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::bots::{BotRouter, Bots};
use super::closing::Closing;
use super::consent::ConsentGate;
use super::convert::{agent_status, channel_queue_config, record};
use super::holder::holder_allows;
use super::hooks::{HookRun, HookRunner};
use super::refusal::wait_refusing;
use super::written::{Written, publish_live};
use super::{EngineError, Event, Job, MAX_STEP, Outcome};
use crate::clock::Clock;
use crate::live::Live;
use crate::node::Workers;
use crate::routing_lock::RoutingLease;
use crate::store::{AgentReply, EngineStore, Message, OutboxItem, RoutingBatch, StoreError};

mod drain;
pub(super) use drain::DriverInbox;

/// The engine's task: the loop that takes events, feeds them to the core
/// through its parts, and writes each step. The parts own what they read
/// and are handed the router and the step's batch when they act.
pub(super) struct Driver {
    store: Arc<dyn EngineStore>,
    clock: Arc<dyn Clock>,
    router: Router,
    /// Each open session as last written; see [`Written`].
    written: Written,
    /// Woken after a stored step that queued notices for customers.
    outbox: Arc<Notify>,
    /// What the parts added to the next step besides the core's commands:
    /// texts for customers, consent answers, ratings. Written with it.
    pending: RoutingBatch,
    /// Hooks the last step made due.
    due_hooks: Vec<HookRun>,
    /// The admins' auto-action scripts (A1–A5, W2, Q1).
    hooks: HookRunner,
    /// The consent notice in front of routing (G1).
    consent: ConsentGate,
    /// The agent's scripted close (A4) and the customer's rating (Q1, Q2).
    closing: Closing,
    /// Channels' bots and the sessions to hand to them (B1).
    bots: BotRouter,
    /// The consoles' event hub: told which sessions each stored step touched.
    live: Live,
    /// A step could not be stored, so the router is ahead of the store
    /// until [`Driver::recover`] rebuilds it; events are refused meanwhile.
    stale: bool,
    /// Checked before each step: a node that lost the routing lease stops.
    lease: RoutingLease,
    /// The lease's fencing token the router was built under, written with
    /// every step (issue 18); a newer one means this node took the lease
    /// over (again), so the router is rebuilt first.
    lease_token: Option<i64>,
    /// The bot worker, started when this node first leads (bots talk for
    /// the routing engine).
    idle_bots: Option<(Bots, Workers)>,
    /// The routing inbox this node drains while it leads (PostgreSQL).
    pub(super) inbox: Option<DriverInbox>,
}

/// How many rounds of hooks one step may set off (a hook's action can make
/// another hook due, e.g. A2's back-to-queue); more is a loop and stops.
const MAX_HOOK_ROUNDS: usize = 4;

type Reply = Option<super::Reply>;

impl Driver {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.clock.now())
    }

    /// Takes events until `stop` (the step in hand is finished and
    /// written first) or until every handle is gone.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Job>, stop: CancellationToken) {
        let mut jobs = Vec::with_capacity(MAX_STEP);
        loop {
            if stop.is_cancelled() {
                return;
            }
            if let Some(reason) = self.lease.refusal() {
                // Another node may route meanwhile: rebuild before routing again.
                self.stale = true;
                let refusing = wait_refusing(&mut rx, &mut jobs, &reason, &self.lease);
                let open = tokio::select! {
                    open = refusing => open,
                    () = stop.cancelled() => false,
                };
                if !open {
                    return;
                }
                continue;
            }
            if self.lease.token() != self.lease_token {
                self.stale = true;
            }
            if self.stale {
                self.wait_and_recover(&mut rx, &mut jobs).await;
                continue;
            }
            let deadline = self.router.poll_timeout();
            let sleep = self
                .clock
                .sleep_until(deadline.map_or(i64::MAX, Timestamp::as_millis));
            let inbox = drain::woken(self.inbox_wake());
            tokio::select! {
                () = stop.cancelled() => return,
                received = rx.recv_many(&mut jobs, MAX_STEP) => {
                    if received == 0 {
                        return;
                    }
                    self.handle_jobs(&mut jobs).await;
                }
                () = inbox => self.drain_inbox().await,
                () = sleep => {
                    let now = self.now();
                    self.router.handle_timeout(now);
                    if let Err(err) = self.step_and_hooks(now).await {
                        tracing::error!(error = %err, "storing a timer step failed");
                    }
                }
            }
        }
    }

    async fn handle_jobs(&mut self, jobs: &mut Vec<Job>) {
        let now = self.now();
        // Deadlines that came due fire first, so events stamped `now` follow them.
        self.router.handle_timeout(now);
        // Each job's answer, and for a reply the step let through, its
        // place among the step's replies (answered with the stored rows).
        let mut replies: Vec<(Reply, Result<Outcome, EngineError>, Option<usize>)> =
            Vec::with_capacity(jobs.len());
        let mut customer_messages = Vec::new();
        for (event, actor, reply) in jobs.drain(..) {
            if let Err(err) = self.learn_agent(now, &event).await {
                replies.push((reply, Err(err), None));
                continue;
            }
            if let Some(actor) = actor
                && let Err(err) = holder_allows(&self.router, actor, &event)
            {
                replies.push((reply, Err(err), None));
                continue;
            }
            let passed = self
                .consent
                .pass(&self.router, &mut self.pending, now, event)
                .await;
            let event = match passed {
                Ok(Some(event)) => event,
                // Held for consent (G1): the notice is on its way.
                Ok(None) => {
                    replies.push((reply, Ok(Outcome::Done), None));
                    continue;
                }
                Err(err) => {
                    replies.push((reply, Err(err), None));
                    continue;
                }
            };
            let message = match &event {
                Event::SessionOpened { session, .. } => Some((session.0, true)),
                Event::CustomerMessage { session } => Some((session.0, false)),
                _ => None,
            };
            let bot = self.bots.opens_with_bot(&event).await;
            let replies_before = self.pending.replies.len();
            let outcome = match event {
                Event::QueueChanged { channel, queue } => {
                    self.reconfigure(now, channel.0, Some(queue)).await
                }
                Event::ChannelChanged { channel } => self.reconfigure(now, channel.0, None).await,
                // A4: the close-delay script picks the delay.
                Event::Close { session } => {
                    self.closing
                        .close_by_agent(
                            &mut self.router,
                            &mut self.hooks,
                            &mut self.consent,
                            now,
                            session.0,
                        )
                        .await
                }
                event => self.apply(now, event, bot),
            };
            match (message, &outcome) {
                // Ingest puts only a score-like answer into a session that
                // waits for its rating (Q1).
                (Some((session, _)), Ok(Outcome::Message(MessageOutcome::StartNewSession)))
                    if self.router.session(SessionId(session)).map(|s| s.state)
                        == Some(State::Rating) =>
                {
                    self.closing.answered(session);
                }
                (Some(message), Ok(_)) => customer_messages.push(message),
                _ => {}
            }
            let stored_reply =
                (self.pending.replies.len() > replies_before).then_some(replies_before);
            replies.push((reply, outcome, stored_reply));
        }
        self.closing
            .rate_answers(
                &mut self.router,
                &mut self.hooks,
                &mut self.consent,
                &mut self.pending,
                now,
            )
            .await;
        // A1 on a session's first message; W2 only where working hours are
        // closed. They run before the step is written, so the greeting goes
        // out ahead of any routing notice.
        let mut runs = Vec::new();
        for (session, first) in customer_messages {
            // A session the bot holds (B1) gets its messages there instead.
            if self.bots.takes(&self.router, session) {
                continue;
            }
            let channel = self.router.session(SessionId(session)).map(|s| s.queue.0);
            let off_hours = match channel {
                Some(channel) if !first => self.hooks.off_hours(channel, now).await,
                _ => false,
            };
            if first || off_hours {
                runs.push(HookRun {
                    session,
                    hook: None,
                });
            }
        }
        self.run_hooks(now, runs).await;
        drain::answer_in_step(&mut self.pending, &replies);
        let stored = self.step_and_hooks(now).await;
        self.bots.flush();
        let mut stored_replies: Vec<Option<(Message, OutboxItem)>> = match &stored {
            Ok(rows) => rows.iter().cloned().map(Some).collect(),
            Err(_) => Vec::new(),
        };
        for (reply, outcome, stored_reply) in replies {
            let answer = match (&stored, outcome) {
                (Ok(_), Ok(_)) if stored_reply.is_some() => stored_reply
                    .and_then(|i| stored_replies.get_mut(i)?.take())
                    .map(|row| Outcome::Replied(Box::new(row)))
                    .ok_or_else(|| {
                        EngineError::NotStored("the step did not store the reply".into())
                    }),
                (Ok(_), outcome) => outcome,
                (Err(EngineError::NotRouting(reason)), _) => {
                    Err(EngineError::NotRouting(reason.clone()))
                }
                (Err(err), _) => Err(EngineError::NotStored(err.to_string())),
            };
            if let Err(err) = &answer {
                tracing::debug!(error = %err, "routing event refused");
            }
            drain::answer_caller(reply, answer);
        }
    }

    /// Applies a channel's queue and settings as stored now (R1–R10, A5).
    async fn reconfigure(
        &mut self,
        now: Timestamp,
        channel: i64,
        queue: Option<crate::store::Queue>,
    ) -> Result<Outcome, EngineError> {
        self.hooks.forget(channel);
        self.consent.forget(channel);
        self.bots.forget(channel);
        let row = self
            .store
            .channel(channel)
            .await?
            .ok_or(StoreError::NotFound("channel"))?;
        let queue = match queue {
            Some(queue) => queue,
            None => self.store.queue(channel).await?,
        };
        let config = channel_queue_config(&row, &queue);
        if self.router.queue(QueueId(channel)) != Some(&config) {
            self.router.handle_queue_config(now, config)?;
        }
        Ok(Outcome::Done)
    }

    /// Users created while the server runs (`frontdesk user add`) are read
    /// from the store the first time an event names them.
    async fn learn_agent(&mut self, now: Timestamp, event: &Event) -> Result<(), EngineError> {
        let agent = match *event {
            Event::AgentMessage { agent, .. }
            | Event::Accept { agent, .. }
            | Event::Take { agent, .. }
            | Event::TransferToAgent { agent, .. }
            | Event::Activity { agent }
            | Event::Disconnected { agent } => agent,
            _ => return Ok(()),
        };
        if self.router.agent(agent).is_none()
            && let Some(user) = self.store.user(agent.0).await?
        {
            self.router
                .handle_agent_upsert(now, agent, agent_status(&user));
        }
        Ok(())
    }

    /// Feeds one event to the core. A refused event changes nothing.
    fn apply(&mut self, now: Timestamp, event: Event, bot: bool) -> Result<Outcome, EngineError> {
        let r = &mut self.router;
        match event {
            Event::SessionOpened {
                session,
                channel,
                responsible,
                ..
            } => {
                let new = NewSession {
                    id: session,
                    queue: channel,
                    responsible,
                    bot,
                };
                r.handle_session_opened(now, new)?;
            }
            Event::BotHandover { session } => r.handle_bot_handover(now, session)?,
            Event::CustomerMessage { session } => {
                return Ok(Outcome::Message(r.handle_customer_message(now, session)?));
            }
            Event::AgentMessage {
                session,
                agent,
                text,
            } => {
                r.handle_agent_message(now, session, agent)?;
                // Let through: stored with this step, so routing never
                // counts a session answered without its reply (S5).
                self.pending.replies.push(AgentReply {
                    session_id: session.0,
                    author_id: agent.0,
                    body: text,
                });
            }
            Event::Accept { session, agent } => r.handle_accept(now, session, agent)?,
            Event::Take { session, agent } => r.handle_take(now, session, agent)?,
            Event::TransferToAgent { session, agent } => {
                r.handle_transfer_to_agent(now, session, agent)?
            }
            Event::TransferToQueue { session, channel } => {
                r.handle_transfer_to_queue(now, session, channel)?
            }
            Event::Close { session } => r.handle_close(now, session)?,
            // Handled in `handle_jobs`, which reads the store for them.
            Event::ChannelChanged { .. } | Event::QueueChanged { .. } => {}
            Event::AgentChanged(user) => {
                r.handle_agent_upsert(now, AgentId(user.id), agent_status(&user))
            }
            Event::Activity { agent } => r.handle_agent_activity(now, agent)?,
            Event::Disconnected { agent } => r.handle_agent_disconnected(now, agent)?,
        }
        Ok(Outcome::Done)
    }

    /// Writes the step, then runs the hooks it made due and writes what they
    /// did, for a few rounds at most. Returns the first step's stored
    /// replies: the events its callers sent took effect once it is stored,
    /// whatever the hooks' steps do after it.
    async fn step_and_hooks(
        &mut self,
        now: Timestamp,
    ) -> Result<Vec<(Message, OutboxItem)>, EngineError> {
        let stored = self.step(now).await?;
        if let Err(err) = self.hook_rounds(now).await {
            tracing::error!(error = %err, "storing an auto-action step failed");
        }
        Ok(stored)
    }

    /// Runs the hooks the last step made due and writes what they did, for
    /// a few rounds at most (a hook's action can make another hook due).
    async fn hook_rounds(&mut self, now: Timestamp) -> Result<(), EngineError> {
        for _ in 0..MAX_HOOK_ROUNDS {
            let runs = std::mem::take(&mut self.due_hooks);
            if runs.is_empty() {
                return Ok(());
            }
            self.run_hooks(now, runs).await;
            self.step(now).await?;
        }
        let left = std::mem::take(&mut self.due_hooks);
        if !left.is_empty() {
            tracing::warn!(
                hooks = left.len(),
                "auto-actions keep setting each other off; stopped"
            );
        }
        Ok(())
    }

    /// Runs hooks through the hook runner, with the router and the step's batch.
    async fn run_hooks(&mut self, now: Timestamp, runs: Vec<HookRun>) {
        self.hooks
            .run_all(
                &mut self.router,
                &mut self.consent,
                &mut self.pending,
                now,
                runs,
            )
            .await;
    }

    /// Writes everything the core emitted since the last step, and what the
    /// parts added to it, in one transaction, then lets its effects out.
    /// Returns the step's replies as stored.
    ///
    /// If the write fails, the router is marked stale and rebuilt from the
    /// store, which still holds the state before this step, so memory and
    /// disk never disagree.
    async fn step(&mut self, now: Timestamp) -> Result<Vec<(Message, OutboxItem)>, EngineError> {
        let mut batch = std::mem::take(&mut self.pending);
        // Written or dropped below; either way the store is the truth after.
        self.consent.stepped();
        let mut emitted = Vec::new();
        while let Some(command) = self.router.poll_command() {
            if self.written.needs_writing(&command) {
                record(&mut batch, &command);
            }
            if let Command::NotifyCustomer { session, notice } = &command {
                let channel = self.router.session(*session).map(|s| s.queue.0);
                // The core moved on already: a step that stops here leaves
                // the router ahead of the store, so it is rebuilt.
                let text = self.hooks.notice_text(channel, *notice).await;
                let text = text.inspect_err(|_| self.stale = true)?;
                batch.notices.push((session.0, text));
            }
            emitted.push(command);
        }
        if batch.is_empty() && emitted.is_empty() {
            return Ok(Vec::new());
        }
        self.routing().inspect_err(|_| self.stale = true)?;
        batch.fence = self.lease_token;
        let replies = match self.store.apply_routing(&batch, now.as_millis()).await {
            Ok(replies) => replies,
            Err(err @ StoreError::Fenced { held, current }) => {
                self.lease.fenced(held, current);
                tracing::error!(error = %err, "routing step refused: another node took over routing");
                self.stale = true;
                return Err(EngineError::NotRouting(err.to_string()));
            }
            Err(err) => {
                self.store.health().observe(&err);
                tracing::error!(error = %err, "routing step not stored; routing pauses until the router is rebuilt from the store");
                self.stale = true;
                return Err(err.into());
            }
        };
        publish_live(&self.live, &batch, &emitted, &replies, now);
        if !batch.notices.is_empty() || !replies.is_empty() {
            self.outbox.notify_one();
        }
        for command in emitted {
            if let Command::RunHook { session, hook } = command {
                let hook = Some(frontdesk_rules::Hook::from_router(hook));
                self.due_hooks.push(HookRun {
                    session: session.0,
                    hook,
                });
            }
        }
        Ok(replies)
    }
}
