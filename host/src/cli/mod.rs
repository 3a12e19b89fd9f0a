//! Command-line subcommands that need no server or database, and flag
//! groups `serve` shares with them.

pub mod plugin;
pub mod rate_limits;
pub mod rules;
