//! Threading: which session (external chat id) a mail belongs to, and what a
//! reply needs to thread at the customer's end.
//!
//! A chat is named by the `Message-ID` of the mail that started it. Every
//! mail id the connector has seen or sent on a channel is mapped to its chat
//! in the plugin's key-value store, so a reply is found by its `In-Reply-To`
//! or any of its `References`, even when a client trims the list. When none
//! is known, the thread's root (the first `References` entry, RFC 5322
//! §3.6.4) names the chat, so replies to the same unknown thread still meet.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many message ids a chat keeps for the `References` of its replies;
/// the root is always kept (clients thread on it).
const MAX_REFERENCES: usize = 20;

/// Why the key-value store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvFail {
    /// The channel's quota is full or a value is too large.
    Full(String),
    /// The store is down; the call may be retried.
    Unavailable(String),
}

/// The plugin's key-value store, as threading needs it (a map in tests).
pub trait Kv {
    /// Reads a value.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvFail>;
    /// Writes a value.
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), KvFail>;
}

/// What the connector remembers about one chat, for its replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatState {
    /// Where replies go: the customer's `Reply-To`, else `From`.
    pub customer: String,
    /// The customer's display name, if they gave one.
    pub name: Option<String>,
    /// The subject of the mail that started the chat.
    pub subject: String,
    /// The customer's latest message id: replies answer it (`In-Reply-To`).
    pub last: String,
    /// The thread's ids, oldest first, for `References`.
    pub references: Vec<String>,
}

impl ChatState {
    /// Adds ids to `references`, without repeats, keeping the root and the newest.
    pub fn remember(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            if !id.is_empty() && !self.references.contains(&id) {
                self.references.push(id);
            }
        }
        if self.references.len() > MAX_REFERENCES {
            let excess = self.references.len() - MAX_REFERENCES;
            self.references.drain(1..1 + excess);
        }
    }
}

/// Keys are hashed: message ids may be longer than the host's key limit.
fn hashed(prefix: &str, id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}:{hex}")
}

/// The key mapping a message id to its chat.
pub fn message_key(id: &str) -> String {
    hashed("m", id)
}

/// The key of a chat's [`ChatState`].
pub fn chat_key(chat: &str) -> String {
    hashed("c", chat)
}

/// The chat a mail belongs to. `in_reply_to` and `references` as the mail
/// gives them; the newest reference is tried first.
pub fn find_chat(
    kv: &dyn Kv,
    message_id: &str,
    in_reply_to: &[String],
    references: &[String],
) -> Result<String, KvFail> {
    let known = in_reply_to.iter().chain(references.iter().rev());
    for id in known.chain(std::iter::once(&message_id.to_string())) {
        if let Some(chat) = kv.get(&message_key(id))? {
            return Ok(String::from_utf8_lossy(&chat).into_owned());
        }
    }
    Ok(references
        .first()
        .or(in_reply_to.first())
        .cloned()
        .unwrap_or_else(|| message_id.to_string()))
}

/// Reads a chat's state, if the connector has seen the chat.
pub fn load_chat(kv: &dyn Kv, chat: &str) -> Result<Option<ChatState>, KvFail> {
    Ok(kv
        .get(&chat_key(chat))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Writes a chat's state.
pub fn save_chat(kv: &mut dyn Kv, chat: &str, state: &ChatState) -> Result<(), KvFail> {
    let bytes = serde_json::to_vec(state).expect("chat state serializes");
    kv.set(&chat_key(chat), &bytes)
}

/// Maps a message id to its chat.
pub fn link(kv: &mut dyn Kv, message_id: &str, chat: &str) -> Result<(), KvFail> {
    kv.set(&message_key(message_id), chat.as_bytes())
}

/// An inbound mail's part in threading.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub message_id: &'a str,
    pub in_reply_to: &'a [String],
    pub references: &'a [String],
    pub reply_address: &'a str,
    pub name: Option<&'a str>,
    pub subject: &'a str,
}

/// Threads an inbound mail and records it, so replies and later mail find
/// the chat. Returns the chat id.
pub fn record_inbound(kv: &mut dyn Kv, mail: &Incoming<'_>) -> Result<String, KvFail> {
    let chat = find_chat(kv, mail.message_id, mail.in_reply_to, mail.references)?;
    record(kv, &chat, mail)?;
    Ok(chat)
}

/// Records an inbound mail in `chat`: maps its id to the chat and updates
/// the chat's state for replies.
pub fn record(kv: &mut dyn Kv, chat: &str, mail: &Incoming<'_>) -> Result<(), KvFail> {
    let mut state = load_chat(kv, chat)?.unwrap_or_else(|| ChatState {
        customer: mail.reply_address.to_string(),
        name: mail.name.map(str::to_string),
        subject: mail.subject.to_string(),
        last: String::new(),
        references: Vec::new(),
    });
    state.customer = mail.reply_address.to_string();
    if mail.name.is_some() {
        state.name = mail.name.map(str::to_string);
    }
    state.last = mail.message_id.to_string();
    state.remember(
        mail.references
            .iter()
            .cloned()
            .chain(std::iter::once(mail.message_id.to_string())),
    );
    link(kv, mail.message_id, chat)?;
    save_chat(kv, chat, &state)
}

/// A subject's topic: without `Re:`, `Fwd:` and their localized kin, in
/// lower case, so "AW: Re: Order 42" and "order 42" are one topic.
pub fn topic(subject: &str) -> String {
    const PREFIXES: [&str; 8] = ["re:", "aw:", "fwd:", "fw:", "wg:", "sv:", "vs:", "tr:"];
    let mut rest = subject.trim().to_lowercase();
    while let Some(prefix) = PREFIXES.iter().find(|p| rest.starts_with(*p)) {
        rest = rest[prefix.len()..].trim_start().to_string();
    }
    rest
}

/// Whether agents should see an inbound mail's subject: it opens its chat
/// (the chat is named by its id, or nothing is known of the chat yet), or it
/// is on another topic than the chat's first mail. Decided from the state
/// before this mail is recorded, and the same when the mail is delivered again.
pub fn subject_is_news(
    chat: &str,
    before: Option<&ChatState>,
    message_id: &str,
    subject: &str,
) -> bool {
    if subject.trim().is_empty() {
        return false;
    }
    match before {
        _ if chat == message_id => true,
        None => true,
        Some(state) => topic(subject) != topic(&state.subject),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A [`Kv`] in memory.
    #[derive(Default)]
    pub struct MapKv(pub HashMap<String, Vec<u8>>);

    impl Kv for MapKv {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvFail> {
            Ok(self.0.get(key).cloned())
        }
        fn set(&mut self, key: &str, value: &[u8]) -> Result<(), KvFail> {
            self.0.insert(key.to_string(), value.to_vec());
            Ok(())
        }
    }

    fn incoming<'a>(id: &'a str, irt: &'a [String], refs: &'a [String]) -> Incoming<'a> {
        Incoming {
            message_id: id,
            in_reply_to: irt,
            references: refs,
            reply_address: "bob@example.org",
            name: Some("Bob"),
            subject: "Order 42",
        }
    }

    #[test]
    fn a_new_mail_starts_a_chat_named_by_its_id() {
        let mut kv = MapKv::default();
        let chat = record_inbound(&mut kv, &incoming("a@x", &[], &[])).unwrap();
        assert_eq!(chat, "a@x");
        let state = load_chat(&kv, "a@x").unwrap().unwrap();
        assert_eq!(state.customer, "bob@example.org");
        assert_eq!(state.last, "a@x");
        assert_eq!(state.references, vec!["a@x".to_string()]);
    }

    #[test]
    fn a_reply_to_a_sent_id_finds_the_chat_even_without_references() {
        let mut kv = MapKv::default();
        record_inbound(&mut kv, &incoming("a@x", &[], &[])).unwrap();
        link(&mut kv, "sent-1@shop", "a@x").unwrap();
        let irt = vec!["sent-1@shop".to_string()];
        let chat = record_inbound(&mut kv, &incoming("b@x", &irt, &[])).unwrap();
        assert_eq!(chat, "a@x");
        assert_eq!(load_chat(&kv, "a@x").unwrap().unwrap().last, "b@x");
    }

    #[test]
    fn an_unknown_thread_is_named_by_its_root() {
        let mut kv = MapKv::default();
        let refs = vec!["root@y".to_string(), "mid@y".to_string()];
        let irt = vec!["mid@y".to_string()];
        let chat = record_inbound(&mut kv, &incoming("c@x", &irt, &refs)).unwrap();
        assert_eq!(chat, "root@y");
    }

    #[test]
    fn a_subject_is_news_when_it_opens_the_chat_or_changes_the_topic() {
        let mut kv = MapKv::default();
        assert!(subject_is_news("a@x", None, "a@x", "Order 42"));
        record_inbound(&mut kv, &incoming("a@x", &[], &[])).unwrap();
        let state = load_chat(&kv, "a@x").unwrap();
        // Delivered again: still the chat's first mail.
        assert!(subject_is_news("a@x", state.as_ref(), "a@x", "Order 42"));
        assert!(!subject_is_news(
            "a@x",
            state.as_ref(),
            "b@x",
            "AW: RE: order 42"
        ));
        assert!(subject_is_news(
            "a@x",
            state.as_ref(),
            "b@x",
            "Re: Invoice 7"
        ));
        assert!(!subject_is_news("a@x", None, "a@x", "  "));
        assert_eq!(topic("Fwd: Re:  Grüße"), "grüße");
    }

    #[test]
    fn references_keep_the_root_and_the_newest() {
        let mut state = ChatState {
            customer: "b".into(),
            name: None,
            subject: "s".into(),
            last: "x".into(),
            references: Vec::new(),
        };
        state.remember((0..50).map(|i| format!("id{i}")));
        assert_eq!(state.references.len(), MAX_REFERENCES);
        assert_eq!(state.references[0], "id0");
        assert_eq!(state.references.last().unwrap(), "id49");
        assert_eq!(state.references[1], "id31");
    }
}
