//! A plugin package (B2): `manifest.toml`, the component `.wasm`, and
//! optional assets, either as a folder or as one `.tar.gz` archive.
//!
//! An archive holds the same files as a folder, at its top level or inside
//! one top-level folder (what `tar -czf x.tar.gz dir/` makes). It is read
//! into memory and never unpacked as given: assets are written by the host
//! under the version's own folder, with only plain relative paths accepted,
//! so an archive cannot write anywhere else.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::InstallError;
use crate::manifest::Manifest;
use crate::signing::{PackageSignature, SIGNATURE_FILE};

/// Largest package, unpacked: component, manifest and assets together.
pub const MAX_PACKAGE_BYTES: u64 = 64 << 20;
/// Most files an archive may hold.
const MAX_FILES: usize = 1_000;

/// A package read into memory, manifest checked, ready to install.
#[derive(Debug, Clone)]
pub struct Package {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The manifest as written, kept verbatim on disk.
    pub manifest_text: String,
    /// The component bytes.
    pub wasm: Vec<u8>,
    /// Other files (icons, templates), by their path inside the package.
    pub assets: Vec<(String, Vec<u8>)>,
    /// The publisher's signature (`signature.json`), if it is signed.
    pub signature: Option<PackageSignature>,
}

impl Package {
    /// A package from a manifest text and component bytes.
    pub fn from_parts(manifest_text: &str, wasm: Vec<u8>) -> Result<Package, InstallError> {
        Ok(Package {
            manifest: Manifest::parse(manifest_text)?,
            manifest_text: manifest_text.to_string(),
            wasm,
            assets: Vec::new(),
            signature: None,
        })
    }

    /// A package folder or a `.tar.gz` (`.tgz`) archive, by what `path` is.
    pub fn open(path: &Path) -> Result<Package, InstallError> {
        if path.is_dir() {
            return Package::from_dir(path);
        }
        let name = path.to_string_lossy();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            let file = std::fs::File::open(path).map_err(|source| InstallError::Io {
                path: path.to_path_buf(),
                action: "read",
                source,
            })?;
            return Package::from_archive(file, path);
        }
        Err(InstallError::BadPackage {
            path: path.to_path_buf(),
            why: "it is neither a package folder nor a .tar.gz archive".into(),
        })
    }

    /// A package directory: `manifest.toml` and `plugin.wasm`, or
    /// `manifest.toml` and exactly one other `.wasm` file; `signature.json`
    /// and the `assets/` folder if present. Other files are not read.
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
        let mut package = Package::from_parts(&manifest_text, read(&wasm_path)?)?;
        let assets = dir.join("assets");
        if assets.is_dir() {
            package.assets = read_tree(&assets, "assets")?;
        }
        let signature = dir.join(SIGNATURE_FILE);
        if signature.is_file() {
            package.signature = Some(parse_signature(&read(&signature)?, &signature)?);
        }
        Ok(package)
    }

    /// A `.tar.gz` archive read from `reader`; `path` names it in errors.
    pub fn from_archive(reader: impl Read, path: &Path) -> Result<Package, InstallError> {
        let bad = |why: String| InstallError::BadPackage {
            path: path.to_path_buf(),
            why,
        };
        let gz = flate2::read::GzDecoder::new(reader);
        // One byte over the limit tells "too large" from "exactly the limit".
        let mut archive = tar::Archive::new(gz.take(MAX_PACKAGE_BYTES + 1));
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("it is not a .tar.gz archive ({e})")))?;
        for entry in entries {
            let mut entry =
                entry.map_err(|e| bad(format!("it is not a readable .tar.gz archive ({e})")))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            let name = entry
                .path()
                .map_err(|e| bad(format!("an entry has an unreadable name ({e})")))?
                .into_owned();
            if !kind.is_file() {
                return Err(bad(format!(
                    "{} is a link or special file; packages hold plain files only",
                    name.display()
                )));
            }
            if !name.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(bad(format!(
                    "{} is not a plain relative path; pack the files without '..' or a leading '/'",
                    name.display()
                )));
            }
            if files.len() == MAX_FILES {
                return Err(bad(format!("it holds more than {MAX_FILES} files")));
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| bad(format!("{} could not be read ({e})", name.display())))?;
            files.push((name, bytes));
        }
        let total: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
        if total > MAX_PACKAGE_BYTES {
            return Err(bad(format!(
                "it unpacks to more than {} MiB",
                MAX_PACKAGE_BYTES >> 20
            )));
        }
        // Files may sit inside one top-level folder.
        let prefix = files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == "manifest.toml"))
            .and_then(|(p, _)| p.parent().map(Path::to_path_buf))
            .ok_or_else(|| {
                bad("it has no manifest.toml (at the top, or inside one folder)".into())
            })?;
        let mut manifest_text = None;
        let mut signature = None;
        let mut wasm: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        let mut assets = Vec::new();
        for (name, bytes) in files {
            let Ok(inner) = name.strip_prefix(&prefix) else {
                return Err(bad(format!(
                    "{} is outside the folder holding manifest.toml",
                    name.display()
                )));
            };
            let inner = inner.to_path_buf();
            if inner == Path::new("manifest.toml") {
                manifest_text = Some(
                    String::from_utf8(bytes)
                        .map_err(|_| bad("manifest.toml is not UTF-8 text".into()))?,
                );
            } else if inner == Path::new(SIGNATURE_FILE) {
                signature = Some(parse_signature(&bytes, path)?);
            } else if inner.parent() == Some(Path::new(""))
                && inner.extension().is_some_and(|e| e == "wasm")
            {
                wasm.push((inner, bytes));
            } else {
                assets.push((inner.to_string_lossy().into_owned(), bytes));
            }
        }
        let manifest_text = manifest_text.expect("found above");
        let wasm = match wasm.len() {
            1 => wasm.remove(0).1,
            0 => return Err(bad("it has no .wasm component next to manifest.toml".into())),
            _ => match wasm.iter().position(|(p, _)| p == Path::new("plugin.wasm")) {
                Some(i) => wasm.remove(i).1,
                None => {
                    return Err(bad(
                        "it has several .wasm files; name the component plugin.wasm".into(),
                    ));
                }
            },
        };
        let mut package = Package::from_parts(&manifest_text, wasm)?;
        package.assets = assets;
        package.signature = signature;
        Ok(package)
    }

    /// Packs a package folder into a `.tar.gz` at `out`: its manifest, its
    /// component (as `plugin.wasm`), its `signature.json` if signed and, if
    /// present, its `assets/` folder. The folder is read as a package first,
    /// so a bad manifest is refused here.
    pub fn pack(dir: &Path, out: &Path) -> Result<Package, InstallError> {
        let package = Package::from_dir(dir)?;
        package.write_archive(out)?;
        Ok(package)
    }

    /// Writes this package as a `.tar.gz` at `out` (through a temporary
    /// file, so `out` may be the archive it was read from).
    pub fn write_archive(&self, out: &Path) -> Result<(), InstallError> {
        let io = |path: &Path, action: &'static str| {
            let path = path.to_path_buf();
            move |source| InstallError::Io {
                path,
                action,
                source,
            }
        };
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut add = |name: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, bytes)
                .map_err(io(out, "written"))
        };
        add("manifest.toml", self.manifest_text.as_bytes())?;
        add("plugin.wasm", &self.wasm)?;
        if let Some(signature) = &self.signature {
            let json = serde_json::to_vec_pretty(signature).expect("signature serializes");
            add(SIGNATURE_FILE, &json)?;
        }
        for (name, bytes) in &self.assets {
            add(name, bytes)?;
        }
        let bytes = tar
            .into_inner()
            .and_then(|gz| gz.finish())
            .map_err(io(out, "written"))?;
        crate::registry_file::write_atomic(out, &bytes)
    }

    /// The sha256 of the component, hex; recorded at install.
    pub fn sha256(&self) -> String {
        sha256_hex(&self.wasm)
    }
}

/// The sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn parse_signature(bytes: &[u8], path: &Path) -> Result<PackageSignature, InstallError> {
    serde_json::from_slice(bytes).map_err(|e| InstallError::BadPackage {
        path: path.to_path_buf(),
        why: format!(
            "its {SIGNATURE_FILE} is unreadable ({e}); sign it again with `frontdesk plugin sign`"
        ),
    })
}

/// Every file under `dir`, named `prefix/relative/path`, sorted.
fn read_tree(dir: &Path, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, InstallError> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| InstallError::Io {
        path: dir.to_path_buf(),
        action: "listed",
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| InstallError::Io {
                path: dir.to_path_buf(),
                action: "listed",
                source,
            })?
            .path();
        let name = format!(
            "{prefix}/{}",
            path.file_name()
                .expect("entries have names")
                .to_string_lossy()
        );
        if path.is_dir() {
            files.extend(read_tree(&path, &name)?);
        } else {
            let bytes = std::fs::read(&path).map_err(|source| InstallError::Io {
                path: path.clone(),
                action: "read",
                source,
            })?;
            files.push((name, bytes));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "name = \"faq\"\nversion = \"0.1.0\"\nkind = \"bot\"\napi = \"0.1.0\"\n\
        publisher = \"Acme\"\ndescription = \"Answers.\"\nopen_channels = true\n";

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *bytes).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    fn open(files: &[(&str, &[u8])]) -> Result<Package, InstallError> {
        Package::from_archive(&archive(files)[..], Path::new("faq.tar.gz"))
    }

    #[test]
    fn reads_an_archive_flat_or_in_one_folder_with_assets() {
        let flat = open(&[
            ("manifest.toml", MANIFEST.as_bytes()),
            ("faq.wasm", b"\0asm"),
            ("assets/icon.svg", b"<svg/>"),
        ])
        .unwrap();
        assert_eq!(flat.manifest.name, "faq");
        assert_eq!(flat.wasm, b"\0asm");
        assert_eq!(
            flat.assets,
            vec![("assets/icon.svg".to_string(), b"<svg/>".to_vec())]
        );
        let nested = open(&[
            ("faq-0.1.0/manifest.toml", MANIFEST.as_bytes()),
            ("faq-0.1.0/plugin.wasm", b"\0asm"),
        ])
        .unwrap();
        assert_eq!(nested.wasm, b"\0asm");
    }

    #[test]
    fn refuses_what_does_not_fit_with_the_reason() {
        let message = |files: &[(&str, &[u8])]| open(files).unwrap_err().to_string();
        assert!(message(&[("plugin.wasm", b"x")]).contains("no manifest.toml"));
        assert!(message(&[("manifest.toml", MANIFEST.as_bytes())]).contains("no .wasm"));
        let no_flag = MANIFEST.replace("open_channels = true\n", "");
        assert!(
            message(&[("manifest.toml", no_flag.as_bytes()), ("plugin.wasm", b"x")])
                .contains("open_channels = true")
        );
        let garbage = Package::from_archive(&b"not gzip"[..], Path::new("x.tar.gz"));
        assert!(
            garbage.unwrap_err().to_string().contains("not a"),
            "garbage"
        );
    }
}
