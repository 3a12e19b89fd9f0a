//! The auto-actions around a session's end that need more than the core's
//! `RunHook`: the agent's close with a scripted delay (A4) and the customer's
//! rating (Q1, Q2).

use frontdesk_routing::{SessionId, Span, Timestamp};
use frontdesk_rules::{Action, Hook, RatingInfo, parse_score};

use super::driver::Driver;
use super::hooks::HookRun;
use super::{EngineError, Outcome};
use crate::store::{Direction, Rater};

impl Driver {
    /// R18 with A4: the close-delay script says how long the session waits
    /// in `closing`, where a customer message reopens it. A script that
    /// fails runs the default, which is the queue's `close_delay_secs`.
    pub(super) async fn close_by_agent(
        &mut self,
        now: Timestamp,
        session: i64,
    ) -> Result<Outcome, EngineError> {
        let sid = SessionId(session);
        let run = HookRun {
            session,
            hook: Some(Hook::CloseDelay),
        };
        let delay = match self.hook_event(now, &run).await {
            Ok(Some((scope, event))) => {
                let outcome = self.rules.run_or_default(scope, Hook::CloseDelay, &event);
                if let Some(err) = &outcome.error {
                    tracing::warn!(session, error = %err, "close-delay script failed; the default ran");
                }
                outcome
                    .actions
                    .iter()
                    .rev()
                    .find_map(|action| match action {
                        Action::CloseAfter { delay_ms } => Some(Span::from_millis(*delay_ms)),
                        _ => None,
                    })
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(session, error = %err, "cannot prepare the close-delay script; the queue's delay applies");
                None
            }
        };
        match delay {
            Some(delay) => self.router.handle_close_after(now, sid, delay)?,
            None => self.router.handle_close(now, sid)?,
        }
        Ok(Outcome::Done)
    }

    /// Q1/Q2: the customer answered the rating request. The score is stored
    /// as the customer's rating, the core closes the session if the queue
    /// says so (Q2), and the rating-received script thanks them.
    pub(super) async fn customer_rating(&mut self, now: Timestamp, session: i64) {
        if let Err(err) = self.try_customer_rating(now, session).await {
            tracing::error!(session, error = %err, "the customer's rating could not be recorded");
        }
    }

    async fn try_customer_rating(
        &mut self,
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
        self.store
            .rate(
                session,
                Rater::Customer,
                i64::from(score),
                None,
                None,
                now.as_millis(),
            )
            .await?;
        let run = HookRun {
            session,
            hook: Some(Hook::RatingReceived),
        };
        let event = self.hook_event(now, &run).await?;
        self.router.handle_rating(now, SessionId(session))?;
        let Some((scope, mut event)) = event else {
            return Ok(());
        };
        event.rating = Some(RatingInfo {
            score,
            comment: None,
        });
        let outcome = self
            .rules
            .run_or_default(scope, Hook::RatingReceived, &event);
        if let Some(err) = &outcome.error {
            tracing::warn!(session, error = %err, "rating-received script failed; the default ran");
        }
        for action in outcome.actions {
            self.carry_out(now, session, action);
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
