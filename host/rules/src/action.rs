//! What a hook asks the engine to do. Scripts never perform IO themselves: they
//! return these values and the engine carries them out.

use serde::{Deserialize, Serialize};

/// One thing a hook asks for. A hook returns a list; an empty list means
/// "do nothing" (A2's third choice, or a hook that decided not to speak).
///
/// How the engine applies each one:
///
/// | action | engine |
/// |---|---|
/// | `Reply` | send `text` to the customer through the outbox (S5) |
/// | `BackToQueue` | `Router::handle_back_to_queue` (R17) |
/// | `Close` | send `message` if any, then `Router::handle_close` |
/// | `CloseAfter` | the A4 delay for this close (see [`crate::ClosingWindow`]) |
/// | `AskRating` | send `text` with the channel's rating buttons (Q1) |
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Send a message to the customer.
    Reply {
        /// The message, as the customer will read it.
        text: String,
    },
    /// R17: put the session back in the queue (A2, evenly mode only).
    BackToQueue,
    /// Close the session (A2, A5, W2, Q2), optionally saying something first.
    Close {
        /// A last message to the customer, sent before the close.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A4: keep the session in `closing` this long before it closes for good;
    /// 0 closes at once.
    CloseAfter {
        /// The delay in milliseconds.
        delay_ms: i64,
    },
    /// Q1: ask the customer to rate the agent.
    AskRating {
        /// The question, as the customer will read it.
        text: String,
    },
}

impl Action {
    /// A short name for error messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Reply { .. } => "reply",
            Action::BackToQueue => "back_to_queue",
            Action::Close { .. } => "close",
            Action::CloseAfter { .. } => "close_after",
            Action::AskRating { .. } => "ask_rating",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_serialize_with_an_action_tag() {
        let actions = vec![
            Action::Reply { text: "hi".into() },
            Action::BackToQueue,
            Action::Close { message: None },
            Action::CloseAfter { delay_ms: 60_000 },
        ];
        let json = serde_json::to_string(&actions).unwrap();
        assert_eq!(
            json,
            r#"[{"action":"reply","text":"hi"},{"action":"back_to_queue"},{"action":"close"},{"action":"close_after","delay_ms":60000}]"#
        );
        let back: Vec<Action> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, actions);
    }
}
