//! The hooks: the moments an admin's script gets a say, and what each may ask for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::error::RunError;
use crate::event::HookEvent;
use frontdesk_routing::{Mode, State};

/// A point in a session's life where a script runs.
///
/// The serialized names are the file names of the default scripts
/// (`defaults/<name>.rhai`), the `hook` field of an event (X1) and the key a
/// saved script version is stored under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// A1: the customer's first message, during working hours.
    FirstMessage,
    /// A2: nobody answered within the unanswered interval (router
    /// `Hook::NoAnswer`).
    NoAnswer,
    /// A3: the session closed (router `Hook::Closed`).
    Closed,
    /// A4: an agent closed the session; the script picks the delay before it
    /// closes for good.
    CloseDelay,
    /// A5: the session has gone quiet for the channel's conversation timeout.
    Timeout,
    /// W2: a customer message arrived outside working hours.
    OffHours,
    /// Q1: ask the customer for a rating (router `Hook::AskRating`).
    AskRating,
    /// Q2: the customer's rating arrived.
    RatingReceived,
}

impl Hook {
    /// Every hook, in the order the docs list them.
    pub const ALL: [Hook; 8] = [
        Hook::FirstMessage,
        Hook::NoAnswer,
        Hook::Closed,
        Hook::CloseDelay,
        Hook::Timeout,
        Hook::OffHours,
        Hook::AskRating,
        Hook::RatingReceived,
    ];

    /// The stable name: `first_message`, `no_answer`, ...
    pub fn name(self) -> &'static str {
        match self {
            Hook::FirstMessage => "first_message",
            Hook::NoAnswer => "no_answer",
            Hook::Closed => "closed",
            Hook::CloseDelay => "close_delay",
            Hook::Timeout => "timeout",
            Hook::OffHours => "off_hours",
            Hook::AskRating => "ask_rating",
            Hook::RatingReceived => "rating_received",
        }
    }

    /// The SPEC ID the hook implements, for error messages and docs.
    pub fn spec_id(self) -> &'static str {
        match self {
            Hook::FirstMessage => "A1",
            Hook::NoAnswer => "A2",
            Hook::Closed => "A3",
            Hook::CloseDelay => "A4",
            Hook::Timeout => "A5",
            Hook::OffHours => "W2",
            Hook::AskRating => "Q1",
            Hook::RatingReceived => "Q2",
        }
    }

    /// The readable default script shipped for this hook
    /// (`defaults/<name>.rhai`), which admins start from.
    pub fn default_source(self) -> &'static str {
        match self {
            Hook::FirstMessage => include_str!("../defaults/first_message.rhai"),
            Hook::NoAnswer => include_str!("../defaults/no_answer.rhai"),
            Hook::Closed => include_str!("../defaults/closed.rhai"),
            Hook::CloseDelay => include_str!("../defaults/close_delay.rhai"),
            Hook::Timeout => include_str!("../defaults/timeout.rhai"),
            Hook::OffHours => include_str!("../defaults/off_hours.rhai"),
            Hook::AskRating => include_str!("../defaults/ask_rating.rhai"),
            Hook::RatingReceived => include_str!("../defaults/rating_received.rhai"),
        }
    }

    /// The router's hook this one answers, so the engine can map
    /// `Command::RunHook` straight to a script.
    pub fn from_router(hook: frontdesk_routing::Hook) -> Hook {
        match hook {
            frontdesk_routing::Hook::NoAnswer => Hook::NoAnswer,
            frontdesk_routing::Hook::Closed => Hook::Closed,
            frontdesk_routing::Hook::AskRating => Hook::AskRating,
            frontdesk_routing::Hook::Timeout => Hook::Timeout,
        }
    }

    /// The hooks the engine runs for a customer message, given the event it
    /// built after storing that message.
    ///
    /// Outside working hours only W2 runs: a "we'll be right with you"
    /// greeting next to "we're closed" would contradict itself. During
    /// working hours A1 runs for the session's first customer message only.
    /// While a bot has the session (B1) neither runs: the bot answers first.
    pub fn for_customer_message(event: &HookEvent) -> Vec<Hook> {
        if event.session.state == State::Bot {
            Vec::new()
        } else if !event.channel.is_open(event.now) {
            vec![Hook::OffHours]
        } else if event.session.customer_messages <= 1 {
            vec![Hook::FirstMessage]
        } else {
            Vec::new()
        }
    }

    /// Checks that this hook may take `action` in the event's situation.
    ///
    /// The allowed set is narrow on purpose: each action is only meaningful at
    /// some moments (asking for a close delay in the middle of a chat would be
    /// ignored by the router, and the admin would never learn why).
    pub fn check_action(self, action: &Action, event: &HookEvent) -> Result<(), RunError> {
        let allowed = match action {
            Action::Reply { .. } => true,
            Action::BackToQueue => self == Hook::NoAnswer,
            Action::Close { .. } => matches!(
                self,
                Hook::NoAnswer | Hook::Timeout | Hook::OffHours | Hook::RatingReceived
            ),
            Action::CloseAfter { .. } => self == Hook::CloseDelay,
            Action::AskRating { .. } => self == Hook::AskRating,
        };
        if !allowed {
            return Err(RunError::ActionNotAllowed {
                hook: self,
                action: action.kind(),
            });
        }
        let text = match action {
            Action::Reply { text } | Action::AskRating { text } => Some(text),
            Action::Close { message } => message.as_ref(),
            _ => None,
        };
        if text.is_some_and(|t| t.trim().is_empty()) {
            return Err(RunError::EmptyText {
                hook: self,
                action: action.kind(),
            });
        }
        if let Action::BackToQueue = action
            && event.channel.mode != Mode::Evenly
        {
            // R17: only evenly mode cycles a session through the queue; in
            // strict order the forward interval (R5) already moves it on.
            return Err(RunError::BackToQueueNeedsEvenly {
                mode: event.channel.mode,
            });
        }
        if let Action::CloseAfter { delay_ms } = action
            && !(0..=MAX_CLOSE_DELAY_MS).contains(delay_ms)
        {
            return Err(RunError::CloseDelayOutOfRange {
                given_ms: *delay_ms,
            });
        }
        Ok(())
    }
}

/// A4: the longest close delay a script may ask for. A day is far past any
/// sensible "wait for a last word" window, and bounding it keeps a typo
/// (`days(7)` for `minutes(7)`) from holding sessions open for a week.
pub const MAX_CLOSE_DELAY_MS: i64 = 24 * 3_600_000;

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.spec_id())
    }
}

/// The hook name was not one of [`Hook::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown hook {0:?}: use one of first_message, no_answer, closed, close_delay, timeout, off_hours, ask_rating, rating_received"
)]
pub struct UnknownHook(pub String);

impl FromStr for Hook {
    type Err = UnknownHook;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hook::ALL
            .into_iter()
            .find(|h| h.name() == s)
            .ok_or_else(|| UnknownHook(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for hook in Hook::ALL {
            assert_eq!(hook.name().parse::<Hook>(), Ok(hook));
            let json = serde_json::to_string(&hook).unwrap();
            assert_eq!(json, format!("\"{}\"", hook.name()));
        }
        let err = "greeting".parse::<Hook>().unwrap_err();
        assert!(err.to_string().contains("first_message"));
    }

    #[test]
    fn router_hooks_map_to_their_scripts() {
        use frontdesk_routing::Hook as R;
        assert_eq!(Hook::from_router(R::NoAnswer), Hook::NoAnswer);
        assert_eq!(Hook::from_router(R::Closed), Hook::Closed);
        assert_eq!(Hook::from_router(R::AskRating), Hook::AskRating);
        assert_eq!(Hook::from_router(R::Timeout), Hook::Timeout);
    }
}
