//! The plugin author's commands: `frontdesk plugin new connector|bot NAME`
//! writes a project that builds as it is, and `frontdesk plugin build DIR`
//! builds one for `wasm32-wasip2` and packs it into the `.tar.gz` that
//! `frontdesk plugin install` takes.
//!
//! A new project carries a copy of the plugin SDK (`frontdesk-plugin-api`)
//! from this binary, so it matches the plugin API this server runs and builds
//! with no git checkout of frontdesk: cargo needs only the SDK's crates.io
//! dependencies, which `--offline` takes from cargo's cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::ValueEnum;
use frontdesk_plugin_host::guest_build::{WASM_TARGET, check_toolchain};
use frontdesk_plugin_host::{Manifest, Package};

/// What `plugin new` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProjectKind {
    /// A channel connector: webhooks in, provider API calls out.
    Connector,
    /// A chat bot: gets new sessions before agents do.
    Bot,
}

/// The SDK's folder, embedded; [`sdk_files`] picks its sources.
#[derive(rust_embed::RustEmbed)]
#[folder = "../plugin-api/"]
struct Sdk;

/// The SDK's manifest, Rust sources and WIT, by path inside its folder.
fn sdk_files() -> impl Iterator<Item = (String, Vec<u8>)> {
    Sdk::iter()
        .filter(|path| {
            path == "Cargo.toml"
                || (path.starts_with("src/") && path.ends_with(".rs"))
                || (path.starts_with("wit/") && path.ends_with(".wit"))
        })
        .map(|path| {
            let bytes = Sdk::get(&path).expect("listed by iter").data.into_owned();
            (path.into_owned(), bytes)
        })
}

/// Where the SDK copy goes inside a project; `Cargo.toml.tmpl` names it.
const SDK_DIR: &str = "frontdesk-plugin-api";

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.tmpl");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore.tmpl");
const BOT_MANIFEST: &str = include_str!("../../templates/plugin/bot.manifest.toml.tmpl");
const BOT_LIB: &str = include_str!("../../templates/plugin/bot.lib.rs.tmpl");
const CONNECTOR_MANIFEST: &str =
    include_str!("../../templates/plugin/connector.manifest.toml.tmpl");
const CONNECTOR_LIB: &str = include_str!("../../templates/plugin/connector.lib.rs.tmpl");

/// The plugin API version new projects target: the newest this host runs.
fn api_version() -> &'static str {
    frontdesk_plugin_host::manifest::SUPPORTED_API_VERSIONS
        .last()
        .expect("the host supports an API version")
}

/// `frontdesk plugin new`: writes the project `DIR/NAME` and says what to run next.
pub fn new_project(
    kind: ProjectKind,
    name: &str,
    parent: &Path,
    publisher: Option<&str>,
) -> anyhow::Result<()> {
    let publisher = publisher
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "Unnamed publisher".to_string());
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{api}}", api_version())
            .replace("{{publisher}}", &publisher.replace('"', "'"))
    };
    let (manifest, lib) = match kind {
        ProjectKind::Connector => (fill(CONNECTOR_MANIFEST), fill(CONNECTOR_LIB)),
        ProjectKind::Bot => (fill(BOT_MANIFEST), fill(BOT_LIB)),
    };
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
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        ("Cargo.toml".into(), fill(CARGO_TOML).into_bytes()),
        (".gitignore".into(), GITIGNORE.as_bytes().to_vec()),
        ("manifest.toml".into(), manifest.into_bytes()),
        ("src/lib.rs".into(), lib.into_bytes()),
    ];
    for (path, bytes) in sdk_files() {
        files.push((Path::new(SDK_DIR).join(path), bytes));
    }
    for (path, bytes) in &files {
        let path = dir.join(path);
        let folder = path.parent().expect("files sit in the project");
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown = dir.display();
    let what = match kind {
        ProjectKind::Connector => "connector",
        ProjectKind::Bot => "bot",
    };
    println!("created the {what} {name} in {shown}");
    println!("  {shown}/manifest.toml        name, version, permissions, channel settings");
    println!("  {shown}/src/lib.rs           the {what}, with a unit test");
    println!(
        "  {shown}/{SDK_DIR}/  the plugin SDK (plugin API {})",
        api_version()
    );
    println!("next:");
    println!("  cargo test --manifest-path {shown}/Cargo.toml");
    println!("  frontdesk plugin build {shown}");
    println!("  frontdesk plugin install {shown}/{name}-0.1.0.tar.gz");
    Ok(())
}

/// `frontdesk plugin build`: builds the project in release mode for
/// `wasm32-wasip2`, packs it next to its manifest, and returns the archive.
pub fn build_project(dir: &Path, offline: bool) -> anyhow::Result<PathBuf> {
    let cargo_toml = dir.join("Cargo.toml");
    if !cargo_toml.is_file() {
        bail!(
            "{} has no Cargo.toml: `frontdesk plugin build` takes a plugin project folder; \
             create one with `frontdesk plugin new bot NAME` (or `connector NAME`)",
            dir.display()
        );
    }
    let manifest_path = dir.join("manifest.toml");
    if !manifest_path.is_file() {
        bail!(
            "{} has no manifest.toml: a plugin project keeps its manifest next to Cargo.toml \
             (`frontdesk plugin new` writes one)",
            dir.display()
        );
    }
    let manifest_text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    // A bad manifest is cheaper to hear about before a release build.
    let manifest = Manifest::parse(&manifest_text)
        .with_context(|| format!("{} is invalid", manifest_path.display()))?;
    check_toolchain(dir)
        .map_err(|problem| anyhow::anyhow!("cannot build {}: {problem}", dir.display()))?;

    let wasm = cargo_build(&cargo_toml, offline)?;
    let staging = wasm
        .parent()
        .expect("cargo writes into a folder")
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

/// Runs cargo and returns the component it built: the cdylib's `.wasm`, read
/// from cargo's JSON messages rather than guessed from the crate name.
fn cargo_build(cargo_toml: &Path, offline: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(cargo_toml)
        .arg("--message-format=json-render-diagnostics");
    if offline {
        command.arg("--offline");
    }
    // Cargo's progress and errors go straight to the author's terminal.
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !output.status.success() {
        bail!(
            "cargo build failed ({}); its messages are above{}",
            output.status,
            if offline {
                ""
            } else {
                "; without network, add --offline to use cargo's cache"
            }
        );
    }
    let mut wasm = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if message["reason"] != "compiler-artifact" || !is_cdylib {
            continue;
        }
        let files = message["filenames"].as_array().into_iter().flatten();
        if let Some(file) = files
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"))
        {
            wasm = Some(PathBuf::from(file));
        }
    }
    wasm.ok_or_else(|| {
        anyhow::anyhow!(
            "cargo built no .wasm component: Cargo.toml needs `crate-type = [\"cdylib\"]` under [lib]"
        )
    })
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
