//! A lead-form bot (B1, C2): asks for name, email and phone one at a time,
//! checks each and asks again with a clear reason when one does not fit,
//! stores them on the customer's contact (`contact.*` data keys), creates the
//! lead (the `lead` data key), and hands the session to an agent.
//!
//! The host keeps the answers in the session's data, so the bot itself keeps
//! no state between events.

use frontdesk_plugin_api::{
    Answer, Bot, BotAction, ChannelContext, InboundMessage, Session, export_bot,
};

const INTRO: &str =
    "Hi! An agent will be with you shortly. First, a few details so they can get back to you.";
const THANKS: &str = "Thank you! An agent will take it from here.";
const ASK_NAME: &str = "What is your name?";
const ASK_EMAIL: &str = "What is your email address?";
const ASK_PHONE: &str = "And your phone number?";

struct LeadForm;

fn config_text(ctx: &ChannelContext, field: &str, default: &str) -> String {
    ctx.config_str(field)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// A name: 1 to 100 characters with at least one letter.
fn check_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 100 || !name.chars().any(char::is_alphabetic) {
        return Err("Please tell me your name (letters, up to 100 characters).".to_string());
    }
    Ok(name.to_string())
}

/// An email address: `local@domain.tld`, no spaces, a dot in the domain and a
/// top-level domain of at least two letters.
fn check_email(value: &str) -> Result<String, String> {
    let email = value.trim();
    let refuse = || {
        Err(format!(
            "\"{email}\" does not look like an email address; please write it like name@example.com."
        ))
    };
    let Some((local, domain)) = email.split_once('@') else {
        return refuse();
    };
    let tld = domain.rsplit('.').next().unwrap_or_default();
    let ok = !local.is_empty()
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.contains("..")
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic());
    if !ok {
        return refuse();
    }
    Ok(email.to_lowercase())
}

/// A phone number: 6 to 15 digits, with an optional leading `+`; spaces,
/// dashes, dots and brackets are dropped.
fn check_phone(value: &str) -> Result<String, String> {
    let raw = value.trim();
    let plus = raw.starts_with('+');
    let mut digits = String::new();
    for c in raw.trim_start_matches('+').chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => {
                return Err(format!(
                    "\"{raw}\" does not look like a phone number; please use digits, e.g. +49 30 1234567."
                ));
            }
        }
    }
    if !(6..=15).contains(&digits.len()) {
        return Err(format!(
            "\"{raw}\" does not look like a phone number; it needs 6 to 15 digits, e.g. +49 30 1234567."
        ));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

fn has(session: &Session, key: &str) -> bool {
    session.data.iter().any(|(k, _)| k == key)
}

impl Bot for LeadForm {
    fn on_session_started(
        ctx: &ChannelContext,
        _session: &Session,
    ) -> Result<Vec<BotAction>, String> {
        Ok(vec![
            BotAction::reply(config_text(ctx, "intro", INTRO)),
            BotAction::ask("name", ASK_NAME, Vec::new()),
        ])
    }

    /// A message that is not an answer came before the first question (the
    /// customer's opening line): the question already waits for them. A
    /// customer who asks for a person gets one with what is collected so far.
    fn on_message(
        _ctx: &ChannelContext,
        session: &Session,
        message: InboundMessage,
    ) -> Result<Vec<BotAction>, String> {
        let text = message.text.unwrap_or_default().to_lowercase();
        if text.contains("agent") || text.contains("human") {
            return Ok(vec![BotAction::HandOver(Some(
                "The customer asked for a person before finishing the form.".to_string(),
            ))]);
        }
        if !has(session, "contact.name") {
            // Their opening line; the name question is already on its way.
            return Ok(Vec::new());
        }
        // No question waits (the host lost none; this is a defensive re-ask).
        let (field, question) = if has(session, "contact.email") {
            ("phone", ASK_PHONE)
        } else {
            ("email", ASK_EMAIL)
        };
        Ok(vec![BotAction::ask(field, question, Vec::new())])
    }

    fn on_answer(
        ctx: &ChannelContext,
        session: &Session,
        answer: Answer,
    ) -> Result<Vec<BotAction>, String> {
        let field = answer.field.as_str();
        let checked = match field {
            "name" => check_name(&answer.value),
            "email" => check_email(&answer.value),
            "phone" => check_phone(&answer.value),
            other => {
                return Err(format!(
                    "got an answer for {other:?}, which this bot never asks"
                ));
            }
        };
        let value = match checked {
            Ok(value) => value,
            // Ask again, saying what was wrong.
            Err(why) => return Ok(vec![BotAction::ask(field, why, Vec::new())]),
        };
        let mut actions = vec![BotAction::SetData((format!("contact.{field}"), value))];
        match field {
            "name" => actions.push(BotAction::ask("email", ASK_EMAIL, Vec::new())),
            "email" => actions.push(BotAction::ask("phone", ASK_PHONE, Vec::new())),
            _ => {
                let name = session
                    .data
                    .iter()
                    .find(|(k, _)| k == "contact.name")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("the customer");
                actions.push(BotAction::SetData((
                    "lead".to_string(),
                    "lead-form".to_string(),
                )));
                actions.push(BotAction::reply(config_text(ctx, "thanks", THANKS)));
                actions.push(BotAction::HandOver(Some(format!(
                    "Lead form done: {name} left their email and phone (see the session's bot data)."
                ))));
            }
        }
        Ok(actions)
    }
}

export_bot!(LeadForm);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked() {
        assert_eq!(check_email(" Ada@Example.org ").unwrap(), "ada@example.org");
        for bad in [
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada @example.org",
            "ada@example.c0m",
            "a@b@c.de",
        ] {
            let why = check_email(bad).unwrap_err();
            assert!(why.contains("name@example.com"), "{bad}: {why}");
        }
    }

    #[test]
    fn phones_are_normalized() {
        assert_eq!(check_phone("+49 (30) 123-4567").unwrap(), "+49301234567");
        assert!(check_phone("12").is_err());
        assert!(check_phone("call me").is_err());
    }

    #[test]
    fn names_need_a_letter() {
        assert_eq!(check_name("  Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert!(check_name("1234").is_err());
    }
}
