//! Who may talk to the webhook: the `hub.verify_token` handshake and the
//! `X-Hub-Signature-256` HMAC on every delivery (P3). Both compare in
//! constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header Meta signs deliveries with: `sha256=<hex HMAC-SHA256 of the raw body>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Why a request is not from Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No signature header at all.
    Missing,
    /// The header is not `sha256=<64 hex digits>`.
    BadFormat,
    /// The signature does not match the body and the app secret.
    Mismatch,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Missing => "X-Hub-Signature-256 header missing",
            Refusal::BadFormat => "X-Hub-Signature-256 must be sha256=<hex>",
            Refusal::Mismatch => {
                "X-Hub-Signature-256 does not match the body; check the channel's app_secret"
            }
        })
    }
}

/// Checks `header` against the HMAC-SHA256 of exactly the bytes received.
///
/// Meta signs the body as it sent it (with non-ASCII escaped as `\uXXXX`), so
/// only the raw bytes verify: never a re-serialised parse.
pub fn verify(app_secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), Refusal> {
    let header = header.ok_or(Refusal::Missing)?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(Refusal::BadFormat)?;
    let sig = hex::decode(hex_sig).map_err(|_| Refusal::BadFormat)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    // verify_slice compares in constant time (and refuses a wrong length).
    mac.verify_slice(&sig).map_err(|_| Refusal::Mismatch)
}

/// The parameters of Meta's subscription handshake, percent-decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    pub mode: Option<String>,
    pub verify_token: Option<String>,
    pub challenge: Option<String>,
}

impl Handshake {
    /// Reads `hub.mode`, `hub.verify_token` and `hub.challenge` from a raw query.
    pub fn from_query(query: &str) -> Handshake {
        let mut handshake = Handshake::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "hub.mode" => &mut handshake.mode,
                "hub.verify_token" => &mut handshake.verify_token,
                "hub.challenge" => &mut handshake.challenge,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        handshake
    }

    /// The challenge to echo, if this is a subscription with the right token.
    pub fn accept(&self, verify_token: &str) -> Result<&str, String> {
        if self.mode.as_deref() != Some("subscribe") {
            return Err(format!(
                "hub.mode must be subscribe, got {:?}",
                self.mode.as_deref().unwrap_or("")
            ));
        }
        let given = self
            .verify_token
            .as_deref()
            .ok_or("hub.verify_token missing")?;
        if !same_secret(given, verify_token) {
            return Err("hub.verify_token does not match the channel's verify_token".into());
        }
        self.challenge
            .as_deref()
            .ok_or_else(|| "hub.challenge missing".to_string())
    }
}

/// Compares two secrets in constant time. Hashing first makes the time
/// independent of the lengths too.
fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes())
        .as_slice()
        .ct_eq(Sha256::digest(b.as_bytes()).as_slice())
        .into()
}

/// Signs `body` as Meta does; for tests and for tools that replay deliveries.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A delivery as Meta sends it: non-ASCII escaped, lowercase hex digits.
    const BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1,"message":{"mid":"m_1","text":"\u00e4\u00f6\u00e5"}}]}]}"#;

    #[test]
    fn p3_a_signature_over_the_raw_bytes_verifies() {
        // Known answer computed independently, with Python's hmac module.
        let header = "sha256=25bb4620df5d89faa468a4e6933f9f5191b22b64a1ce7ef5740222ca81c0c3d0";
        assert_eq!(sign("s3cret", BODY), header);
        assert_eq!(verify("s3cret", Some(header), BODY), Ok(()));
        assert_eq!(
            verify(
                "s3cret",
                Some(&header.to_uppercase().replace("SHA256=", "sha256=")),
                BODY
            ),
            Ok(()),
            "hex digits in either case"
        );
    }

    #[test]
    fn p3_the_same_json_re_serialised_does_not_verify() {
        let header = sign("s3cret", BODY);
        let value: serde_json::Value = serde_json::from_slice(BODY).unwrap();
        let reserialised = serde_json::to_vec(&value).unwrap();
        assert_ne!(reserialised, BODY, "serde writes äöå unescaped");
        assert_eq!(
            verify("s3cret", Some(&header), &reserialised),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn p3_missing_malformed_wrong_and_altered_signatures_are_refused() {
        let good = sign("s3cret", BODY);
        assert_eq!(verify("s3cret", None, BODY), Err(Refusal::Missing));
        for bad in ["sha1=abcd", "sha256=zz", "", "sha256"] {
            assert_eq!(
                verify("s3cret", Some(bad), BODY),
                Err(Refusal::BadFormat),
                "{bad}"
            );
        }
        assert_eq!(verify("other", Some(&good), BODY), Err(Refusal::Mismatch));
        let mut altered = BODY.to_vec();
        altered[60] ^= 1;
        assert_eq!(
            verify("s3cret", Some(&good), &altered),
            Err(Refusal::Mismatch)
        );
        // A truncated signature is a mismatch, not a prefix match.
        assert_eq!(
            verify("s3cret", Some(&good[..good.len() - 2]), BODY),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
        let query = "hub.mode=subscribe&hub.verify_token=my%20t%C3%B6ken&hub.challenge=1158201444";
        let handshake = Handshake::from_query(query);
        assert_eq!(handshake.accept("my töken"), Ok("1158201444"));
        assert!(
            handshake
                .accept("my token")
                .unwrap_err()
                .contains("does not match")
        );
        let wrong_mode =
            Handshake::from_query("hub.mode=unsubscribe&hub.verify_token=t&hub.challenge=1");
        assert!(wrong_mode.accept("t").unwrap_err().contains("subscribe"));
        let no_challenge = Handshake::from_query("hub.mode=subscribe&hub.verify_token=t");
        assert!(
            no_challenge
                .accept("t")
                .unwrap_err()
                .contains("hub.challenge")
        );
        let no_token = Handshake::from_query("hub.mode=subscribe&hub.challenge=1");
        assert!(
            no_token
                .accept("t")
                .unwrap_err()
                .contains("hub.verify_token")
        );
    }
}
