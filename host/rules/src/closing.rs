//! A4: the close delay, and what a customer message during it does.

use serde::{Deserialize, Serialize};

use crate::action::Action;
use frontdesk_routing::{Span, Timestamp};

/// An agent closed a session at `closed_at`; it closes for good after
/// `delay` unless the customer writes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingWindow {
    /// When the agent closed it.
    pub closed_at: Timestamp,
    /// How long it stays in `closing`.
    pub delay: Span,
}

/// What a customer message does to a session that an agent closed (S2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterClose {
    /// Still inside the delay: the session reopens with its agent.
    Reopen,
    /// The delay is over: the session is closed and the message starts a new one.
    NewSession,
}

impl ClosingWindow {
    /// The window the close-delay hook (A4) asked for: the delay of its
    /// `close_after` action, or `fallback` (the queue's setting) if the hook
    /// returned none.
    pub fn from_actions(closed_at: Timestamp, actions: &[Action], fallback: Span) -> Self {
        let delay = actions
            .iter()
            .find_map(|a| match a {
                Action::CloseAfter { delay_ms } => Some(Span::from_millis(*delay_ms)),
                _ => None,
            })
            .unwrap_or(fallback);
        Self { closed_at, delay }
    }

    /// When the session closes for good: the deadline of the router's
    /// `Timer::CloseDelay`.
    pub fn deadline(&self) -> Timestamp {
        self.closed_at + self.delay
    }

    /// A customer message at `at`. The deadline itself belongs to the closed
    /// side, matching the router, which fires due timers before handling
    /// other events stamped with the same time.
    pub fn on_customer_message(&self, at: Timestamp) -> AfterClose {
        if at < self.deadline() {
            AfterClose::Reopen
        } else {
            AfterClose::NewSession
        }
    }
}
