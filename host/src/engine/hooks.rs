//! Running the admins' auto-action scripts (A1–A3, W2, Q1) from the engine.
//!
//! The core says when a hook is due (`Command::RunHook`); customer messages
//! decide A1 and W2. Scripts only return actions; this module builds what a
//! script may read from the store, runs it through `frontdesk_rules` (the
//! admin's script, or the default when it fails), and carries the actions out
//! through the core and the outbox.

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_routing::{SessionId, Span, State, Timestamp};
use frontdesk_rules::{
    Action, Author, ChannelInfo, ContactInfo, Hook, HookEvent, ScriptScope, SessionInfo,
};

use frontdesk_routing::Router;

use super::EngineError;
use super::consent::ConsentGate;
use crate::store::{Channel, ChannelConfig, HookStore, QueueMode, Role, RoutingBatch, Viewer};

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

/// A hook to run for a session; `None` is a customer message, for which the
/// rules decide between A1 and W2.
#[derive(Debug, Clone)]
pub(super) struct HookRun {
    pub session: i64,
    pub hook: Option<Hook>,
}

/// Runs the admins' scripts for the engine: builds what a script reads (the
/// session, its contact, the channel) and carries the actions out. The
/// driver owns it; it holds only the store it reads from, the scripts, and
/// what it read of each channel.
pub(super) struct HookRunner {
    store: Arc<dyn HookStore>,
    rules: Arc<frontdesk_rules::Rules>,
    /// What scripts read of each channel, cached because W2 is checked on
    /// every customer message of a channel with working hours.
    channels: HashMap<i64, Arc<ChannelInfo>>,
}

/// The channel's settings for scripts: `language`, `working_hours` and
/// `timeout_secs` (A5) from its config, mode and A4/Q2 options from its queue.
async fn channel_info(
    store: &dyn HookStore,
    channel: &Channel,
) -> Result<ChannelInfo, EngineError> {
    let config = &channel.config;
    let queue = store.queue(channel.id).await?;
    let working_hours = match config.working_hours() {
        Some(Ok(hours)) => Some(Arc::new(hours)),
        Some(Err(err)) => {
            tracing::warn!(channel = channel.id, error = %err, "working_hours ignored: always open");
            None
        }
        None => None,
    };
    Ok(ChannelInfo {
        name: channel.name.clone(),
        language: config.language().to_string(),
        mode: match queue.mode {
            QueueMode::Evenly => frontdesk_routing::Mode::Evenly,
            QueueMode::Strict => frontdesk_routing::Mode::Strict,
            QueueMode::Everybody => frontdesk_routing::Mode::Everybody,
        },
        working_hours,
        close_delay_ms: queue.options.close_delay_secs * 1000,
        // Scripts see the setting as saved, zero included (A5's own timer
        // ignores a timeout that is not positive).
        timeout_ms: config
            .get(ChannelConfig::TIMEOUT_SECS)
            .and_then(|v| v.as_i64())
            .map(|s| s * 1000),
        close_on_rating: queue.options.close_on_rating,
        off_hours_text: config.off_hours_text().map(str::to_string),
    })
}

impl HookRunner {
    pub(super) fn new(store: Arc<dyn HookStore>, rules: Arc<frontdesk_rules::Rules>) -> HookRunner {
        HookRunner {
            store,
            rules,
            channels: HashMap::new(),
        }
    }

    /// Forgets what it read of a channel after an admin changed it.
    pub(super) fn forget(&mut self, channel: i64) {
        self.channels.remove(&channel);
    }

    /// Runs `hook` for a prepared event: the channel's script, or the
    /// default when it fails (logged).
    pub(super) fn run(
        &self,
        scope: ScriptScope,
        hook: Hook,
        event: &HookEvent,
    ) -> frontdesk_rules::HookOutcome {
        let outcome = self.rules.run_or_default(scope, hook, event);
        if let Some(err) = &outcome.error {
            tracing::warn!(session = event.session.id.0, %hook, error = %err, "auto-action script failed; the default ran");
        }
        outcome
    }

    /// The cached script view of a channel.
    pub(super) async fn channel(&mut self, channel: i64) -> Result<Arc<ChannelInfo>, EngineError> {
        if let Some(info) = self.channels.get(&channel) {
            return Ok(info.clone());
        }
        let row = self
            .store
            .channel(channel)
            .await?
            .ok_or(crate::store::StoreError::NotFound("channel"))?;
        let info = Arc::new(channel_info(self.store.as_ref(), &row).await?);
        self.channels.insert(channel, info.clone());
        Ok(info)
    }

    /// Whether a customer message in this channel may need W2 now: only when
    /// the channel has working hours and they are closed, so the usual message
    /// costs no store reads.
    pub(super) async fn off_hours(&mut self, channel: i64, now: Timestamp) -> bool {
        match self.channel(channel).await {
            Ok(info) => !info.is_open(now),
            Err(err) => {
                tracing::warn!(channel, error = %err, "cannot read the channel for W2");
                false
            }
        }
    }

    /// A routing notice (R11) in the language of `channel` (O3), or the
    /// fallback language for a session the router no longer holds.
    pub(super) async fn notice_text(
        &mut self,
        channel: Option<i64>,
        notice: frontdesk_routing::Notice,
    ) -> Result<String, EngineError> {
        let id = match notice {
            frontdesk_routing::Notice::NobodyAvailable => "nobody-available",
        };
        let language = match channel {
            Some(channel) => self.channel(channel).await?.language.clone(),
            None => frontdesk_i18n::FALLBACK.to_string(),
        };
        Ok(frontdesk_i18n::text(&language, id, &[]))
    }

    /// Everything a script may read about the session, with the scope whose
    /// scripts run for it: the session's channel (U1).
    ///
    /// Only a hook that runs pays these reads (the session, its contact and
    /// its transcript's counts and last times); routing an event does not.
    pub(super) async fn event(
        &mut self,
        router: &Router,
        consent: &mut ConsentGate,
        now: Timestamp,
        run: &HookRun,
    ) -> Result<Option<(ScriptScope, HookEvent)>, EngineError> {
        let Some(session) = self.store.session(ADMIN, run.session).await? else {
            return Ok(None);
        };
        let channel = self.channel(session.channel_id).await?;
        let contact = self.store.contact(ADMIN, session.contact_id).await?;
        let snapshot = router.session(SessionId(session.id)).cloned();
        let state = snapshot.as_ref().map_or(State::Closed, |s| s.state);
        let mut info = SessionInfo::new(
            SessionId(session.id),
            state,
            Timestamp::from_millis(session.created_at),
        );
        info.last_message_at = Timestamp::from_millis(session.last_message_at);
        info.unanswered = snapshot.as_ref().is_some_and(|s| s.unanswered);
        let figures = self.store.transcript_figures(session.id).await?;
        info.customer_messages = u32::try_from(figures.customer_messages).unwrap_or(u32::MAX);
        info.agent_messages = u32::try_from(figures.agent_messages).unwrap_or(u32::MAX);
        info.last_customer_message_at =
            figures.last_customer_message_at.map(Timestamp::from_millis);
        info.previous_customer_message_at = figures
            .previous_customer_message_at
            .map(Timestamp::from_millis);
        info.last_agent_message_at = figures.last_agent_message_at.map(Timestamp::from_millis);
        info.last_author = figures.last_from_customer.map(|customer| {
            if customer {
                Author::Customer
            } else {
                Author::Agent
            }
        });
        if let Some(agent) = session.agent_id {
            info.agent_name = self.store.user(agent).await?.map(|u| u.name);
        }
        let consent = consent
            .status(session.channel_id, session.contact_id)
            .await?;
        let contact = contact
            .map(|c| ContactInfo {
                known: c.email.is_some() || c.phone.is_some(),
                // A contact named after its chat id (Messenger's PSID when
                // Meta gave no name) has no name to greet them with.
                name: (c.name != session.chat_id).then_some(c.name),
                email: c.email,
                phone: c.phone,
                consent,
            })
            .unwrap_or_default();
        let scope = ScriptScope::Channel(session.channel_id);
        Ok(Some((
            scope,
            HookEvent {
                hook: run.hook,
                now,
                session: info,
                contact,
                channel: (*channel).clone(),
                // The engine hears of a message, not its text; scripts read the session.
                message: None,
                rating: None,
            },
        )))
    }

    /// Runs each hook and carries out its actions. A hook run without a hook
    /// is a customer message: the rules decide whether A1 or W2 applies.
    pub(super) async fn run_all(
        &mut self,
        router: &mut Router,
        consent: &mut ConsentGate,
        batch: &mut RoutingBatch,
        now: Timestamp,
        runs: Vec<HookRun>,
    ) {
        for run in runs {
            let (scope, event) = match self.event(router, consent, now, &run).await {
                Ok(Some(found)) => found,
                Ok(None) => continue,
                Err(err) => {
                    tracing::error!(session = run.session, error = %err, "cannot prepare the auto-action");
                    continue;
                }
            };
            let hooks = match run.hook {
                Some(hook) => vec![hook],
                None => Hook::for_customer_message(&event),
            };
            for hook in hooks {
                for action in self.run(scope, hook, &event).actions {
                    carry_out(router, batch, now, run.session, action);
                }
            }
        }
    }
}

/// Carries out one action of a script: texts for the customer go into the
/// step's batch (written with it), moves go to the core.
pub(super) fn carry_out(
    router: &mut Router,
    batch: &mut RoutingBatch,
    now: Timestamp,
    session: i64,
    action: Action,
) {
    let sid = SessionId(session);
    let refused = match action {
        Action::Reply { text } | Action::AskRating { text } => {
            batch.notices.push((session, text));
            Ok(())
        }
        Action::BackToQueue => router.handle_back_to_queue(now, sid),
        Action::Close { message } => {
            if let Some(text) = message {
                batch.notices.push((session, text));
            }
            // A script's close is not an agent's: A4's delay (for the
            // customer's last word after an agent closed) does not apply.
            // In `rating`, Q2's close_on_rating already closed it in the core.
            match router.session(sid).map(|s| s.state) {
                Some(state) if state.is_open() => router.handle_close_after(now, sid, Span::ZERO),
                _ => Ok(()),
            }
        }
        // Only the close-delay hook returns it, and `Closing::close_by_agent` reads it.
        Action::CloseAfter { .. } => Ok(()),
    };
    if let Err(err) = refused {
        tracing::info!(session, error = %err, "auto-action refused by routing");
    }
}
