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
