//! Console passwords (P5): argon2id hashes in PHC strings, the length rule,
//! and the lockout after wrong passwords.
//!
//! Hashing is deliberately slow (~tens of ms), so callers run it on a
//! blocking thread, never on the async runtime's workers.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::store::Millis;

/// Shortest password accepted: long enough that the lockout below makes
/// online guessing hopeless, short enough for a passphrase people remember.
pub const MIN_CHARS: usize = 10;
/// Longest password accepted, so nobody can make the server hash megabytes.
pub const MAX_CHARS: usize = 256;

/// Wrong passwords in a row before sign-in is refused for a while.
pub const FREE_ATTEMPTS: i64 = 5;
/// The first refusal lasts this long; each further wrong password doubles it.
const FIRST_LOCK_MS: Millis = 30_000;
/// The longest a lock lasts, so a typo-prone user is never locked for hours.
const MAX_LOCK_MS: Millis = 15 * 60_000;

/// Why a password was not accepted, in words for the person typing it.
pub fn check_rules(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!(
            "password must be at least {MIN_CHARS} characters (it has {chars}); a few words make a good one"
        ));
    }
    if chars > MAX_CHARS {
        return Err(format!("password must be at most {MAX_CHARS} characters"));
    }
    Ok(())
}

/// The PHC string stored for a password (argon2id, random salt).
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2id with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the stored PHC string; an unreadable hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time a real check takes, for a name with no password, so the
/// answer's timing does not tell which names exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash("not anyone's password"));
    let _ = verify(password, &DUMMY);
}

/// After `failures` wrong passwords in a row, until when sign-in is refused.
pub fn locked_until(failures: i64, now: Millis) -> Option<Millis> {
    let over = failures - FREE_ATTEMPTS;
    if over < 0 {
        return None;
    }
    let doubling = u32::try_from(over).unwrap_or(u32::MAX).min(16);
    let lock = FIRST_LOCK_MS.saturating_mul(1 << doubling).min(MAX_LOCK_MS);
    Some(now + lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery!", &stored));
        assert!(!verify("correct horse battery", "not a phc string"));
        assert_ne!(stored, hash("correct horse battery"), "salted");
    }

    #[test]
    fn length_rules_name_the_limit() {
        assert!(check_rules("short").unwrap_err().contains("at least 10"));
        assert!(check_rules("ten chars!").is_ok());
        assert!(check_rules(&"x".repeat(257)).is_err());
    }

    #[test]
    fn the_lock_starts_after_five_and_doubles_up_to_a_ceiling() {
        assert_eq!(locked_until(4, 0), None);
        assert_eq!(locked_until(5, 0), Some(30_000));
        assert_eq!(locked_until(6, 0), Some(60_000));
        assert_eq!(locked_until(40, 0), Some(MAX_LOCK_MS));
    }
}
