//! The second factor (P5): time-based one-time codes (RFC 6238: HMAC-SHA1,
//! 6 digits, 30 s steps, one step either side for clocks that drift) and
//! the one-time recovery codes for a lost phone.
//!
//! Time comes from the server's clock, never the system's, so tests can
//! move it. A code is accepted at most once (RFC 6238 §5.2): the store keeps
//! the last step accepted and refuses it or any earlier one.

use rand::RngExt as _;
use totp_rs::{Secret, Totp};

use crate::store::Millis;

/// What authenticator apps show as the account's issuer.
const ISSUER: &str = "frontdesk";
/// How many recovery codes a person gets when turning the second factor on.
pub const RECOVERY_CODES: usize = 10;
/// 32 lowercase letters and digits without l, o, 0 and 1, which look
/// alike: 5 bits a character, easy to read aloud and to type.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new random secret (160 bits, as RFC 4226 recommends), in base32.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    Secret::from(bytes).to_base32()
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .ok()
}

/// The `otpauth://` URI an authenticator app takes (typed or scanned).
pub fn uri(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account)?.to_url().ok()
}

/// The time step a 6-digit `code` is right for at `now`, one step either
/// side allowed; `None` when it is wrong (or malformed).
pub fn check(secret_base32: &str, code: &str, now: Millis) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = u64::try_from(now / 1000).ok()?;
    let step = totp(secret_base32, "")?.check(&code, seconds)?;
    i64::try_from(step).ok()
}

/// The code for `now`, for tests.
pub fn code_at(secret_base32: &str, now: Millis) -> Option<String> {
    let seconds = u64::try_from(now / 1000).ok()?;
    Some(totp(secret_base32, "")?.generate(seconds).to_string())
}

/// New recovery codes, shown once: 16 characters (80 bits) in groups of four.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..16)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The hash stored for a recovery code, however it was typed (case,
/// dashes, spaces). 80 random bits need no slow hash.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    super::token_hash(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" at
        // 59 s gives 94287082; its last six digits are the 6-digit code.
        let secret = Secret::from(*b"12345678901234567890").to_base32();
        assert_eq!(code_at(&secret, 59_000).unwrap(), "287082");
        assert_eq!(check(&secret, "287082", 59_000), Some(1));
        assert_eq!(check(&secret, "287082", 89_000), Some(1), "one step late");
        assert_eq!(check(&secret, "287082", 119_000), None, "two steps late");
        assert_eq!(check(&secret, "28708", 59_000), None);
        assert_eq!(check(&secret, "abcdef", 59_000), None);
    }

    #[test]
    fn new_secrets_make_uris_and_codes() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let uri = uri(&secret, "ann").unwrap();
        assert!(uri.starts_with("otpauth://totp/frontdesk:ann?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        let code = code_at(&secret, 1_000_000).unwrap();
        assert!(check(&secret, &code, 1_000_000).is_some());
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 19);
        assert_ne!(codes[0], codes[1]);
        let shouted = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(recovery_hash(&shouted), recovery_hash(&codes[0]));
    }
}
