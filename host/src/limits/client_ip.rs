//! Who a request comes from, for the per-IP limits: the connection's peer,
//! or, when that peer is a listed reverse proxy (`--trusted-proxies`), the
//! nearest address in `X-Forwarded-For` that is not one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads `10.0.0.0/8`-style networks and single addresses.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "trusted proxy {item:?} is not an address or network such as 10.0.0.0/8"
                    )
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted
    /// proxy; then the right-most `X-Forwarded-For` entry that is not a
    /// trusted proxy (entries left of it were written by the client, who
    /// may write anything).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return ip,
                // Garbage from a proxy we trust: nothing further left is believable.
                Err(_) => return peer,
            }
        }
        peer
    }
}

/// The client's address, `None` when the request did not come over a
/// socket (tests that call the router in-process): per-IP rules then pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The client of a request: the connection's peer as `proxies` see it.
    pub fn of(parts: &Parts, proxies: &TrustedProxies) -> ClientIp {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        ClientIp(peer.map(|peer| proxies.client(peer, &parts.headers)))
    }
}

/// The key an address is limited by: IPv6 by its /64 (one subscriber's
/// network; a single host can use the whole of it), IPv4 as it is.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "127.0.0.1"]).unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let forged = headers("1.1.1.1, 198.51.100.7, 10.9.9.9");
        // The client wrote 1.1.1.1 itself; the proxy saw 198.51.100.7.
        assert_eq!(
            proxies.client(proxy, &forged),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(proxies.client(stranger, &forged), stranger);
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(proxies.client(proxy, &headers("nonsense")), proxy);
        assert_eq!(TrustedProxies::default().client(proxy, &forged), proxy);
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
