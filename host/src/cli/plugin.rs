//! `frontdesk plugin install|pack|list|upgrade|rollback|activate|remove|release|approve`
//! (B2, O4, X2), the marketplace commands of issue 17 (`keygen`, `sign`,
//! `trust`, `publish`, `search`, `info`; see `signing.rs` and `catalogue.rs`)
//! and the author's `new` and `build` (in `plugin_author.rs`).
//!
//! These work on the plugin data directory directly. A running server only
//! sees changes made through its own plugin host, so while it runs, use the
//! admin API (`/api/v1/plugins`) instead, which switches channels at once.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use frontdesk_plugin_host::{
    Consent, HostConfig, Package, PluginHost, PluginSource, UpgradeOutcome,
};

use super::catalogue::{MarketplaceArgs, cli_approver, obtain};
use super::package_text::describe;
use super::plugin_author::{self, Lang, ProjectKind};

/// Installs and manages connector and bot plugins.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Installs a package (a .tar.gz archive, a folder with manifest.toml and the .wasm, or
    /// NAME[@VERSION] from the catalogues); shows what it is and the permissions it asks for,
    /// and records your approval of them. The first version of a plugin becomes active.
    Install {
        /// The package archive or folder, or NAME[@VERSION].
        package: String,
        /// Install a package that carries no publisher signature (only from a source you trust).
        #[arg(long, env = "FRONTDESK_ALLOW_UNSIGNED", value_parser = clap::builder::BoolishValueParser::new())]
        allow_unsigned: bool,
        #[command(flatten)]
        market: MarketplaceArgs,
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
    /// Installs a newer version and makes it active; one that asks for more permissions than
    /// the active version waits for `approve` while the active one keeps serving.
    Upgrade {
        /// The package archive or folder, or NAME[@VERSION] (default: the newest in the catalogues).
        package: String,
        /// Accept a package that carries no publisher signature.
        #[arg(long, env = "FRONTDESK_ALLOW_UNSIGNED", value_parser = clap::builder::BoolishValueParser::new())]
        allow_unsigned: bool,
        #[command(flatten)]
        market: MarketplaceArgs,
    },
    /// Approves the permissions of a version awaiting approval and makes it active.
    Approve {
        /// The plugin's name.
        name: String,
        /// The version awaiting approval.
        version: String,
    },
    /// Makes a publisher key pair: DIR/PUBLISHER.key (secret, mode 0600) and DIR/PUBLISHER.pub.
    Keygen {
        /// The folder to write the keys to.
        #[arg(long)]
        out: PathBuf,
        /// The publisher's name (letters, digits, '-', '_', '.'), shown with every package it signs.
        #[arg(long)]
        publisher: String,
    },
    /// Signs a package folder or .tar.gz with a publisher key (adds signature.json).
    Sign {
        /// The package folder or archive.
        package: PathBuf,
        /// The publisher's .key file from `keygen`.
        #[arg(long)]
        key: PathBuf,
    },
    /// Trusts a publisher: copies its .pub file into the trusted-publishers directory.
    Trust {
        /// The publisher's .pub file.
        key: PathBuf,
        #[command(flatten)]
        market: MarketplaceArgs,
    },
    /// Adds a signed package to a catalogue directory and updates its index.json.
    Publish {
        /// The signed package folder or archive.
        package: PathBuf,
        /// The catalogue directory (created when missing).
        #[arg(long)]
        catalogue: PathBuf,
    },
    /// Lists catalogue packages whose name, description or publisher contains TEXT.
    Search {
        /// What to look for.
        text: String,
        #[command(flatten)]
        market: MarketplaceArgs,
    },
    /// Shows a catalogue plugin: description, publisher, permissions, versions.
    Info {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        market: MarketplaceArgs,
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
    /// Writes a new plugin project from a template: manifest.toml and, for
    /// Rust, Cargo.toml, src/lib.rs with a unit test and a copy of the plugin
    /// SDK; for JavaScript, package.json, src/, test/, the WIT and its types.
    New {
        /// `connector` or `bot`.
        kind: ProjectKind,
        /// The plugin's name (a-z, 0-9 and '-'), also its folder's.
        name: String,
        /// The language: `rust` (cargo) or `js` (npm's componentize-js).
        #[arg(long, value_enum, default_value_t = Lang::Rust)]
        lang: Lang,
        /// The folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Who publishes it, for the manifest (default: $USER).
        #[arg(long)]
        publisher: Option<String>,
    },
    /// Builds a plugin project into a component (cargo for Cargo.toml,
    /// componentize-js for package.json) and packs it into
    /// NAME-VERSION.tar.gz in the project folder, ready to install.
    Build {
        /// The project folder (with manifest.toml and Cargo.toml or package.json).
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

/// The package `spec` names, checked and shown with its signature, and the
/// approval of its permissions by whoever runs the command.
fn consented(
    data_dir: &std::path::Path,
    spec: &str,
    market: &MarketplaceArgs,
    allow_unsigned: bool,
) -> anyhow::Result<(crate::catalogue::Checked, Consent)> {
    let checked = obtain(spec, &market.marketplace(data_dir), allow_unsigned)?;
    print!("{}", describe(&checked.package));
    print!("{}", trust_line(checked.signed_by.as_deref()));
    let consent = Consent {
        signed_by: checked.signed_by.clone(),
        approved_by: Some(cli_approver()),
    };
    Ok((checked, consent))
}

/// Whose signature a package carries, for the admin to read before it installs.
fn trust_line(signed_by: Option<&str>) -> String {
    match signed_by {
        Some(publisher) => format!("  signature: valid, by trusted publisher {publisher}\n"),
        None => "  signature: NONE: installing UNSIGNED (--allow-unsigned); it is marked unsigned wherever it is listed\n".into(),
    }
}

/// Runs the subcommand and prints what changed.
pub fn run(data_dir: &std::path::Path, command: PluginCommand) -> anyhow::Result<()> {
    // What needs no plugin host: packing, keys, catalogues, and the
    // author's commands, which work on a project folder.
    match &command {
        PluginCommand::New {
            kind,
            lang,
            name,
            dir,
            publisher,
        } => {
            return plugin_author::new_project(*kind, *lang, name, dir, publisher.as_deref());
        }
        PluginCommand::Build { dir, offline } => {
            return plugin_author::build_project(dir, *offline).map(drop);
        }
        PluginCommand::Pack { dir, output } => {
            let package = Package::pack(dir, output)
                .with_context(|| format!("{} is not a plugin package", dir.display()))?;
            print!("{}", describe(&package));
            println!("packed into {}", output.display());
            return Ok(());
        }
        PluginCommand::Keygen { out, publisher } => return super::signing::keygen(out, publisher),
        PluginCommand::Sign { package, key } => return super::signing::sign(package, key),
        PluginCommand::Trust { key, market } => {
            return super::signing::trust(key, &market.marketplace(data_dir).trusted_dir);
        }
        PluginCommand::Publish { package, catalogue } => {
            return super::catalogue::publish(package, catalogue);
        }
        PluginCommand::Search { text, market } => {
            return super::catalogue::search(&market.marketplace(data_dir), text);
        }
        PluginCommand::Info { name, market } => {
            return super::catalogue::info(&market.marketplace(data_dir), name);
        }
        _ => {}
    }
    let host = open(data_dir)?;
    match command {
        PluginCommand::Install {
            package,
            allow_unsigned,
            market,
        } => {
            let (checked, consent) = consented(data_dir, &package, &market, allow_unsigned)?;
            let package = &checked.package;
            let record = host.install_with(package, &consent)?;
            println!(
                "installed {} {} (sha256 {}); permissions approved by {}",
                package.manifest.name,
                package.manifest.version,
                record.sha256,
                cli_approver()
            );
        }
        PluginCommand::Upgrade {
            package,
            allow_unsigned,
            market,
        } => {
            let (checked, consent) = consented(data_dir, &package, &market, allow_unsigned)?;
            let package = &checked.package;
            let (name, version) = (&package.manifest.name, &package.manifest.version);
            match host.upgrade_with(package, &consent)? {
                UpgradeOutcome::Active => println!("{name} {version} is now active"),
                UpgradeOutcome::AwaitingApproval { added } => {
                    println!(
                        "{name} {version} is installed and AWAITING APPROVAL: it asks for more than the active version:"
                    );
                    for line in added {
                        println!("    + {line}");
                    }
                    println!(
                        "the active version keeps serving; approve with `frontdesk plugin approve {name} {version}`"
                    );
                }
            }
        }
        PluginCommand::Approve { name, version } => {
            host.approve(&name, &version, &cli_approver())?;
            println!(
                "{name} {version} approved by {} and now active",
                cli_approver()
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
        PluginCommand::Pack { .. }
        | PluginCommand::Keygen { .. }
        | PluginCommand::Sign { .. }
        | PluginCommand::Trust { .. }
        | PluginCommand::Publish { .. }
        | PluginCommand::Search { .. }
        | PluginCommand::Info { .. }
        | PluginCommand::New { .. }
        | PluginCommand::Build { .. } => unreachable!("handled before the host opens"),
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
                if let Some(waiting) = &plugin.awaiting_approval {
                    println!(
                        "  {waiting} is AWAITING APPROVAL (`frontdesk plugin approve {} {waiting}`)",
                        plugin.name
                    );
                }
                for v in &plugin.versions {
                    let mark = if v.active { "*" } else { " " };
                    let quarantine = v
                        .quarantine
                        .as_ref()
                        .map(|q| format!("  QUARANTINED: {q:?}"))
                        .unwrap_or_default();
                    let signed = match (&v.signed_by, plugin.source) {
                        (Some(publisher), _) => format!("signed by {publisher}"),
                        (None, PluginSource::BuiltIn) => "built in".to_string(),
                        (None, PluginSource::Installed) => "UNSIGNED".to_string(),
                    };
                    let approved = v
                        .approval
                        .as_ref()
                        .map(|a| format!(", approved by {}", a.by))
                        .unwrap_or_default();
                    println!(
                        "  {mark} {} api {} sha256 {} {signed}{approved}{quarantine}",
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
