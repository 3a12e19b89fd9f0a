//! The outbound HTTP allow-list, checked before any socket opens.
//!
//! Patterns come from the manifest. `${config.FIELD}` entries are resolved
//! against one channel's config, so a plugin whose provider URL is config
//! (and tests pointing it at loopback) can reach exactly that origin and no
//! other.

use serde_json::Value;
use url::Url;

/// One `allowed_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// A host, or with `wildcard` every subdomain of it (`*.example.com`,
    /// which does not match `example.com` itself).
    Host {
        /// `http` or `https`; `None` allows both.
        scheme: Option<String>,
        /// Lowercase host name or IP literal.
        host: String,
        /// Whether this is a `*.` pattern.
        wildcard: bool,
        /// The port; `None` allows only the scheme's default port.
        port: Option<u16>,
    },
    /// `${config.FIELD}`: the origin of the URL in that channel config field.
    ConfigField(String),
}

impl HostPattern {
    /// Parses an entry; the error says what is wrong.
    pub fn parse(entry: &str) -> Result<HostPattern, String> {
        if let Some(field) = entry
            .strip_prefix("${config.")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            return Ok(HostPattern::ConfigField(field.to_string()));
        }
        let (scheme, rest) = match entry.split_once("://") {
            Some((scheme @ ("http" | "https"), rest)) => (Some(scheme.to_string()), rest),
            Some((scheme, _)) => return Err(format!("scheme {scheme:?} is not http or https")),
            None => (None, entry),
        };
        if rest.contains('/') || rest.is_empty() {
            return Err("give a host, optionally with a port, and no path".to_string());
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        // Parse through `url` so IPv6 literals and ports follow URL rules.
        let url = Url::parse(&format!("http://{rest}/")).map_err(|error| error.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_ascii_lowercase();
        if host.contains('*') {
            return Err("'*' may only start the entry, as in *.example.com".to_string());
        }
        // `url` drops port 80 for http: recover it from the text.
        let port = url.port().or_else(|| rest.ends_with(":80").then_some(80));
        Ok(HostPattern::Host {
            scheme,
            host,
            wildcard,
            port,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let HostPattern::Host {
            scheme,
            host,
            wildcard,
            port,
        } = self
        else {
            return false;
        };
        let Some(url_host) = url.host_str().map(|h| h.to_ascii_lowercase()) else {
            return false;
        };
        if scheme
            .as_deref()
            .is_some_and(|scheme| scheme != url.scheme())
        {
            return false;
        }
        let host_ok = if *wildcard {
            url_host
                .strip_suffix(host.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            url_host == *host
        };
        let port_ok = match port {
            Some(port) => url.port_or_known_default() == Some(*port),
            None => url.port().is_none(),
        };
        host_ok && port_ok
    }
}

/// A plugin's allow-list for one channel: manifest patterns with the config
/// fields filled in.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    patterns: Vec<HostPattern>,
}

impl AllowList {
    /// Resolves `${config.FIELD}` entries against a channel's (validated) config.
    /// A field the channel leaves unset allows nothing.
    pub fn resolve(patterns: &[HostPattern], config: &Value) -> AllowList {
        let patterns = patterns
            .iter()
            .filter_map(|pattern| match pattern {
                HostPattern::ConfigField(field) => {
                    let url = Url::parse(config.get(field)?.as_str()?).ok()?;
                    Some(HostPattern::Host {
                        scheme: Some(url.scheme().to_string()),
                        host: url.host_str()?.to_ascii_lowercase(),
                        wildcard: false,
                        port: url.port_or_known_default(),
                    })
                }
                other => Some(other.clone()),
            })
            .collect();
        AllowList { patterns }
    }

    /// Checks a URL; the error is the refused origin, for the plugin's message.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {} is not allowed", url.scheme()));
        }
        if self.patterns.iter().any(|pattern| pattern.matches(url)) {
            Ok(())
        } else {
            Err(url.origin().ascii_serialization())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn list(entries: &[&str], config: Value) -> AllowList {
        let patterns: Vec<_> = entries
            .iter()
            .map(|e| HostPattern::parse(e).unwrap())
            .collect();
        AllowList::resolve(&patterns, &config)
    }

    fn allowed(list: &AllowList, url: &str) -> bool {
        list.check(&Url::parse(url).unwrap()).is_ok()
    }

    #[test]
    fn exact_hosts_allow_default_ports_only() {
        let list = list(&["api.telegram.org"], json!({}));
        assert!(allowed(&list, "https://api.telegram.org/bot1/sendMessage"));
        assert!(allowed(&list, "http://API.telegram.org/"));
        assert!(!allowed(&list, "https://api.telegram.org:8443/"));
        assert!(!allowed(&list, "https://api.telegram.org.evil.com/"));
        assert!(!allowed(&list, "https://evil.com/?api.telegram.org"));
    }

    #[test]
    fn wildcards_scheme_and_ports() {
        let list = list(
            &[
                "*.example.com",
                "https://graph.facebook.com",
                "10.0.0.1:8080",
            ],
            json!({}),
        );
        assert!(allowed(&list, "https://a.example.com/"));
        assert!(allowed(&list, "https://a.b.example.com/"));
        assert!(!allowed(&list, "https://example.com/"));
        assert!(!allowed(&list, "https://badexample.com/"));
        assert!(allowed(
            &list,
            "https://graph.facebook.com/v19.0/me/messages"
        ));
        assert!(!allowed(&list, "http://graph.facebook.com/"));
        assert!(allowed(&list, "http://10.0.0.1:8080/x"));
        assert!(!allowed(&list, "http://10.0.0.1/x"));
    }

    #[test]
    fn config_fields_resolve_per_channel() {
        let a = list(
            &["${config.api_base_url}"],
            json!({"api_base_url": "http://127.0.0.1:4001/bot"}),
        );
        let b = list(
            &["${config.api_base_url}"],
            json!({"api_base_url": "http://127.0.0.1:4002"}),
        );
        assert!(allowed(&a, "http://127.0.0.1:4001/send"));
        assert!(!allowed(&a, "http://127.0.0.1:4002/send"));
        assert!(allowed(&b, "http://127.0.0.1:4002/send"));
        let unset = list(&["${config.api_base_url}"], json!({}));
        assert!(!allowed(&unset, "http://127.0.0.1:4001/"));
    }

    #[test]
    fn empty_list_denies_everything_and_other_schemes_never_pass() {
        assert!(!allowed(&list(&[], json!({})), "https://example.org/"));
        assert!(!allowed(
            &list(&["example.org"], json!({})),
            "ftp://example.org/"
        ));
        assert!(HostPattern::parse("ftp://x").is_err());
        assert!(HostPattern::parse("a.com/path").is_err());
        assert!(HostPattern::parse("a.*.com").is_err());
    }
}
