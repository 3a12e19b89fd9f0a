//! `manifest.toml`: what a plugin is, what it may do, and what config it takes.
//!
//! ```toml
//! name = "echo"
//! version = "0.1.0"
//! kind = "connector"          # or "bot"
//! api = "0.1.0"               # the frontdesk:plugin WIT version it was built for,
//!                             # or a range it supports: ">=0.1, <0.2"
//! publisher = "Acme Ltd"      # who publishes it (required for bots)
//! description = "One line."   # shown to admins (required for bots)
//! open_channels = true        # B2: built for open channels (required for bots)
//!
//! [capabilities]              # the permissions it asks for, also spelled
//!                             # [permissions]; everything else is denied
//! allowed_hosts = ["api.telegram.org", "${config.api_base_url}"]
//! smtp = false
//! kv = true
//!
//! [limits]                    # optional; the host's own limits are the ceiling
//! timeout_ms = 2000
//! memory_mb = 16
//!
//! [config.api_base_url]       # one table per channel config field
//! type = "url"
//! required = true
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::allow_list::HostPattern;
use crate::config_schema::FieldSpec;
use crate::error::ManifestError;

/// The plugin API versions this host implements, newest last.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0"];

/// What a plugin does, which decides the world its component must export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// A channel connector (`connector` world).
    Connector,
    /// A chat bot (`bot` world).
    Bot,
}

impl PluginKind {
    /// The lowercase name used in manifests and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Connector => "connector",
            PluginKind::Bot => "bot",
        }
    }
}

/// What the plugin may do outside its sandbox. Empty means nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Hosts outbound HTTP may reach: `host`, `host:port`, `https://host`,
    /// `*.example.com`, or `${config.FIELD}` for the URL in a channel's config.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Whether the plugin may send mail through the host's relay.
    #[serde(default)]
    pub smtp: bool,
    /// Whether the plugin may use its per-channel key-value store.
    #[serde(default)]
    pub kv: bool,
}

/// Limits the plugin asks for; the host clamps them to its own ceilings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    /// Per-call deadline in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Linear memory in MiB.
    pub memory_mb: Option<u64>,
}

/// A parsed and checked `manifest.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lowercase identifier; channels refer to the plugin by it.
    pub name: String,
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// Connector or bot.
    pub kind: PluginKind,
    /// The plugin API version it was built against.
    pub api: String,
    /// One line for admins.
    #[serde(default)]
    pub description: Option<String>,
    /// Who publishes it; a bot must say (B2).
    #[serde(default)]
    pub publisher: Option<String>,
    /// That it is built for open channels (B2). A bot must declare `true`;
    /// a connector is a channel by definition, so it may leave it out.
    #[serde(default)]
    pub open_channels: Option<bool>,
    /// What it may do: the permissions it asks for.
    #[serde(default, alias = "permissions")]
    pub capabilities: Capabilities,
    /// What it asks for.
    #[serde(default)]
    pub limits: RequestedLimits,
    /// The channel config it takes, field by field.
    #[serde(default)]
    pub config: BTreeMap<String, FieldSpec>,
}

impl Manifest {
    /// Parses and checks a manifest; see the module docs for the format.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|error| ManifestError::Toml(error.to_string()))?;
        manifest.check()?;
        Ok(manifest)
    }

    /// Whether this host implements the API the plugin was built for.
    ///
    /// An exact version (`0.1.0`) means: same major, and for 0.x the same
    /// minor (semver's rule for 0.x), with a minor/patch no newer than one we
    /// implement. A range (`>=0.1, <0.2`, semver's requirement syntax) means
    /// any implemented version inside it.
    pub fn api_supported(&self) -> bool {
        api_supported(&self.api)
    }

    /// The parsed allow-list.
    pub fn allowed_hosts(&self) -> Vec<HostPattern> {
        self.capabilities
            .allowed_hosts
            .iter()
            .map(|entry| HostPattern::parse(entry).expect("checked at parse"))
            .collect()
    }

    fn check(&self) -> Result<(), ManifestError> {
        let name_ok = (1..=64).contains(&self.name.len())
            && self.name.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(ManifestError::BadName(self.name.clone()));
        }
        if parse_version(&self.version).is_none() {
            return Err(ManifestError::BadVersion(self.version.clone()));
        }
        if parse_version(&self.api).is_none() && semver::VersionReq::parse(&self.api).is_err() {
            return Err(ManifestError::BadApi(self.api.clone()));
        }
        if self.kind == PluginKind::Bot {
            self.check_marketplace()?;
        }
        if self.open_channels == Some(false) {
            return Err(ManifestError::NotForOpenChannels {
                plugin: self.name.clone(),
            });
        }
        for (field, spec) in &self.config {
            spec.check(field)?;
        }
        for entry in &self.capabilities.allowed_hosts {
            let pattern =
                HostPattern::parse(entry).map_err(|why| ManifestError::BadAllowedHost {
                    entry: entry.clone(),
                    why,
                })?;
            if let HostPattern::ConfigField(field) = &pattern {
                let is_url = self
                    .config
                    .get(field)
                    .is_some_and(|spec| spec.kind == crate::config_schema::FieldType::Url);
                if !is_url {
                    return Err(ManifestError::BadAllowedHost {
                        entry: entry.clone(),
                        why: format!("[config.{field}] must be declared with type = \"url\""),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Manifest {
    /// B2: a bot is installed like a marketplace app, so its manifest says
    /// who publishes it, what it is, and that it works with open channels.
    fn check_marketplace(&self) -> Result<(), ManifestError> {
        let missing = |field: &'static str, example: &'static str| ManifestError::MissingField {
            plugin: self.name.clone(),
            field,
            example,
        };
        let filled = |value: &Option<String>| {
            value
                .as_deref()
                .is_some_and(|v| !v.trim().is_empty() && v.len() <= 500)
        };
        if !filled(&self.publisher) {
            return Err(missing("publisher", "publisher = \"Acme Ltd\""));
        }
        if !filled(&self.description) {
            return Err(missing(
                "description",
                "description = \"Answers common questions, then hands over.\"",
            ));
        }
        if self.open_channels != Some(true) {
            return Err(ManifestError::NotForOpenChannels {
                plugin: self.name.clone(),
            });
        }
        Ok(())
    }

    /// The permissions it asks for, one line each, for admins to read
    /// before they install it.
    pub fn permissions(&self) -> Vec<String> {
        let c = &self.capabilities;
        let mut lines = Vec::new();
        if !c.allowed_hosts.is_empty() {
            lines.push(format!(
                "send HTTP requests to: {}",
                c.allowed_hosts.join(", ")
            ));
        }
        if c.smtp {
            lines.push("send email through the server's mail relay".to_string());
        }
        if c.kv {
            lines.push("keep data in its own key-value store per channel".to_string());
        }
        let secrets: Vec<&str> = self
            .config
            .iter()
            .filter(|(_, spec)| spec.secret)
            .map(|(name, _)| name.as_str())
            .collect();
        if !secrets.is_empty() {
            lines.push(format!(
                "read these channel secrets: {}",
                secrets.join(", ")
            ));
        }
        lines
    }
}

impl Manifest {
    /// The permissions this manifest asks for that `active` does not: new
    /// hosts, mail, kv, secrets. Empty when an upgrade needs no new consent.
    pub fn permissions_beyond(&self, active: &Manifest) -> Vec<String> {
        let (new, old) = (&self.capabilities, &active.capabilities);
        let mut added = Vec::new();
        let hosts: Vec<&str> = new
            .allowed_hosts
            .iter()
            .filter(|h| !old.allowed_hosts.contains(h))
            .map(String::as_str)
            .collect();
        if !hosts.is_empty() {
            added.push(format!("send HTTP requests to: {}", hosts.join(", ")));
        }
        if new.smtp && !old.smtp {
            added.push("send email through the server's mail relay".to_string());
        }
        if new.kv && !old.kv {
            added.push("keep data in its own key-value store per channel".to_string());
        }
        let old_secrets = |name: &str| active.config.get(name).is_some_and(|s| s.secret);
        let secrets: Vec<&str> = self
            .config
            .iter()
            .filter(|(name, spec)| spec.secret && !old_secrets(name))
            .map(|(name, _)| name.as_str())
            .collect();
        if !secrets.is_empty() {
            added.push(format!(
                "read these channel secrets: {}",
                secrets.join(", ")
            ));
        }
        added
    }
}

/// Whether this host implements `api`, a manifest's `api` value; see
/// [`Manifest::api_supported`].
pub fn api_supported(api: &str) -> bool {
    let Some(wanted) = parse_version(api) else {
        let Ok(range) = semver::VersionReq::parse(api) else {
            return false;
        };
        return SUPPORTED_API_VERSIONS.iter().any(|supported| {
            range.matches(&semver::Version::parse(supported).expect("well-formed"))
        });
    };
    SUPPORTED_API_VERSIONS.iter().any(|supported| {
        let have = parse_version(supported).expect("supported versions are well-formed");
        let same_line = if have.0 == 0 {
            wanted.0 == 0 && wanted.1 == have.1
        } else {
            wanted.0 == have.0
        };
        same_line && (wanted.1, wanted.2) <= (have.1, have.2)
    })
}

/// What would run a plugin needing API `wanted` that this host cannot run:
/// a newer frontdesk for a newer API, an older one (or a rebuild) for an
/// older API. `supported` is this host's list, for the rebuild hint.
pub fn which_host(wanted: &str, supported: &str) -> String {
    let newest = SUPPORTED_API_VERSIONS
        .iter()
        .filter_map(|v| parse_version(v))
        .max()
        .expect("at least one API version");
    // An exact version, or a range's lowest bound.
    let lowest = parse_version(wanted).or_else(|| {
        let range = semver::VersionReq::parse(wanted).ok()?;
        range
            .comparators
            .iter()
            .filter(|c| !matches!(c.op, semver::Op::Less | semver::Op::LessEq))
            .map(|c| (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)))
            .min()
    });
    match lowest {
        Some(lowest) if lowest > newest => format!(
            "a newer frontdesk release that implements plugin API {wanted} would run it; \
             upgrade frontdesk, or rebuild it against frontdesk-plugin-api {supported}"
        ),
        _ => format!(
            "it was built for a plugin API this frontdesk does not implement (an older frontdesk release may run it); \
             rebuild it against frontdesk-plugin-api {supported}"
        ),
    }
}

/// Parses `MAJOR.MINOR.PATCH` (no pre-release or build metadata).
pub fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.');
    let mut next = || -> Option<u64> {
        let part = parts.next()?;
        // Leading zeros would make "1.01.0" and "1.1.0" two names for one version.
        if part.is_empty() || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        part.parse().ok()
    };
    let parsed = (next()?, next()?, next()?);
    parts.next().is_none().then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: &str = r#"
        name = "echo"
        version = "0.1.0"
        kind = "connector"
        api = "0.1.0"
        [capabilities]
        allowed_hosts = ["${config.api_base_url}", "*.example.com"]
        [config.api_base_url]
        type = "url"
        required = true
    "#;

    #[test]
    fn parses_a_full_manifest() {
        let manifest = Manifest::parse(ECHO).unwrap();
        assert_eq!(manifest.kind, PluginKind::Connector);
        assert!(manifest.api_supported());
        assert_eq!(manifest.allowed_hosts().len(), 2);
    }

    #[test]
    fn api_compatibility_follows_semver_for_0x() {
        let with_api = |api: &str| {
            Manifest::parse(&ECHO.replace("api = \"0.1.0\"", &format!("api = \"{api}\""))).unwrap()
        };
        assert!(with_api("0.1.0").api_supported());
        assert!(!with_api("0.2.0").api_supported());
        assert!(
            !with_api("0.1.1").api_supported(),
            "newer patch than we implement"
        );
        assert!(!with_api("9.0.0").api_supported());
        assert!(with_api(">=0.1, <0.2").api_supported());
        assert!(!with_api(">=0.2, <0.3").api_supported());
        assert!(matches!(
            Manifest::parse(&ECHO.replace("api = \"0.1.0\"", "api = \"soon\"")),
            Err(ManifestError::BadApi(_))
        ));
    }

    #[test]
    fn rejects_bad_names_versions_and_hosts() {
        assert!(matches!(
            Manifest::parse(&ECHO.replace("name = \"echo\"", "name = \"Echo!\"")),
            Err(ManifestError::BadName(_))
        ));
        assert!(matches!(
            Manifest::parse(&ECHO.replace("version = \"0.1.0\"", "version = \"1.0\"")),
            Err(ManifestError::BadVersion(_))
        ));
        let error =
            Manifest::parse(&ECHO.replace("type = \"url\"", "type = \"string\"")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("[config.api_base_url] must be declared with type = \"url\""),
            "{error}"
        );
        assert!(matches!(
            Manifest::parse(
                &ECHO.replace("kind = \"connector\"", "kind = \"connector\"\nunknown = 1")
            ),
            Err(ManifestError::Toml(_))
        ));
    }

    const BOT: &str = r#"
        name = "faq"
        version = "0.1.0"
        kind = "bot"
        api = "0.1.0"
        publisher = "Acme"
        description = "Answers questions."
        open_channels = true
        [permissions]
        kv = true
    "#;

    #[test]
    fn b2_bots_declare_publisher_description_and_open_channels() {
        let bot = Manifest::parse(BOT).unwrap();
        assert!(
            bot.capabilities.kv,
            "[permissions] is read as the capabilities"
        );
        assert_eq!(
            bot.permissions(),
            ["keep data in its own key-value store per channel"]
        );
        let error = Manifest::parse(&BOT.replace("open_channels = true", "")).unwrap_err();
        assert!(matches!(error, ManifestError::NotForOpenChannels { .. }));
        assert!(
            error.to_string().contains("open_channels = true"),
            "{error}"
        );
        let error = Manifest::parse(&BOT.replace("publisher = \"Acme\"", "")).unwrap_err();
        assert!(
            error.to_string().contains("publisher = \"Acme Ltd\""),
            "{error}"
        );
        let error =
            Manifest::parse(&BOT.replace("description = \"Answers questions.\"", "")).unwrap_err();
        assert!(error.to_string().contains("lacks description"), "{error}");
        // Connectors are channels by definition: the flag is optional, but `false` is refused.
        assert!(Manifest::parse(ECHO).unwrap().open_channels.is_none());
        let refused = Manifest::parse(&format!("open_channels = false\n{ECHO}"));
        assert!(matches!(
            refused,
            Err(ManifestError::NotForOpenChannels { .. })
        ));
    }

    #[test]
    fn an_upgrade_asking_for_more_lists_only_what_it_adds() {
        let v1 = Manifest::parse(BOT).unwrap();
        assert!(v1.permissions_beyond(&v1).is_empty());
        let v2 = Manifest::parse(&BOT.replace(
            "kv = true",
            "kv = true\nsmtp = true\nallowed_hosts = [\"api.example.com\"]",
        ))
        .unwrap();
        assert_eq!(
            v2.permissions_beyond(&v1),
            [
                "send HTTP requests to: api.example.com",
                "send email through the server's mail relay"
            ]
        );
        assert!(
            v1.permissions_beyond(&v2).is_empty(),
            "asking for less needs no consent"
        );
    }

    #[test]
    fn a_refusal_says_which_host_would_run_it() {
        assert!(which_host("0.2.0", "0.1.0").starts_with("a newer frontdesk release"));
        assert!(which_host(">=0.2, <0.3", "0.1.0").starts_with("a newer frontdesk release"));
        assert!(which_host("0.0.1", "0.1.0").contains("an older frontdesk release"));
    }

    #[test]
    fn versions_are_strict() {
        assert_eq!(parse_version("1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse_version("1.02.3"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
        assert_eq!(parse_version("1.2.x"), None);
    }
}
