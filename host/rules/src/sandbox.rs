//! The sandbox: a locked-down Rhai engine, compiling scripts once and running a compiled
//! script for a hook.

use std::sync::Arc;

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Engine, EvalAltResult, Position};

use crate::action::Action;
use crate::api;
use crate::error::{CompileError, RunError};
use crate::event::HookEvent;
use crate::hook::Hook;

/// The sandbox's caps. The defaults leave a hundred times the room the
/// default scripts need, and still stop a runaway script in about a
/// millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations per run (an endless loop ends here).
    pub max_operations: u64,
    /// Bytes in any one string (a message is a few hundred).
    pub max_string_len: usize,
    /// Items in any one array.
    pub max_array_len: usize,
    /// Entries in any one object map.
    pub max_map_len: usize,
    /// Nested function calls (runaway recursion ends here, long before the
    /// host's stack would).
    pub max_call_depth: usize,
    /// Nesting of expressions at the top level, checked at compile time.
    pub max_expr_depth: usize,
    /// Nesting of expressions inside functions, checked at compile time.
    pub max_fn_expr_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 50_000,
            max_string_len: 16 * 1024,
            max_array_len: 1_000,
            max_map_len: 1_000,
            max_call_depth: 32,
            max_expr_depth: 64,
            max_fn_expr_depth: 32,
        }
    }
}

/// A script compiled once, ready to run any number of times.
#[derive(Clone, Debug)]
pub struct CompiledScript {
    ast: AST,
    source: Arc<str>,
}

impl CompiledScript {
    /// The source it was compiled from: what to store as a version.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// The sandbox. Build one per process and share it: it is
/// `Send + Sync`, and compiling and running take `&self`.
///
/// What scripts can't do: read files or the network (no module resolver, no
/// `import`), read the real clock (`no_time`; they get `now`), `eval` code,
/// run past [`Limits`], or change anything outside their own variables.
pub struct Sandbox {
    engine: Engine,
    limits: Limits,
}

impl Sandbox {
    /// The sandbox with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// The sandbox with the given caps.
    pub fn with_limits(limits: Limits) -> Self {
        // `new_raw` starts with nothing at all; the standard package adds the
        // language's own arithmetic, strings, arrays and maps, none of which
        // touch the outside world.
        let mut engine = Engine::new_raw();
        engine.register_global_module(StandardPackage::new().as_shared_module());
        engine
            .set_max_operations(limits.max_operations)
            .set_max_string_size(limits.max_string_len)
            .set_max_array_size(limits.max_array_len)
            .set_max_map_size(limits.max_map_len)
            .set_max_call_levels(limits.max_call_depth)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_fn_expr_depth)
            .set_strict_variables(true)
            .disable_symbol("eval");
        // Output goes nowhere: a script's print is not a channel to customers,
        // and hooks run far too often to log every line.
        engine.on_print(|_| {}).on_debug(|_, _, _| {});
        api::register(&mut engine);
        Self { engine, limits }
    }

    /// The caps in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Compiles a script. On error nothing changes: the caller keeps running
    /// the version it had.
    pub fn compile(&self, source: &str) -> Result<CompiledScript, CompileError> {
        let scope = api::template_scope();
        let ast = self
            .engine
            .compile_with_scope(&scope, source)
            .map_err(|err| {
                let (line, column) = line_col(err.position());
                CompileError {
                    line,
                    column,
                    message: err.err_type().to_string(),
                }
            })?;
        Ok(CompiledScript {
            ast,
            source: source.into(),
        })
    }

    /// Runs `script` as `hook` for `event` and checks the actions it
    /// returns. Never performs IO; the engine carries out the actions.
    pub fn run(
        &self,
        script: &CompiledScript,
        hook: Hook,
        event: &HookEvent,
    ) -> Result<Vec<Action>, RunError> {
        let mut scope = api::event_scope(event);
        let value = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &script.ast)
            .map_err(|err| self.run_error(hook, &err))?;
        let actions = into_actions(hook, value)?;
        for action in &actions {
            hook.check_action(action, event)?;
        }
        Ok(actions)
    }

    fn run_error(&self, hook: Hook, err: &EvalAltResult) -> RunError {
        let (line, column) = line_col(err.position());
        match err.unwrap_inner() {
            EvalAltResult::ErrorTooManyOperations(_) => RunError::TooManyOperations {
                hook,
                limit: self.limits.max_operations,
            },
            EvalAltResult::ErrorDataTooLarge(what, _) => RunError::DataTooLarge {
                hook,
                what: what.clone(),
                line,
            },
            EvalAltResult::ErrorStackOverflow(_) => RunError::TooDeep {
                hook,
                limit: self.limits.max_call_depth,
                line,
            },
            inner => RunError::Script {
                hook,
                line,
                column,
                message: inner.to_string(),
            },
        }
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

fn line_col(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// A script's value: one action, a list of them (units skipped, so
/// `[reply(a), if x { close() }]` works), or `()` for nothing.
fn into_actions(hook: Hook, value: Dynamic) -> Result<Vec<Action>, RunError> {
    if value.is_unit() {
        return Ok(Vec::new());
    }
    if value.is::<Action>() {
        return Ok(vec![value.cast::<Action>()]);
    }
    if value.is_array() {
        let items = value.into_array().unwrap_or_default();
        let mut actions = Vec::with_capacity(items.len());
        for item in items {
            if item.is_unit() {
                continue;
            }
            match item.try_cast::<Action>() {
                Some(a) => actions.push(a),
                None => {
                    return Err(RunError::BadReturn {
                        hook,
                        got: "list holding something other than actions".into(),
                    });
                }
            }
        }
        return Ok(actions);
    }
    Err(RunError::BadReturn {
        hook,
        got: value.type_name().to_owned(),
    })
}
