//! The auto-actions around a session's end that need more than the core's
//! `RunHook`: the agent's close with a scripted delay (A4) and the customer's
//! rating (Q1, Q2).

use std::sync::Arc;

use frontdesk_routing::{Router, SessionId, Span, Timestamp};
use frontdesk_rules::{Action, Hook, RatingInfo, parse_score};

use super::consent::ConsentGate;
use super::hooks::{HookRun, HookRunner, carry_out};
use super::{EngineError, Outcome};
use crate::store::{Direction, RoutingBatch, TranscriptStore};

/// The driver's part for a session's end: it keeps the rating answers of
/// the step being built until the step's events are all applied.
pub(super) struct Closing {
    store: Arc<dyn TranscriptStore>,
    /// Sessions whose customer answered the rating request in this step.
    answers: Vec<i64>,
}

impl Closing {
    pub(super) fn new(store: Arc<dyn TranscriptStore>) -> Closing {
        Closing {
            store,
            answers: Vec::new(),
        }
    }

    /// A customer message reached a session that waits for its rating (Q1).
    pub(super) fn answered(&mut self, session: i64) {
        self.answers.push(session);
    }

    /// R18 with A4: the close-delay script says how long the session waits
    /// in `closing`, where a customer message reopens it. A script that
    /// fails runs the default, which is the queue's `close_delay_secs`.
    pub(super) async fn close_by_agent(
        &self,
        router: &mut Router,
        hooks: &mut HookRunner,
        consent: &mut ConsentGate,
        now: Timestamp,
        session: i64,
    ) -> Result<Outcome, EngineError> {
        let sid = SessionId(session);
        let run = HookRun {
            session,
            hook: Some(Hook::CloseDelay),
        };
        let delay = match hooks.event(router, consent, now, &run).await {
            Ok(Some((scope, event))) => hooks
                .run(scope, Hook::CloseDelay, &event)
                .actions
                .iter()
                .rev()
                .find_map(|action| match action {
                    Action::CloseAfter { delay_ms } => Some(Span::from_millis(*delay_ms)),
                    _ => None,
                }),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(session, error = %err, "cannot prepare the close-delay script; the queue's delay applies");
                None
            }
        };
        match delay {
            Some(delay) => router.handle_close_after(now, sid, delay)?,
            None => router.handle_close(now, sid)?,
        }
        Ok(Outcome::Done)
    }

    /// Q1/Q2: the customers who answered a rating request in this step. Each
    /// score goes into `batch` as the customer's rating (written with the
    /// step), the core closes the session if the queue says so (Q2), and the
    /// rating-received script thanks them.
    pub(super) async fn rate_answers(
        &mut self,
        router: &mut Router,
        hooks: &mut HookRunner,
        consent: &mut ConsentGate,
        batch: &mut RoutingBatch,
        now: Timestamp,
    ) {
        for session in std::mem::take(&mut self.answers) {
            let rated = self.rate(router, hooks, consent, batch, now, session).await;
            if let Err(err) = rated {
                tracing::error!(session, error = %err, "the customer's rating could not be recorded");
            }
        }
    }

    async fn rate(
        &self,
        router: &mut Router,
        hooks: &mut HookRunner,
        consent: &mut ConsentGate,
        batch: &mut RoutingBatch,
        now: Timestamp,
        session: i64,
    ) -> Result<(), EngineError> {
        let Some(answer) = self.last_customer_text(session).await? else {
            return Ok(());
        };
        let Some(score) = parse_score(&answer) else {
            tracing::info!(
                session,
                "a message in a session waiting for its rating is not a score"
            );
            return Ok(());
        };
        let run = HookRun {
            session,
            hook: Some(Hook::RatingReceived),
        };
        let event = hooks.event(router, consent, now, &run).await?;
        router.handle_rating(now, SessionId(session))?;
        batch.ratings.push((session, i64::from(score)));
        let Some((scope, mut event)) = event else {
            return Ok(());
        };
        event.rating = Some(RatingInfo {
            score,
            comment: None,
        });
        for action in hooks.run(scope, Hook::RatingReceived, &event).actions {
            carry_out(router, batch, now, session, action);
        }
        Ok(())
    }

    /// The text of the session's newest customer message.
    async fn last_customer_text(&self, session: i64) -> Result<Option<String>, EngineError> {
        // Sessions waiting for a rating are short; a page reaches the end.
        let messages = self.store.messages(session, 0, 10_000).await?;
        Ok(messages
            .into_iter()
            .rev()
            .find(|m| m.direction == Direction::In)
            .map(|m| m.body))
    }
}
