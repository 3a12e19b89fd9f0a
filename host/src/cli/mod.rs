//! Command-line subcommands beside `serve` (`plugin` and `rules` need no
//! database, `user` works on it directly, `migrate` and `check` inspect it
//! before anything is applied), and flag groups `serve` shares.

pub mod backup;
pub mod catalogue;
pub mod check;
pub mod migrate;
pub mod package_text;
pub mod plugin;
pub mod plugin_author;
pub mod rate_limits;
pub mod rules;
pub mod serve_limits;
pub mod signing;
pub mod user;

/// A command that printed its findings itself and ends with this exit
/// status: `main` adds no `error:` line for it.
#[derive(Debug, thiserror::Error)]
#[error("exit status {code}")]
pub struct Exit {
    pub code: u8,
}
