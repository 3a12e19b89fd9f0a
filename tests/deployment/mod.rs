//! Issue 19, upgrades and deployment, on the real binary:
//!
//! - `upgrades`: `migrate --check` lists what would run and applies nothing;
//!   a database a newer frontdesk migrated is refused by `serve`, `migrate`
//!   and `check`, naming both versions (SQLite and PostgreSQL).
//! - `check`: `frontdesk check` passes a good deployment and prints the fix
//!   for a bad data dir, an unreachable SMTP relay, a newer database and a
//!   bad variable.
//! - `systemd`: `deploy/frontdesk.service` passes `systemd-analyze verify`
//!   and `security`, and every flag and variable it and its env file use
//!   exist in `frontdesk serve --help`.
//! - `env_table`: docs/configuration.md's table of variables matches the
//!   binary's own definitions.

use crate::support;

#[allow(dead_code)] // the email tests use the rest
use crate::email_peers;

mod check;
mod env_table;
mod systemd;
mod upgrades;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `frontdesk ARGS` with none of the test process's own `FRONTDESK_*`
/// variables (CI sets some for the tests), so each test says all it sets.
pub fn frontdesk(args: &[&str]) -> Command {
    let mut command = Command::new(support::binary());
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FRONTDESK_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs the command; returns its exit code, stdout and stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run frontdesk");
    (
        status.code().expect("exited, not killed"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The repository's root, where `deploy/` and `docs/` are.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
