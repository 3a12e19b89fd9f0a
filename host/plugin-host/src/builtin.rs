//! Built-in plugins: packages the server binary carries (the first-party
//! connectors and bots), offered when nothing of the same name is installed.
//!
//! An installed plugin of the same name always wins, whatever its version:
//! the admin chose it. Removing it falls back to the built-in one.
//!
//! Compiling a component costs far more than starting the server, so a
//! built-in one is compiled on its first call, not at start, and the artifact
//! is kept under `<data_dir>/plugins/.builtin/` for the next start. Listing
//! built-in plugins and their config forms needs only their manifests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;

use crate::call_state::Services;
use crate::engine::PluginEngine;
use crate::error::InstallError;
use crate::health::Health;
use crate::host::{PluginInfo, PluginSource, VersionInfo};
use crate::loaded::LoadedPlugin;
use crate::manifest::Manifest;
use crate::package::Package;
use crate::registry_file::write_atomic;

/// One built-in package and its sha256, computed when first asked for:
/// hashing every component at start would slow every start down.
struct Entry {
    package: Package,
    sha256: OnceLock<String>,
}

impl Entry {
    fn sha256(&self) -> &str {
        self.sha256.get_or_init(|| self.package.sha256())
    }
}

/// The built-in packages, by name, and those loaded so far.
pub(crate) struct Builtins {
    entries: HashMap<String, Entry>,
    loaded: ArcSwap<HashMap<String, Arc<LoadedPlugin>>>,
    /// Held while one is compiled, so two first calls compile it once.
    loading: Mutex<()>,
    cache_dir: PathBuf,
}

impl Builtins {
    pub fn new(packages: Vec<Package>, plugins_dir: PathBuf) -> Builtins {
        let entries = packages
            .into_iter()
            .map(|package| {
                let entry = Entry {
                    package,
                    sha256: OnceLock::new(),
                };
                (entry.package.manifest.name.clone(), entry)
            })
            .collect();
        Builtins {
            entries,
            loaded: ArcSwap::from_pointee(HashMap::new()),
            loading: Mutex::new(()),
            cache_dir: plugins_dir.join(".builtin"),
        }
    }

    /// The built-in package's manifest.
    pub fn manifest(&self, name: &str) -> Option<&Manifest> {
        self.entries.get(name).map(|e| &e.package.manifest)
    }

    /// The built-in package's version and sha256.
    pub fn version(&self, name: &str) -> Option<(&str, &str)> {
        self.entries
            .get(name)
            .map(|e| (e.package.manifest.version.as_str(), e.sha256()))
    }

    /// Every built-in package's name.
    /// A built-in plugin as [`PluginHost::list`](crate::PluginHost::list)
    /// shows it while nothing of its name is installed.
    pub fn info(&self, name: &str) -> Option<PluginInfo> {
        let manifest = self.manifest(name)?;
        let (version, sha256) = self.version(name)?;
        let quarantine = self.loaded(name).and_then(|l| l.health.quarantine());
        Some(PluginInfo {
            name: name.to_string(),
            kind: manifest.kind,
            active: version.to_string(),
            description: manifest.description.clone(),
            versions: vec![VersionInfo {
                version: version.to_string(),
                sha256: sha256.to_string(),
                api: manifest.api.clone(),
                installed_at_ms: 0,
                active: true,
                quarantine,
                // The binary vouches for it, not a publisher (see `source`).
                signed_by: None,
                approval: None,
                permissions: manifest.permissions(),
            }],
            load_error: None,
            awaiting_approval: None,
            source: PluginSource::BuiltIn,
            builtin_version: Some(version.to_string()),
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    /// The loaded built-in plugin, if it was called since start.
    pub fn loaded(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.loaded.load().get(name).cloned()
    }

    /// The built-in plugin ready to call: loaded before, or now from its
    /// cached artifact, or compiled (once per data dir and wasmtime version).
    /// `None` if the binary has no plugin of that name.
    pub fn load(
        &self,
        name: &str,
        engine: &PluginEngine,
        services: &Arc<Services>,
    ) -> Option<Result<Arc<LoadedPlugin>, InstallError>> {
        let entry = self.entries.get(name)?;
        if let Some(loaded) = self.loaded(name) {
            return Some(Ok(loaded));
        }
        let _one_at_a_time = self.loading.lock().expect("builtin load lock");
        if let Some(loaded) = self.loaded(name) {
            return Some(Ok(loaded));
        }
        let result = self.link(entry, engine, services).map(|loaded| {
            let loaded = Arc::new(loaded);
            let mut all: HashMap<_, _> = (**self.loaded.load()).clone();
            all.insert(name.to_string(), loaded.clone());
            self.loaded.store(Arc::new(all));
            loaded
        });
        Some(result)
    }

    fn link(
        &self,
        entry: &Entry,
        engine: &PluginEngine,
        services: &Arc<Services>,
    ) -> Result<LoadedPlugin, InstallError> {
        let manifest = &entry.package.manifest;
        let invalid = |why: String| InstallError::InvalidComponent {
            plugin: manifest.name.clone(),
            version: manifest.version.clone(),
            kind: manifest.kind.as_str().to_string(),
            why,
        };
        // The sha256 in the name: a new binary with changed bytes under the
        // same version never loads an artifact compiled from the old ones.
        let artifact = self.cache_dir.join(format!(
            "{}-{}-{}-{}",
            manifest.name,
            manifest.version,
            &entry.sha256()[..16],
            engine.artifact_name
        ));
        let component = match artifact.is_file().then(|| engine.load(&artifact)) {
            Some(Ok(component)) => component,
            _ => {
                let started = std::time::Instant::now();
                let compiled = engine
                    .precompile(&entry.package.wasm)
                    .map_err(|e| invalid(format!("{e:#}")))?;
                write_atomic(&artifact, &compiled)?;
                tracing::info!(
                    plugin = %manifest.name,
                    version = %manifest.version,
                    ms = started.elapsed().as_millis() as u64,
                    "compiled the built-in plugin on its first call"
                );
                engine
                    .load(&artifact)
                    .map_err(|e| invalid(format!("{e:#}")))?
            }
        };
        LoadedPlugin::link(
            engine,
            manifest.clone(),
            &component,
            services,
            Health::default(),
        )
        .map_err(|e| invalid(format!("{e:#}")))
    }
}
