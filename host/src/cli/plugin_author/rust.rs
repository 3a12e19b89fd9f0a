//! Rust projects: a cargo workspace of their own with a copy of the SDK
//! (`frontdesk-plugin-api`), built in release mode for `wasm32-wasip2`.
//! Cargo needs only the SDK's crates.io dependencies, which `--offline`
//! takes from cargo's cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use frontdesk_plugin_host::guest_build::{WASM_TARGET, check_toolchain};

use super::{Fill, ProjectKind, api_version};

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

/// The WIT files of the newest API version, by file name (`bot.wit`).
pub(super) fn wit_files() -> impl Iterator<Item = (String, Vec<u8>)> {
    let folder = format!("wit/since_v{}/", api_version());
    sdk_files().filter_map(move |(path, bytes)| {
        let name = path.strip_prefix(&folder)?.to_string();
        Some((name, bytes))
    })
}

/// Where the SDK copy goes inside a project; `Cargo.toml.tmpl` names it.
const SDK_DIR: &str = "frontdesk-plugin-api";

const CARGO_TOML: &str = include_str!("../../../templates/plugin/Cargo.toml.tmpl");
const GITIGNORE: &str = include_str!("../../../templates/plugin/gitignore.tmpl");
const BOT_LIB: &str = include_str!("../../../templates/plugin/bot.lib.rs.tmpl");
const CONNECTOR_LIB: &str = include_str!("../../../templates/plugin/connector.lib.rs.tmpl");

/// The files of a new Rust project, beside its manifest.
pub(super) fn project_files(fill: &Fill) -> Vec<(PathBuf, Vec<u8>)> {
    let lib = match fill.kind {
        ProjectKind::Connector => CONNECTOR_LIB,
        ProjectKind::Bot => BOT_LIB,
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        ("Cargo.toml".into(), fill.fill(CARGO_TOML).into_bytes()),
        (".gitignore".into(), GITIGNORE.as_bytes().to_vec()),
        ("src/lib.rs".into(), fill.fill(lib).into_bytes()),
    ];
    for (path, bytes) in sdk_files() {
        files.push((Path::new(SDK_DIR).join(path), bytes));
    }
    files
}

pub(super) fn print_created(kind: ProjectKind, name: &str, shown: &str) {
    let what = kind.as_str();
    println!("created the {what} {name} in {shown}");
    println!("  {shown}/manifest.toml        name, version, permissions, channel settings");
    println!("  {shown}/src/lib.rs           the {what}, with a unit test");
    println!(
        "  {shown}/{SDK_DIR}/  the plugin SDK (plugin API {})",
        api_version()
    );
    println!("next:");
    println!("  cargo test --manifest-path {shown}/Cargo.toml");
}

/// Checks the toolchain, builds, and returns the component cargo wrote.
pub(super) fn build(dir: &Path, offline: bool) -> anyhow::Result<PathBuf> {
    check_toolchain(dir)
        .map_err(|problem| anyhow::anyhow!("cannot build {}: {problem}", dir.display()))?;
    cargo_build(&dir.join("Cargo.toml"), offline)
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
