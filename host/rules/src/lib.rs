//! frontdesk's auto-actions (SPEC A, W, G, Q, X1): sandboxed Rhai hooks that
//! return actions, plus working hours, consent, ratings and canned responses.
//!
//! Like the routing core this crate does no IO and reads no clock. The engine
//! builds an [`HookEvent`] (with `now`), runs a [`Hook`] through [`Rules`], and
//! carries out the [`Action`]s it gets back.
//!
//! # Layout
//!
//! - [`Rules`] (`registry.rs`): the running scripts, one per hook for each
//!   [`ScriptScope`] (a channel, or all channels without their own), swapped
//!   atomically on save, with [`Rules::run_or_default`] falling back to the
//!   shipped default when an admin's script fails. [`Scripts`] is the value
//!   that gets swapped.
//! - [`Sandbox`], [`Limits`], [`CompiledScript`] (`sandbox.rs`): the
//!   sandbox, compiling and running.
//! - `api.rs`: the variables and functions scripts see (listed there).
//! - [`Hook`] (`hook.rs`) and the defaults in `defaults/*.rhai`; [`Action`]
//!   (`action.rs`); [`HookEvent`] and its parts (`event.rs`), which is also the
//!   JSON format of `rules test`.
//! - [`WorkingHours`] (`hours.rs`, W1), [`ConsentNotice`] and [`ConsentGate`]
//!   (`consent.rs`, G1), [`Rating`] (`rating.rs`, Q1–Q3), [`CannedList`]
//!   (`canned.rs`, A6), [`ClosingWindow`] (`closing.rs`, A4).
//! - [`check`] and [`test`] (`cli.rs`): the X1 commands.
//! - [`CompileError`], [`RunError`], [`TestError`] (`error.rs`).
//!
//! # Driving it
//!
//! ```
//! use frontdesk_rules::{Action, ChannelInfo, HookEvent, Hook, Rules, ScriptScope, SessionInfo};
//! use frontdesk_routing::{SessionId, State, Timestamp};
//!
//! let rules = Rules::new();
//! let now = Timestamp::from_millis(1_767_603_600_000);
//! let mut session = SessionInfo::new(SessionId(7), State::Queued, now);
//! session.customer_messages = 1;
//! let event = HookEvent {
//!     hook: None,
//!     now,
//!     session,
//!     contact: Default::default(),
//!     channel: ChannelInfo::named("Support"),
//!     message: Some("Hi, my order is late".into()),
//!     rating: None,
//! };
//! // A customer message: which hooks, then run each and apply the actions.
//! for hook in Hook::for_customer_message(&event) {
//!     let outcome = rules.run_or_default(ScriptScope::Channel(1), hook, &event);
//!     assert!(matches!(&outcome.actions[..], [Action::Reply { .. }]));
//! }
//! // An admin saves a script for channel 1; a broken one leaves the running one in place.
//! let support = ScriptScope::Channel(1);
//! let err = rules.save(support, Hook::FirstMessage, "reply(\"Hi\"").unwrap_err();
//! assert_eq!((err.line, err.column), (1, 11));
//! rules.save(support, Hook::FirstMessage, r#"reply(`Hi from ${channel.name}`)"#).unwrap();
//! assert_eq!(
//!     rules.run(support, Hook::FirstMessage, &event).unwrap(),
//!     vec![Action::Reply { text: "Hi from Support".into() }],
//! );
//! ```

mod action;
mod api;
mod canned;
mod cli;
mod closing;
mod consent;
mod error;
mod event;
mod hook;
mod hours;
mod rating;
mod registry;
mod sandbox;

#[cfg(test)]
mod tests;

pub use action::Action;
pub use canned::{CannedError, CannedList, CannedResponse};
pub use cli::{check, test};
pub use closing::{AfterClose, ClosingWindow};
pub use consent::{ConsentError, ConsentGate, ConsentNotice, ConsentRecord, ConsentStatus};
/// G1 helpers for channels without consent buttons.
pub use consent::{parse_answer as parse_consent_answer, prompt as consent_prompt};
pub use error::{CompileError, RunError, TestError};
pub use event::{Author, ChannelInfo, ContactInfo, HookEvent, RatingInfo, SessionInfo};
pub use hook::{Hook, MAX_CLOSE_DELAY_MS, UnknownHook};
pub use hours::{HoursError, WorkingHours, WorkingHoursConfig};
pub use rating::{Rater, Rating, RatingError, parse_score};
pub use registry::{
    DefaultScriptError, HookOutcome, LoadFailure, Rules, ScriptOrigin, ScriptScope, ScriptSet,
    Scripts,
};
pub use sandbox::{CompiledScript, Limits, Sandbox};
