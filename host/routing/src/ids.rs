//! Identifiers. They are the store's `i64` primary keys, wrapped so an agent id
//! can't be passed where a session id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, " {}"), self.0)
            }
        }
    };
}

id!(
    /// An agent (a user who answers customers).
    AgentId,
    "agent"
);
id!(
    /// A queue. Each open channel has exactly one, so the engine may use the
    /// channel's id here.
    QueueId,
    "queue"
);
id!(
    /// A session: one conversation with a customer.
    SessionId,
    "session"
);
