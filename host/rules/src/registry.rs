//! The running scripts: per channel and for all channels (U1), one per hook,
//! swapped atomically when an admin saves, with the shipped defaults always at
//! hand as the last fallback.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::action::Action;
use crate::error::{CompileError, RunError};
use crate::event::HookEvent;
use crate::hook::Hook;
use crate::sandbox::{CompiledScript, Sandbox};

/// The admin's scripts for one scope, one optional script per hook; a hook
/// without one falls back (see [`Scripts::resolve`]). A value type: build a
/// new one and swap it in, so a run never sees half of an update.
#[derive(Clone, Debug, Default)]
pub struct ScriptSet {
    scripts: [Option<Arc<CompiledScript>>; Hook::ALL.len()],
}

impl ScriptSet {
    /// No custom scripts: every hook falls back.
    pub fn new() -> Self {
        Self::default()
    }

    /// This set with `hook` running `script`.
    pub fn with(mut self, hook: Hook, script: CompiledScript) -> Self {
        self.scripts[index(hook)] = Some(Arc::new(script));
        self
    }

    /// This set with `hook` falling back again.
    pub fn without(mut self, hook: Hook) -> Self {
        self.scripts[index(hook)] = None;
        self
    }

    /// The custom script for `hook`, if any.
    pub fn get(&self, hook: Hook) -> Option<&Arc<CompiledScript>> {
        self.scripts[index(hook)].as_ref()
    }

    fn is_empty(&self) -> bool {
        self.scripts.iter().all(Option::is_none)
    }
}

/// `Hook::ALL` is in declaration order, so the discriminant is the index.
fn index(hook: Hook) -> usize {
    hook as usize
}

/// Whose script it is (U1): a channel's own, or the one for every channel
/// that has none of its own for the hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScriptScope {
    /// Every channel without a script of its own for the hook.
    AllChannels,
    /// One channel, by its id.
    Channel(i64),
}

/// Where the script a scope runs for a hook comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptOrigin {
    /// The channel's own script.
    Channel,
    /// The script saved for all channels.
    AllChannels,
    /// The built-in default.
    Default,
}

impl ScriptOrigin {
    /// `channel`, `all_channels` or `default`, as the API says it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Channel => "channel",
            Self::AllChannels => "all_channels",
            Self::Default => "default",
        }
    }
}

/// Every running script: those for all channels and each channel's own.
#[derive(Clone, Debug, Default)]
pub struct Scripts {
    all_channels: ScriptSet,
    channels: HashMap<i64, ScriptSet>,
}

impl Scripts {
    /// No custom scripts anywhere: every hook runs its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scripts saved for exactly `scope` (no fallback).
    pub fn own(&self, scope: ScriptScope) -> Option<&ScriptSet> {
        match scope {
            ScriptScope::AllChannels => Some(&self.all_channels),
            ScriptScope::Channel(id) => self.channels.get(&id),
        }
    }

    /// These scripts with `scope` running `script` for `hook`.
    pub fn with(mut self, scope: ScriptScope, hook: Hook, script: CompiledScript) -> Self {
        match scope {
            ScriptScope::AllChannels => {
                self.all_channels = self.all_channels.with(hook, script);
            }
            ScriptScope::Channel(id) => {
                let set = self.channels.remove(&id).unwrap_or_default();
                self.channels.insert(id, set.with(hook, script));
            }
        }
        self
    }

    /// These scripts with `scope`'s own script for `hook` gone, so it falls back.
    pub fn without(mut self, scope: ScriptScope, hook: Hook) -> Self {
        match scope {
            ScriptScope::AllChannels => self.all_channels = self.all_channels.without(hook),
            ScriptScope::Channel(id) => {
                if let Some(set) = self.channels.remove(&id) {
                    let set = set.without(hook);
                    if !set.is_empty() {
                        self.channels.insert(id, set);
                    }
                }
            }
        }
        self
    }

    /// The admin's script `scope` runs for `hook` and where it comes from:
    /// a channel's own, else the one for all channels; `None` means the
    /// built-in default runs.
    pub fn resolve(
        &self,
        scope: ScriptScope,
        hook: Hook,
    ) -> Option<(&Arc<CompiledScript>, ScriptOrigin)> {
        let own = match scope {
            ScriptScope::Channel(id) => self.channels.get(&id).and_then(|set| set.get(hook)),
            ScriptScope::AllChannels => None,
        };
        own.map(|s| (s, ScriptOrigin::Channel)).or_else(|| {
            self.all_channels
                .get(hook)
                .map(|s| (s, ScriptOrigin::AllChannels))
        })
    }
}

/// A shipped default does not compile under the sandbox's limits.
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

/// A stored script that no longer compiles; its scope and hook fall back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    pub scope: ScriptScope,
    pub hook: Hook,
    pub error: CompileError,
}

/// The sandbox plus the running scripts: what the host keeps in its state.
///
/// `Send + Sync`; runs take a read lock only long enough to clone an `Arc`,
/// so a save never waits for a slow script and vice versa.
pub struct Rules {
    sandbox: Arc<Sandbox>,
    defaults: [Arc<CompiledScript>; Hook::ALL.len()],
    current: RwLock<Arc<Scripts>>,
}

impl Rules {
    /// Default sandbox, every hook on its default script.
    pub fn new() -> Self {
        // The defaults ship inside the binary and `x1_every_default_script_checks`
        // compiles each one under the default limits, so this can't fail in a
        // build that passed its tests.
        Self::with_sandbox(Arc::new(Sandbox::new())).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Shares a sandbox (e.g. one per process).
    /// Fails if custom [`crate::Limits`] are too tight for a default script.
    pub fn with_sandbox(sandbox: Arc<Sandbox>) -> Result<Self, DefaultScriptError> {
        let mut defaults = Vec::with_capacity(Hook::ALL.len());
        for hook in Hook::ALL {
            let script = sandbox
                .compile(hook.default_source())
                .map_err(|error| DefaultScriptError { hook, error })?;
            defaults.push(Arc::new(script));
        }
        let defaults = defaults
            .try_into()
            .unwrap_or_else(|_| unreachable!("one default per hook"));
        Ok(Self {
            sandbox,
            defaults,
            current: RwLock::new(Arc::new(Scripts::new())),
        })
    }

    /// The sandbox, to compile with or to share.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// Compiles `source` without installing it (`rules check`, or a save
    /// that is stored first and installed after the commit).
    pub fn compile(&self, source: &str) -> Result<CompiledScript, CompileError> {
        self.sandbox.compile(source)
    }

    /// Compiles and installs `source` for `hook` in `scope`. On a compile
    /// error the running version stays in place.
    pub fn save(&self, scope: ScriptScope, hook: Hook, source: &str) -> Result<(), CompileError> {
        let script = self.compile(source)?;
        self.install(scope, hook, script);
        Ok(())
    }

    /// Installs an already compiled script for `hook` in `scope`.
    pub fn install(&self, scope: ScriptScope, hook: Hook, script: CompiledScript) {
        self.update(|all| all.with(scope, hook, script));
    }

    /// Removes `scope`'s own script for `hook`: a channel falls back to the
    /// script for all channels, all channels to the built-in default.
    pub fn reset(&self, scope: ScriptScope, hook: Hook) {
        self.update(|all| all.without(scope, hook));
    }

    /// Replaces every script at once, e.g. with the versions loaded at start.
    pub fn replace(&self, scripts: Scripts) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(scripts);
    }

    /// Installs the stored versions at start, all at once. A version that no
    /// longer compiles (say, after an upgrade tightened a limit) leaves its
    /// hook falling back and is reported, so the server still starts.
    pub fn load<'a>(
        &self,
        stored: impl IntoIterator<Item = (ScriptScope, Hook, &'a str)>,
    ) -> Vec<LoadFailure> {
        let mut scripts = Scripts::new();
        let mut failed = Vec::new();
        for (scope, hook, source) in stored {
            match self.compile(source) {
                Ok(script) => scripts = scripts.with(scope, hook, script),
                Err(error) => failed.push(LoadFailure { scope, hook, error }),
            }
        }
        self.replace(scripts);
        failed
    }

    /// The running scripts.
    pub fn current(&self) -> Arc<Scripts> {
        // A poisoned lock only means a writer panicked between two complete
        // sets; the `Arc` inside is still whole.
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The source `scope` runs for `hook` now (a channel's own, the one for
    /// all channels, or the default).
    pub fn source(&self, scope: ScriptScope, hook: Hook) -> String {
        self.script(scope, hook).0.source().to_owned()
    }

    /// Where the script `scope` runs for `hook` comes from.
    pub fn origin(&self, scope: ScriptScope, hook: Hook) -> ScriptOrigin {
        self.script(scope, hook).1
    }

    /// Whether `scope` has a script of its own for `hook`.
    pub fn is_custom(&self, scope: ScriptScope, hook: Hook) -> bool {
        self.current()
            .own(scope)
            .is_some_and(|set| set.get(hook).is_some())
    }

    /// What `scope` would run for `hook` without a script of its own: for a
    /// channel the script for all channels or the default, for all channels
    /// the default. This is what a reset goes back to.
    pub fn fallback_source(&self, scope: ScriptScope, hook: Hook) -> String {
        match scope {
            ScriptScope::Channel(_) => self.source(ScriptScope::AllChannels, hook),
            ScriptScope::AllChannels => hook.default_source().to_owned(),
        }
    }

    fn script(&self, scope: ScriptScope, hook: Hook) -> (Arc<CompiledScript>, ScriptOrigin) {
        self.current()
            .resolve(scope, hook)
            .map(|(s, origin)| (s.clone(), origin))
            .unwrap_or_else(|| (self.defaults[index(hook)].clone(), ScriptOrigin::Default))
    }

    fn update(&self, f: impl FnOnce(Scripts) -> Scripts) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        let next = f((**guard).clone());
        *guard = Arc::new(next);
    }

    /// Runs the script `scope` runs for `hook`.
    pub fn run(
        &self,
        scope: ScriptScope,
        hook: Hook,
        event: &HookEvent,
    ) -> Result<Vec<Action>, RunError> {
        self.sandbox.run(&self.script(scope, hook).0, hook, event)
    }

    /// Runs the shipped default for `hook`.
    pub fn run_default(&self, hook: Hook, event: &HookEvent) -> Result<Vec<Action>, RunError> {
        self.sandbox.run(&self.defaults[index(hook)], hook, event)
    }

    /// Runs `hook` for `scope` (the engine passes the session's channel); if
    /// the admin's script fails, runs the default instead so the customer
    /// still gets the usual behaviour. This is what the engine calls.
    pub fn run_or_default(&self, scope: ScriptScope, hook: Hook, event: &HookEvent) -> HookOutcome {
        let custom = self.current().resolve(scope, hook).map(|(s, _)| s.clone());
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
        match self.sandbox.run(&script, hook, event) {
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
    use crate::event::{ChannelInfo, SessionInfo};
    use crate::sandbox::Limits;
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
        let err = Rules::with_sandbox(Arc::new(Sandbox::with_limits(limits)))
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
                    rules.install(ScriptScope::AllChannels, Hook::Closed, next);
                }
            });
            for _ in 0..500 {
                let actions = rules
                    .run(ScriptScope::AllChannels, Hook::Closed, &event)
                    .unwrap();
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

    #[test]
    fn u1_a_channel_runs_its_own_script_else_the_one_for_all_channels_else_the_default() {
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
        let (one, two) = (ScriptScope::Channel(1), ScriptScope::Channel(2));
        let reply = |scope| rules.run_or_default(scope, Hook::Closed, &event).actions;
        let text = |t: &str| vec![Action::Reply { text: t.to_owned() }];
        assert_eq!(rules.origin(one, Hook::Closed), ScriptOrigin::Default);

        rules
            .save(ScriptScope::AllChannels, Hook::Closed, "reply(\"all\")")
            .unwrap();
        rules.save(one, Hook::Closed, "reply(\"one\")").unwrap();
        assert_eq!(reply(one), text("one"));
        assert_eq!(reply(two), text("all"));
        assert_eq!(rules.origin(two, Hook::Closed), ScriptOrigin::AllChannels);
        assert!(rules.is_custom(one, Hook::Closed));
        assert!(!rules.is_custom(two, Hook::Closed));
        assert_eq!(rules.fallback_source(one, Hook::Closed), "reply(\"all\")");

        // Resetting the channel falls back to all channels; resetting that, to the default.
        rules.reset(one, Hook::Closed);
        assert_eq!(reply(one), text("all"));
        rules.reset(ScriptScope::AllChannels, Hook::Closed);
        assert_eq!(rules.origin(one, Hook::Closed), ScriptOrigin::Default);
        assert_eq!(
            rules.source(one, Hook::Closed),
            Hook::Closed.default_source()
        );
    }
}
