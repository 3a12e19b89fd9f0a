//! The core's one error type. Every message says what was wrong and what to
//! change.

use std::time::Duration;

use thiserror::Error;

use crate::node::Reply;

/// Everything the leadership core refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A setting that must be positive is zero.
    #[error("the cluster setting `{name}` must be above zero; its default is {default:?}")]
    Zero {
        /// The setting's name.
        name: &'static str,
        /// What it is by default, as a hint.
        default: Duration,
    },
    /// The lease would not survive one failed renewal.
    #[error(
        "the lease ttl ({ttl:?}) must be at least twice the renew interval ({renew_every:?}) plus the safety margin ({margin:?}), \
         so that one failed renewal does not cost the leadership; raise the ttl to at least {needed:?} or renew more often"
    )]
    TtlTooShort {
        /// The configured ttl.
        ttl: Duration,
        /// The configured renew interval.
        renew_every: Duration,
        /// The configured safety margin.
        margin: Duration,
        /// The smallest ttl that would pass.
        needed: Duration,
    },
    /// A hung database call would delay the next renewal or acquisition.
    #[error(
        "the database call timeout ({call_timeout:?}) must not exceed the {which} interval ({interval:?}): \
         a hung call would hold back the next attempt; lower the call timeout or raise the {which} interval"
    )]
    CallTimeoutTooLong {
        /// The configured call timeout.
        call_timeout: Duration,
        /// `renew` or `acquire`.
        which: &'static str,
        /// That interval.
        interval: Duration,
    },
    /// The driver handed in a reply while no call was in flight: it answered a
    /// call twice, or answered one the core never asked for.
    #[error(
        "got the database reply {reply:?} but no lease call is in flight; \
         the driver must answer each Acquire, Renew or Release action exactly once"
    )]
    NoCallInFlight {
        /// The reply that came in.
        reply: Reply,
    },
    /// The driver answered a call with a reply of another kind of call.
    #[error(
        "got the database reply {reply:?} for a {call} call; \
         the driver mixed up replies (an acquire returns Acquired, Busy or Failed; a renew Renewed, Lost or Failed; \
         a release Released, Lost or Failed)"
    )]
    ReplyMismatch {
        /// The call in flight: `acquire`, `renew` or `release`.
        call: &'static str,
        /// The reply that came in.
        reply: Reply,
    },
}
