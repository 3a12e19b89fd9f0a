//! What a stored step lets out besides its rows: which sessions the
//! consoles hear changed, and which session snapshots need writing at all.

use std::collections::HashMap;

use frontdesk_routing::{Command, Router, SessionSnapshot, Timer, Timestamp};

use super::restore::written_sessions;
use crate::live::Live;
use crate::store::{Message, OutboxItem, RoutingBatch};

/// Tells the consoles' hub what a stored step changed: sessions that moved
/// or changed hands, and sessions that got a notice or a reply written.
pub(super) fn publish_live(
    live: &Live,
    batch: &RoutingBatch,
    emitted: &[Command],
    replies: &[(Message, OutboxItem)],
    now: Timestamp,
) {
    for command in emitted {
        match command {
            Command::Transition(t) => live.session_changed(t.session.0),
            Command::Assign { session, .. } | Command::Release { session, .. } => {
                live.session_changed(session.0)
            }
            // Nothing of their own to publish here: notices are published
            // from the batch below, which holds their rows; each new
            // command is sorted here on purpose, not by a catch-all.
            Command::Offer { .. }
            | Command::WithdrawOffer { .. }
            | Command::NotifyCustomer { .. }
            | Command::SaveSession(_)
            | Command::ForgetSession(_)
            | Command::SaveAgent(_)
            | Command::SetTimer { .. }
            | Command::ClearTimer { .. }
            | Command::MakeResponsible { .. }
            | Command::MarkUnanswered { .. }
            | Command::RunHook { .. } => {}
        }
    }
    for (message, _) in replies {
        live.message_added(message.session_id, message.id);
    }
    for (session, _) in &batch.notices {
        live.messages_since(*session, now.as_millis());
    }
}

/// Each open session as last written.
///
/// R16's clock is not written on every message. Ingest already keeps
/// `sessions.last_message_at` current in each message's own transaction, so a
/// session snapshot that differs from the written one only in
/// `last_message_at`, and the auto-close timer that follows it, are left out;
/// [`super::restore::restore`] rebuilds both from `sessions`. This halves what
/// a busy channel writes per message without changing what a restart brings
/// back.
pub(super) struct Written(HashMap<i64, SessionSnapshot>);

impl Written {
    /// What the store holds for the router just rebuilt from it.
    pub(super) fn of(router: &Router) -> Written {
        Written(written_sessions(router))
    }

    /// Whether `command` goes into the step's transaction.
    pub(super) fn needs_writing(&mut self, command: &Command) -> bool {
        match command {
            Command::SetTimer {
                timer: Timer::AutoClose(_),
                ..
            }
            | Command::ClearTimer {
                timer: Timer::AutoClose(_),
            } => false,
            Command::SaveSession(s) => {
                let touch_only = self.0.get(&s.id.0).is_some_and(|w| {
                    SessionSnapshot {
                        last_message_at: w.last_message_at,
                        ..s.clone()
                    } == *w
                });
                if !touch_only {
                    self.0.insert(s.id.0, s.clone());
                }
                !touch_only
            }
            Command::ForgetSession(id) => {
                self.0.remove(&id.0);
                true
            }
            Command::SetTimer { .. }
            | Command::ClearTimer { .. }
            | Command::SaveAgent(_)
            | Command::Transition(_)
            | Command::Offer { .. }
            | Command::WithdrawOffer { .. }
            | Command::Assign { .. }
            | Command::MakeResponsible { .. }
            | Command::Release { .. }
            | Command::NotifyCustomer { .. }
            | Command::MarkUnanswered { .. }
            | Command::RunHook { .. } => true,
        }
    }
}
