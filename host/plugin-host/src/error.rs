//! The errors of the plugin host: one enum per thing a caller does.
//!
//! Every message names the plugin and, once one is chosen, its version, and
//! says what to do about it, because these reach admins through the CLI and
//! the admin API.

use std::path::PathBuf;
use std::time::Duration;

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The TOML does not parse or has the wrong shape.
    #[error("manifest.toml is invalid: {0}")]
    Toml(String),
    /// The plugin name is not a lowercase identifier.
    #[error("plugin name {0:?} is invalid: use 1-64 of a-z, 0-9 and '-', starting with a letter")]
    BadName(String),
    /// A version is not `MAJOR.MINOR.PATCH`.
    #[error("version {0:?} is invalid: use MAJOR.MINOR.PATCH, e.g. 1.2.0")]
    BadVersion(String),
    /// `api` is neither a version nor a range.
    #[error(
        "api {0:?} is invalid: give the plugin API version it was built for (\"0.1.0\") or a range (\">=0.1, <0.2\")"
    )]
    BadApi(String),
    /// An `allowed_hosts` entry cannot be understood.
    #[error("allowed_hosts entry {entry:?} is invalid: {why}")]
    BadAllowedHost {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        why: String,
    },
    /// A bot's manifest lacks a field a marketplace package must have (B2).
    #[error("manifest.toml of {plugin} lacks {field}: add it, e.g. {example}")]
    MissingField {
        /// The plugin.
        plugin: String,
        /// The missing field.
        field: &'static str,
        /// A line to copy.
        example: &'static str,
    },
    /// The package does not say it works with open channels (B2).
    #[error(
        "plugin {plugin} does not declare that it works with open channels: a bot built with \
         frontdesk-plugin-api for frontdesk's bot world adds `open_channels = true` to manifest.toml"
    )]
    NotForOpenChannels {
        /// The plugin.
        plugin: String,
    },
    /// A config schema field is declared inconsistently.
    #[error("config field {field:?} is declared wrong: {why}")]
    BadSchema {
        /// The field name.
        field: String,
        /// What is wrong with the declaration.
        why: String,
    },
}

/// One reason a channel's config does not fit a plugin's schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config field {field:?}: {problem}")]
pub struct FieldError {
    /// The field, as the schema names it.
    pub field: String,
    /// What is wrong, e.g. "is required" or "must be an integer".
    pub problem: String,
}

/// A channel config rejected by a plugin's config schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The config is not a JSON object.
    #[error("channel config for {plugin} must be a JSON object of fields")]
    NotAnObject {
        /// The plugin whose schema was applied.
        plugin: String,
    },
    /// One or more fields are wrong; all of them are listed.
    #[error("channel config for {plugin} {version} is invalid: {}", list(.errors))]
    Fields {
        /// The plugin whose schema was applied.
        plugin: String,
        /// Its version.
        version: String,
        /// Every field that failed, in schema order.
        errors: Vec<FieldError>,
    },
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|error| error.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Installing, upgrading, removing or rolling back a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The manifest is unusable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The package needs an API this host does not implement.
    #[error(
        "plugin {plugin} {version} needs plugin API {wanted}, but this host (frontdesk {host}) implements {supported}: {}",
        crate::manifest::which_host(wanted, supported), host = env!("CARGO_PKG_VERSION")
    )]
    UnsupportedApi {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The API version the manifest asks for.
        wanted: String,
        /// The API versions this host implements.
        supported: String,
    },
    /// The registry file was written by a newer frontdesk.
    #[error(
        "{} is registry format {format}, written by a newer frontdesk; this one reads up to format {}: \
         run the newer frontdesk, or restore the plugin directory from a backup made with this version",
        path.display(), crate::registry_file::REGISTRY_FORMAT
    )]
    NewerRegistry {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: u32,
    },
    /// The version to approve is not waiting for approval.
    #[error("plugin {plugin} has no version {version} awaiting approval{}", waiting.as_ref().map(|v| format!(" (waiting: {v})")).unwrap_or_default())]
    NotAwaitingApproval {
        /// The plugin.
        plugin: String,
        /// The version asked for.
        version: String,
        /// The version that is waiting, if any.
        waiting: Option<String>,
    },
    /// The `.wasm` is not a component wasmtime accepts, or lacks the
    /// exports its kind requires.
    #[error("plugin {plugin} {version} is not a valid {kind} component: {why}")]
    InvalidComponent {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// `connector` or `bot`.
        kind: String,
        /// Wasmtime's explanation.
        why: String,
    },
    /// The same name and version is installed with different bytes; versions
    /// are immutable so that a sha256 always means one build.
    #[error(
        "plugin {plugin} {version} is already installed with sha256 {installed}; \
         bump the version to install different bytes"
    )]
    VersionConflict {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The sha256 already on record.
        installed: String,
    },
    /// No such plugin, or no such version of it.
    #[error("plugin {plugin}{} is not installed", .version.as_ref().map(|v| format!(" {v}")).unwrap_or_default())]
    NotInstalled {
        /// The plugin.
        plugin: String,
        /// The version asked for, if any.
        version: Option<String>,
    },
    /// The plugin is carried by the server binary, not installed: there is
    /// nothing to remove, roll back or activate.
    #[error(
        "plugin {plugin} is built into the server and cannot be {action}; install a package named {plugin} to override it"
    )]
    BuiltIn {
        /// The plugin.
        plugin: String,
        /// What was asked: `removed`, `rolled back`, `activated`.
        action: &'static str,
    },
    /// There is no earlier version to roll back to.
    #[error("plugin {plugin} has no previous version to roll back to")]
    NothingToRollBack {
        /// The plugin.
        plugin: String,
    },
    /// Removing the active version alone would leave channels without a plugin.
    #[error(
        "plugin {plugin} {version} is active: activate another version first, or remove the whole plugin"
    )]
    VersionActive {
        /// The plugin.
        plugin: String,
        /// The active version.
        version: String,
    },
    /// A package file is not a package: not an archive, unsafe paths, too large.
    #[error("package {path} cannot be installed: {why}")]
    BadPackage {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A package on disk lacks a file.
    #[error("package {dir} has no {file}")]
    MissingFile {
        /// The package directory.
        dir: PathBuf,
        /// The missing file name.
        file: &'static str,
    },
    /// Reading or writing the data directory failed.
    #[error("plugin data at {path} could not be {action}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done, e.g. "written".
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The registry file is corrupt.
    #[error(
        "registry file {path} is corrupt ({why}); restore it from a backup or remove it and reinstall"
    )]
    CorruptRegistry {
        /// The file.
        path: PathBuf,
        /// What failed to parse.
        why: String,
    },
    /// The wasmtime engine could not be set up (e.g. not enough address space
    /// for the instance pool).
    #[error("the plugin engine could not start: {0}")]
    Engine(String),
}

/// One plugin call failed in the host or the sandbox, not in the plugin's logic.
///
/// A plugin's own refusal (a bad signature, a payload it cannot parse) is not
/// a `CallError`: it is the inner `Err` of a successful call, see
/// [`Served`](crate::Served).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No plugin by this name is installed.
    #[error("plugin {plugin} is not installed: install it, or point the channel at another plugin")]
    NotInstalled {
        /// The plugin the channel names.
        plugin: String,
    },
    /// The plugin is a bot and a connector call was made, or the reverse.
    #[error("plugin {plugin} {version} is a {actual}, not a {expected}")]
    WrongKind {
        /// The plugin.
        plugin: String,
        /// Its active version.
        version: String,
        /// What the call needed.
        expected: &'static str,
        /// What the plugin is.
        actual: &'static str,
    },
    /// The channel's config does not fit this version's schema.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The version was quarantined after repeated faults; calls are refused
    /// until an admin releases it or activates another version.
    #[error("plugin {plugin} {version} is quarantined: {reason}")]
    Quarantined {
        /// The plugin.
        plugin: String,
        /// The quarantined version.
        version: String,
        /// Why, as recorded when it happened.
        reason: String,
    },
    /// The call ran past its deadline (CPU or waiting) and was stopped.
    #[error("plugin {plugin} {version} did not finish within {limit:?} and was stopped")]
    Timeout {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The deadline that was applied.
        limit: Duration,
    },
    /// The plugin tried to grow its memory past its limit.
    #[error("plugin {plugin} {version} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The limit that was applied.
        limit_bytes: usize,
    },
    /// The plugin trapped: a panic, an out-of-bounds access, `unreachable`.
    #[error("plugin {plugin} {version} crashed: {message}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The trap, with the guest's panic message when it printed one.
        message: String,
    },
    /// The plugin returned more data than the host accepts from one call.
    #[error("plugin {plugin} {version} returned {bytes} bytes, over the limit of {limit}")]
    OutputTooLarge {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// How much it returned.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A `fetch-attachment` call met a file larger than
    /// [`HostLimits::max_attachment_bytes`](crate::HostLimits::max_attachment_bytes):
    /// the host stopped reading it. Not a fault of the plugin, and retrying
    /// will not help.
    #[error(
        "plugin {plugin} {version}: the attachment is larger than the limit of {limit} bytes \
         (raise --max-attachment-bytes to accept it)"
    )]
    AttachmentTooLarge {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// The limit that was applied.
        limit: usize,
    },
    /// Every pooled instance slot is in use; retry shortly.
    #[error("plugin {plugin} {version} could not start: {why}")]
    Unavailable {
        /// The plugin.
        plugin: String,
        /// Its version.
        version: String,
        /// Wasmtime's explanation, e.g. the pool is exhausted.
        why: String,
    },
}

impl CallError {
    /// Whether this failure counts towards quarantine: the plugin misbehaved,
    /// as opposed to the host being busy or the caller asking wrongly.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            CallError::Timeout { .. }
                | CallError::MemoryLimit { .. }
                | CallError::Trap { .. }
                | CallError::OutputTooLarge { .. }
        )
    }
}
