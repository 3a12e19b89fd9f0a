//! Passwords and user names as the sign-in, two-factor and user pages check
//! them: hashing and verifying run on a blocking thread (argon2id is slow on
//! purpose), and a name's rule is written once.

use super::ApiError;
use crate::auth::password;

/// Checks a password on a blocking thread; with no stored hash the same work
/// is done and the answer is no, so timing tells nothing.
pub(super) async fn checked(given: &str, stored: Option<String>) -> Result<bool, ApiError> {
    let given = given.to_string();
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => password::verify(&given, &stored),
        None => {
            password::verify_nothing(&given);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))
}

/// A password's argon2id hash, made on a blocking thread.
pub(super) async fn hashed(given: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(&given))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
}

/// A user name: 1 to 100 characters once trimmed.
pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    Ok(())
}
