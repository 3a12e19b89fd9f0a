//! [`PluginHost`]: the registry of installed plugins and the entry point for
//! every plugin call. Admin operations are in `admin.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::builtin::Builtins;
use crate::call_state::Services;
use crate::engine::PluginEngine;
use crate::error::{CallError, InstallError};
use crate::health::{Health, Quarantine};
use crate::loaded::LoadedPlugin;
use crate::manifest::{Manifest, PluginKind};
use crate::package::sha256_hex;
use crate::registry_file::{Layout, RegistryFile};
use crate::services::{HostConfig, HostLimits};
use crate::types::{
    Attachment, BotAction, BotEvent, Channel, ConnectorError, FetchedFile, InboundOutcome,
    InboundRequest, OutboundMessage, SendReceipt, Session,
};

/// A call's result with the version that served it.
///
/// `value` is the plugin's own answer: `Err` there is the plugin refusing
/// (bad signature, unparseable payload, provider said no), not a fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Served<T> {
    /// The plugin.
    pub plugin: String,
    /// The exact version that ran; an upgrade mid-traffic shows here.
    pub version: String,
    /// The plugin's answer.
    pub value: T,
}

/// A plugin as admins see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// Its name.
    pub name: String,
    /// The active version's kind.
    pub kind: PluginKind,
    /// The version calls go to.
    pub active: String,
    /// The active version's description.
    pub description: Option<String>,
    /// Every installed version, oldest first.
    pub versions: Vec<VersionInfo>,
    /// Set if the active version could not be loaded at startup.
    pub load_error: Option<String>,
    /// A version that asks for more permissions and waits for approval.
    pub awaiting_approval: Option<String>,
    /// Installed by an admin, or carried by the binary.
    pub source: PluginSource,
    /// The version the binary carries, if it has this plugin built in: an
    /// installed plugin overrides it, and removing that falls back to it.
    pub builtin_version: Option<String>,
}

/// Where a plugin's active version comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginSource {
    /// Installed into the data directory.
    Installed,
    /// Carried by the server binary; nothing of that name is installed.
    BuiltIn,
}

impl PluginSource {
    /// `installed` or `built-in`, as listings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginSource::Installed => "installed",
            PluginSource::BuiltIn => "built-in",
        }
    }
}

/// One installed version as admins see it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// sha256 of the `.wasm`.
    pub sha256: String,
    /// The plugin API it targets.
    pub api: String,
    /// Unix milliseconds.
    pub installed_at_ms: u64,
    /// Whether calls go to it.
    pub active: bool,
    /// Set while quarantined, with the reason.
    pub quarantine: Option<Quarantine>,
    /// The trusted publisher who signed it; `None`: installed unsigned.
    pub signed_by: Option<String>,
    /// Who approved its permissions, and when.
    pub approval: Option<crate::registry_file::Approval>,
    /// The permissions it asks for, one line each.
    pub permissions: Vec<String>,
}

/// The plugin host. Cheap to clone; share one per server.
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub engine: PluginEngine,
    pub services: Arc<Services>,
    pub layout: Layout,
    pub quarantine_after: u32,
    /// The active version of each plugin. Calls load it without locking; an
    /// upgrade swaps the whole map, and a call in flight keeps the version it
    /// started with until it finishes.
    pub active: ArcSwap<HashMap<String, Arc<LoadedPlugin>>>,
    /// Plugins whose active version failed to load at startup, with why.
    pub broken: ArcSwap<HashMap<String, String>>,
    /// Packages the binary carries; calls reach one only while nothing of
    /// its name is installed.
    pub builtins: Builtins,
    /// The registry as on disk. Admin operations hold this lock throughout,
    /// so they apply one at a time; calls never take it.
    pub registry: Mutex<RegistryFile>,
}

impl PluginHost {
    /// Opens the data directory and loads every active version from its
    /// cached artifact, compiling only those without one (first start, or a
    /// new wasmtime). A plugin that fails to load is reported by [`list`](Self::list)
    /// rather than stopping the server.
    pub fn open(config: HostConfig) -> Result<PluginHost, InstallError> {
        let engine = PluginEngine::new(&config.limits)
            .map_err(|error| InstallError::Engine(format!("{error:#}")))?;
        // reqwest is built without a default crypto provider; ring avoids the
        // aws-lc C build. Another part of the server may have installed one
        // already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            // A redirect could leave the allow-list; plugins see 3xx instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| InstallError::Engine(format!("HTTP client: {error}")))?;
        let services = Arc::new(Services {
            http,
            kv: config.kv,
            mailer: config.mailer,
            clock: config.clock,
            limits: config.limits,
        });
        let layout = Layout::new(&config.data_dir);
        let registry = layout.load()?;
        let builtins = Builtins::new(config.builtins, config.data_dir.join("plugins"));
        let host = PluginHost {
            inner: Arc::new(Inner {
                engine,
                services,
                layout,
                quarantine_after: config.quarantine_after.max(1),
                active: ArcSwap::from_pointee(HashMap::new()),
                broken: ArcSwap::from_pointee(HashMap::new()),
                builtins,
                registry: Mutex::new(registry.clone()),
            }),
        };
        let mut active = HashMap::new();
        let mut broken = HashMap::new();
        for (name, record) in &registry.plugins {
            match host.load_version(name, &record.active, &registry) {
                Ok(loaded) => {
                    active.insert(name.clone(), Arc::new(loaded));
                }
                Err(error) => {
                    tracing::error!(plugin = %name, version = %record.active, %error, "plugin failed to load");
                    broken.insert(name.clone(), error.to_string());
                }
            }
        }
        host.inner.active.store(Arc::new(active));
        host.inner.broken.store(Arc::new(broken));
        Ok(host)
    }

    /// The limits every call runs under (e.g. the attachment size cap).
    pub fn limits(&self) -> &HostLimits {
        &self.inner.services.limits
    }

    /// The registry file, for watching changes another process makes.
    pub fn registry_path(&self) -> std::path::PathBuf {
        self.inner.layout.registry()
    }

    /// Picks up what another process (the `frontdesk plugin` CLI) changed in
    /// the registry on disk: each plugin switches to the version the file
    /// names, with the same atomic swap an upgrade here uses, so calls in
    /// flight finish on the version they started with. Returns the plugins
    /// whose active version changed.
    pub fn reload(&self) -> Result<Vec<String>, InstallError> {
        let mut registry = self.inner.registry.lock().expect("registry lock");
        let fresh = self.inner.layout.load()?;
        let current = self.inner.active.load_full();
        let mut active: HashMap<String, Arc<LoadedPlugin>> = (*current).clone();
        let mut broken: HashMap<String, String> = (*self.inner.broken.load_full()).clone();
        active.retain(|name, _| fresh.plugins.contains_key(name));
        broken.retain(|name, _| fresh.plugins.contains_key(name));
        let mut changed = Vec::new();
        for (name, record) in &fresh.plugins {
            if current
                .get(name)
                .is_some_and(|loaded| loaded.version() == record.active)
            {
                continue;
            }
            match self.load_version(name, &record.active, &fresh) {
                Ok(loaded) => {
                    active.insert(name.clone(), Arc::new(loaded));
                    broken.remove(name);
                    changed.push(name.clone());
                }
                Err(error) => {
                    tracing::error!(plugin = %name, version = %record.active, %error, "plugin failed to load");
                    broken.insert(name.clone(), error.to_string());
                }
            }
        }
        self.inner.active.store(Arc::new(active));
        self.inner.broken.store(Arc::new(broken));
        *registry = fresh;
        Ok(changed)
    }

    /// How many components this process compiled; after a restart with a
    /// warm cache this stays 0 until something new is installed.
    pub fn compilations(&self) -> u64 {
        self.inner
            .engine
            .compilations
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every plugin calls can reach, by name: the installed ones, and the
    /// built-in ones nothing installed overrides.
    pub fn list(&self) -> Vec<PluginInfo> {
        let registry = self.inner.registry.lock().expect("registry lock");
        let active = self.inner.active.load();
        let broken = self.inner.broken.load();
        let builtins = &self.inner.builtins;
        let installed: Vec<PluginInfo> = registry
            .plugins
            .iter()
            .map(|(name, record)| {
                let loaded = active.get(name);
                let mut versions: Vec<VersionInfo> = record
                    .versions
                    .iter()
                    .map(|(version, v)| VersionInfo {
                        version: version.clone(),
                        sha256: v.sha256.clone(),
                        api: v.api.clone(),
                        installed_at_ms: v.installed_at_ms,
                        active: *version == record.active,
                        quarantine: v.quarantine.clone(),
                        signed_by: v.signed_by.clone(),
                        approval: v.approval.clone(),
                        permissions: v.permissions.clone(),
                    })
                    .collect();
                versions.sort_by_key(|v| crate::manifest::parse_version(&v.version));
                PluginInfo {
                    name: name.clone(),
                    kind: record
                        .versions
                        .get(&record.active)
                        .map_or(PluginKind::Connector, |v| v.kind),
                    active: record.active.clone(),
                    description: loaded.and_then(|l| l.manifest.description.clone()),
                    versions,
                    load_error: broken.get(name).cloned(),
                    awaiting_approval: record.awaiting_approval.clone(),
                    source: PluginSource::Installed,
                    builtin_version: builtins.version(name).map(|(v, _)| v.to_string()),
                }
            })
            .collect();
        let mut shown: Vec<PluginInfo> = builtins
            .names()
            .filter(|name| !registry.plugins.contains_key(*name))
            .filter_map(|name| builtins.info(name))
            .chain(installed)
            .collect();
        shown.sort_by(|a, b| a.name.cmp(&b.name));
        shown
    }

    /// The active version's manifest, e.g. for an admin form built from its
    /// config schema.
    pub fn manifest(&self, plugin: &str) -> Option<Manifest> {
        if let Some(loaded) = self.inner.active.load().get(plugin) {
            return Some(loaded.manifest.clone());
        }
        if self.is_installed(plugin) {
            return None;
        }
        self.inner.builtins.manifest(plugin).cloned()
    }

    /// Whether an admin installed a plugin of this name (loaded or not).
    fn is_installed(&self, plugin: &str) -> bool {
        self.inner.broken.load().contains_key(plugin)
            || self
                .inner
                .registry
                .lock()
                .expect("registry lock")
                .plugins
                .contains_key(plugin)
    }

    /// Checks a channel's config against its plugin's active version, for the
    /// admin API to call before saving; every bad field is named.
    /// A built-in plugin is checked against its manifest, without compiling it.
    pub fn validate_channel(&self, channel: &Channel) -> Result<(), CallError> {
        let manifest = match self.active(&channel.plugin) {
            Ok(loaded) => loaded.manifest.clone(),
            Err(error) => self.manifest(&channel.plugin).ok_or(error)?,
        };
        crate::config_schema::validate(
            &manifest.name,
            &manifest.version,
            &manifest.config,
            &channel.config,
        )?;
        Ok(())
    }

    /// Prepares the provider for `channel` (e.g. registers its webhook URL).
    pub async fn setup(
        &self,
        channel: &Channel,
        webhook_url: &str,
    ) -> Result<Served<Result<(), ConnectorError>>, CallError> {
        let loaded = self.callee(&channel.plugin).await?;
        let inner = &self.inner;
        let result = loaded
            .setup(&inner.engine, &inner.services, channel, webhook_url)
            .await;
        self.served(&loaded, result)
    }

    /// Downloads an attachment that `channel`'s connector named in a message.
    pub async fn fetch_attachment(
        &self,
        channel: &Channel,
        attachment: &Attachment,
    ) -> Result<Served<Result<FetchedFile, ConnectorError>>, CallError> {
        let loaded = self.callee(&channel.plugin).await?;
        let inner = &self.inner;
        let result = loaded
            .fetch_attachment(&inner.engine, &inner.services, channel, attachment)
            .await;
        self.served(&loaded, result)
    }

    /// Verifies and parses a webhook request for `channel`.
    pub async fn handle_inbound(
        &self,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Served<Result<InboundOutcome, ConnectorError>>, CallError> {
        let loaded = self.callee(&channel.plugin).await?;
        let inner = &self.inner;
        let result = loaded
            .handle_inbound(&inner.engine, &inner.services, channel, request)
            .await;
        self.served(&loaded, result)
    }

    /// Renders and sends a reply through `channel`'s connector.
    pub async fn send(
        &self,
        channel: &Channel,
        message: &OutboundMessage,
    ) -> Result<Served<Result<SendReceipt, ConnectorError>>, CallError> {
        let loaded = self.callee(&channel.plugin).await?;
        let inner = &self.inner;
        let result = loaded
            .send(&inner.engine, &inner.services, channel, message)
            .await;
        self.served(&loaded, result)
    }

    /// Hands a session event to `channel`'s bot; `channel.plugin` names the bot.
    pub async fn bot_event(
        &self,
        channel: &Channel,
        session: &Session,
        event: &BotEvent,
    ) -> Result<Served<Result<Vec<BotAction>, String>>, CallError> {
        let loaded = self.callee(&channel.plugin).await?;
        let inner = &self.inner;
        let result = loaded
            .bot_event(&inner.engine, &inner.services, channel, session, event)
            .await;
        self.served(&loaded, result)
    }

    /// [`active`](Self::active) for a call: a built-in plugin's first
    /// compile (a second or more) runs on a blocking thread, so it never
    /// stalls the async runtime's workers.
    async fn callee(&self, plugin: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        let inner = &self.inner;
        let needs_compile = !inner.active.load().contains_key(plugin)
            && inner.builtins.manifest(plugin).is_some()
            && inner.builtins.loaded(plugin).is_none();
        if !needs_compile {
            return self.active(plugin);
        }
        let host = self.clone();
        let name = plugin.to_string();
        tokio::task::spawn_blocking(move || host.active(&name))
            .await
            .unwrap_or_else(|error| {
                Err(CallError::Unavailable {
                    plugin: plugin.to_string(),
                    version: "(built-in)".to_string(),
                    why: format!("loading it failed: {error}"),
                })
            })
    }

    /// The version calls to `plugin` go to: the installed one, else the
    /// built-in one (compiled on its first call).
    pub(crate) fn active(&self, plugin: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        if let Some(loaded) = self.inner.active.load().get(plugin) {
            return Ok(loaded.clone());
        }
        if let Some(why) = self.inner.broken.load().get(plugin) {
            return Err(CallError::Unavailable {
                plugin: plugin.to_string(),
                version: "(active)".to_string(),
                why: why.clone(),
            });
        }
        let inner = &self.inner;
        match inner.builtins.load(plugin, &inner.engine, &inner.services) {
            Some(Ok(loaded)) => Ok(loaded),
            Some(Err(error)) => Err(CallError::Unavailable {
                plugin: plugin.to_string(),
                version: "(built-in)".to_string(),
                why: error.to_string(),
            }),
            None => Err(CallError::NotInstalled {
                plugin: plugin.to_string(),
            }),
        }
    }

    /// Records the call's health and tags its result with the version.
    fn served<T>(
        &self,
        loaded: &LoadedPlugin,
        result: Result<T, CallError>,
    ) -> Result<Served<T>, CallError> {
        match result {
            Ok(value) => {
                loaded.health.record_success();
                Ok(Served {
                    plugin: loaded.name().to_string(),
                    version: loaded.version().to_string(),
                    value,
                })
            }
            Err(error) => {
                if error.is_fault() {
                    tracing::warn!(plugin = loaded.name(), version = loaded.version(), %error, "plugin call faulted");
                    let now = self.inner.services.clock.now_ms();
                    let reason = error.to_string();
                    if let Some(quarantine) =
                        loaded
                            .health
                            .record_fault(&reason, self.inner.quarantine_after, now)
                    {
                        tracing::error!(plugin = loaded.name(), version = loaded.version(), %reason, "plugin quarantined");
                        self.persist_quarantine(loaded.name(), loaded.version(), Some(quarantine));
                    }
                }
                Err(error)
            }
        }
    }

    pub(crate) fn persist_quarantine(
        &self,
        plugin: &str,
        version: &str,
        quarantine: Option<Quarantine>,
    ) {
        let mut registry = self.inner.registry.lock().expect("registry lock");
        let Some(record) = registry
            .plugins
            .get_mut(plugin)
            .and_then(|p| p.versions.get_mut(version))
        else {
            return;
        };
        record.quarantine = quarantine;
        if let Err(error) = self.inner.layout.save(&registry) {
            // The quarantine still holds in memory; only a restart would lose it.
            tracing::error!(plugin, version, %error, "could not record the quarantine on disk");
        }
    }

    /// Loads one version: its cached artifact if present, else compiles and
    /// caches it, checking the `.wasm` still has the recorded sha256.
    pub(crate) fn load_version(
        &self,
        name: &str,
        version: &str,
        registry: &RegistryFile,
    ) -> Result<LoadedPlugin, InstallError> {
        let inner = &self.inner;
        let record = registry
            .plugins
            .get(name)
            .and_then(|plugin| plugin.versions.get(version))
            .ok_or_else(|| InstallError::NotInstalled {
                plugin: name.to_string(),
                version: Some(version.to_string()),
            })?;
        let dir = inner.layout.version_dir(name, version);
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).map_err(|source| InstallError::Io {
                path,
                action: "read",
                source,
            })
        };
        let manifest = Manifest::parse(&String::from_utf8_lossy(&read("manifest.toml")?))?;
        let artifact = dir.join(&inner.engine.artifact_name);
        let kind = manifest.kind.as_str();
        let invalid = |why: String| InstallError::InvalidComponent {
            plugin: name.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            why,
        };
        let component = match artifact.is_file().then(|| inner.engine.load(&artifact)) {
            Some(Ok(component)) => component,
            // Missing, or written by another wasmtime: rebuild from the source.
            _ => {
                let wasm = read("plugin.wasm")?;
                let sha = sha256_hex(&wasm);
                if sha != record.sha256 {
                    return Err(invalid(format!(
                        "plugin.wasm has sha256 {sha}, but {} was installed; reinstall the package",
                        record.sha256
                    )));
                }
                let compiled = inner
                    .engine
                    .precompile(&wasm)
                    .map_err(|e| invalid(format!("{e:#}")))?;
                crate::registry_file::write_atomic(&artifact, &compiled)?;
                inner
                    .engine
                    .load(&artifact)
                    .map_err(|e| invalid(format!("{e:#}")))?
            }
        };
        LoadedPlugin::link(
            &inner.engine,
            manifest,
            &component,
            &inner.services,
            Health::with_quarantine(record.quarantine.clone()),
        )
        .map_err(|e| invalid(format!("{e:#}")))
    }
}
