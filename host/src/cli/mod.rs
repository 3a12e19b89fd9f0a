//! Command-line subcommands beside `serve` (`plugin` and `rules` need no
//! database, `user` works on it directly), and flag groups `serve` shares.

pub mod backup;
pub mod plugin;
pub mod rate_limits;
pub mod rules;
pub mod user;
