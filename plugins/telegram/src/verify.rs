//! The webhook's only authentication: Telegram sends the `secret_token`
//! given to `setWebhook` back in `X-Telegram-Bot-Api-Secret-Token` (P3).

use subtle::ConstantTimeEq;

/// The header Telegram puts the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Compares the received header with the channel's `webhook_secret` in time
/// that does not depend on where they differ. The error says what was wrong,
/// never what the secret is.
pub fn check(expected: Option<&str>, received: Option<&str>) -> Result<(), String> {
    let expected = match expected {
        Some(secret) if !secret.is_empty() => secret,
        _ => return Err("the channel has no webhook_secret configured".to_string()),
    };
    let Some(received) = received else {
        return Err(format!(
            "the {SECRET_HEADER} header is missing; Telegram sends it once setWebhook \
             was called with a secret_token"
        ));
    };
    // `ct_eq` on slices of different lengths is false at once: the length of
    // the secret is not what an attacker needs.
    if bool::from(expected.as_bytes().ct_eq(received.as_bytes())) {
        Ok(())
    } else {
        Err(format!(
            "the {SECRET_HEADER} header does not match the channel's webhook_secret"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_passes() {
        assert!(check(Some("s3cret"), Some("s3cret")).is_ok());
        assert!(check(Some("s3cret"), Some("s3creT")).is_err());
        assert!(check(Some("s3cret"), Some("s3cret2")).is_err());
        assert!(check(Some("s3cret"), Some("")).is_err());
        let missing = check(Some("s3cret"), None).unwrap_err();
        assert!(missing.contains("missing"), "{missing}");
        assert!(!missing.contains("s3cret"));
        assert!(check(None, Some("anything")).is_err());
        assert!(check(Some(""), Some("")).is_err());
    }
}
