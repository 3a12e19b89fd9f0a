//! `frontdesk plugin keygen|sign|trust` (issue 17): publisher keys and
//! package signatures. What is signed is documented in
//! `frontdesk_plugin_host::signing` and `docs/plugins.md`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::{Context, bail};
use frontdesk_plugin_host::Package;
use frontdesk_plugin_host::signing::{PublisherKey, read_public_key};
use rand::RngExt as _;

/// Writes `DIR/PUBLISHER.key` (mode 0600) and `DIR/PUBLISHER.pub`; refuses
/// to overwrite an existing key, which would orphan everything it signed.
pub fn keygen(dir: &Path, publisher: &str) -> anyhow::Result<()> {
    let seed: [u8; 32] = rand::rng().random();
    let key = PublisherKey::from_seed(publisher, seed).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secret = dir.join(format!("{publisher}.key"));
    let public = dir.join(format!("{publisher}.pub"));
    for path in [&secret, &public] {
        if path.exists() {
            bail!(
                "{} exists already; keep it (packages signed with it verify only against it) or move it away first",
                path.display()
            );
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret)
        .with_context(|| format!("cannot create {}", secret.display()))?;
    file.write_all(key.secret_file().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", secret.display()))?;
    std::fs::write(&public, key.public_file())
        .with_context(|| format!("cannot write {}", public.display()))?;
    println!("publisher {publisher}, key {}", key.id());
    println!("  signing key (secret, mode 0600): {}", secret.display());
    println!("  public key (give it to operators): {}", public.display());
    Ok(())
}

/// Signs a package folder (writes its `signature.json`) or archive (rewrites
/// it with `signature.json` inside) with the key in `key_path`.
pub fn sign(package_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    let key = PublisherKey::read(key_path).map_err(anyhow::Error::msg)?;
    let mut package = Package::open(package_path)
        .with_context(|| format!("{} is not a plugin package", package_path.display()))?;
    let signature = key.sign(&package);
    if package_path.is_dir() {
        let json = serde_json::to_vec_pretty(&signature).expect("signature serializes");
        let out = package_path.join(frontdesk_plugin_host::signing::SIGNATURE_FILE);
        std::fs::write(&out, json).with_context(|| format!("cannot write {}", out.display()))?;
    } else {
        package.signature = Some(signature);
        package.write_archive(package_path)?;
    }
    let m = &package.manifest;
    println!(
        "signed {} {} as publisher {} (key {})",
        m.name,
        m.version,
        key.publisher,
        key.id()
    );
    Ok(())
}

/// Copies a publisher's `.pub` file into the trusted-publishers directory.
pub fn trust(public_key: &Path, trusted_dir: &Path) -> anyhow::Result<()> {
    let (publisher, _) = read_public_key(public_key).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(trusted_dir)
        .with_context(|| format!("cannot create {}", trusted_dir.display()))?;
    let out = trusted_dir.join(format!("{publisher}.pub"));
    std::fs::copy(public_key, &out)
        .with_context(|| format!("cannot copy the key to {}", out.display()))?;
    println!(
        "packages signed by {publisher} are now trusted ({})",
        out.display()
    );
    Ok(())
}
