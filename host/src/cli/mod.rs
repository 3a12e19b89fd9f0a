//! Command-line subcommands beside `serve`: `plugin` and `rules` need no
//! database, `user` works on it directly.

pub mod plugin;
pub mod rules;
pub mod user;
