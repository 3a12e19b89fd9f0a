//! Turning a bot's actions into one [`BotStep`] for the store.
//!
//! `set-data` keys starting with `contact.` (`contact.name`, `contact.email`,
//! `contact.phone`) also update the customer's contact, and the key `lead`
//! creates the session's lead (C2); every key is kept in the session's data,
//! which agents see.

use frontdesk_plugin_host::types::BotAction;

use crate::store::{BotExit, BotSession, BotStep, BotWorkerStore, Role, StoreError, Viewer};

/// The longest a bot timer may be set for: 30 days.
const MAX_TIMER_MS: u64 = 30 * 86_400_000;
/// Longest data key and value a bot may store.
const MAX_KEY: usize = 100;
const MAX_VALUE: usize = 4_000;

/// What the actions are planned against.
pub(super) struct Plan<'a> {
    pub bot: &'a BotSession,
    pub now: i64,
    /// For a customer message: when it arrived.
    pub message_at: Option<i64>,
    /// Whether the event answered the pending question.
    pub answers: bool,
}

/// A question's or reply's text with its suggested answers as a numbered
/// list: the outbox carries text only, and a number picks an option back.
fn render(text: &str, options: &[String]) -> String {
    if options.is_empty() {
        return text.to_string();
    }
    let list: Vec<String> = options
        .iter()
        .enumerate()
        .map(|(i, option)| format!("{}. {option}", i + 1))
        .collect();
    format!("{text}\n{}", list.join("\n"))
}

/// The answer to a question with options: a number picks that option, and
/// anything else is taken as typed.
pub(super) fn pick_option(options: &[String], typed: &str) -> String {
    typed
        .trim()
        .trim_end_matches('.')
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| options.get(i))
        .cloned()
        .unwrap_or_else(|| typed.trim().to_string())
}

/// Adds `actions` to `step`, in order. Actions after the one that ends the
/// conversation (hand-over, transfer, close) are ignored. `store` resolves
/// transfer targets by name.
pub(super) async fn plan(
    store: &dyn BotWorkerStore,
    plan: &Plan<'_>,
    actions: Vec<BotAction>,
    step: &mut BotStep,
) -> Result<(), StoreError> {
    let bot = plan.bot;
    let mut spoke = false;
    let mut asked = false;
    for action in actions {
        if step.exit.is_some() {
            tracing::info!(
                session = bot.session_id,
                ?action,
                "bot action after the conversation ended; ignored"
            );
            continue;
        }
        match action {
            BotAction::Reply(reply) => {
                spoke = true;
                step.replies.push(render(&reply.text, &reply.quick_replies));
            }
            BotAction::Ask(question) => {
                spoke = true;
                asked = true;
                step.replies.push(render(&question.text, &question.options));
                step.ask = Some(Some((question.field, question.options)));
            }
            BotAction::SetData((key, value)) => {
                if key.len() > MAX_KEY || value.len() > MAX_VALUE {
                    tracing::warn!(session = bot.session_id, key = %key.chars().take(MAX_KEY).collect::<String>(),
                        "bot data over {MAX_KEY} bytes of key or {MAX_VALUE} of value; ignored");
                    continue;
                }
                match key.as_str() {
                    "contact.name" => step.contact.name = Some(value.clone()),
                    "contact.email" => step.contact.email = Some(value.clone()),
                    "contact.phone" => step.contact.phone = Some(value.clone()),
                    "lead" => step.lead = true,
                    _ => {}
                }
                step.data.push((key, value));
            }
            BotAction::HandOver(note) => {
                step.exit = Some((BotExit::HandOver, note, "the bot handed over".into()));
            }
            BotAction::Transfer(target) => {
                step.exit = Some(transfer(store, target.agent, target.queue).await?);
            }
            BotAction::Close(reason) => {
                let reason = reason.unwrap_or_else(|| "the bot closed the session".into());
                step.exit = Some((BotExit::Close, None, reason));
            }
            BotAction::SetTimer(timer) => {
                let after = i64::try_from(timer.after_ms.min(MAX_TIMER_MS)).unwrap_or(0);
                step.timers.push((timer.name, plan.now + after));
            }
        }
    }
    // The silence clock (B1): after a customer message it is the bot's turn
    // until it says something, asks, or lets go.
    let customers_turn = asked || (bot.pending_field.is_some() && !plan.answers);
    if spoke || step.exit.is_some() || customers_turn {
        step.due_at = Some(None);
    } else if let Some(at) = plan.message_at
        && bot.due_at.is_none()
    {
        step.due_at = Some(Some(at + bot.timeout_secs * 1000));
    }
    Ok(())
}

/// Resolves a transfer target by name; an unknown one goes to the channel's
/// queue instead, with a note saying so.
async fn transfer(
    store: &dyn BotWorkerStore,
    agent: Option<String>,
    queue: Option<String>,
) -> Result<(BotExit, Option<String>, String), StoreError> {
    if let Some(name) = agent {
        return Ok(match store.user_by_name(&name).await? {
            Some(user) if !user.disabled => (
                BotExit::Agent(user.id),
                None,
                format!("the bot transferred the session to agent {name}"),
            ),
            _ => (
                BotExit::HandOver,
                Some(format!(
                    "The bot asked to transfer to agent {name:?}, who does not exist or is disabled; handed to the queue instead."
                )),
                "the bot's transfer target was unknown".into(),
            ),
        });
    }
    if let Some(name) = queue {
        let admin = Viewer {
            user_id: 0,
            role: Role::Admin,
        };
        let channels = store.list_channels(admin).await?;
        let found = channels
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name.trim()) || c.id.to_string() == name.trim());
        return Ok(match found {
            Some(channel) => (
                BotExit::Queue(channel.id),
                None,
                format!(
                    "the bot transferred the session to the queue of {}",
                    channel.name
                ),
            ),
            None => (
                BotExit::HandOver,
                Some(format!(
                    "The bot asked to transfer to the queue {name:?}, which does not exist; handed to this channel's queue instead."
                )),
                "the bot's transfer target was unknown".into(),
            ),
        });
    }
    Ok((
        BotExit::HandOver,
        Some("The bot asked for a transfer without naming an agent or queue.".into()),
        "the bot's transfer had no target".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_numbered_and_a_number_picks_one() {
        let options = vec!["Sales".to_string(), "Support".to_string()];
        assert_eq!(
            render("Which team?", &options),
            "Which team?\n1. Sales\n2. Support"
        );
        assert_eq!(pick_option(&options, " 2 "), "Support");
        assert_eq!(pick_option(&options, "3"), "3");
        assert_eq!(pick_option(&options, "sales please"), "sales please");
        assert_eq!(pick_option(&[], "1"), "1");
    }
}
