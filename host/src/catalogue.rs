//! Catalogues of signed plugin packages (issue 17) and the trust checks
//! every install goes through, shared by the CLI and the admin API.
//!
//! A catalogue is a directory (local, or on any HTTP(S) server) holding
//! `index.json` and the packages it lists:
//!
//! ```text
//! catalogue/index.json
//! catalogue/packages/echo-0.1.0.tar.gz
//! ```
//!
//! `index.json` is `{"format": 1, "plugins": [Entry, ...]}`; each [`Entry`]
//! names the package by a path relative to the index, with its sha256 and
//! its publisher's signature. `frontdesk plugin publish` writes both.
//! An install checks, in order: the sha256 the catalogue lists, that the
//! package is what the entry says (name, version), and the signature
//! against the trusted publishers; each failure has its own message.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use frontdesk_plugin_host::signing::{PackageSignature, SignatureError, TrustedPublishers};
use frontdesk_plugin_host::{Package, sha256_hex};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The index's file name inside a catalogue directory.
pub const INDEX_FILE: &str = "index.json";
/// The index format this build writes and the newest it reads.
pub const CATALOGUE_FORMAT: u32 = 1;
/// Where packages go inside a catalogue directory.
pub const PACKAGES_DIR: &str = "packages";
/// Where `serve --serve-catalogue DIR` serves DIR.
pub const SERVED_PATH: &str = "/catalogue";

/// A catalogue's `index.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    /// [`CATALOGUE_FORMAT`].
    pub format: u32,
    /// Every package it offers, any number of versions per plugin.
    pub plugins: Vec<Entry>,
}

/// One package in a catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    pub name: String,
    pub version: String,
    /// `connector` or `bot`.
    pub kind: String,
    pub description: Option<String>,
    /// The publisher as the manifest names it.
    pub publisher: Option<String>,
    /// The publisher whose key signed it (its key file's name).
    pub signed_by: String,
    /// What it may do, one line each, as the install shows them.
    pub permissions: Vec<String>,
    /// The plugin API versions it supports (its manifest's `api`).
    pub api: String,
    /// The package archive, relative to the index.
    pub package: String,
    /// sha256 of the archive, hex.
    pub sha256: String,
    /// The publisher's signature, as in the package's `signature.json`.
    #[schema(value_type = Object)]
    pub signature: PackageSignature,
}

/// Where an operator's catalogues are and which publishers they trust.
#[derive(Debug, Clone, Default)]
pub struct Marketplace {
    /// Catalogue locations: `https://host/path` (its `index.json` is read),
    /// a URL ending in `.json`, or a local directory.
    pub catalogues: Vec<String>,
    /// The directory of trusted publishers' `.pub` files.
    pub trusted_dir: PathBuf,
}

/// A package fetched and checked, ready to install.
pub struct Checked {
    pub package: Package,
    /// The trusted publisher who signed it; `None` for an allowed unsigned one.
    pub signed_by: Option<String>,
}

impl Marketplace {
    /// The trusted publishers, read now (so a key added while serving counts).
    pub fn trusted(&self) -> Result<TrustedPublishers, String> {
        TrustedPublishers::load(&self.trusted_dir)
    }

    /// Every catalogue's index, in the configured order; a catalogue that
    /// cannot be read gives its error instead, so one down does not hide the rest.
    pub async fn indexes(&self) -> Vec<(String, Result<Index, String>)> {
        let mut all = Vec::new();
        for source in &self.catalogues {
            all.push((source.clone(), read_index(source).await));
        }
        all
    }

    /// The entry for `name`, at `version` or the newest one any catalogue
    /// offers for this host's plugin API, with the catalogue it is in.
    pub async fn find(&self, name: &str, version: Option<&str>) -> Result<(String, Entry), String> {
        if self.catalogues.is_empty() {
            return Err(format!(
                "{name} is not a package path, and no catalogue is configured to look it up in: \
                 pass --catalogue URL|DIR (or set FRONTDESK_CATALOGUES)"
            ));
        }
        let mut best: Option<(String, Entry)> = None;
        let mut problems = Vec::new();
        for (source, index) in self.indexes().await {
            let index = match index {
                Ok(index) => index,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            for entry in index.plugins {
                // Without a version: the newest this host can run.
                let fits = entry.name == name
                    && match version {
                        Some(v) => v == entry.version,
                        None => frontdesk_plugin_host::manifest::api_supported(&entry.api),
                    };
                let newer = best
                    .as_ref()
                    .is_none_or(|(_, b)| version_key(&entry.version) > version_key(&b.version));
                if fits && newer {
                    best = Some((source.clone(), entry));
                }
            }
        }
        best.ok_or_else(|| {
            let wanted = match version {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            };
            let mut message = format!(
                "no configured catalogue offers {wanted} (searched {})",
                self.catalogues.join(", ")
            );
            if !problems.is_empty() {
                message.push_str(&format!("; unreadable: {}", problems.join("; ")));
            }
            message
        })
    }

    /// Downloads `entry` from `source` and checks its sha256, that it is the
    /// package the entry names, and its signature.
    pub async fn fetch(&self, source: &str, entry: &Entry) -> Result<Checked, String> {
        let bytes = read_relative(source, &entry.package).await?;
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(&entry.sha256) {
            return Err(format!(
                "{} {} from {source}: the package's sha256 is {actual}, but the catalogue lists {}: \
                 the file was replaced or damaged after it was published; do not install it, tell the catalogue's owner",
                entry.name, entry.version, entry.sha256
            ));
        }
        let package = tokio::task::spawn_blocking(move || {
            Package::from_archive(&bytes[..], Path::new("catalogue package"))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{} {} from {source}: {e}", entry.name, entry.version))?;
        let m = &package.manifest;
        if m.name != entry.name || m.version != entry.version {
            return Err(format!(
                "{source} lists {} {} but its package is {} {}: the catalogue is inconsistent; tell its owner",
                entry.name, entry.version, m.name, m.version
            ));
        }
        self.check(package, false)
    }

    /// Checks a package's signature against the trusted publishers; an
    /// unsigned package passes only with `allow_unsigned`.
    pub fn check(&self, package: Package, allow_unsigned: bool) -> Result<Checked, String> {
        match self.trusted()?.verify(&package) {
            Ok(publisher) => Ok(Checked {
                package,
                signed_by: Some(publisher),
            }),
            Err(SignatureError::Unsigned { .. }) if allow_unsigned => Ok(Checked {
                package,
                signed_by: None,
            }),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// `MAJOR.MINOR.PATCH` as a sortable key; anything else sorts first.
fn version_key(version: &str) -> Option<(u64, u64, u64)> {
    frontdesk_plugin_host::manifest::parse_version(version)
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// The index's own location: a URL or file ending in `.json` is the index;
/// otherwise it is the catalogue's folder, holding `index.json`.
fn index_location(source: &str) -> String {
    if source.ends_with(".json") {
        source.to_string()
    } else {
        format!("{}/{INDEX_FILE}", source.trim_end_matches('/'))
    }
}

async fn read_index(source: &str) -> Result<Index, String> {
    let location = index_location(source);
    let bytes = read_location(&location).await?;
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format = serde_json::from_slice::<Format>(&bytes)
        .map_err(|e| format!("{location} is not a catalogue index ({e})"))?;
    if format.format > CATALOGUE_FORMAT {
        return Err(format!(
            "{location} is catalogue format {}, newer than this frontdesk reads ({CATALOGUE_FORMAT}); upgrade frontdesk",
            format.format
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{location} is not a catalogue index ({e})"))
}

/// A package path from an index, relative to it: plain components only, so
/// an index cannot point a local install outside its catalogue.
async fn read_relative(source: &str, relative: &str) -> Result<Vec<u8>, String> {
    let plain = !relative.is_empty()
        && Path::new(relative)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(format!(
            "{source} lists the package path {relative:?}; it must be relative to the index, without '..'"
        ));
    }
    let index = index_location(source);
    let base = index.rsplit_once('/').map_or("", |(dir, _)| dir);
    read_location(&format!("{base}/{relative}")).await
}

async fn read_location(location: &str) -> Result<Vec<u8>, String> {
    if !is_url(location) {
        return tokio::fs::read(location)
            .await
            .map_err(|e| format!("cannot read {location}: {e}"));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(location)
        .send()
        .await
        .map_err(|e| format!("cannot fetch {location}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("cannot fetch {location}: {}", response.status()));
    }
    let limit = frontdesk_plugin_host::MAX_PACKAGE_BYTES as usize;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("cannot fetch {location}: {e}"))?;
    if bytes.len() > limit {
        return Err(format!("{location} is larger than {} MiB", limit >> 20));
    }
    Ok(bytes.to_vec())
}

/// Adds a signed package to the catalogue directory `dir` (created when
/// missing): copies it to `packages/NAME-VERSION.tar.gz` and lists it in
/// `index.json`, replacing an entry of the same name and version.
pub fn publish(package_path: &Path, dir: &Path) -> anyhow::Result<Entry> {
    use anyhow::Context;
    let package = Package::open(package_path)
        .with_context(|| format!("{} is not a plugin package", package_path.display()))?;
    let m = &package.manifest;
    let Some(signature) = package.signature.clone() else {
        anyhow::bail!(
            "{} {} is unsigned: sign it first with `frontdesk plugin sign {} --key YOUR.key`",
            m.name,
            m.version,
            package_path.display()
        );
    };
    let relative = format!("{PACKAGES_DIR}/{}-{}.tar.gz", m.name, m.version);
    let out = dir.join(&relative);
    std::fs::create_dir_all(out.parent().expect("has a parent"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    package.write_archive(&out)?;
    let bytes = std::fs::read(&out).with_context(|| format!("cannot read {}", out.display()))?;
    let entry = Entry {
        name: m.name.clone(),
        version: m.version.clone(),
        kind: m.kind.as_str().to_string(),
        description: m.description.clone(),
        publisher: m.publisher.clone(),
        signed_by: signature.publisher.clone(),
        permissions: m.permissions(),
        api: m.api.clone(),
        package: relative,
        sha256: sha256_hex(&bytes),
        signature,
    };
    let index_path = dir.join(INDEX_FILE);
    let mut index = match std::fs::read(&index_path) {
        Ok(bytes) => serde_json::from_slice::<Index>(&bytes)
            .with_context(|| format!("{} is not a catalogue index", index_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index {
            format: CATALOGUE_FORMAT,
            plugins: Vec::new(),
        },
        Err(e) => return Err(e).context(format!("cannot read {}", index_path.display())),
    };
    index
        .plugins
        .retain(|e| !(e.name == entry.name && e.version == entry.version));
    index.plugins.push(entry.clone());
    index.plugins.sort_by(|a, b| {
        (&a.name, version_key(&a.version)).cmp(&(&b.name, version_key(&b.version)))
    });
    let json = serde_json::to_vec_pretty(&index).expect("index serializes");
    let tmp = index_path.with_extension("json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &index_path)
        .with_context(|| format!("cannot write {}", index_path.display()))?;
    Ok(entry)
}
