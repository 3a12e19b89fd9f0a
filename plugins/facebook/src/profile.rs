//! Customers' names. Meta's webhooks carry only the PSID, so the connector
//! asks the User Profile API (`GET /{version}/{psid}?fields=first_name,last_name`)
//! and remembers the answer in kv, one Graph call per customer. When Meta
//! gives no name (no permission, an error, Graph unreachable) the message
//! goes on without one, and that is remembered for [`RETRY_UNKNOWN_MS`] so
//! a customer's later messages are not held up by the same failing call.
//! Pure: `lib.rs` makes the calls.

use serde::Deserialize;

/// How long a failed lookup is remembered before a later message asks again.
pub const RETRY_UNKNOWN_MS: u64 = 24 * 3600 * 1000;

/// The kv key of `psid`'s remembered name.
pub fn key(psid: &str) -> String {
    format!("profile/{psid}")
}

/// A remembered lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered {
    /// Meta gave this name.
    Name(String),
    /// Meta gave none at this time (Unix ms).
    Unknown { since_ms: u64 },
}

impl Remembered {
    /// The kv value: `n:NAME` or `u:SINCE_MS`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Remembered::Name(name) => format!("n:{name}").into_bytes(),
            Remembered::Unknown { since_ms } => format!("u:{since_ms}").into_bytes(),
        }
    }

    /// Reads a kv value; `None` for anything else.
    pub fn decode(raw: &[u8]) -> Option<Remembered> {
        let raw = std::str::from_utf8(raw).ok()?;
        match raw.split_once(':')? {
            ("n", name) if !name.is_empty() => Some(Remembered::Name(name.to_string())),
            ("u", since) => Some(Remembered::Unknown {
                since_ms: since.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// What the remembered lookup answers at `now_ms`: `Some(name)`,
    /// `Some(None)` for "no name, do not ask yet", or `None` to ask Meta again.
    pub fn answer(&self, now_ms: u64) -> Option<Option<String>> {
        match self {
            Remembered::Name(name) => Some(Some(name.clone())),
            Remembered::Unknown { since_ms } if now_ms < since_ms + RETRY_UNKNOWN_MS => Some(None),
            Remembered::Unknown { .. } => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Profile {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// The name in a User Profile API answer, `first_name last_name` as Meta
/// gives them; `None` when it has neither.
pub fn name(body: &[u8]) -> Option<String> {
    let profile: Profile = serde_json::from_slice(body).ok()?;
    let name = [profile.first_name, profile.last_name]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_metas_fields() {
        let body = br#"{"first_name":"Peter","last_name":"Chang","id":"2400000000000003"}"#;
        assert_eq!(name(body).as_deref(), Some("Peter Chang"));
        assert_eq!(
            name(br#"{"first_name":"Cher","id":"1"}"#).as_deref(),
            Some("Cher")
        );
        assert_eq!(name(br#"{"id":"1"}"#), None);
        assert_eq!(name(b"not json"), None);
    }

    #[test]
    fn failures_are_remembered_for_a_day_names_for_good() {
        let unknown = Remembered::Unknown { since_ms: 1_000 };
        let decoded = Remembered::decode(&unknown.encode()).unwrap();
        assert_eq!(decoded, unknown);
        assert_eq!(decoded.answer(2_000), Some(None));
        assert_eq!(decoded.answer(1_000 + RETRY_UNKNOWN_MS), None);
        let named = Remembered::decode(&Remembered::Name("Ann Lee".into()).encode()).unwrap();
        assert_eq!(named.answer(u64::MAX), Some(Some("Ann Lee".into())));
        assert_eq!(Remembered::decode(b"x:1"), None);
    }
}
