//! Who the client is when the server sits behind reverse proxies.
//!
//! The TCP peer is the client, unless the peer is one of the operator's trusted proxies; then the
//! proxies' `Forwarded` (RFC 7239) or `X-Forwarded-For` entries are read from the right, skipping
//! trusted hops, and the first untrusted hop is the client. Entries left of it were written by
//! the client itself and are never believed. An entry that is not an address (`unknown`, an
//! obfuscated name, garbage) ends the walk at the trusted proxy that wrote it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

impl AddressBlock {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for AddressBlock {
    type Err = TrustedProxiesError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || TrustedProxiesError(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(address.parse::<IpAddr>().map_err(|_| invalid())?);
        let widest = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) if prefix.bytes().all(|byte| byte.is_ascii_digit()) => {
                prefix.parse::<u8>().map_err(|_| invalid())?
            }
            Some(_) => return Err(invalid()),
            None => widest,
        };
        if prefix > widest {
            return Err(invalid());
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for AddressBlock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.network, self.prefix)
    }
}

/// The operator's list of reverse proxies whose forwarding headers are believed. Empty by
/// default: then only the TCP peer counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<AddressBlock>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not an IP address or CIDR block; list addresses such as 10.0.0.5, 10.0.0.0/8 or ::1, separated by commas"
)]
pub struct TrustedProxiesError(String);

impl TrustedProxies {
    /// Parses a comma- or space-separated list; an empty text is an empty list.
    pub fn parse(list: &str) -> Result<Self, TrustedProxiesError> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(AddressBlock::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }

    pub fn blocks(&self) -> &[AddressBlock] {
        &self.0
    }

    /// The client of a request that arrived from `peer` with these header values (each header
    /// line in the order received). `Forwarded` wins over `X-Forwarded-For` when present.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl IntoIterator<Item = &'a str>,
        x_forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut hops: Vec<Option<IpAddr>> = forwarded
            .into_iter()
            .flat_map(|line| line.split(','))
            .map(forwarded_element_for)
            .collect();
        if hops.is_empty() {
            hops = x_forwarded_for
                .into_iter()
                .flat_map(|line| line.split(','))
                .map(|hop| parse_node(hop.trim()))
                .collect();
        }
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(address) if self.contains(address) => client = address,
                Some(address) => return address,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` node of one `Forwarded` element, if it names an address.
fn forwarded_element_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(value);
        parse_node(value)
    })
}

/// An address, optionally with a port: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:443`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        return port_ok
            .then(|| address.parse::<Ipv6Addr>().ok())
            .flatten()
            .map(|address| canonical(IpAddr::V6(address)));
    }
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    let (address, port) = node.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    address.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) are their
/// IPv4 address, so one rule covers both spellings.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("203.0.113.9"), ["for=1.2.3.4"], ["5.6.7.8"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            trusted.client_address(ip("198.51.100.7"), [], ["10.0.0.1"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_of_x_forwarded_for_is_the_client() {
        let trusted = proxies("10.0.0.0/8, 127.0.0.1");
        // The client forged the first entry; the proxy appended the real one.
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), [], ["6.6.6.6, 198.51.100.7", "10.1.2.3"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_understands_quotes_and_ports() {
        let trusted = proxies("10.0.0.1");
        assert_eq!(
            trusted.client_address(
                ip("10.0.0.1"),
                ["for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1"],
                ["192.0.2.1"]
            ),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), ["For=192.0.2.60:8080"], []),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn an_unknown_or_garbled_hop_stops_at_the_proxy_that_wrote_it() {
        let trusted = proxies("10.0.0.0/8");
        for header in ["for=unknown", "for=_hidden", "for=\"[::1\"", "garbage"] {
            assert_eq!(
                trusted.client_address(ip("10.0.0.2"), [header], []),
                ip("10.0.0.2"),
                "{header}"
            );
        }
        assert_eq!(
            trusted.client_address(ip("10.0.0.2"), [], ["1.2.3.4, nonsense"]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            trusted.client_address(ip("10.0.0.3"), [], ["10.9.9.9, 10.0.0.4"]),
            ip("10.9.9.9")
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.3"), [], []),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_blocks() {
        let trusted = proxies("127.0.0.1");
        assert_eq!(
            trusted.client_address(ip("::ffff:127.0.0.1"), [], ["192.0.2.5"]),
            ip("192.0.2.5")
        );
    }

    #[test]
    fn blocks_parse_and_refuse_with_a_message() {
        assert!(proxies("").is_empty());
        assert_eq!(proxies("10.0.0.0/8 ::1").blocks().len(), 2);
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "host",
        ] {
            let error = TrustedProxies::parse(bad).unwrap_err().to_string();
            assert!(error.contains("CIDR"), "{bad}: {error}");
        }
        assert!(proxies("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!proxies("192.168.0.0/16").contains(ip("192.169.0.1")));
        assert!(proxies("fd00::/8").contains(ip("fd12::1")));
    }

    proptest! {
        #[test]
        fn the_client_is_the_peer_or_an_address_from_the_headers(
            forwarded in "\\PC{0,60}",
            x_forwarded_for in "[0-9a-f:., \\[\\]]{0,60}",
        ) {
            let trusted = proxies("10.0.0.0/8");
            let peer = ip("10.0.0.1");
            // Never panics, and an untrusted peer is never overridden.
            let outside = trusted.client_address(ip("192.0.2.1"), [forwarded.as_str()], [x_forwarded_for.as_str()]);
            prop_assert_eq!(outside, ip("192.0.2.1"));
            let _ = trusted.client_address(peer, [forwarded.as_str()], [x_forwarded_for.as_str()]);
        }
    }
}
