//! The bus's wire format: one `NOTIFY` payload is a line of short words.
//!
//! ```text
//! f1 <origin> r s12 m12:340 t12:1700000000000 w3:0123456789abcdef
//! ```
//!
//! `f1` is the format, `<origin>` the sending process (a node skips its
//! own), then the items: `r` every console and widget socket catches up,
//! `s<session>` the session's row changed, `m<session>:<first message id>`
//! and `t<session>:<written at or after, ms>` it has new messages,
//! `w<channel>:<chat tag>` a webchat chat has a new message (the tag is a
//! hash of the visitor id, see [`chat_tag`]: fixed in size, no escaping,
//! and a rare collision only costs a spurious catch-up). The receiver reads
//! everything else from the store, so an item is a few bytes and a round of
//! hints fits in one payload; [`encode`] splits larger rounds below
//! PostgreSQL's 8000-byte limit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::live::Hint;

/// The format word every payload starts with.
const FORMAT: &str = "f1";

/// The longest payload sent; PostgreSQL refuses 8000 bytes or more.
pub const MAX_PAYLOAD: usize = 7900;

/// One thing a node tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// Published by the receiver's own publisher, read back from the store.
    Hint(Hint),
    /// A webchat chat (`channel`, [`chat_tag`] of the visitor) has a new
    /// message: the receiver's sockets of that chat read it from the store.
    Chat { channel: i64, tag: u64 },
    /// Something was lost on the way: every socket of the receiver catches up.
    Resync,
}

/// A payload that is not ours to read at all.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Another format (a newer node mid-upgrade, or someone else's NOTIFY).
    #[error("not a frontdesk live payload (expected it to start with \"{FORMAT} \")")]
    Format,
    /// The format word with nothing after it.
    #[error("the payload names no origin")]
    NoOrigin,
}

/// A payload read back: who sent it, what it says, and how many words of
/// it were not understood (skipped, not fatal: the rest still counts).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decoded<'a> {
    pub origin: &'a str,
    pub items: Vec<Item>,
    pub skipped: Vec<&'a str>,
}

/// The chat tag of a webchat visitor: the first 8 bytes of SHA-256 of the
/// visitor id, the same in every process and every version.
pub fn chat_tag(visitor: &str) -> u64 {
    let digest = Sha256::digest(visitor.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// `items` as payloads from `origin`, merged (a session's hints become
/// one of each kind, with the earliest id or time) and split so each
/// stays within [`MAX_PAYLOAD`] bytes. No items, no payload.
pub(crate) fn encode(origin: &str, items: impl IntoIterator<Item = Item>) -> Vec<String> {
    let mut resync = false;
    let mut sessions = BTreeSet::new();
    let mut from: BTreeMap<i64, i64> = BTreeMap::new();
    let mut since: BTreeMap<i64, i64> = BTreeMap::new();
    let mut chats = BTreeSet::new();
    for item in items {
        match item {
            Item::Resync => resync = true,
            Item::Hint(Hint::Session(id)) => {
                sessions.insert(id);
            }
            Item::Hint(Hint::Messages { session, from: id }) => {
                let f = from.entry(session).or_insert(id);
                *f = (*f).min(id);
            }
            Item::Hint(Hint::Tail { session, since: at }) => {
                let s = since.entry(session).or_insert(at);
                *s = (*s).min(at);
            }
            Item::Chat { channel, tag } => {
                chats.insert((channel, tag));
            }
        }
    }
    let words = resync
        .then(|| "r".to_string())
        .into_iter()
        .chain(sessions.iter().map(|s| format!("s{s}")))
        .chain(from.iter().map(|(s, f)| format!("m{s}:{f}")))
        .chain(since.iter().map(|(s, t)| format!("t{s}:{t}")))
        .chain(chats.iter().map(|(c, t)| format!("w{c}:{t:016x}")));
    let head = format!("{FORMAT} {origin}");
    let mut payloads = Vec::new();
    let mut current = head.clone();
    for word in words {
        if current.len() + 1 + word.len() > MAX_PAYLOAD {
            payloads.push(std::mem::replace(&mut current, head.clone()));
        }
        let _ = write!(current, " {word}");
    }
    if current.len() > head.len() {
        payloads.push(current);
    }
    payloads
}

/// Reads a payload. Words it does not understand are skipped and listed,
/// never a panic: one bad word costs that word only.
pub(crate) fn decode(payload: &str) -> Result<Decoded<'_>, PayloadError> {
    let mut words = payload.split_ascii_whitespace();
    if words.next() != Some(FORMAT) {
        return Err(PayloadError::Format);
    }
    let origin = words.next().ok_or(PayloadError::NoOrigin)?;
    let mut decoded = Decoded {
        origin,
        items: Vec::new(),
        skipped: Vec::new(),
    };
    for word in words {
        match item(word) {
            Some(item) => decoded.items.push(item),
            None => decoded.skipped.push(word),
        }
    }
    Ok(decoded)
}

fn item(word: &str) -> Option<Item> {
    let kind = word.chars().next()?;
    let rest = &word[kind.len_utf8()..];
    let pair = || -> Option<(i64, &str)> {
        let (a, b) = rest.split_once(':')?;
        Some((a.parse().ok()?, b))
    };
    Some(match kind {
        'r' if rest.is_empty() => Item::Resync,
        's' => Item::Hint(Hint::Session(rest.parse().ok()?)),
        'm' => {
            let (session, from) = pair()?;
            Item::Hint(Hint::Messages {
                session,
                from: from.parse().ok()?,
            })
        }
        't' => {
            let (session, since) = pair()?;
            Item::Hint(Hint::Tail {
                session,
                since: since.parse().ok()?,
            })
        }
        'w' => {
            let (channel, tag) = pair()?;
            if tag.len() != 16 {
                return None;
            }
            Item::Chat {
                channel,
                tag: u64::from_str_radix(tag, 16).ok()?,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_survives_the_round_trip_merged_per_session() {
        let tag = chat_tag("u:Ada Lovelace");
        let items = [
            Item::Hint(Hint::Messages {
                session: 4,
                from: 9,
            }),
            Item::Hint(Hint::Session(4)),
            Item::Hint(Hint::Messages {
                session: 4,
                from: 7,
            }),
            Item::Hint(Hint::Tail {
                session: 5,
                since: 1_700_000_000_000,
            }),
            Item::Hint(Hint::Session(4)),
            Item::Chat { channel: 3, tag },
            Item::Resync,
        ];
        let payloads = encode("ab12", items);
        assert_eq!(payloads.len(), 1);
        let decoded = decode(&payloads[0]).unwrap();
        assert_eq!(decoded.origin, "ab12");
        assert!(decoded.skipped.is_empty());
        assert_eq!(
            decoded.items,
            vec![
                Item::Resync,
                Item::Hint(Hint::Session(4)),
                Item::Hint(Hint::Messages {
                    session: 4,
                    from: 7
                }),
                Item::Hint(Hint::Tail {
                    session: 5,
                    since: 1_700_000_000_000
                }),
                Item::Chat { channel: 3, tag },
            ]
        );
    }

    #[test]
    fn a_large_round_is_split_below_postgres_limit_and_nothing_is_lost() {
        let items = (0..5000).map(|s| {
            Item::Hint(Hint::Messages {
                session: s,
                from: s * 1000,
            })
        });
        let payloads = encode("origin", items);
        assert!(payloads.len() > 1);
        let mut sessions = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= MAX_PAYLOAD && payload.len() < 8000);
            for item in decode(payload).unwrap().items {
                let Item::Hint(Hint::Messages { session, from }) = item else {
                    panic!("only message hints went in: {item:?}");
                };
                assert_eq!(from, session * 1000);
                sessions.push(session);
            }
        }
        assert_eq!(sessions, (0..5000).collect::<Vec<_>>());
        assert!(encode("origin", []).is_empty(), "nothing to say, no NOTIFY");
    }

    #[test]
    fn bad_payloads_are_refused_and_bad_words_skipped_without_a_panic() {
        assert_eq!(decode(""), Err(PayloadError::Format));
        assert_eq!(decode("hello world"), Err(PayloadError::Format));
        assert_eq!(decode("f2 node s1"), Err(PayloadError::Format));
        assert_eq!(decode("f1"), Err(PayloadError::NoOrigin));
        let decoded = decode(
            "f1 node s1 s m1 m1: mx:2 t1:zz w1:123 w1:zzzzzzzzzzzzzzzz rr q9 é s99999999999999999999 s2",
        )
        .unwrap();
        assert_eq!(
            decoded.items,
            vec![Item::Hint(Hint::Session(1)), Item::Hint(Hint::Session(2))]
        );
        assert_eq!(decoded.skipped.len(), 11, "{:?}", decoded.skipped);
    }

    #[test]
    fn the_chat_tag_is_fixed_and_tells_visitors_apart() {
        // Pinned: nodes of one cluster must agree on it across builds.
        assert_eq!(chat_tag("v:abc"), chat_tag("v:abc"));
        assert_ne!(chat_tag("v:abc"), chat_tag("v:abd"));
        assert_eq!(chat_tag(""), 0xe3b0_c442_98fc_1c14);
    }
}
