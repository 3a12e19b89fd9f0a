//! A welcome and FAQ bot (B1): greets every new session, answers from the
//! questions and answers in its channel config, and hands the session to an
//! agent when the customer asks for a person or it has no answer.
//!
//! Matching is by words, forgiving small typos: each entry's question (and
//! its alternatives) is split into words, common filler words are dropped,
//! and an entry matches when most of its words appear in the customer's
//! message. The best match above the threshold answers.

use frontdesk_plugin_api::{Bot, BotAction, ChannelContext, InboundMessage, Session, export_bot};
use serde_json::Value;

const WELCOME: &str = "Hi! I can answer common questions right away. Write \"agent\" at any time to talk to a person.";
const NO_ANSWER: &str = "I don't have an answer to that, so I'm passing you to a colleague.";
const HANDOVER: &str = "Sure, I'm connecting you with an agent.";
const HANDOVER_WORDS: &[&str] = &[
    "agent",
    "human",
    "person",
    "operator",
    "representative",
    "someone",
];
/// Share of an entry's words the message must contain.
const THRESHOLD: f64 = 0.5;
/// Words too common to tell questions apart.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "do", "does", "you", "your", "i", "my", "me", "we", "to", "of",
    "for", "in", "on", "at", "and", "or", "can", "what", "how", "when", "where", "which", "it",
    "be", "with", "please", "hi", "hello", "there", "have", "has", "there", "this", "that",
];

/// One question and its answer.
struct Entry {
    /// Each alternative's words.
    alternatives: Vec<Vec<String>>,
    answer: String,
}

struct Faq;

fn config(ctx: &ChannelContext) -> Value {
    serde_json::from_str(&ctx.config_json).unwrap_or(Value::Null)
}

fn text_or(config: &Value, field: &str, default: &str) -> String {
    config
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default)
        .to_string()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Parses the `faq` entries; a malformed one is an error the host shows the
/// agent (and the admin in the log), naming the entry.
fn entries(config: &Value) -> Result<Vec<Entry>, String> {
    let Some(list) = config.get("faq").and_then(Value::as_array) else {
        return Err("config field faq is missing".to_string());
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item.as_str().unwrap_or_default();
            let Some((questions, answer)) = text.split_once("=>") else {
                return Err(format!(
                    "faq entry {} has no \"=>\"; write \"question => answer\"",
                    i + 1
                ));
            };
            let alternatives: Vec<Vec<String>> = questions
                .split('|')
                .map(|q| {
                    words(q)
                        .into_iter()
                        .filter(|w| !STOPWORDS.contains(&w.as_str()))
                        .collect::<Vec<_>>()
                })
                .filter(|w| !w.is_empty())
                .collect();
            if alternatives.is_empty() || answer.trim().is_empty() {
                return Err(format!(
                    "faq entry {} needs a question and an answer around \"=>\"",
                    i + 1
                ));
            }
            Ok(Entry {
                alternatives,
                answer: answer.trim().to_string(),
            })
        })
        .collect()
}

/// Levenshtein distance, for typos.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// Whether the customer's word stands for the entry's: equal, one a stem of
/// the other ("ship", "shipping"), or one typo apart in a longer word.
fn same_word(said: &str, wanted: &str) -> bool {
    if said == wanted {
        return true;
    }
    let (short, long) = if said.len() < wanted.len() {
        (said, wanted)
    } else {
        (wanted, said)
    };
    (short.len() >= 4 && long.starts_with(short))
        || (short.len() >= 5 && distance(said, wanted) <= 1)
}

/// The best answer for the message, if one matches well enough.
fn best<'a>(entries: &'a [Entry], message: &[String]) -> Option<&'a Entry> {
    let mut best: Option<(f64, &Entry)> = None;
    for entry in entries {
        for alternative in &entry.alternatives {
            let hits = alternative
                .iter()
                .filter(|w| message.iter().any(|m| same_word(m, w)))
                .count();
            let score = hits as f64 / alternative.len() as f64;
            if hits > 0 && score >= THRESHOLD && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, entry));
            }
        }
    }
    best.map(|(_, entry)| entry)
}

impl Bot for Faq {
    fn on_session_started(
        ctx: &ChannelContext,
        _session: &Session,
    ) -> Result<Vec<BotAction>, String> {
        // Fail early on a broken config, so the agent (and the log) hears why.
        let config = config(ctx);
        entries(&config)?;
        Ok(vec![BotAction::reply(text_or(&config, "welcome", WELCOME))])
    }

    fn on_message(
        ctx: &ChannelContext,
        _session: &Session,
        message: InboundMessage,
    ) -> Result<Vec<BotAction>, String> {
        let config = config(ctx);
        let text = message.text.unwrap_or_default();
        let said = words(&text);
        let custom: Vec<String> = config
            .get("handover_words")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let wants_person = if custom.is_empty() {
            said.iter().any(|w| HANDOVER_WORDS.contains(&w.as_str()))
        } else {
            said.iter().any(|w| custom.contains(w))
        };
        if wants_person {
            return Ok(vec![
                BotAction::reply(text_or(&config, "handover", HANDOVER)),
                BotAction::HandOver(Some(format!("The customer asked for a person: {text:?}"))),
            ]);
        }
        let entries = entries(&config)?;
        match best(&entries, &said) {
            Some(entry) => Ok(vec![
                BotAction::SetData(("last_question".to_string(), text)),
                BotAction::reply(entry.answer.clone()),
            ]),
            None => Ok(vec![
                BotAction::reply(text_or(&config, "no_answer", NO_ANSWER)),
                BotAction::HandOver(Some(format!("The FAQ bot had no answer to: {text:?}"))),
            ]),
        }
    }
}

export_bot!(Faq);

#[cfg(test)]
mod tests {
    use super::*;

    fn faq() -> Vec<Entry> {
        let config = serde_json::json!({"faq": [
            "What are your opening hours? | when are you open => We are open 9-17, Monday to Friday.",
            "How much does shipping cost? => Shipping is free over 50 EUR.",
        ]});
        entries(&config).unwrap()
    }

    #[test]
    fn answers_by_words_with_typos_and_stems() {
        let entries = faq();
        let answer = |text: &str| best(&entries, &words(text)).map(|e| e.answer.clone());
        assert_eq!(answer("opening hours?").unwrap(), entries[0].answer);
        assert_eq!(
            answer("When are you open tomorrow").unwrap(),
            entries[0].answer
        );
        assert_eq!(answer("what does shiping cost").unwrap(), entries[1].answer);
        assert_eq!(answer("ship cost?").unwrap(), entries[1].answer);
        assert_eq!(answer("Do you sell bicycles?"), None);
    }

    #[test]
    fn malformed_entries_are_named() {
        let config = serde_json::json!({"faq": ["ok => fine", "no arrow here"]});
        let error = entries(&config).err().unwrap();
        assert!(error.contains("faq entry 2"), "{error}");
    }
}
