//! The sans-IO routing core of frontdesk: queue rules in, commands out.
//!
//! Every rule of SPEC section R (routing and the queue) and the session
//! lifecycle S1–S2 live here, with no IO, no async runtime, no database and no
//! clock. The engine feeds events stamped with `now` into a [`Router`], carries
//! out the [`Command`]s it emits, and sleeps until [`Router::poll_timeout`].
//! Because time is only a parameter, tests jump a virtual clock straight to the
//! next deadline: a week of simulated traffic costs milliseconds.
//!
//! # Layout
//!
//! - [`Router`] (`router/`): the state machine and its `handle_*` / `poll_*`
//!   methods, split by concern: `sessions.rs` (customer and agent events,
//!   R4, R18, S1, S2), `agents.rs` (agents, presence, queue settings),
//!   `timeouts.rs` (what each deadline does), `route.rs` (routing decisions),
//!   `state.rs` (the bookkeeping every change goes through) and
//!   `snapshot.rs` (persistence).
//! - The routing modes: `evenly.rs` (R2, R2a), `strict.rs` (R3), and
//!   `everybody.rs` (R4), each a lookup in the indexes of `queue.rs`.
//! - `eligibility.rs`: who qualifies (R7, R8, R10, R13, R14).
//! - [`config`]: queue settings and their validation (R5, R6 ranges) and the
//!   fixed periods (R11's retry, R12's presence, R15's sweep, R16's auto-close).
//! - [`Timer`] (`timers.rs`): deadlines as data.
//! - [`Command`], [`Hook`], [`Notice`] (`command.rs`): the output.
//! - [`SessionSnapshot`], [`State`], [`Cause`], [`Transition`] (`session.rs`)
//!   and [`AgentSnapshot`], [`AgentStatus`] (`agent.rs`): the data, which is
//!   also the persisted form.
//! - [`Timestamp`] and [`Span`] (`time.rs`): Unix milliseconds.
//! - [`Error`]: everything the core refuses, with a message a person can act on.
//!
//! # Driving it
//!
//! ```
//! use frontdesk_routing::{
//!     AgentId, AgentStatus, Command, NewSession, QueueConfig, QueueId, Router, SessionId, Snapshot, Timestamp,
//! };
//!
//! let t0 = Timestamp::from_millis(1_767_603_600_000);
//! let mut router = Router::new(t0);
//! let on_shift = AgentStatus { clocked_in: true, ..AgentStatus::default() };
//! router.handle_agent_upsert(t0, AgentId(1), on_shift);
//! router.handle_agent_activity(t0, AgentId(1))?;
//! router.handle_queue_config(t0, QueueConfig::new(QueueId(1), vec![AgentId(1)]))?;
//! let new = NewSession { id: SessionId(7), queue: QueueId(1), responsible: None, bot: false };
//! router.handle_session_opened(t0, new)?;
//!
//! // The engine persists the Save/Forget/Timer commands in one transaction,
//! // then carries out the rest (console events, customer notices, hooks).
//! let mut assigned = None;
//! while let Some(command) = router.poll_command() {
//!     if let Command::Assign { session, agent } = command {
//!         assigned = Some((session, agent));
//!     }
//! }
//! assert_eq!(assigned, Some((SessionId(7), AgentId(1))));
//!
//! // Then it sleeps until the next deadline and hands the time back.
//! let deadline = router.poll_timeout().expect("R6, R12, R15 and R16 are pending");
//! router.handle_timeout(deadline);
//!
//! // After a restart, the stored rows rebuild the same router.
//! let stored: Snapshot = router.snapshot();
//! let restored = Router::restore(stored.clone())?;
//! assert_eq!(restored.snapshot(), stored);
//! # Ok::<(), frontdesk_routing::Error>(())
//! ```

pub mod config;

mod agent;
mod command;
mod eligibility;
mod error;
mod evenly;
mod everybody;
mod hash;
mod ids;
mod queue;
mod router;
mod session;
mod strict;
mod time;
mod timers;

#[cfg(test)]
mod tests;

pub use agent::{AgentSnapshot, AgentStatus};
pub use command::{Command, Hook, Notice};
pub use config::{LimitExclusion, Mode, QueueConfig, SessionLimit};
pub use error::{Error, Interval};
pub use ids::{AgentId, QueueId, SessionId};
pub use router::{MessageOutcome, NewSession, Router, Snapshot};
pub use session::{Cause, SessionSnapshot, State, Transition};
pub use time::{Span, Timestamp};
pub use timers::Timer;
