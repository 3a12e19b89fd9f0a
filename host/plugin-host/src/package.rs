//! A plugin package: `manifest.toml` plus the component `.wasm`.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::InstallError;
use crate::manifest::Manifest;

/// A package read into memory, manifest checked, ready to install.
#[derive(Debug, Clone)]
pub struct Package {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The manifest as written, kept verbatim on disk.
    pub manifest_text: String,
    /// The component bytes.
    pub wasm: Vec<u8>,
}

impl Package {
    /// A package from a manifest text and component bytes.
    pub fn from_parts(manifest_text: &str, wasm: Vec<u8>) -> Result<Package, InstallError> {
        Ok(Package {
            manifest: Manifest::parse(manifest_text)?,
            manifest_text: manifest_text.to_string(),
            wasm,
        })
    }

    /// A package directory: `manifest.toml` and `plugin.wasm`, or
    /// `manifest.toml` and exactly one other `.wasm` file.
    pub fn from_dir(dir: &Path) -> Result<Package, InstallError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| InstallError::Io {
                path: path.to_path_buf(),
                action: "read",
                source,
            })
        };
        let manifest_path = dir.join("manifest.toml");
        if !manifest_path.is_file() {
            return Err(InstallError::MissingFile {
                dir: dir.to_path_buf(),
                file: "manifest.toml",
            });
        }
        let manifest_text = String::from_utf8_lossy(&read(&manifest_path)?).into_owned();
        let mut wasm_path = dir.join("plugin.wasm");
        if !wasm_path.is_file() {
            let entries = std::fs::read_dir(dir).map_err(|source| InstallError::Io {
                path: dir.to_path_buf(),
                action: "listed",
                source,
            })?;
            let wasms: Vec<_> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
                .collect();
            match wasms.as_slice() {
                [only] => wasm_path = only.clone(),
                _ => {
                    return Err(InstallError::MissingFile {
                        dir: dir.to_path_buf(),
                        file: "plugin.wasm (or exactly one .wasm file)",
                    });
                }
            }
        }
        Package::from_parts(&manifest_text, read(&wasm_path)?)
    }

    /// The sha256 of the component, hex; recorded at install.
    pub fn sha256(&self) -> String {
        sha256_hex(&self.wasm)
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
