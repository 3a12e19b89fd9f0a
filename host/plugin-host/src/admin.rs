//! Admin operations on [`PluginHost`]: install, upgrade, activate, roll back,
//! remove, release from quarantine. Each holds the registry lock for its whole
//! run, writes the registry file before it swaps what calls see, and is
//! blocking (compiling takes tens of milliseconds): call it from
//! `spawn_blocking` in async code.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, MutexGuard};

use crate::error::InstallError;
use crate::host::PluginHost;
use crate::loaded::LoadedPlugin;
use crate::manifest::SUPPORTED_API_VERSIONS;
use crate::package::Package;
use crate::registry_file::{Approval, PluginRecord, RegistryFile, VersionRecord, write_atomic};

/// On what trust a package is installed, and who consents to what it may do.
/// The caller checks the signature (see [`crate::signing`]); the registry
/// records the outcome so every listing can show it.
#[derive(Debug, Clone, Default)]
pub struct Consent {
    /// The trusted publisher whose signature was verified; `None`: unsigned,
    /// which the caller allowed explicitly.
    pub signed_by: Option<String>,
    /// Who approves the permissions it asks for (`cli:USER`, `user:ID (NAME)`);
    /// `None` records no approval.
    pub approved_by: Option<String>,
}

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeOutcome {
    /// The new version is active.
    Active,
    /// The new version asks for more than the active one; it is installed
    /// and waits for [`PluginHost::approve`], the active one keeps serving.
    AwaitingApproval {
        /// The permissions it adds, one line each.
        added: Vec<String>,
    },
}

impl PluginHost {
    /// Installs a package with no recorded signature or approval; see
    /// [`install_with`](Self::install_with).
    pub fn install(&self, package: &Package) -> Result<VersionRecord, InstallError> {
        self.install_with(package, &Consent::default())
    }

    /// Installs a package. The first version of a plugin becomes active; a
    /// further version is only stored until [`activate`](Self::activate) or
    /// [`upgrade`](Self::upgrade). Installing the same bytes again is a no-op.
    pub fn install_with(
        &self,
        package: &Package,
        consent: &Consent,
    ) -> Result<VersionRecord, InstallError> {
        let mut registry = self.lock();
        let record = self.install_locked(&mut registry, package, consent)?;
        let manifest = &package.manifest;
        if !registry.plugins.contains_key(&manifest.name) {
            let plugin = PluginRecord {
                active: manifest.version.clone(),
                history: Vec::new(),
                versions: BTreeMap::from([(manifest.version.clone(), record.clone())]),
                awaiting_approval: None,
            };
            registry.plugins.insert(manifest.name.clone(), plugin);
            let loaded = self.load_version(&manifest.name, &manifest.version, &registry)?;
            self.commit(&registry, &manifest.name, Some(loaded))?;
        } else {
            self.commit(&registry, &manifest.name, None)?;
        }
        Ok(record)
    }

    /// Installs a package if needed and makes it the active version; calls
    /// already running finish on the old version, new calls get the new one.
    pub fn upgrade(&self, package: &Package) -> Result<VersionRecord, InstallError> {
        let record = self.install(package)?;
        self.activate(&package.manifest.name, &package.manifest.version)?;
        Ok(record)
    }

    /// Permissions as consent (issue 17): installs a newer version and
    /// makes it active if it asks for nothing the active version does not;
    /// otherwise it waits for [`approve`](Self::approve) while the active
    /// version keeps serving. The first version of a plugin is installed
    /// and active, approved by `consent`.
    pub fn upgrade_with(
        &self,
        package: &Package,
        consent: &Consent,
    ) -> Result<UpgradeOutcome, InstallError> {
        let manifest = &package.manifest;
        let added = match self.manifest(&manifest.name) {
            Some(active) => manifest.permissions_beyond(&active),
            None if self.lock().plugins.contains_key(&manifest.name) => manifest.permissions(),
            None => Vec::new(),
        };
        if added.is_empty() {
            self.install_with(package, consent)?;
            self.activate(&manifest.name, &manifest.version)?;
            return Ok(UpgradeOutcome::Active);
        }
        // Stored, but nobody approved what it adds.
        let unapproved = Consent {
            approved_by: None,
            ..consent.clone()
        };
        self.install_with(package, &unapproved)?;
        let mut registry = self.lock();
        let record = registry
            .plugins
            .get_mut(&manifest.name)
            .expect("installed above");
        if record.active == manifest.version {
            return Ok(UpgradeOutcome::Active);
        }
        record.awaiting_approval = Some(manifest.version.clone());
        self.inner.layout.save(&registry)?;
        Ok(UpgradeOutcome::AwaitingApproval { added })
    }

    /// Approves the version waiting for approval and makes it active,
    /// recording `by` as who consented to its permissions.
    pub fn approve(&self, plugin: &str, version: &str, by: &str) -> Result<(), InstallError> {
        {
            let mut registry = self.lock();
            let waiting = registry
                .plugins
                .get(plugin)
                .and_then(|p| p.awaiting_approval.clone());
            if waiting.as_deref() != Some(version) {
                return Err(InstallError::NotAwaitingApproval {
                    plugin: plugin.to_string(),
                    version: version.to_string(),
                    waiting,
                });
            }
            let now = self.inner.services.clock.now_ms();
            let record = registry.plugins.get_mut(plugin).expect("checked above");
            if let Some(v) = record.versions.get_mut(version) {
                v.approval = Some(Approval {
                    by: by.to_string(),
                    at_ms: now,
                });
            }
            self.inner.layout.save(&registry)?;
        }
        self.activate(plugin, version)
    }

    /// Makes an installed version active, remembering the current one for
    /// [`rollback`](Self::rollback).
    pub fn activate(&self, plugin: &str, version: &str) -> Result<(), InstallError> {
        let mut registry = self.lock();
        self.refuse_builtin(&registry, plugin, "activated")?;
        let loaded = self.load_version(plugin, version, &registry)?;
        let record = registry
            .plugins
            .get_mut(plugin)
            .expect("load_version found it");
        // An admin activating the waiting version is that admin's consent.
        if record.awaiting_approval.as_deref() == Some(version) {
            record.awaiting_approval = None;
        }
        if record.active != version {
            let previous = std::mem::replace(&mut record.active, version.to_string());
            record.history.push(previous);
        }
        self.commit(&registry, plugin, Some(loaded))
    }

    /// Re-activates the version that was active before the current one;
    /// returns it. Repeated rollbacks walk further back.
    pub fn rollback(&self, plugin: &str) -> Result<String, InstallError> {
        let mut registry = self.lock();
        self.refuse_builtin(&registry, plugin, "rolled back")?;
        let record =
            registry
                .plugins
                .get_mut(plugin)
                .ok_or_else(|| InstallError::NotInstalled {
                    plugin: plugin.to_string(),
                    version: None,
                })?;
        // Skip history entries whose version was removed since.
        let previous = loop {
            match record.history.pop() {
                Some(version) if record.versions.contains_key(&version) => break version,
                Some(_) => continue,
                None => {
                    return Err(InstallError::NothingToRollBack {
                        plugin: plugin.to_string(),
                    });
                }
            }
        };
        record.active = previous.clone();
        let loaded = self.load_version(plugin, &previous, &registry)?;
        self.commit(&registry, plugin, Some(loaded))?;
        Ok(previous)
    }

    /// Removes one inactive version, or with `version: None` the whole plugin
    /// (channels using it then fail with `NotInstalled`).
    pub fn remove(&self, plugin: &str, version: Option<&str>) -> Result<(), InstallError> {
        let mut registry = self.lock();
        self.refuse_builtin(&registry, plugin, "removed")?;
        let not_installed = || InstallError::NotInstalled {
            plugin: plugin.to_string(),
            version: version.map(str::to_string),
        };
        let record = registry.plugins.get_mut(plugin).ok_or_else(not_installed)?;
        let dir = match version {
            Some(version) => {
                if record.active == version {
                    return Err(InstallError::VersionActive {
                        plugin: plugin.to_string(),
                        version: version.to_string(),
                    });
                }
                record.versions.remove(version).ok_or_else(not_installed)?;
                record.history.retain(|v| v != version);
                self.inner.layout.version_dir(plugin, version)
            }
            None => {
                registry.plugins.remove(plugin);
                self.inner.layout.plugin_dir(plugin)
            }
        };
        self.inner.layout.save(&registry)?;
        if version.is_none() {
            self.swap(plugin, None);
        }
        // After the registry no longer refers to it; a failure here only
        // leaves unreferenced files behind.
        if let Err(error) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(plugin, dir = %dir.display(), %error, "could not delete removed plugin files");
        }
        Ok(())
    }

    /// Lifts a quarantine so calls reach the version again.
    pub fn release(&self, plugin: &str, version: &str) -> Result<(), InstallError> {
        // A built-in plugin's quarantine lives in memory only.
        if !self.lock().plugins.contains_key(plugin)
            && let Some(loaded) = self.inner.builtins.loaded(plugin)
            && loaded.version() == version
        {
            loaded.health.release();
            return Ok(());
        }
        let exists = self
            .lock()
            .plugins
            .get(plugin)
            .is_some_and(|record| record.versions.contains_key(version));
        if !exists {
            return Err(InstallError::NotInstalled {
                plugin: plugin.to_string(),
                version: Some(version.to_string()),
            });
        }
        if let Some(loaded) = self.inner.active.load().get(plugin)
            && loaded.version() == version
        {
            loaded.health.release();
        }
        self.persist_quarantine(plugin, version, None);
        Ok(())
    }

    /// Names the built-in plugin an admin operation cannot apply to.
    fn refuse_builtin(
        &self,
        registry: &RegistryFile,
        plugin: &str,
        action: &'static str,
    ) -> Result<(), InstallError> {
        if registry.plugins.contains_key(plugin) || self.inner.builtins.manifest(plugin).is_none() {
            return Ok(());
        }
        Err(InstallError::BuiltIn {
            plugin: plugin.to_string(),
            action,
        })
    }

    fn lock(&self) -> MutexGuard<'_, RegistryFile> {
        self.inner.registry.lock().expect("registry lock")
    }

    /// Checks, compiles and stores a package's files; returns its record.
    fn install_locked(
        &self,
        registry: &mut RegistryFile,
        package: &Package,
        consent: &Consent,
    ) -> Result<VersionRecord, InstallError> {
        let manifest = &package.manifest;
        let (name, version) = (&manifest.name, &manifest.version);
        if !manifest.api_supported() {
            return Err(InstallError::UnsupportedApi {
                plugin: name.clone(),
                version: version.clone(),
                wanted: manifest.api.clone(),
                supported: SUPPORTED_API_VERSIONS.join(", "),
            });
        }
        let sha256 = package.sha256();
        if let Some(existing) = registry
            .plugins
            .get(name)
            .and_then(|p| p.versions.get(version))
        {
            if existing.sha256 == sha256 {
                return Ok(existing.clone());
            }
            return Err(InstallError::VersionConflict {
                plugin: name.clone(),
                version: version.clone(),
                installed: existing.sha256.clone(),
            });
        }
        let invalid = |why: String| InstallError::InvalidComponent {
            plugin: name.clone(),
            version: version.clone(),
            kind: manifest.kind.as_str().to_string(),
            why,
        };
        let engine = &self.inner.engine;
        let compiled = engine
            .precompile(&package.wasm)
            .map_err(|e| invalid(format!("{e:#}")))?;
        let dir = self.inner.layout.version_dir(name, version);
        let artifact = dir.join(&engine.artifact_name);
        write_atomic(&dir.join("plugin.wasm"), &package.wasm)?;
        write_atomic(&dir.join("manifest.toml"), package.manifest_text.as_bytes())?;
        // Paths were checked to be plain and relative when the archive was read.
        for (name, bytes) in &package.assets {
            write_atomic(&dir.join("assets").join(name), bytes)?;
        }
        write_atomic(&artifact, &compiled)?;
        // Link now, so a component lacking its world's exports is refused at
        // install rather than at its first call.
        let linked = engine.load(&artifact).and_then(|component| {
            LoadedPlugin::link(
                engine,
                manifest.clone(),
                &component,
                &self.inner.services,
                Default::default(),
            )
        });
        if let Err(error) = linked {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(invalid(format!("{error:#}")));
        }
        let now = self.inner.services.clock.now_ms();
        let record = VersionRecord {
            sha256,
            kind: manifest.kind,
            api: manifest.api.clone(),
            installed_at_ms: now,
            quarantine: None,
            signed_by: consent.signed_by.clone(),
            approval: consent.approved_by.as_ref().map(|by| Approval {
                by: by.clone(),
                at_ms: now,
            }),
            permissions: manifest.permissions(),
        };
        if let Some(plugin) = registry.plugins.get_mut(name) {
            plugin.versions.insert(version.clone(), record.clone());
        }
        Ok(record)
    }

    /// Saves the registry, then swaps `loaded` in as the plugin's active version.
    fn commit(
        &self,
        registry: &RegistryFile,
        plugin: &str,
        loaded: Option<LoadedPlugin>,
    ) -> Result<(), InstallError> {
        self.inner.layout.save(registry)?;
        if let Some(loaded) = loaded {
            self.swap(plugin, Some(Arc::new(loaded)));
        }
        Ok(())
    }

    fn swap(&self, plugin: &str, loaded: Option<Arc<LoadedPlugin>>) {
        // Admin operations are serialized by the registry lock, so a plain
        // load-modify-store cannot lose a concurrent update.
        let mut active: HashMap<_, _> = (**self.inner.active.load()).clone();
        let mut broken: HashMap<_, _> = (**self.inner.broken.load()).clone();
        broken.remove(plugin);
        match loaded {
            Some(loaded) => active.insert(plugin.to_string(), loaded),
            None => active.remove(plugin),
        };
        self.inner.active.store(Arc::new(active));
        self.inner.broken.store(Arc::new(broken));
    }
}
