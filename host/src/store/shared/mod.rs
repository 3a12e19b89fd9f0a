//! The `Store` impls in SQL both backends accept, written once as plain
//! Rust. This folder is compiled once inside each backend module (`sqlite.rs`,
//! `postgres.rs`, through `#[path]`), where `Backend` names that backend's
//! store, `Db` its database, `BACKEND` its name, `SKIP_LOCKED` its
//! row-locking clause, `index_hint` its index hints and `check_fence` its
//! routing lease check (issue 18); the SQL text is
//! otherwise the same for both (`$N` parameters, `ON CONFLICT`,
//! `RETURNING`, times as `i64` milliseconds).

use super::*;

mod accounts;
mod attachments;
mod bots;
mod config;
mod contact_data;
mod contacts;
mod failed_inbound;
mod inbox;
mod ingest;
mod mail;
mod outbox;
mod replies;
mod retention;
mod routing;
mod stats;
mod store;
mod tokens;
mod transcript;
mod users;
mod webchat;

// Helpers one file's transaction shares with another's.
use attachments::{attach_files, insert_attachments};
use contacts::{lead_in, note_no_lead};
use ingest::ingest_batch;
use outbox::queue_customer_text;
use replies::store_reply;
use store::audit;
use transcript::transcript_figures;
