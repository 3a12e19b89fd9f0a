//! The plugin author's commands: `frontdesk plugin new connector|bot NAME`
//! writes a project that builds as it is, and `frontdesk plugin build DIR`
//! builds one into a WebAssembly component and packs it into the `.tar.gz`
//! that `frontdesk plugin install` takes.
//!
//! # Layout
//!
//! - `mod.rs`: what every language shares: the manifest, the folder, the
//!   packing.
//! - `rust.rs`: Rust projects (`Cargo.toml`), built with cargo for
//!   `wasm32-wasip2` against a copy of the SDK.
//! - `js.rs`: JavaScript projects (`package.json`), built with npm's
//!   componentize-js against a copy of the WIT.
//!
//! A new project carries the plugin API from this binary (the Rust SDK, or
//! the WIT and its TypeScript declarations), so it matches the API this
//! server runs and builds with no checkout of frontdesk.

mod js;
mod rust;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;
use frontdesk_plugin_host::{Manifest, Package};

/// What `plugin new` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProjectKind {
    /// A channel connector: webhooks in, provider API calls out.
    Connector,
    /// A chat bot: gets new sessions before agents do.
    Bot,
}

impl ProjectKind {
    fn as_str(self) -> &'static str {
        match self {
            ProjectKind::Connector => "connector",
            ProjectKind::Bot => "bot",
        }
    }
}

/// The language a new project is written in.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Lang {
    /// Rust with the frontdesk-plugin-api SDK, built with cargo.
    #[default]
    Rust,
    /// JavaScript (ES modules), built with npm's componentize-js.
    Js,
}

const BOT_MANIFEST: &str = include_str!("../../../templates/plugin/bot.manifest.toml.tmpl");
const CONNECTOR_MANIFEST: &str =
    include_str!("../../../templates/plugin/connector.manifest.toml.tmpl");

/// The plugin API version new projects target: the newest this host runs.
fn api_version() -> &'static str {
    frontdesk_plugin_host::manifest::SUPPORTED_API_VERSIONS
        .last()
        .expect("the host supports an API version")
}

/// Fills a template's `{{name}}`, `{{api}}`, `{{publisher}}` and `{{kind}}`.
struct Fill<'a> {
    name: &'a str,
    publisher: String,
    kind: ProjectKind,
}

impl Fill<'_> {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", self.name)
            .replace("{{api}}", api_version())
            .replace("{{publisher}}", &self.publisher.replace('"', "'"))
            .replace("{{kind}}", self.kind.as_str())
    }
}

/// `frontdesk plugin new`: writes the project `DIR/NAME` and says what to run next.
pub fn new_project(
    kind: ProjectKind,
    lang: Lang,
    name: &str,
    parent: &Path,
    publisher: Option<&str>,
) -> anyhow::Result<()> {
    let publisher = publisher
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "Unnamed publisher".to_string());
    let fill = Fill {
        name,
        publisher,
        kind,
    };
    let manifest = fill.fill(match kind {
        ProjectKind::Connector => CONNECTOR_MANIFEST,
        ProjectKind::Bot => BOT_MANIFEST,
    });
    // The name has to be one the host installs; its own check says why not.
    Manifest::parse(&manifest).with_context(|| format!("cannot create a plugin named {name:?}"))?;
    // `--dir .` (the default) shows as `greeter`, not `./greeter`.
    let dir = if parent == Path::new(".") {
        PathBuf::from(name)
    } else {
        parent.join(name)
    };
    if dir.exists() {
        bail!(
            "{} already exists; pick another NAME, or another parent folder with --dir",
            dir.display()
        );
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![("manifest.toml".into(), manifest.into_bytes())];
    match lang {
        Lang::Rust => files.extend(rust::project_files(&fill)),
        Lang::Js => files.extend(js::project_files(&fill)),
    }
    for (path, bytes) in &files {
        let path = dir.join(path);
        let folder = path.parent().expect("files sit in the project");
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown = dir.display();
    match lang {
        Lang::Rust => rust::print_created(kind, name, &shown.to_string()),
        Lang::Js => js::print_created(kind, name, &shown.to_string()),
    }
    println!("  frontdesk plugin build {shown}");
    println!("  frontdesk plugin install {shown}/{name}-0.1.0.tar.gz");
    Ok(())
}

/// `frontdesk plugin build`: builds the project with its language's tool,
/// packs the component next to its manifest, and returns the archive.
pub fn build_project(dir: &Path, offline: bool) -> anyhow::Result<PathBuf> {
    let lang = if dir.join("Cargo.toml").is_file() {
        Lang::Rust
    } else if dir.join("package.json").is_file() {
        Lang::Js
    } else {
        bail!(
            "{} has no Cargo.toml (Rust) or package.json (JavaScript): `frontdesk plugin build` \
             takes a plugin project folder; create one with `frontdesk plugin new bot NAME` \
             (or `connector NAME`; add `--lang js` for JavaScript)",
            dir.display()
        );
    };
    let manifest_path = dir.join("manifest.toml");
    if !manifest_path.is_file() {
        bail!(
            "{} has no manifest.toml: a plugin project keeps its manifest next to {} \
             (`frontdesk plugin new` writes one)",
            dir.display(),
            match lang {
                Lang::Rust => "Cargo.toml",
                Lang::Js => "package.json",
            }
        );
    }
    let manifest_text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    // A bad manifest is cheaper to hear about before a build.
    let manifest = Manifest::parse(&manifest_text)
        .with_context(|| format!("{} is invalid", manifest_path.display()))?;

    let (wasm, staging_parent) = match lang {
        Lang::Rust => {
            let wasm = rust::build(dir, offline)?;
            let parent = wasm
                .parent()
                .expect("cargo writes into a folder")
                .to_owned();
            (wasm, parent)
        }
        Lang::Js => {
            let wasm = js::build(dir, &manifest)?;
            (wasm, dir.join("dist"))
        }
    };
    let staging = staging_parent
        .join("frontdesk-package")
        .join(&manifest.name);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    std::fs::write(staging.join("manifest.toml"), &manifest_text)?;
    std::fs::copy(&wasm, staging.join("plugin.wasm"))
        .with_context(|| format!("cannot copy {}", wasm.display()))?;
    let assets = dir.join("assets");
    if assets.is_dir() {
        copy_dir(&assets, &staging.join("assets"))?;
    }
    let archive = dir.join(format!("{}-{}.tar.gz", manifest.name, manifest.version));
    let package = Package::pack(&staging, &archive)
        .with_context(|| format!("cannot pack {}", staging.display()))?;
    print!("{}", super::package_text::describe(&package));
    println!("packed into {}", archive.display());
    println!(
        "install it with: frontdesk plugin install {}",
        archive.display()
    );
    Ok(archive)
}

/// Copies a folder's files, recursively (a package's `assets/`).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}
