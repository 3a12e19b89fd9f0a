//! The bot worker: one task that hands out sessions, one task per session
//! at a time that feeds the bot that session's events in order.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use frontdesk_plugin_host::PluginHost;
use frontdesk_plugin_host::types::{
    Answer, BotEvent, Channel as BotChannel, InboundMessage, Sender, Session as BotSessionView,
};
use frontdesk_routing::{AgentId, QueueId, SessionId};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::Link;
use super::actions::{self, Plan};
use crate::clock::Clock;
use crate::engine::{Engine, EngineError, Event};
use crate::node::Workers;
use crate::store::{
    BotConsumed, BotExit, BotSession, BotStatus, BotStep, BotWorkerStore, Direction, Role,
    SessionState, StoreError, Viewer,
};

/// Bot calls that may run at once, across all sessions.
pub const MAX_PARALLEL: usize = 32;
/// Events one run handles for a session before giving others a turn.
const EVENTS_PER_RUN: usize = 64;
/// How long a routing move that failed to apply waits before it is tried again.
const RETRY_MS: i64 = 5_000;

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

pub(super) struct Worker {
    store: Arc<dyn BotWorkerStore>,
    clock: Arc<dyn Clock>,
    engine: Engine,
    host: PluginHost,
    outbox: Arc<Notify>,
    /// The worker's own line, to come round to a session again.
    link: Link,
    permits: Semaphore,
    /// Bot steps in flight finish within the drain time on shutdown.
    workers: Workers,
}

/// What to hand the bot next.
struct Next {
    event: BotEvent,
    consumed: BotConsumed,
    /// For a customer message: when it arrived (the silence clock starts there).
    message_at: Option<i64>,
    /// Whether the event answers the pending question.
    answers: bool,
}

impl Worker {
    pub(super) fn new(
        store: Arc<dyn BotWorkerStore>,
        clock: Arc<dyn Clock>,
        engine: Engine,
        host: PluginHost,
        outbox: Arc<Notify>,
        link: Link,
        workers: Workers,
    ) -> Arc<Worker> {
        Arc::new(Worker {
            store,
            clock,
            engine,
            host,
            outbox,
            link,
            permits: Semaphore::new(MAX_PARALLEL),
            workers,
        })
    }

    /// Hands out sessions: from the engine's wakes, from deadlines (silence,
    /// bot timers, retries), and on start from the store (a restart resumes).
    pub(super) async fn run(self: Arc<Self>, mut wakes: mpsc::UnboundedReceiver<i64>) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<i64>();
        let mut running: HashSet<i64> = HashSet::new();
        let mut again: HashSet<i64> = HashSet::new();
        let start = |session: i64, running: &mut HashSet<i64>, again: &mut HashSet<i64>| {
            if !running.insert(session) {
                again.insert(session);
                return;
            }
            let worker = self.clone();
            let done = done_tx.clone();
            self.workers.tracker.spawn(async move {
                if let Err(err) = worker.process(session).await {
                    tracing::error!(session, error = %err, "bot step failed; trying again shortly");
                    // A store failure: give the database a moment before this
                    // session comes round again.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let _ = done.send(session);
            });
        };
        match self.store.bot_sessions_to_resume().await {
            Ok(sessions) => {
                for session in sessions {
                    start(session, &mut running, &mut again);
                }
            }
            Err(err) => tracing::error!(error = %err, "cannot resume bot conversations"),
        }
        // Set while everything due is already being worked on, so a due
        // deadline does not spin the loop until that work finishes.
        let mut due_blocked = false;
        loop {
            let due = match self.store.next_bot_due().await {
                Ok(due) => due,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read bot deadlines");
                    None
                }
            };
            let sleep = self.clock.sleep_until(due.unwrap_or(i64::MAX));
            tokio::select! {
                // No new step starts; a session's pending events wait in the
                // store for the next start.
                () = self.workers.stop.cancelled() => return,
                wake = wakes.recv() => match wake {
                    Some(session) => start(session, &mut running, &mut again),
                    None => return,
                },
                Some(session) = done_rx.recv() => {
                    running.remove(&session);
                    due_blocked = false;
                    if again.remove(&session) {
                        start(session, &mut running, &mut again);
                    }
                }
                () = sleep, if !due_blocked => {
                    match self.store.due_bot_sessions(self.clock.now()).await {
                        Ok(sessions) => {
                            let fresh: Vec<i64> =
                                sessions.into_iter().filter(|s| !running.contains(s)).collect();
                            due_blocked = fresh.is_empty();
                            for session in fresh {
                                start(session, &mut running, &mut again);
                            }
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "cannot read due bot conversations");
                            due_blocked = true;
                        }
                    }
                }
            }
        }
    }

    /// Feeds one session's pending events to its bot, in order.
    async fn process(&self, session: i64) -> Result<(), StoreError> {
        for _ in 0..EVENTS_PER_RUN {
            let now = self.clock.now();
            let Some(bot) = self.store.start_bot_session(session, now).await? else {
                return Ok(());
            };
            match bot.status {
                BotStatus::Done => return Ok(()),
                BotStatus::Leaving => return self.leave(&bot).await,
                BotStatus::Active => {}
            }
            let Some(row) = self.store.session(ADMIN, session).await? else {
                return Ok(());
            };
            if row.state != SessionState::Bot {
                // An agent took it (R18), or it was closed: the bot is done.
                let reason = format!("the session moved on to {} without the bot", row.state);
                self.store
                    .finish_bot_session(session, Some(&reason), None, now)
                    .await?;
                return Ok(());
            }
            let contact = self.store.contact(ADMIN, row.contact_id).await?;
            let customer = Sender {
                external_id: row.chat_id.clone(),
                name: contact.as_ref().map(|c| c.name.clone()),
                handle: None,
                email: contact.as_ref().and_then(|c| c.email.clone()),
                phone: contact.as_ref().and_then(|c| c.phone.clone()),
            };
            let Some(next) = self.next_event(&bot, &row.chat_id, &customer, now).await? else {
                if bot.due_at.is_some_and(|due| due <= now) {
                    self.silent(&bot, now).await?;
                    return self.leave_now(session).await;
                }
                return Ok(());
            };
            let view = BotSessionView {
                session_id: session.to_string(),
                channel_id: bot.channel_id.to_string(),
                customer,
                data: bot
                    .data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
            };
            let channel = BotChannel {
                id: bot.channel_id.to_string(),
                plugin: bot.plugin.clone(),
                config: serde_json::from_str(&bot.config).unwrap_or_default(),
            };
            let called = {
                let _permit = self.permits.acquire().await.expect("never closed");
                self.host.bot_event(&channel, &view, &next.event).await
            };
            let now = self.clock.now();
            let mut step = BotStep::new(session, next.consumed.clone());
            if next.answers {
                step.ask = Some(None);
            }
            let failure = match called {
                Ok(served) => match served.value {
                    Ok(list) => {
                        metrics::counter!("frontdesk_bot_events_total", "outcome" => "ok")
                            .increment(1);
                        let plan = Plan {
                            bot: &bot,
                            now,
                            message_at: next.message_at,
                            answers: next.answers,
                        };
                        actions::plan(self.store.as_ref(), &plan, list, &mut step).await?;
                        None
                    }
                    Err(refusal) => Some(format!("it returned an error: {refusal}")),
                },
                Err(err) => Some(err.to_string()),
            };
            if let Some(why) = failure {
                metrics::counter!("frontdesk_bot_events_total", "outcome" => "failed").increment(1);
                tracing::warn!(session, bot = %bot.plugin, error = %why, "bot failed; handing the session to the queue");
                let note = format!(
                    "The bot {} failed ({why}), so the session was handed to the queue.",
                    bot.plugin
                );
                step.exit = Some((BotExit::HandOver, Some(note), "the bot failed".into()));
            }
            let written = self.store.apply_bot_step(&step, now).await?;
            if !step.replies.is_empty() {
                self.outbox.notify_one();
                self.engine.live().messages_since(session, now);
            }
            if let Some(why) = written.lead_refused {
                tracing::info!(session, "{why}");
            }
            if step.exit.is_some() {
                return self.leave_now(session).await;
            }
        }
        // More is waiting: come round again after other sessions had a turn.
        self.link.wake(session);
        Ok(())
    }

    /// The next event for the bot: the start, then each customer message in
    /// order (an answer if a question waits for it), then due timers.
    async fn next_event(
        &self,
        bot: &BotSession,
        chat_id: &str,
        customer: &Sender,
        now: i64,
    ) -> Result<Option<Next>, StoreError> {
        if !bot.started {
            return Ok(Some(Next {
                event: BotEvent::SessionStarted,
                consumed: BotConsumed::Started,
                message_at: None,
                answers: false,
            }));
        }
        let messages = self
            .store
            .messages(bot.session_id, bot.seen_message, 100)
            .await?;
        if let Some(m) = messages.into_iter().find(|m| m.direction == Direction::In) {
            let consumed = BotConsumed::Message(m.id);
            if let Some(field) = bot.pending_field.as_ref().filter(|_| m.id > bot.ask_after) {
                let value = actions::pick_option(&bot.pending_options, &m.body);
                return Ok(Some(Next {
                    event: BotEvent::Answered(Answer {
                        field: field.clone(),
                        value,
                    }),
                    consumed,
                    message_at: Some(m.created_at),
                    answers: true,
                }));
            }
            let message = InboundMessage {
                external_chat_id: chat_id.to_string(),
                external_message_id: m.external_id.clone().unwrap_or_else(|| m.id.to_string()),
                sender: customer.clone(),
                text: Some(m.body),
                attachments: Vec::new(),
                sent_at_ms: u64::try_from(m.created_at).ok(),
                in_reply_to: None,
                edit_of: None,
            };
            return Ok(Some(Next {
                event: BotEvent::CustomerMessage(message),
                consumed,
                message_at: Some(m.created_at),
                answers: false,
            }));
        }
        Ok(self
            .store
            .due_bot_timer(bot.session_id, now)
            .await?
            .map(|name| Next {
                event: BotEvent::TimerFired(name.clone()),
                consumed: BotConsumed::Timer(name),
                message_at: None,
                answers: false,
            }))
    }

    /// The bot left a customer waiting past its timeout: the queue takes over.
    async fn silent(&self, bot: &BotSession, now: i64) -> Result<(), StoreError> {
        metrics::counter!("frontdesk_bot_events_total", "outcome" => "silent").increment(1);
        tracing::warn!(session = bot.session_id, bot = %bot.plugin, "bot stayed silent; handing the session to the queue");
        let mut step = BotStep::new(bot.session_id, BotConsumed::Nothing);
        let note = format!(
            "The bot {} did not answer the customer within {} s, so the session was handed to the queue.",
            bot.plugin, bot.timeout_secs
        );
        step.exit = Some((
            BotExit::HandOver,
            Some(note),
            "the bot stayed silent".into(),
        ));
        self.store.apply_bot_step(&step, now).await?;
        Ok(())
    }

    async fn leave_now(&self, session: i64) -> Result<(), StoreError> {
        match self.store.bot_session(session).await? {
            Some(bot) => self.leave(&bot).await,
            None => Ok(()),
        }
    }

    /// Applies the routing move the conversation ended with. A move the
    /// routing refuses (the agent cannot take sessions, say) falls back to
    /// the queue; a session that already left the bot is simply done.
    async fn leave(&self, bot: &BotSession) -> Result<(), StoreError> {
        let session = bot.session_id;
        let exit = bot.exit.clone().unwrap_or(BotExit::HandOver);
        let sid = SessionId(session);
        let event = match exit {
            BotExit::HandOver => Event::BotHandover { session: sid },
            BotExit::Agent(agent) => Event::TransferToAgent {
                session: sid,
                agent: AgentId(agent),
            },
            BotExit::Queue(channel) => Event::TransferToQueue {
                session: sid,
                channel: QueueId(channel),
            },
            BotExit::Close => Event::Close { session: sid },
        };
        let now = self.clock.now();
        let refused = match self.engine.send(event).await {
            Ok(_) => {
                return self
                    .store
                    .finish_bot_session(session, None, None, now)
                    .await;
            }
            Err(EngineError::Refused(err)) => err,
            Err(err) => {
                tracing::warn!(session, error = %err, "bot's routing move not applied; trying again");
                let retry = Some(now + RETRY_MS);
                return self
                    .store
                    .finish_bot_session(session, None, retry, now)
                    .await;
            }
        };
        let state = self.store.session(ADMIN, session).await?.map(|s| s.state);
        if state == Some(SessionState::Bot) && exit != BotExit::HandOver {
            tracing::info!(session, error = %refused, "bot's transfer refused; handing over to the queue instead");
            if let Err(err) = self.engine.send(Event::BotHandover { session: sid }).await {
                tracing::warn!(session, error = %err, "handover after a refused transfer failed; trying again");
                let retry = Some(now + RETRY_MS);
                return self
                    .store
                    .finish_bot_session(session, None, retry, now)
                    .await;
            }
            let reason = format!("the bot's transfer was refused ({refused}); handed to the queue");
            return self
                .store
                .finish_bot_session(session, Some(&reason), None, now)
                .await;
        }
        // The session left the bot some other way first (an agent took it).
        let reason = format!(
            "the session had moved on to {}",
            state.map_or("", SessionState::as_str)
        );
        self.store
            .finish_bot_session(session, Some(&reason), None, now)
            .await
    }
}
