//! The sans-IO routing-leadership core of frontdesk: which node routes.
//!
//! Several `frontdesk serve` processes share one PostgreSQL. Routing is a
//! single-writer state machine, so exactly one node routes at a time: the one
//! holding a lease row with a fencing token that every routing write checks.
//! This crate is that protocol with no IO, no async runtime and no clock: the
//! driver hands [`Node`] the time and each database call's outcome, and
//! carries out the [`Action`]s it emits. A seeded simulation (`src/sim/`,
//! test-only) runs 3–5 nodes against [`model::Db`], an in-memory copy of the
//! tables with the same semantics as the SQL below, through crashes, pauses,
//! lost and late database calls, and checks the invariants listed in the
//! crate's README.
//!
//! # Layout
//!
//! - [`Node`] (`node.rs`): one node's state machine and its `handle_*` /
//!   `poll_*` methods; [`Action`], [`Reply`], [`Role`], [`StepDownReason`],
//!   [`WriteFailure`].
//! - [`Settings`] (`settings.rs`): ttl, renew and acquire intervals, call
//!   timeout, safety margin; their validation and the takeover bound.
//! - [`Token`] (`token.rs`): the fencing token.
//! - [`model`]: the lease, inbox and timer tables in memory, one method per
//!   SQL statement.
//! - [`Error`] (`error.rs`): what the core refuses, with what to change.
//! - `sim/` (tests only): the seeded deterministic simulation.
//!
//! # The protocol, statement by statement
//!
//! Time in the lease is the **database's** clock (`now()`), so node clocks
//! never matter for safety. One row, created by the migration with
//! `holder = ''`, `token = 0`, `expires_at = '-infinity'`.
//!
//! [`Action::Acquire`] (`$1` this process's holder id, unique per process
//! start; `$2` = `led`, or 0; `$3` the ttl):
//!
//! ```sql
//! UPDATE routing_lease
//!    SET token = CASE WHEN holder = $1 AND expires_at >= now() AND token > $2
//!                     THEN token ELSE token + 1 END,
//!        holder = $1, expires_at = now() + $3
//!  WHERE expires_at < now() OR holder = $1
//! RETURNING token
//! ```
//!
//! A row is [`Reply::Acquired`], none is [`Reply::Busy`]. Taking a free or
//! expired lease starts a new term. Re-acquiring our own live lease keeps the
//! token (an earlier acquire of ours landed but its answer was lost, or came
//! too late: nothing was written under it, and renew is what extends a term)
//! unless we already routed under that token: then a write of that term may
//! still be in flight, and the new term rebuilds from the store, so the bump
//! is what keeps that write out. The simulation's
//! `reacquire_keeping_a_led_token_loses_updates` test shows the rebuild going
//! wrong without it.
//!
//! [`Action::Renew`]: `UPDATE routing_lease SET expires_at = now() + $3
//! WHERE holder = $1 AND token = $2` — a row is [`Reply::Renewed`], none is
//! [`Reply::Lost`].
//!
//! [`Action::Release`] (clean shutdown): `UPDATE routing_lease SET expires_at
//! = now() WHERE holder = $1 AND token = $2`.
//!
//! Every routing transaction starts with `SELECT token FROM routing_lease FOR
//! SHARE` and rolls back unless it equals [`Node::write_token`]. The share lock
//! orders it against the acquire's update: a write that began before a
//! takeover commits before it, and none with an older token commits after.
//! A refused write is [`WriteFailure::Fenced`]; one whose commit outcome is
//! unknown is [`WriteFailure::Uncertain`]. Either ends the term.
//!
//! Routing events from every node go into `routing_inbox` in the transaction
//! that stores their message; the leader applies each and deletes it in the
//! same fenced transaction (a delete that finds no row rolls back), so each is
//! applied exactly once. Timers are rows with their deadline; firing one sets
//! `fired_at` in the fenced transaction that acts on it (`WHERE fired_at IS
//! NULL`, none found rolls back), and a new leader resumes the rest at their
//! original deadlines.
//!
//! # Driving it
//!
//! ```
//! use std::time::{Duration, Instant};
//! use frontdesk_cluster::{Action, Node, Reply, Settings, Token};
//!
//! let t0 = Instant::now();
//! let mut node = Node::new(t0, Settings::default())?;
//! node.handle_timeout(t0);
//! assert_eq!(node.poll_action(), Some(Action::Acquire { led: None }));
//! // The driver ran the acquire statement; it returned token 7.
//! node.handle_reply(t0 + Duration::from_millis(4), Reply::Acquired { token: Token(7) })?;
//! assert_eq!(node.poll_action(), Some(Action::BecomeLeader { token: Token(7) }));
//! // Every routing transaction checks this token.
//! assert_eq!(node.write_token(t0 + Duration::from_millis(5)), Some(Token(7)));
//! // Then the driver sleeps until the next deadline: the first renew.
//! assert_eq!(node.poll_timeout(), Some(t0 + Duration::from_secs(1)));
//! # Ok::<(), frontdesk_cluster::Error>(())
//! ```

pub mod model;

mod error;
mod node;
mod settings;
mod token;

#[cfg(test)]
mod sim;

pub use error::Error;
pub use node::{Action, Node, Reply, Role, StepDownReason, WriteFailure};
pub use settings::Settings;
pub use token::Token;
