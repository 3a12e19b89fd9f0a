//! `frontdesk rules check|test` (X1): try a script before saving it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use frontdesk_rules::Hook;

/// Checks and tries auto-action scripts without a server.
#[derive(Subcommand)]
pub enum RulesCommand {
    /// Compiles a script and reports the first error with its line and column.
    Check {
        /// The Rhai script.
        file: PathBuf,
    },
    /// Runs a script against an example event and prints the actions it would take, as JSON.
    Test {
        /// The Rhai script.
        file: PathBuf,
        /// The event, as JSON (see host/rules/examples/*.json).
        #[arg(long)]
        event: PathBuf,
        /// Which hook to run (first_message, no_answer, closed, close_delay,
        /// timeout, off_hours, ask_rating, rating_received); defaults to the event's "hook".
        #[arg(long)]
        hook: Option<Hook>,
    },
    /// Prints the built-in default script of a hook, to start from.
    Default {
        /// The hook.
        hook: Hook,
    },
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Runs the subcommand; the error says what to fix.
pub fn run(command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::Check { file } => match frontdesk_rules::check(&read(&file)?) {
            Ok(()) => println!("{}: ok", file.display()),
            Err(err) => bail!("{}: {err}", file.display()),
        },
        RulesCommand::Test { file, event, hook } => {
            let actions = frontdesk_rules::test(&read(&file)?, hook, &read(&event)?)
                .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&actions)?);
        }
        RulesCommand::Default { hook } => print!("{}", hook.default_source()),
    }
    Ok(())
}
