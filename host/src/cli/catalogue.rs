//! `frontdesk plugin publish|search|info`, and how `install` and `upgrade`
//! find a package: a path on disk, or `NAME[@VERSION]` in the configured
//! catalogues (issue 17). Like the rest of `frontdesk plugin`, these work on
//! the data directory directly.

use std::path::{Path, PathBuf};

use anyhow::Context;
use frontdesk_plugin_host::Package;

use crate::catalogue::{Checked, Entry, Marketplace};

/// Where catalogues are and whom to trust; shared by `serve` and `plugin`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct MarketplaceArgs {
    /// A catalogue to look plugins up in: https://HOST/PATH (its index.json is read), a URL
    /// ending in .json, or a local directory. Repeat for several (environment: comma-separated).
    #[arg(
        long = "catalogue",
        env = "FRONTDESK_CATALOGUES",
        value_delimiter = ','
    )]
    pub catalogues: Vec<String>,
    /// Directory of the publisher keys (*.pub) this server trusts. Default: {data-dir}/trusted-publishers.
    #[arg(long, env = "FRONTDESK_TRUSTED_PUBLISHERS")]
    pub trusted_publishers: Option<PathBuf>,
}

impl MarketplaceArgs {
    /// The catalogues and the trust directory, defaults filled in.
    pub fn marketplace(&self, data_dir: &Path) -> Marketplace {
        Marketplace {
            catalogues: self.catalogues.clone(),
            trusted_dir: self
                .trusted_publishers
                .clone()
                .unwrap_or_else(|| data_dir.join("trusted-publishers")),
        }
    }
}

/// Runs `future` from the CLI's blocking thread on the runtime it came from.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Handle::current().block_on(future)
}

/// The package `spec` names, checked: a path (folder or archive) if one
/// exists, otherwise `NAME[@VERSION]` from the catalogues.
pub fn obtain(spec: &str, market: &Marketplace, allow_unsigned: bool) -> anyhow::Result<Checked> {
    let path = Path::new(spec);
    if path.exists() {
        // A project folder named like the plugin is the usual way to get here
        // by mistake: say how to ask the catalogues instead.
        let package = Package::open(path).with_context(|| {
            format!(
                "{} is not a plugin package (to install {spec:?} from a catalogue instead, \
                 write {spec}@VERSION, or run the command from another folder)",
                path.display()
            )
        })?;
        return market
            .check(package, allow_unsigned)
            .map_err(anyhow::Error::msg);
    }
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    block_on(async {
        let (source, entry) = market.find(name, version).await?;
        println!("from {source}:");
        market.fetch(&source, &entry).await
    })
    .map_err(anyhow::Error::msg)
}

/// Who approves permissions from the command line.
pub fn cli_approver() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Adds a signed package to a catalogue directory.
pub fn publish(package: &Path, catalogue: &Path) -> anyhow::Result<()> {
    let entry = crate::catalogue::publish(package, catalogue)?;
    println!(
        "published {} {} (signed by {}, sha256 {}) in {}",
        entry.name,
        entry.version,
        entry.signed_by,
        entry.sha256,
        catalogue.display()
    );
    println!(
        "  index: {}",
        catalogue.join(crate::catalogue::INDEX_FILE).display()
    );
    Ok(())
}

fn show(entry: &Entry, out: &mut String) {
    out.push_str(&format!(
        "{} {} ({}) by {}, signed by {}\n",
        entry.name,
        entry.version,
        entry.kind,
        entry.publisher.as_deref().unwrap_or("(no publisher named)"),
        entry.signed_by
    ));
    if let Some(description) = &entry.description {
        out.push_str(&format!("  {description}\n"));
    }
    out.push_str(&format!("  plugin API: {}\n", entry.api));
    if entry.permissions.is_empty() {
        out.push_str("  permissions: none\n");
    }
    for line in &entry.permissions {
        out.push_str(&format!("  permission: {line}\n"));
    }
}

/// Packages whose name, description or publisher contains `text` (any case).
pub fn search(market: &Marketplace, text: &str) -> anyhow::Result<()> {
    let needle = text.to_lowercase();
    let mut out = String::new();
    let mut found = 0;
    for (source, index) in block_on(market.indexes()) {
        let index = match index {
            Ok(index) => index,
            Err(e) => {
                eprintln!("skipped {source}: {e}");
                continue;
            }
        };
        for entry in index.plugins {
            let haystack = format!(
                "{} {} {}",
                entry.name,
                entry.description.as_deref().unwrap_or(""),
                entry.publisher.as_deref().unwrap_or("")
            )
            .to_lowercase();
            if haystack.contains(&needle) {
                found += 1;
                show(&entry, &mut out);
            }
        }
    }
    if market.catalogues.is_empty() {
        anyhow::bail!(
            "no catalogue configured: pass --catalogue URL|DIR (or set FRONTDESK_CATALOGUES)"
        );
    }
    print!("{out}");
    println!("{found} package(s) match {text:?}");
    Ok(())
}

/// Every version of `name` the catalogues offer.
pub fn info(market: &Marketplace, name: &str) -> anyhow::Result<()> {
    let (source, newest) = block_on(market.find(name, None)).map_err(anyhow::Error::msg)?;
    let mut out = format!("newest in {source}:\n");
    show(&newest, &mut out);
    let mut versions = Vec::new();
    for (_, index) in block_on(market.indexes()) {
        for entry in index.into_iter().flat_map(|i| i.plugins) {
            if entry.name == name && !versions.contains(&entry.version) {
                versions.push(entry.version);
            }
        }
    }
    out.push_str(&format!("versions offered: {}\n", versions.join(", ")));
    print!("{out}");
    Ok(())
}
