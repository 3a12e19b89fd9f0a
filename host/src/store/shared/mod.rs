//! The `Store` impls in SQL both backends accept, written once as plain
//! Rust. This folder is compiled once inside each backend module (`sqlite.rs`,
//! `postgres.rs`, through `#[path]`), where `Backend` names that backend's
//! store, `Db` its database, and `SKIP_LOCKED` its row-locking clause; the
//! SQL text is the same for both (`$N` parameters, `ON CONFLICT`,
//! `RETURNING`, times as `i64` milliseconds).

use super::*;

mod accounts;
mod attachments;
mod bots;
mod contacts;
mod ingest;
mod mail;
mod routing;
mod tokens;
mod webchat;

// Helpers one file's transaction shares with another's, and with the
// `Store` impl still written as a macro in `sql.rs`.
pub(super) use attachments::{attach_files, insert_attachments};
pub(super) use contacts::{lead_in, note_no_lead};
pub(super) use ingest::ingest_batch;
