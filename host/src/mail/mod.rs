//! Email (issue 6): mail in through an SMTP listener or by polling IMAP
//! mailboxes, replies out through an SMTP relay. The email connector plugin
//! (`plugins/email`) does the parsing and threading; the host moves bytes
//! and makes them durable.
//!
//! # Layout
//!
//! - [`smtp_session`]: the SMTP server protocol for one connection, no IO.
//! - [`smtp_listener`]: drives it over TCP; `250` only after the commit.
//! - [`imap_poller`]: polls mailboxes with a durable cursor per mailbox.
//! - [`imap_stream`]: the IMAP connection, plain or TLS.
//! - [`deliver`]: one mail → connector → group commit → routing, for both.
//! - [`relay`]: the `Mailer` behind the plugins' `smtp` import (lettre).

pub mod deliver;
pub mod imap_poller;
pub mod imap_stream;
pub mod relay;
pub mod smtp_listener;
pub mod smtp_session;

pub use relay::SmtpRelay;
pub use smtp_listener::SmtpConfig;
