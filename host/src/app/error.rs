//! How a use case fails, as the domain sees it.
//!
//! Each protocol answers from these kinds: HTTP maps them to status codes
//! (`api::ApiError` has the one `From`), SMTP to a temporary 4xx or a
//! permanent 5xx ([`Error::is_temporary`]), the widget to a socket frame.

use crate::engine::EngineError;
use crate::ingest::IngestError;
use crate::store::StoreError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the caller may not see it (P2).
    #[error("{what} {id} does not exist or you may not see it")]
    NotFound { what: &'static str, id: String },
    /// The request did not prove it is authentic (P3); nothing was stored.
    #[error("{0}")]
    Refused(String),
    /// The input is wrong and will stay wrong; `code` names the kind
    /// (`invalid_input`, `invalid_payload`, ...).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The thing is in a state that does not allow this (a closed session).
    #[error("{0}")]
    Conflict(String),
    /// This server is not set up for it (no mail relay, say): trying again
    /// will not help until its operator changes that.
    #[error("{0}")]
    NotConfigured(String),
    /// Not possible now (a disabled channel, a connector that failed, a relay
    /// out of reach); the sender should try again later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Error {
    /// An [`Error::Invalid`] of the plain kind `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            code: "invalid_input",
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// Whether the same request may succeed later: everything but a refusal
    /// and input that is wrong as it is (a database that rejects a value
    /// counts as the latter).
    pub fn is_temporary(&self) -> bool {
        !matches!(
            self,
            Error::Refused(_) | Error::Invalid { .. } | Error::Store(StoreError::Invalid(_))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SMTP answers 5xx (never again) and 4xx (try later) follows from
    /// the kind (S4: a temporary failure is never an acknowledgement).
    #[test]
    fn s4_only_refused_and_invalid_input_are_permanent() {
        let permanent = [
            Error::Refused("bad signature".into()),
            Error::invalid("not a mail"),
            Error::Store(StoreError::Invalid("too long".into())),
        ];
        for err in permanent {
            assert!(!err.is_temporary(), "{err:?}");
        }
        let temporary = [
            Error::Unavailable("connector down".into()),
            Error::not_found("channel", 7),
            Error::Ingest(IngestError::ShuttingDown),
        ];
        for err in temporary {
            assert!(err.is_temporary(), "{err:?}");
        }
    }
}
