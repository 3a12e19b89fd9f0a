//! Visitor tokens and the site's identity HMAC.
//!
//! A token is `base64url(payload).base64url(HMAC-SHA256(key, payload))`
//! with a key only the server knows (kept in the database, so every node
//! shares it). The payload names the channel and the visitor; a visitor
//! can only ever open the chat their token names.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// The channel the token is for.
    #[serde(rename = "c")]
    pub channel_id: i64,
    /// `v:<random>` for an anonymous visitor, `u:<site user id>` for a
    /// logged-in user whose site proved it with the identity HMAC.
    #[serde(rename = "v")]
    pub visitor_id: String,
}

impl Visitor {
    /// Verified visitors are the only ones whose id starts with `u:`, and
    /// only [`identity_matches`] leads to one.
    pub fn verified(&self) -> bool {
        self.visitor_id.starts_with("u:")
    }
}

/// Signs and checks tokens with the server's key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(key: &[u8]) -> Self {
        Signer { key: key.to_vec() }
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    pub fn issue(&self, visitor: &Visitor) -> String {
        let payload = B64.encode(serde_json::to_vec(visitor).expect("a visitor serializes"));
        let tag = B64.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The visitor a token names, if the server signed it for this channel.
    pub fn check(&self, token: &str, channel_id: i64) -> Option<Visitor> {
        let (payload, tag) = token.split_once('.')?;
        let tag = B64.decode(tag).ok()?;
        // verify_slice compares in constant time.
        self.mac(payload).verify_slice(&tag).ok()?;
        let visitor: Visitor = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (visitor.channel_id == channel_id).then_some(visitor)
    }
}

/// Whether `user_hash` is hex HMAC-SHA256(identity_secret, user_id), as the
/// site computes it for a logged-in user; compared in constant time.
pub fn identity_matches(identity_secret: &str, user_id: &str, user_hash: &str) -> bool {
    let Ok(tag) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(identity_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(id: &str) -> Visitor {
        Visitor {
            channel_id: 3,
            visitor_id: id.into(),
        }
    }

    #[test]
    fn a_token_names_its_visitor_only_on_its_channel() {
        let signer = Signer::new(b"server key");
        let token = signer.issue(&visitor("v:abc"));
        assert_eq!(signer.check(&token, 3), Some(visitor("v:abc")));
        assert_eq!(signer.check(&token, 4), None, "another channel");
        assert_eq!(Signer::new(b"other key").check(&token, 3), None);
    }

    #[test]
    fn a_changed_payload_or_tag_is_refused() {
        let signer = Signer::new(b"server key");
        let token = signer.issue(&visitor("v:abc"));
        let (_, tag) = token.split_once('.').unwrap();
        let forged = B64.encode(serde_json::to_vec(&visitor("u:admin")).unwrap());
        assert_eq!(signer.check(&format!("{forged}.{tag}"), 3), None);
        for bad in ["", ".", "abc", "x.y", &format!("{token}x")] {
            assert_eq!(signer.check(bad, 3), None, "{bad:?}");
        }
    }

    #[test]
    fn the_identity_hmac_must_match_the_user_id() {
        // echo -n 'user-42' | openssl dgst -sha256 -hmac 'site secret 1234'
        let mut mac = Hmac::<Sha256>::new_from_slice(b"site secret 1234").unwrap();
        mac.update(b"user-42");
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(identity_matches("site secret 1234", "user-42", &good));
        assert!(identity_matches(
            "site secret 1234",
            "user-42",
            &good.to_uppercase()
        ));
        assert!(!identity_matches("site secret 1234", "user-43", &good));
        assert!(!identity_matches("other secret", "user-42", &good));
        assert!(!identity_matches("site secret 1234", "user-42", "zz"));
        assert!(!identity_matches("site secret 1234", "user-42", ""));
        assert!(!visitor("v:u:x").verified() && visitor("u:42").verified());
    }
}
