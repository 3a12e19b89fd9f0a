//! The running scripts: one per hook, swapped atomically when an admin saves,
//! with the shipped defaults always at hand as the fallback.

use std::sync::{Arc, RwLock};

use crate::action::Action;
use crate::engine::{CompiledScript, RulesEngine};
use crate::error::{CompileError, RunError};
use crate::event::HookEvent;
use crate::hook::Hook;

/// The admin's scripts, one optional script per hook; a hook without one runs
/// its default. A value type: build a new set and [`Rules::replace`] it, so a
/// run never sees half of an update.
#[derive(Clone, Debug, Default)]
pub struct ScriptSet {
    scripts: [Option<Arc<CompiledScript>>; Hook::ALL.len()],
}

impl ScriptSet {
    /// No custom scripts: every hook runs its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// This set with `hook` running `script`.
    pub fn with(mut self, hook: Hook, script: CompiledScript) -> Self {
        self.scripts[index(hook)] = Some(Arc::new(script));
        self
    }

    /// This set with `hook` back on its default.
    pub fn without(mut self, hook: Hook) -> Self {
        self.scripts[index(hook)] = None;
        self
    }

    /// The custom script for `hook`, if any.
    pub fn get(&self, hook: Hook) -> Option<&Arc<CompiledScript>> {
        self.scripts[index(hook)].as_ref()
    }
}

/// `Hook::ALL` is in declaration order, so the discriminant is the index.
fn index(hook: Hook) -> usize {
    hook as usize
}

/// A shipped default does not compile under the engine's limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the default {hook} script does not compile under these limits ({error}); raise the expression-depth limits"
)]
pub struct DefaultScriptError {
    /// The hook whose default failed.
    pub hook: Hook,
    /// Why.
    pub error: CompileError,
}

/// What [`Rules::run_or_default`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookOutcome {
    /// The actions to carry out.
    pub actions: Vec<Action>,
    /// The admin's script failed with this; `actions` came from the default
    /// (or are empty if the default failed too). Log it and show it to admins.
    pub error: Option<RunError>,
}

/// The engine plus the running scripts: what the host keeps in its state.
///
/// `Send + Sync`; runs take a read lock only long enough to clone an `Arc`,
/// so a save never waits for a slow script and vice versa.
pub struct Rules {
    engine: Arc<RulesEngine>,
    defaults: [Arc<CompiledScript>; Hook::ALL.len()],
    current: RwLock<Arc<ScriptSet>>,
}

impl Rules {
    /// Default sandbox, every hook on its default script.
    pub fn new() -> Self {
        // The defaults ship inside the binary and `x1_every_default_script_checks`
        // compiles each one under the default limits, so this can't fail in a
        // build that passed its tests.
        Self::with_engine(Arc::new(RulesEngine::new())).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Shares an engine (e.g. one per process, one `Rules` per channel).
    /// Fails if custom [`crate::Limits`] are too tight for a default script.
    pub fn with_engine(engine: Arc<RulesEngine>) -> Result<Self, DefaultScriptError> {
        let mut defaults = Vec::with_capacity(Hook::ALL.len());
        for hook in Hook::ALL {
            let script = engine
                .compile(hook.default_source())
                .map_err(|error| DefaultScriptError { hook, error })?;
            defaults.push(Arc::new(script));
        }
        let defaults = defaults
            .try_into()
            .unwrap_or_else(|_| unreachable!("one default per hook"));
        Ok(Self {
            engine,
            defaults,
            current: RwLock::new(Arc::new(ScriptSet::new())),
        })
    }

    /// The engine, to compile with or to share.
    pub fn engine(&self) -> &Arc<RulesEngine> {
        &self.engine
    }

    /// Compiles `source` without installing it (`rules check`, or a save
    /// that is stored first and installed after the commit).
    pub fn compile(&self, source: &str) -> Result<CompiledScript, CompileError> {
        self.engine.compile(source)
    }

    /// Compiles and installs `source` for `hook`. On a compile error the
    /// running version stays in place.
    pub fn save(&self, hook: Hook, source: &str) -> Result<(), CompileError> {
        let script = self.compile(source)?;
        self.install(hook, script);
        Ok(())
    }

    /// Installs an already compiled script for `hook`.
    pub fn install(&self, hook: Hook, script: CompiledScript) {
        self.update(|set| set.with(hook, script));
    }

    /// Puts `hook` back on its default script.
    pub fn reset(&self, hook: Hook) {
        self.update(|set| set.without(hook));
    }

    /// Replaces every script at once, e.g. with the versions loaded at start.
    pub fn replace(&self, set: ScriptSet) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }

    /// Installs the stored versions at start, all at once. A version that no
    /// longer compiles (say, after an upgrade tightened a limit) leaves its
    /// hook on the default and is reported, so the server still starts.
    pub fn load<'a>(
        &self,
        stored: impl IntoIterator<Item = (Hook, &'a str)>,
    ) -> Vec<(Hook, CompileError)> {
        let mut set = ScriptSet::new();
        let mut failed = Vec::new();
        for (hook, source) in stored {
            match self.compile(source) {
                Ok(script) => set = set.with(hook, script),
                Err(e) => failed.push((hook, e)),
            }
        }
        self.replace(set);
        failed
    }

    /// The running scripts.
    pub fn current(&self) -> Arc<ScriptSet> {
        // A poisoned lock only means a writer panicked between two complete
        // sets; the `Arc` inside is still whole.
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The source `hook` is running now (the admin's or the default).
    pub fn source(&self, hook: Hook) -> String {
        self.script(hook).source().to_owned()
    }

    /// Whether `hook` runs an admin's script.
    pub fn is_custom(&self, hook: Hook) -> bool {
        self.current().get(hook).is_some()
    }

    fn script(&self, hook: Hook) -> Arc<CompiledScript> {
        self.current()
            .get(hook)
            .cloned()
            .unwrap_or_else(|| self.defaults[index(hook)].clone())
    }

    fn update(&self, f: impl FnOnce(ScriptSet) -> ScriptSet) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        let next = f((**guard).clone());
        *guard = Arc::new(next);
    }

    /// Runs the running script for `hook`.
    pub fn run(&self, hook: Hook, event: &HookEvent) -> Result<Vec<Action>, RunError> {
        self.engine.run(&self.script(hook), hook, event)
    }

    /// Runs the shipped default for `hook`.
    pub fn run_default(&self, hook: Hook, event: &HookEvent) -> Result<Vec<Action>, RunError> {
        self.engine.run(&self.defaults[index(hook)], hook, event)
    }

    /// Runs `hook`; if the admin's script fails, runs the default instead so
    /// the customer still gets the usual behaviour. This is what the engine
    /// calls.
    pub fn run_or_default(&self, hook: Hook, event: &HookEvent) -> HookOutcome {
        let custom = self.current().get(hook).cloned();
        let Some(script) = custom else {
            return match self.run_default(hook, event) {
                Ok(actions) => HookOutcome {
                    actions,
                    error: None,
                },
                Err(e) => HookOutcome {
                    actions: Vec::new(),
                    error: Some(e),
                },
            };
        };
        match self.engine.run(&script, hook, event) {
            Ok(actions) => HookOutcome {
                actions,
                error: None,
            },
            Err(error) => HookOutcome {
                actions: self.run_default(hook, event).unwrap_or_default(),
                error: Some(error),
            },
        }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Limits;
    use crate::event::{ChannelInfo, SessionInfo};
    use frontdesk_routing::{SessionId, State, Timestamp};

    #[test]
    fn hook_index_matches_the_all_order() {
        for (i, hook) in Hook::ALL.into_iter().enumerate() {
            assert_eq!(index(hook), i);
        }
    }

    #[test]
    fn too_tight_limits_are_reported_not_panicked() {
        let limits = Limits {
            max_expr_depth: 2,
            ..Limits::default()
        };
        let err = Rules::with_engine(Arc::new(RulesEngine::with_limits(limits)))
            .err()
            .expect("defaults need more depth than 2");
        assert!(
            err.to_string()
                .contains("raise the expression-depth limits"),
            "{err}"
        );
    }

    #[test]
    fn saves_swap_atomically_under_concurrent_runs() {
        fn shared<T: Send + Sync>(t: &T) -> &T {
            t
        }
        let rules = Rules::new();
        let now = Timestamp::from_millis(0);
        let event = HookEvent {
            hook: None,
            now,
            session: SessionInfo::new(SessionId(1), State::Queued, now),
            contact: Default::default(),
            channel: ChannelInfo::named("Support"),
            message: None,
            rating: None,
        };
        let a = rules.compile("[reply(\"a1\"), reply(\"a2\")]").unwrap();
        let b = rules.compile("[reply(\"b1\"), reply(\"b2\")]").unwrap();
        let rules = shared(&rules);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..500 {
                    let next = if i % 2 == 0 { a.clone() } else { b.clone() };
                    rules.install(Hook::Closed, next);
                }
            });
            for _ in 0..500 {
                let actions = rules.run(Hook::Closed, &event).unwrap();
                let texts: Vec<_> = actions
                    .iter()
                    .map(|a| match a {
                        Action::Reply { text } => text.as_str(),
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect();
                // Whole versions only: the default, a, or b, never a mix.
                assert!(
                    texts.len() == 1 || texts == ["a1", "a2"] || texts == ["b1", "b2"],
                    "{texts:?}"
                );
            }
        });
    }
}
