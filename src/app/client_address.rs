//! Which address a request comes from: the TCP peer, or — only when the peer is a trusted
//! proxy — the client that proxy forwarded in `X-Forwarded-For` (else `Forwarded: for=`) —
//! pure.
//!
//! Forwarding headers are lists that every proxy appends to, so only their right-hand end,
//! written by proxies we trust, can be believed: the client is the right-most address that is
//! not itself a trusted proxy. Anything a client wrote further left is ignored. IPv4-mapped
//! IPv6 addresses (`::ffff:192.0.2.1`) are the IPv4 address throughout.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ipnet::{IpNet, Ipv4Net};

/// The proxies whose forwarding headers are believed (`trusted_proxies`); none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses; every bad entry is named.
    pub fn parse(entries: &[String]) -> Result<Self, Vec<String>> {
        let mut nets = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            match parse_cidr(entry) {
                Ok(net) => nets.push(net),
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(TrustedProxies(nets))
        } else {
            Err(problems)
        }
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` and `Forwarded`
    /// header lines (in the order received): `peer` itself unless it is a trusted proxy; else
    /// the right-most address in `X-Forwarded-For` (or, without that header, in `Forwarded`)
    /// that is not a trusted proxy. An entry that is not an address (`unknown`, an obfuscated
    /// name, garbage) ends the search at the nearest address already known.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str], forwarded: &[&str]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        if !forwarded_for.is_empty() {
            let hops = forwarded_for.iter().flat_map(|line| line.split(','));
            self.nearest_untrusted(peer, hops.map(parse_node))
        } else {
            let hops = forwarded.iter().flat_map(|line| line.split(','));
            self.nearest_untrusted(peer, hops.map(forwarded_for_element))
        }
    }

    fn nearest_untrusted(
        &self,
        peer: IpAddr,
        hops: impl DoubleEndedIterator<Item = Option<IpAddr>>,
    ) -> IpAddr {
        let mut client = peer;
        for hop in hops.rev() {
            let Some(hop) = hop else { break };
            client = hop.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

fn parse_cidr(entry: &str) -> Result<IpNet, String> {
    let text = entry.trim();
    let net = text
        .parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{entry}` is not a CIDR such as 10.0.0.0/8 or ::1/128"))?;
    if net.trunc() != net {
        return Err(format!(
            "`{entry}` has address bits set past its /{} prefix (did you mean {}?)",
            net.prefix_len(),
            net.trunc()
        ));
    }
    Ok(canonical(net))
}

/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) as the IPv4 network it maps.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, IpNet::V4),
        _ => net,
    }
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:4711`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            let inner = text.strip_prefix('[')?.strip_suffix(']')?;
            inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        })
}

/// The `for=` node of one `Forwarded` element (`for="[2001:db8::1]:4711";proto=https`).
fn forwarded_for_element(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })?;
    parse_node(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        TrustedProxies::parse(&entries).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidrs_and_single_addresses_are_read() {
        let proxies = trusted(&["10.0.0.0/8", "::1/128", "192.0.2.7", "fd00::/8"]);
        for inside in ["10.1.2.3", "::1", "192.0.2.7", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(proxies.contains(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "::2", "192.0.2.8", "fe80::1"] {
            assert!(!proxies.contains(ip(outside)), "{outside}");
        }
        assert!(
            trusted(&["::ffff:10.0.0.0/104"]).contains(ip("10.200.0.1")),
            "an IPv4-mapped network is its IPv4 network"
        );
    }

    #[test]
    fn every_bad_entry_is_named() {
        let entries = [
            "10.0.0.0/8",
            "10.0.0.0/33",
            "proxy.internal",
            "10.1.2.3/8",
            "",
        ]
        .map(str::to_owned);
        let problems = TrustedProxies::parse(&entries).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("`10.0.0.0/33`"), "{problems:?}");
        assert!(problems[1].contains("`proxy.internal`"), "{problems:?}");
        assert!(
            problems[2].contains("did you mean 10.0.0.0/8"),
            "{problems:?}"
        );
        assert!(problems[3].contains("``"), "{problems:?}");
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let peer = ip("198.51.100.1");
        for proxies in [TrustedProxies::default(), trusted(&["10.0.0.0/8"])] {
            assert_eq!(proxies.client(peer, &["203.0.113.9"], &[]), peer);
            assert_eq!(proxies.client(peer, &[], &["for=203.0.113.9"]), peer);
        }
        assert_eq!(
            TrustedProxies::default().client(ip("::ffff:198.51.100.1"), &[], &[]),
            peer,
            "an IPv4-mapped peer is its IPv4 address"
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = trusted(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        let client = |xff: &[&str]| proxies.client(peer, xff, &[]);
        assert_eq!(client(&[]), peer, "no header: the peer");
        assert_eq!(client(&["203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client(&["6.6.6.6, 203.0.113.9, 10.0.0.5"]),
            ip("203.0.113.9"),
            "what the client wrote on the left is not believed"
        );
        assert_eq!(
            client(&["6.6.6.6", "203.0.113.9, 10.0.0.5"]),
            ip("203.0.113.9"),
            "several header lines are one list"
        );
        assert_eq!(
            client(&["10.0.0.9, 10.0.0.5"]),
            ip("10.0.0.9"),
            "only proxies: the farthest"
        );
        assert_eq!(
            client(&["203.0.113.9:4711, [2001:db8::7]:80"]),
            ip("2001:db8::7")
        );
        assert_eq!(client(&["[2001:db8::7]"]), ip("2001:db8::7"));
        assert_eq!(client(&["::ffff:203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client(&["203.0.113.9, garbage, 10.0.0.5"]),
            ip("10.0.0.5"),
            "garbage ends the search at the nearest known address"
        );
        assert_eq!(client(&["nonsense"]), peer);
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = trusted(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        let client = |forwarded: &[&str]| proxies.client(peer, &[], forwarded);
        assert_eq!(
            client(&["for=6.6.6.6, For=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.5"]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client(&["for=192.0.2.43:47011;by=10.0.0.1"]),
            ip("192.0.2.43")
        );
        assert_eq!(client(&["for=unknown"]), peer);
        assert_eq!(client(&["for=_hidden, for=10.0.0.5"]), ip("10.0.0.5"));
        assert_eq!(client(&["proto=https"]), peer, "no for=: the peer");
        assert_eq!(
            proxies.client(peer, &["203.0.113.9"], &["for=198.51.100.1"]),
            ip("203.0.113.9"),
            "X-Forwarded-For wins when both are present"
        );
    }
}
