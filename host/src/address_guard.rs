//! Which addresses the server connects to on an admin's word (issue 14 item
//! 8): an `api` channel's `callback_url` must not reach this server's own
//! loopback, the private network around it or a cloud metadata service, or
//! an admin token becomes a way to call internal services (SSRF).
//!
//! A URL is checked when it is saved ([`AddressGuard::check_url`]: the
//! host as written, and every address its name resolves to) and again on
//! every connection: [`AddressGuard::client`] resolves through
//! [`GuardedResolver`], which checks the addresses it hands to the
//! connector, so a name that resolves to 127.0.0.1 after it was saved (DNS
//! rebinding) is refused instead of connected to. The client follows no
//! redirects and ignores `HTTP(S)_PROXY`: the address checked is the one
//! connected to.
//!
//! The plugin host's `http` import (connectors, attachment fetches) does not
//! go through this guard: it reaches only the hosts a plugin's manifest
//! allow-lists.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a save-time lookup may take before the URL is refused.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the operator allows callbacks to reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressGuard {
    /// `--allow-private-callbacks`: loopback and private addresses are
    /// allowed too (a receiver on the same machine or LAN, and the tests).
    pub allow_private: bool,
}

/// Why a URL may not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    /// Not an absolute `http://` or `https://` URL with a host.
    #[error("must be an http:// or https:// URL with a host ({0})")]
    NotHttp(String),
    /// The host is, or resolves to, an address outside the public internet.
    #[error(
        "{host} {how} {addr}, {why}; callbacks may only reach public addresses \
         (an operator allows private ones with --allow-private-callbacks)"
    )]
    Forbidden {
        host: String,
        /// "is" for an IP literal, "resolves to" for a name.
        how: &'static str,
        addr: IpAddr,
        why: &'static str,
    },
    /// The name does not resolve, so its addresses cannot be checked.
    #[error("{host} does not resolve ({reason}); check the name")]
    Unresolvable { host: String, reason: String },
}

impl AddressGuard {
    /// A guard that refuses every non-public address.
    pub const STRICT: AddressGuard = AddressGuard {
        allow_private: false,
    };

    /// Refuses `ip` unless it is public or private addresses are allowed.
    pub fn check_ip(&self, host: &str, how: &'static str, ip: IpAddr) -> Result<(), Refused> {
        match forbidden_reason(ip) {
            Some(why) if !self.allow_private => Err(Refused::Forbidden {
                host: host.to_string(),
                how,
                addr: ip,
                why,
            }),
            _ => Ok(()),
        }
    }

    /// Parses `raw` and checks its host without looking a name up: an IP
    /// literal (in any form the URL parser accepts, `http://2130706433/`
    /// too) is checked; a name is returned for the resolver to check.
    pub fn check_literal(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw).map_err(|e| Refused::NotHttp(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::NotHttp(format!("scheme {}", url.scheme())));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Refused::NotHttp("no host".into()))?;
        if let Some(ip) = literal_ip(host) {
            self.check_ip(host, "is", ip)?;
        }
        Ok(url)
    }

    /// The save-time check: the URL's host, and every address its name
    /// resolves to now, must be allowed. Any forbidden address refuses the
    /// URL, so a name cannot mix a public address with a private one.
    pub async fn check_url(&self, raw: &str) -> Result<(), Refused> {
        let url = self.check_literal(raw)?;
        let name = url.host_str().unwrap_or_default();
        if self.allow_private || literal_ip(name).is_some() {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = lookup(name, port).await?;
        for addr in addrs {
            self.check_ip(name, "resolves to", addr.ip())?;
        }
        Ok(())
    }

    /// An HTTP client that connects only to allowed addresses: names are
    /// resolved by [`GuardedResolver`]; IP-literal URLs never reach a
    /// resolver, so callers check them with [`AddressGuard::check_literal`].
    pub fn client(&self, timeout: Duration) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { guard: *self }))
            .build()
            .expect("HTTP client")
    }
}

/// The address a URL's host names literally (`127.0.0.1`, `[::1]`), if it does.
fn literal_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

async fn lookup(name: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    let unresolvable = |reason: String| Refused::Unresolvable {
        host: name.to_string(),
        reason,
    };
    let found = tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| unresolvable(format!("no answer within {LOOKUP_TIMEOUT:?}")))?
        .map_err(|e| unresolvable(e.to_string()))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(unresolvable("no addresses".into()));
    }
    Ok(addrs)
}

/// The connection-time check: resolves once, refuses the name if any of its
/// addresses is forbidden, and hands the connector exactly the addresses it
/// checked. A refusal is a [`Refused`] in the request error's source chain.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub guard: AddressGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard;
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addrs = lookup(&host, 0).await?;
            for addr in &addrs {
                guard.check_ip(&host, "resolves to", addr.ip())?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The [`Refused`] somewhere in an error's source chain, if the guard refused.
pub fn refusal<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

/// Why `ip` is not a public internet address, or `None` if it is one.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (\"this network\") address",
        (127, _, _) => "a loopback address (this machine)",
        (10, _, _) | (192, 168, _) => "a private network address (RFC 1918)",
        (172, 16..=31, _) => "a private network address (RFC 1918)",
        (100, 64..=127, _) => "a carrier-grade NAT address (100.64.0.0/10)",
        (169, 254, _) => {
            "a link-local address (169.254.0.0/16, where cloud metadata services live)"
        }
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address",
        _ if ip == Ipv4Addr::BROADCAST => "the broadcast address",
        (240..=255, _, _) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address (this machine)");
    }
    // An IPv4 address inside IPv6 reaches the IPv4 host: judge that one.
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        0xfe80..=0xfebf => "a link-local address (fe80::/10)",
        0xfec0..=0xfeff => "a site-local address (fec0::/10)",
        0xfc00..=0xfdff => "a unique-local (private) address (fc00::/7)",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address (2001:db8::/32)",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only address (100::/64)",
        _ => return None,
    })
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:ab:cd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low()),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        forbidden_reason(ip.parse().unwrap())
    }

    #[test]
    fn the_classifier_refuses_every_non_public_range() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(reason(ip).is_some(), "{ip} should be refused");
        }
    }

    #[test]
    fn the_classifier_allows_public_addresses() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert_eq!(reason(ip), None, "{ip} should be allowed");
        }
    }

    #[test]
    fn the_reason_names_the_range() {
        assert!(reason("169.254.169.254").unwrap().contains("metadata"));
        assert!(reason("127.0.0.1").unwrap().contains("loopback"));
        assert!(reason("::ffff:192.168.0.1").unwrap().contains("RFC 1918"));
    }

    #[test]
    fn literals_in_any_form_are_checked_without_a_lookup() {
        let strict = AddressGuard::STRICT;
        for url in [
            "http://127.0.0.1:9000/x",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let err = strict.check_literal(url).unwrap_err();
            assert!(matches!(err, Refused::Forbidden { .. }), "{url}: {err}");
            assert!(err.to_string().contains("--allow-private-callbacks"));
        }
        assert!(strict.check_literal("https://example.com/hook").is_ok());
        assert!(strict.check_literal("https://8.8.8.8/hook").is_ok());
        for url in ["ftp://example.org/", "example.org", "http://"] {
            assert!(
                matches!(strict.check_literal(url), Err(Refused::NotHttp(_))),
                "{url}"
            );
        }
        let open = AddressGuard {
            allow_private: true,
        };
        assert!(open.check_literal("http://127.0.0.1:9000/x").is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_at_save_and_at_connect() {
        let strict = AddressGuard::STRICT;
        let err = strict.check_url("http://localhost:9/x").await.unwrap_err();
        assert!(
            matches!(
                err,
                Refused::Forbidden {
                    how: "resolves to",
                    ..
                }
            ),
            "{err}"
        );
        let open = AddressGuard {
            allow_private: true,
        };
        open.check_url("http://localhost:9/x").await.unwrap();

        // The connect-time path: the resolver refuses, the request fails
        // before any socket opens, and the refusal is in the error chain.
        let error = strict
            .client(Duration::from_secs(5))
            .get("http://localhost:9/x")
            .send()
            .await
            .unwrap_err();
        let refused = refusal(&error).expect("the guard's refusal");
        assert!(refused.to_string().contains("loopback"), "{refused}");
    }
}
