//! Command-line subcommands that need no server or database.

pub mod plugin;
pub mod rules;
