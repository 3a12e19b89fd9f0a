//! The registry on disk: which versions are installed, which is active, what
//! came before (for rollback), and each version's sha256 and quarantine.
//!
//! ```text
//! <data_dir>/plugins/registry.json              this file's data
//! <data_dir>/plugins/<name>/<version>/plugin.wasm
//! <data_dir>/plugins/<name>/<version>/manifest.toml
//! <data_dir>/plugins/<name>/<version>/<engine-hash>.cwasm   compiled artifact
//! ```
//!
//! Every write goes to a temporary file that is renamed over the old one, so
//! a crash leaves either the old or the new state, never half of one.
//!
//! The file carries its `format` ([`REGISTRY_FORMAT`]); a file without one is
//! format 1 (before issue 17) and reads as is. A newer format is refused
//! rather than half-understood and overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::InstallError;
use crate::health::Quarantine;
use crate::manifest::PluginKind;

/// One installed version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// sha256 of the `.wasm`, hex.
    pub sha256: String,
    /// Connector or bot.
    pub kind: PluginKind,
    /// The plugin API version it was built for.
    pub api: String,
    /// Unix milliseconds.
    pub installed_at_ms: u64,
    /// Set while quarantined.
    #[serde(default)]
    pub quarantine: Option<Quarantine>,
    /// The publisher whose trusted signature it carried; `None`: unsigned.
    #[serde(default)]
    pub signed_by: Option<String>,
    /// Who approved its permissions and when; `None` while an upgrade that
    /// asks for more waits for an admin (or for versions installed before
    /// approvals were recorded).
    #[serde(default)]
    pub approval: Option<Approval>,
    /// The permissions it asks for, one line each, as shown when approved.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// Who consented to a version's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// `user:ID (NAME)` for the API and console, `cli:USER` for the command line.
    pub by: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// One plugin and its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRecord {
    /// The version calls go to.
    pub active: String,
    /// Versions that were active before, oldest first; rollback pops the last.
    #[serde(default)]
    pub history: Vec<String>,
    /// Every installed version.
    pub versions: BTreeMap<String, VersionRecord>,
    /// An installed version that asks for more permissions than the active
    /// one and waits for an admin's approval; the active one keeps serving.
    #[serde(default)]
    pub awaiting_approval: Option<String>,
}

/// The registry file format this build writes and the newest it reads.
pub const REGISTRY_FORMAT: u32 = 2;

/// The whole registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryFile {
    /// The file's format; see the module docs.
    #[serde(default = "format_one")]
    pub format: u32,
    /// By plugin name.
    pub plugins: BTreeMap<String, PluginRecord>,
}

fn format_one() -> u32 {
    1
}

impl Default for RegistryFile {
    fn default() -> Self {
        RegistryFile {
            format: REGISTRY_FORMAT,
            plugins: BTreeMap::new(),
        }
    }
}

/// Paths under `<data_dir>/plugins`.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(data_dir: &Path) -> Layout {
        Layout {
            root: data_dir.join("plugins"),
        }
    }

    pub fn registry(&self) -> PathBuf {
        self.root.join("registry.json")
    }

    pub fn plugin_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn version_dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(name).join(version)
    }

    pub fn load(&self) -> Result<RegistryFile, InstallError> {
        let path = self.registry();
        match std::fs::read(&path) {
            Ok(bytes) => {
                // The format first, so a newer file is named as such rather than as corrupt.
                #[derive(Deserialize)]
                struct Format {
                    #[serde(default = "format_one")]
                    format: u32,
                }
                if let Ok(Format { format }) = serde_json::from_slice::<Format>(&bytes)
                    && format > REGISTRY_FORMAT
                {
                    return Err(InstallError::NewerRegistry { path, format });
                }
                let mut registry: RegistryFile =
                    serde_json::from_slice(&bytes).map_err(|error| {
                        InstallError::CorruptRegistry {
                            path,
                            why: error.to_string(),
                        }
                    })?;
                // Older formats read as they are; the next save writes this one.
                registry.format = REGISTRY_FORMAT;
                Ok(registry)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(RegistryFile::default())
            }
            Err(source) => Err(InstallError::Io {
                path,
                action: "read",
                source,
            }),
        }
    }

    pub fn save(&self, registry: &RegistryFile) -> Result<(), InstallError> {
        let bytes = serde_json::to_vec_pretty(registry).expect("registry serializes");
        write_atomic(&self.registry(), &bytes)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    let io = |path: &Path, action| {
        let path = path.to_path_buf();
        move |source| InstallError::Io {
            path,
            action,
            source,
        }
    };
    let dir = path.parent().expect("data paths have a parent");
    std::fs::create_dir_all(dir).map_err(io(dir, "created"))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp, "written"))?;
    // fsync before the rename so the rename never exposes an empty file.
    std::fs::File::open(&tmp)
        .and_then(|file| file.sync_all())
        .map_err(io(&tmp, "synced"))?;
    std::fs::rename(&tmp, path).map_err(io(path, "renamed into place"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        assert_eq!(layout.load().unwrap(), RegistryFile::default());
        let mut registry = RegistryFile::default();
        registry.plugins.insert(
            "echo".into(),
            PluginRecord {
                active: "0.1.0".into(),
                history: vec![],
                versions: BTreeMap::from([(
                    "0.1.0".into(),
                    VersionRecord {
                        sha256: "ab".into(),
                        kind: PluginKind::Connector,
                        api: "0.1.0".into(),
                        installed_at_ms: 1,
                        quarantine: None,
                        signed_by: Some("acme".into()),
                        approval: None,
                        permissions: vec![],
                    },
                )]),
                awaiting_approval: None,
            },
        );
        layout.save(&registry).unwrap();
        assert_eq!(layout.load().unwrap(), registry);
    }

    #[test]
    fn a_format_1_file_reads_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let old = br#"{"plugins":{"echo":{"active":"0.1.0","versions":{"0.1.0":
            {"sha256":"ab","kind":"connector","api":"0.1.0","installed_at_ms":1}}}}}"#;
        write_atomic(&layout.registry(), old).unwrap();
        let read = layout.load().unwrap();
        assert_eq!(read.plugins["echo"].versions["0.1.0"].signed_by, None);
        write_atomic(&layout.registry(), br#"{"format":3,"plugins":{},"new":1}"#).unwrap();
        let error = layout.load().unwrap_err().to_string();
        assert!(error.contains("format 3"), "{error}");
        assert!(error.contains("newer frontdesk"), "{error}");
    }

    #[test]
    fn a_corrupt_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        write_atomic(&layout.registry(), b"{not json").unwrap();
        let error = layout.load().unwrap_err().to_string();
        assert!(error.contains("registry.json is corrupt"), "{error}");
    }
}
