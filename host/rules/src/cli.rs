//! X1: what `frontdesk rules check` and `frontdesk rules test` call.

use crate::action::Action;
use crate::error::{CompileError, TestError};
use crate::event::HookEvent;
use crate::hook::Hook;
use crate::sandbox::Sandbox;

/// `rules check FILE`: compiles the script in the same sandbox the server
/// uses, so a script that passes here also saves.
pub fn check(source: &str) -> Result<(), CompileError> {
    Sandbox::new().compile(source).map(|_| ())
}

/// `rules test FILE --event EVENT.json [--hook NAME]`: runs the script against
/// an example event (format: [`HookEvent`], examples in `host/rules/examples/`)
/// and returns the actions it would take, checked like the server checks them.
///
/// `hook` wins over the event's own `"hook"` field; one of them must be set.
pub fn test(source: &str, hook: Option<Hook>, event_json: &str) -> Result<Vec<Action>, TestError> {
    let event: HookEvent =
        serde_json::from_str(event_json).map_err(|e| TestError::Event(e.to_string()))?;
    let hook = hook.or(event.hook).ok_or(TestError::NoHook)?;
    let sandbox = Sandbox::new();
    let script = sandbox.compile(source)?;
    Ok(sandbox.run(&script, hook, &event)?)
}
