//! `frontdesk plugin install|pack|list|upgrade|rollback|activate|remove|release` (B2, O4, X2),
//! and the author's `new` and `build` (in `plugin_author.rs`).
//!
//! These work on the plugin data directory directly. A running server only
//! sees changes made through its own plugin host, so while it runs, use the
//! admin API (`/api/v1/plugins`) instead, which switches channels at once.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use frontdesk_plugin_host::{HostConfig, Package, PluginHost, PluginSource};

use super::plugin_author::{self, ProjectKind};

/// Installs and manages connector and bot plugins.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Installs a package (a .tar.gz archive or a folder with manifest.toml and the .wasm);
    /// shows what it is and the permissions it asks for. The first version of a plugin becomes active.
    Install {
        /// The package archive or folder.
        package: PathBuf,
    },
    /// Packs a package folder (manifest.toml, the .wasm, optional assets/) into a .tar.gz.
    Pack {
        /// The package folder.
        dir: PathBuf,
        /// The archive to write, e.g. faq-0.1.0.tar.gz.
        output: PathBuf,
    },
    /// Lists plugins with their versions, sha256, the active one and any
    /// quarantine; built-in ones (carried by this binary) are marked so.
    List,
    /// Installs a newer version and makes it active.
    Upgrade {
        /// The package archive or folder.
        package: PathBuf,
    },
    /// Goes back to the version that was active before.
    Rollback {
        /// The plugin's name.
        name: String,
    },
    /// Makes an installed version active.
    Activate {
        /// The plugin's name.
        name: String,
        /// The version, e.g. 1.2.0.
        version: String,
    },
    /// Removes a version that is not active, or the whole plugin.
    Remove {
        /// The plugin's name.
        name: String,
        /// Only this version; without it, the whole plugin.
        version: Option<String>,
    },
    /// Writes a new plugin project from a template: Cargo.toml, manifest.toml,
    /// src/lib.rs with a unit test, and a copy of the plugin SDK.
    New {
        /// `connector` or `bot`.
        kind: ProjectKind,
        /// The plugin's name (a-z, 0-9 and '-'), also its folder's.
        name: String,
        /// The folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Who publishes it, for the manifest (default: $USER).
        #[arg(long)]
        publisher: Option<String>,
    },
    /// Builds a plugin project for wasm32-wasip2 in release mode and packs it
    /// into NAME-VERSION.tar.gz in the project folder, ready to install.
    Build {
        /// The project folder (with Cargo.toml and manifest.toml).
        dir: PathBuf,
        /// Build from cargo's cache without the network (`cargo --offline`).
        #[arg(long)]
        offline: bool,
    },
    /// Lifts a quarantine after the cause is fixed.
    Release {
        /// The plugin's name.
        name: String,
        /// The quarantined version.
        version: String,
    },
}

/// Where plugins live unless `--data-dir` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "frontdesk-data";

/// Opens the plugin host on `data_dir` (compiled artifacts are reused).
pub fn open(data_dir: &std::path::Path) -> anyhow::Result<PluginHost> {
    let config = HostConfig {
        builtins: crate::builtin_plugins::packages(),
        ..HostConfig::new(data_dir)
    };
    PluginHost::open(config)
        .with_context(|| format!("cannot open the plugin directory {}", data_dir.display()))
}

fn package(path: &std::path::Path) -> anyhow::Result<Package> {
    Package::open(path).with_context(|| format!("{} is not a plugin package", path.display()))
}

/// What a package is and what it may do, for the admin to read (B2).
pub fn describe(package: &Package) -> String {
    let m = &package.manifest;
    let mut out = format!("{} {} ({})", m.name, m.version, m.kind.as_str());
    if let Some(publisher) = &m.publisher {
        out.push_str(&format!(" by {publisher}"));
    }
    out.push('\n');
    if let Some(description) = &m.description {
        out.push_str(&format!("  {description}\n"));
    }
    out.push_str(&format!("  plugin API: {}\n", m.api));
    if m.open_channels == Some(true) {
        out.push_str("  works with open channels: yes\n");
    }
    let permissions = m.permissions();
    if permissions.is_empty() {
        out.push_str("  permissions: none (no network, mail or stored data)\n");
    } else {
        out.push_str("  permissions it asks for:\n");
        for line in permissions {
            out.push_str(&format!("    - {line}\n"));
        }
    }
    if !package.assets.is_empty() {
        out.push_str(&format!("  assets: {} file(s)\n", package.assets.len()));
    }
    out
}

/// Runs the subcommand and prints what changed.
pub fn run(data_dir: &std::path::Path, command: PluginCommand) -> anyhow::Result<()> {
    // The author's commands work on a project folder, not the data dir.
    match &command {
        PluginCommand::New {
            kind,
            name,
            dir,
            publisher,
        } => return plugin_author::new_project(*kind, name, dir, publisher.as_deref()),
        PluginCommand::Build { dir, offline } => {
            return plugin_author::build_project(dir, *offline).map(drop);
        }
        _ => {}
    }
    if let PluginCommand::Pack { dir, output } = &command {
        let package = Package::pack(dir, output)
            .with_context(|| format!("{} is not a plugin package", dir.display()))?;
        print!("{}", describe(&package));
        println!("packed into {}", output.display());
        return Ok(());
    }
    let host = open(data_dir)?;
    match command {
        PluginCommand::Install { package: dir } => {
            let package = package(&dir)?;
            print!("{}", describe(&package));
            let record = host.install(&package)?;
            println!(
                "installed {} {} (sha256 {})",
                package.manifest.name, package.manifest.version, record.sha256
            );
        }
        PluginCommand::Upgrade { package: dir } => {
            let package = package(&dir)?;
            print!("{}", describe(&package));
            host.upgrade(&package)?;
            println!(
                "{} {} is now active",
                package.manifest.name, package.manifest.version
            );
        }
        PluginCommand::Rollback { name } => {
            println!("{name} {} is now active", host.rollback(&name)?)
        }
        PluginCommand::Activate { name, version } => {
            host.activate(&name, &version)?;
            println!("{name} {version} is now active");
        }
        PluginCommand::Remove { name, version } => {
            host.remove(&name, version.as_deref())?;
            println!(
                "removed {name} {}",
                version.as_deref().unwrap_or("(all versions)")
            );
        }
        PluginCommand::Release { name, version } => {
            host.release(&name, &version)?;
            println!("{name} {version} is out of quarantine");
        }
        PluginCommand::Pack { .. } | PluginCommand::New { .. } | PluginCommand::Build { .. } => {
            unreachable!("handled before the host opens")
        }
        PluginCommand::List => {
            for plugin in host.list() {
                let source = match (plugin.source, &plugin.builtin_version) {
                    (PluginSource::BuiltIn, _) => " [built-in]".to_string(),
                    (PluginSource::Installed, Some(builtin)) => {
                        format!(" [installed; overrides built-in {builtin}]")
                    }
                    (PluginSource::Installed, None) => String::new(),
                };
                println!(
                    "{} ({:?}): active {}{source}",
                    plugin.name, plugin.kind, plugin.active
                );
                for v in &plugin.versions {
                    let mark = if v.active { "*" } else { " " };
                    let quarantine = v
                        .quarantine
                        .as_ref()
                        .map(|q| format!("  QUARANTINED: {q:?}"))
                        .unwrap_or_default();
                    println!(
                        "  {mark} {} api {} sha256 {}{quarantine}",
                        v.version, v.api, v.sha256
                    );
                }
                if let Some(err) = &plugin.load_error {
                    println!("  load error: {err}");
                }
            }
        }
    }
    Ok(())
}
