//! Publisher signatures on packages (issue 17): who published a package and
//! that nobody changed it since.
//!
//! # What is signed
//!
//! A package's *statement*, UTF-8 text, one line each:
//!
//! ```text
//! frontdesk-package-signature v1
//! publisher acme
//! key 3f2a9c1b7d4e8f60
//! <sha256 hex>  manifest.toml
//! <sha256 hex>  plugin.wasm
//! <sha256 hex>  assets/icon.svg        (every asset, sorted by path)
//! ```
//!
//! The ed25519 signature over those bytes travels in the package as
//! `signature.json` (`{"format":1,"publisher":..,"key":..,"signature":hex}`)
//! beside `manifest.toml`. Naming the publisher and key inside the statement
//! means neither can be swapped without breaking the signature; hashing each
//! file means one changed byte anywhere does too.
//!
//! # Keys
//!
//! `frontdesk plugin keygen` writes `NAME.key` (mode 0600: the seed, hex)
//! and `NAME.pub` (the public key, hex), both small TOML files naming the
//! publisher. An operator trusts a publisher by putting its `.pub` file in
//! the trusted-publishers directory; [`TrustedPublishers::load`] reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::package::{Package, sha256_hex};

/// The file in a package that carries its signature.
pub const SIGNATURE_FILE: &str = "signature.json";

/// First line of every statement; a new statement layout gets a new version.
const STATEMENT_HEADER: &str = "frontdesk-package-signature v1";

/// A package's signature, as stored in `signature.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSignature {
    /// The layout of this file and of the statement; 1 today.
    pub format: u32,
    /// The publisher's name, as in its key files.
    pub publisher: String,
    /// The signing key's id ([`key_id`]).
    pub key: String,
    /// The ed25519 signature over the statement, hex.
    pub signature: String,
}

/// Why a signature was not accepted. Each case has its own message because
/// an admin acts differently on each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `signature.json`.
    #[error(
        "{package} is unsigned: install it only if you trust where it came from, with \
         --allow-unsigned (API: \"allow_unsigned\": true), or ask its publisher for a signed package"
    )]
    Unsigned {
        /// `name version`.
        package: String,
    },
    /// Signed by a key the operator does not trust.
    #[error(
        "{package} is signed by publisher {publisher:?} (key {key}), which this server does not trust: \
         if you trust them, copy their {publisher}.pub into {trusted_dir} (or `frontdesk plugin trust FILE`)"
    )]
    UnknownPublisher {
        /// `name version`.
        package: String,
        /// Who it says signed it.
        publisher: String,
        /// The key id it names.
        key: String,
        /// Where trusted keys are read from.
        trusted_dir: String,
    },
    /// The signature does not match the content: changed after signing.
    #[error(
        "{package} was changed after {publisher:?} signed it (its signature does not match its files): \
         it was tampered with or damaged in transit; do not install it, fetch it again from the publisher"
    )]
    Tampered {
        /// `name version`.
        package: String,
        /// Who it says signed it.
        publisher: String,
    },
    /// `signature.json` cannot be read.
    #[error("{package}'s signature.json is unreadable: {why}")]
    Malformed {
        /// `name version`.
        package: String,
        /// What is wrong.
        why: String,
    },
}

/// The text that is signed; see the module docs.
pub fn statement(package: &Package, publisher: &str, key: &str) -> Vec<u8> {
    let mut files: BTreeMap<&str, String> = BTreeMap::new();
    files.insert(
        "manifest.toml",
        sha256_hex(package.manifest_text.as_bytes()),
    );
    files.insert("plugin.wasm", sha256_hex(&package.wasm));
    for (path, bytes) in &package.assets {
        files.insert(path.as_str(), sha256_hex(bytes));
    }
    let mut text = format!("{STATEMENT_HEADER}\npublisher {publisher}\nkey {key}\n");
    for (path, hash) in files {
        text.push_str(&format!("{hash}  {path}\n"));
    }
    text.into_bytes()
}

/// A short, stable id for a public key: the first 16 hex digits of its sha256.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// A publisher's signing key, read from its `.key` file.
pub struct PublisherKey {
    /// The publisher's name.
    pub publisher: String,
    key: SigningKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    publisher: String,
    ed25519_seed: String,
}

/// A `.pub` file: a publisher's name and public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyFile {
    /// The publisher's name.
    pub publisher: String,
    /// The ed25519 public key, hex.
    pub ed25519: String,
}

/// Publisher names are file names and appear in messages: keep them plain.
pub fn check_publisher_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "publisher name {name:?} is invalid: use 1-64 of letters, digits, '-', '_' and '.', starting with a letter or digit"
        ))
    }
}

impl PublisherKey {
    /// A key from 32 random bytes (the caller supplies the randomness).
    pub fn from_seed(publisher: &str, seed: [u8; 32]) -> Result<PublisherKey, String> {
        check_publisher_name(publisher)?;
        Ok(PublisherKey {
            publisher: publisher.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a `.key` file written by [`PublisherKey::secret_file`].
    pub fn read(path: &Path) -> Result<PublisherKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
        let file: SecretFile = toml::from_str(&text).map_err(|e| {
            format!(
                "{} is not a publisher key file (make one with `frontdesk plugin keygen`): {e}",
                path.display()
            )
        })?;
        let seed: [u8; 32] = hex::decode(file.ed25519_seed.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                format!(
                    "{}: ed25519_seed must be 64 hex digits; the file is damaged",
                    path.display()
                )
            })?;
        PublisherKey::from_seed(&file.publisher, seed)
    }

    /// The private key file's text (keep it secret: mode 0600).
    pub fn secret_file(&self) -> String {
        let file = SecretFile {
            publisher: self.publisher.clone(),
            ed25519_seed: hex::encode(self.key.to_bytes()),
        };
        format!(
            "# frontdesk publisher SIGNING key: keep it secret, never publish it\n{}",
            toml::to_string(&file).expect("key file serializes")
        )
    }

    /// The public key file's text, for operators to trust.
    pub fn public_file(&self) -> String {
        let file = PublicKeyFile {
            publisher: self.publisher.clone(),
            ed25519: hex::encode(self.key.verifying_key().as_bytes()),
        };
        format!(
            "# frontdesk publisher key: trust it by copying this file into the server's trusted-publishers directory\n{}",
            toml::to_string(&file).expect("key file serializes")
        )
    }

    /// This key's id.
    pub fn id(&self) -> String {
        key_id(&self.key.verifying_key())
    }

    /// Signs `package`'s content.
    pub fn sign(&self, package: &Package) -> PackageSignature {
        let key = self.id();
        let signature = self.key.sign(&statement(package, &self.publisher, &key));
        PackageSignature {
            format: 1,
            publisher: self.publisher.clone(),
            key,
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// The publisher keys an operator trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustedPublishers {
    dir: PathBuf,
    keys: BTreeMap<String, (String, VerifyingKey)>,
}

impl TrustedPublishers {
    /// Every `*.pub` in `dir`; a missing directory trusts nobody. A file
    /// that does not parse is an error naming it, so a typo does not
    /// silently distrust a publisher.
    pub fn load(dir: &Path) -> Result<TrustedPublishers, String> {
        let mut trusted = TrustedPublishers {
            dir: dir.to_path_buf(),
            keys: BTreeMap::new(),
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(trusted),
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        };
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .path();
            if path.extension().is_none_or(|ext| ext != "pub") {
                continue;
            }
            let (publisher, key) = read_public_key(&path)?;
            trusted.keys.insert(key_id(&key), (publisher, key));
        }
        Ok(trusted)
    }

    /// Where the keys come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the key with this id is trusted.
    pub fn trusts_key(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }

    /// The trusted publishers' names.
    pub fn publishers(&self) -> Vec<String> {
        self.keys.values().map(|(name, _)| name.clone()).collect()
    }

    /// Checks `package`'s signature; returns the publisher who signed it.
    pub fn verify(&self, package: &Package) -> Result<String, SignatureError> {
        let name = format!("{} {}", package.manifest.name, package.manifest.version);
        let Some(signature) = &package.signature else {
            return Err(SignatureError::Unsigned { package: name });
        };
        let malformed = |why: String| SignatureError::Malformed {
            package: name.clone(),
            why,
        };
        if signature.format != 1 {
            return Err(malformed(format!(
                "format {} is newer than this frontdesk reads (1); upgrade frontdesk",
                signature.format
            )));
        }
        let Some((publisher, key)) = self.keys.get(&signature.key) else {
            return Err(SignatureError::UnknownPublisher {
                package: name,
                publisher: signature.publisher.clone(),
                key: signature.key.clone(),
                trusted_dir: self.dir.display().to_string(),
            });
        };
        let bytes: [u8; 64] = hex::decode(&signature.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| malformed("signature must be 128 hex digits".into()))?;
        let parsed = ed25519_dalek::Signature::from_bytes(&bytes);
        // The statement names the publisher as the trusted key file does, so
        // a package cannot borrow a trusted key under another name.
        let text = statement(package, publisher, &signature.key);
        if signature.publisher != *publisher || key.verify(&text, &parsed).is_err() {
            return Err(SignatureError::Tampered {
                package: name,
                publisher: signature.publisher.clone(),
            });
        }
        Ok(publisher.clone())
    }
}

/// Reads a `.pub` file: the publisher's name and key.
pub fn read_public_key(path: &Path) -> Result<(String, VerifyingKey), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: PublicKeyFile = toml::from_str(&text).map_err(|e| {
        format!(
            "{} is not a publisher key (.pub from `frontdesk plugin keygen`): {e}",
            path.display()
        )
    })?;
    check_publisher_name(&file.publisher).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = hex::decode(file.ed25519.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            format!(
                "{}: ed25519 is not a valid public key (64 hex digits)",
                path.display()
            )
        })?;
    Ok((file.publisher, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str =
        "name = \"echo\"\nversion = \"0.1.0\"\nkind = \"connector\"\napi = \"0.1.0\"\n";

    fn package() -> Package {
        Package::from_parts(MANIFEST, b"\0asm-component".to_vec()).unwrap()
    }

    fn trust(keys: &[&PublisherKey]) -> TrustedPublishers {
        let dir = tempfile::tempdir().unwrap();
        for key in keys {
            let path = dir.path().join(format!("{}.pub", key.publisher));
            std::fs::write(path, key.public_file()).unwrap();
        }
        let trusted = TrustedPublishers::load(dir.path()).unwrap();
        std::mem::forget(dir);
        trusted
    }

    #[test]
    fn a_signed_package_verifies_and_each_failure_has_its_reason() {
        let acme = PublisherKey::from_seed("acme", [7; 32]).unwrap();
        let other = PublisherKey::from_seed("other", [9; 32]).unwrap();
        let trusted = trust(&[&acme]);
        let mut signed = package();
        signed.signature = Some(acme.sign(&signed));
        assert_eq!(trusted.verify(&signed).unwrap(), "acme");

        let mut tampered = signed.clone();
        tampered.wasm[0] ^= 1;
        assert!(matches!(
            trusted.verify(&tampered),
            Err(SignatureError::Tampered { .. })
        ));

        let mut renamed = signed.clone();
        renamed.signature.as_mut().unwrap().publisher = "mallory".into();
        assert!(matches!(
            trusted.verify(&renamed),
            Err(SignatureError::Tampered { .. })
        ));

        let mut unknown = package();
        unknown.signature = Some(other.sign(&unknown));
        let error = trusted.verify(&unknown).unwrap_err();
        assert!(matches!(error, SignatureError::UnknownPublisher { .. }));
        assert!(error.to_string().contains("does not trust"), "{error}");

        assert!(matches!(
            trusted.verify(&package()),
            Err(SignatureError::Unsigned { .. })
        ));
    }

    #[test]
    fn key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = PublisherKey::from_seed("acme", [3; 32]).unwrap();
        let path = dir.path().join("acme.key");
        std::fs::write(&path, key.secret_file()).unwrap();
        let read = PublisherKey::read(&path).unwrap();
        assert_eq!(read.id(), key.id());
        let public = dir.path().join("acme.pub");
        std::fs::write(&public, key.public_file()).unwrap();
        assert_eq!(read_public_key(&public).unwrap().0, "acme");
        assert!(PublisherKey::from_seed("bad name", [0; 32]).is_err());
    }
}
