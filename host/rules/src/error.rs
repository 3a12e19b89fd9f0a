//! What can go wrong saving or running a script, phrased for the admin who
//! wrote it.

use frontdesk_routing::Mode;

use crate::hook::Hook;

/// A script did not compile. The caller keeps the running version.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// 1-based line of the problem (0 when Rhai gives no position).
    pub line: usize,
    /// 1-based column of the problem (0 when Rhai gives no position).
    pub column: usize,
    /// What Rhai found wrong.
    pub message: String,
}

/// A hook's script failed. [`crate::Rules::run_or_default`] runs the default
/// script instead; the error is for the admin (log, console, `rules test`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The operation cap stopped the script: usually a loop that never ends.
    #[error("{hook} script stopped after {limit} operations; look for a loop that never ends")]
    TooManyOperations {
        /// The hook.
        hook: Hook,
        /// The cap.
        limit: u64,
    },
    /// A string, array or map grew past its cap.
    #[error(
        "{hook} script stopped at line {line}: {what}; scripts build short messages, not bulk data"
    )]
    DataTooLarge {
        /// The hook.
        hook: Hook,
        /// Rhai's description, e.g. "Length of string too large".
        what: String,
        /// Where (0 when unknown).
        line: usize,
    },
    /// Function calls nested past the call-depth cap: usually recursion
    /// without an end.
    #[error(
        "{hook} script stopped at line {line}: calls nested deeper than {limit}; look for a function that calls itself without end"
    )]
    TooDeep {
        /// The hook.
        hook: Hook,
        /// The cap.
        limit: usize,
        /// Where (0 when unknown).
        line: usize,
    },
    /// Any other runtime error (unknown property, type mismatch, `throw`).
    #[error("{hook} script failed at line {line}, column {column}: {message}")]
    Script {
        /// The hook.
        hook: Hook,
        /// Where (0 when unknown).
        line: usize,
        /// Where (0 when unknown).
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// The script's value is not an action, a list of actions, or nothing.
    #[error(
        "{hook} script returned a {got}; end it with an action such as reply(\"...\"), a list of actions, or nothing"
    )]
    BadReturn {
        /// The hook.
        hook: Hook,
        /// The type it returned.
        got: String,
    },
    /// The action makes no sense for this hook (e.g. `close_after` in A1).
    #[error("{hook} can't use {action}(); see the hook's default script for what it may do")]
    ActionNotAllowed {
        /// The hook.
        hook: Hook,
        /// The action's name.
        action: &'static str,
    },
    /// A2's `back_to_queue` (R17) outside evenly mode.
    #[error(
        "no_answer (A2) can't use back_to_queue() in {mode:?} mode: only evenly mode cycles sessions through the queue (R17); reply or do nothing instead"
    )]
    BackToQueueNeedsEvenly {
        /// The channel's mode.
        mode: Mode,
    },
    /// A4 asked for a negative delay or more than a day.
    #[error(
        "close_delay (A4) asked for a delay of {given_ms} ms; use 0 to close at once, or up to hours(24)"
    )]
    CloseDelayOutOfRange {
        /// What was asked.
        given_ms: i64,
    },
    /// A reply, rating request or closing message with no text would send
    /// the customer an empty message.
    #[error("{hook} script asked for {action}() with an empty text")]
    EmptyText {
        /// The hook.
        hook: Hook,
        /// The action's name.
        action: &'static str,
    },
}

impl RunError {
    /// The hook whose script failed.
    pub fn hook(&self) -> Hook {
        match self {
            RunError::TooManyOperations { hook, .. }
            | RunError::DataTooLarge { hook, .. }
            | RunError::TooDeep { hook, .. }
            | RunError::Script { hook, .. }
            | RunError::BadReturn { hook, .. }
            | RunError::ActionNotAllowed { hook, .. }
            | RunError::EmptyText { hook, .. } => *hook,
            RunError::BackToQueueNeedsEvenly { .. } => Hook::NoAnswer,
            RunError::CloseDelayOutOfRange { .. } => Hook::CloseDelay,
        }
    }
}

/// `rules test` (X1) could not produce actions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TestError {
    /// The script does not compile.
    #[error("the script does not compile: {0}")]
    Compile(#[from] CompileError),
    /// The event file is not a valid event.
    #[error("the event is not valid: {0}; see host/rules/examples/*.json")]
    Event(String),
    /// Neither the command line nor the event says which hook to run.
    #[error("no hook given: add \"hook\": \"first_message\" (or another hook) to the event")]
    NoHook,
    /// The script ran and failed.
    #[error(transparent)]
    Run(#[from] RunError),
}
