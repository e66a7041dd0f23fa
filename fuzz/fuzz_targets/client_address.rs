//! `TrustedProxies::parse` and `TrustedProxies::client_address`.
//!
//! Input, one item a line: the trusted proxy list; the TCP peer; then header lines, `F:<value>`
//! for a `Forwarded` line and anything else (optionally `X:<value>`) for an `X-Forwarded-For` line.
//!
//! Checks: a parsed list re-parses from its display form and each block contains its own address;
//! the client of an untrusted peer is always that peer; without trusted proxies the headers are
//! ignored; `Forwarded` wins over `X-Forwarded-For`; entries that the client itself could have
//! prepended (left of the hop chosen) never change the answer; IPv4-mapped spellings of the peer
//! give the same client, and the client is never an IPv4-mapped address.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onestop_domain::TrustedProxies;
use onestop_fuzz::{canonical, text};
use std::net::{IpAddr, Ipv4Addr};

/// What a client may write at the left of the headers to pose as someone else.
const FORGED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 66);

fn check_list(list: &str) -> Option<TrustedProxies> {
    let parsed = TrustedProxies::parse(list);
    let items = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty());
    let Ok(proxies) = parsed else {
        return None;
    };
    assert_eq!(proxies.blocks().len(), items.count(), "{list:?}");
    assert_eq!(proxies.is_empty(), proxies.blocks().is_empty());
    let shown: Vec<String> = proxies.blocks().iter().map(ToString::to_string).collect();
    assert_eq!(
        TrustedProxies::parse(&shown.join(", ")).as_ref(),
        Ok(&proxies),
        "{list:?}"
    );
    for (block, shown) in proxies.blocks().iter().zip(&shown) {
        let Some(Ok(address)) = shown.split('/').next().map(str::parse::<IpAddr>) else {
            panic!("the block {shown:?} does not start with an address");
        };
        assert!(
            block.contains(address),
            "{shown} does not contain its own address"
        );
        assert!(proxies.contains(address));
    }
    Some(proxies)
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let mut lines = input.split('\n');
    let Some(proxies) = lines.next().and_then(check_list) else {
        return;
    };
    let Some(Ok(peer)) = lines.next().map(|line| line.trim().parse::<IpAddr>()) else {
        return;
    };
    let mut forwarded = Vec::new();
    let mut x_forwarded_for = Vec::new();
    for line in lines {
        match line.strip_prefix("F:") {
            Some(value) => forwarded.push(value),
            None => x_forwarded_for.push(line.strip_prefix("X:").unwrap_or(line)),
        }
    }
    let client_of = |peer: IpAddr, forwarded: &[&str], x_forwarded_for: &[&str]| {
        proxies.client_address(
            peer,
            forwarded.iter().copied(),
            x_forwarded_for.iter().copied(),
        )
    };

    let client = client_of(peer, &forwarded, &x_forwarded_for);
    let peer = canonical(peer);
    assert_eq!(
        canonical(client),
        client,
        "the client {client} is not canonical"
    );

    // Only a trusted peer's headers count, and never without trusted proxies.
    if !proxies.contains(peer) {
        assert_eq!(
            client, peer,
            "the untrusted peer {peer} was taken for {client}"
        );
    }
    let none = TrustedProxies::default();
    assert_eq!(
        none.client_address(
            peer,
            forwarded.iter().copied(),
            x_forwarded_for.iter().copied()
        ),
        peer
    );

    if forwarded.is_empty() && x_forwarded_for.is_empty() {
        assert_eq!(client, peer, "no headers, yet the client is not the peer");
    }

    // The same peer spelled as an IPv4-mapped IPv6 address is the same peer.
    if let IpAddr::V4(v4) = peer {
        let mapped = IpAddr::V6(v4.to_ipv6_mapped());
        assert_eq!(client_of(mapped, &forwarded, &x_forwarded_for), client);
    }

    // Forwarded wins: X-Forwarded-For does not matter when Forwarded is present.
    if !forwarded.is_empty() {
        assert_eq!(client_of(peer, &forwarded, &[]), client);
        assert_eq!(client_of(peer, &forwarded, &["203.0.113.1"]), client);
    }

    // An untrusted client was found right of whatever the client itself may have sent: more
    // entries at the left, in the same line or a line before, change nothing.
    if client != peer && !proxies.contains(client) {
        let forged = FORGED.to_string();
        if forwarded.is_empty() {
            let mut earlier = vec![forged.as_str()];
            earlier.extend(&x_forwarded_for);
            assert_eq!(client_of(peer, &[], &earlier), client, "{input:?}");
            if let Some(first) = x_forwarded_for.first() {
                let prefixed = format!("{forged}, {first}");
                let mut same_line = x_forwarded_for.clone();
                same_line[0] = &prefixed;
                assert_eq!(client_of(peer, &[], &same_line), client, "{input:?}");
            }
        } else {
            let element = format!("for={forged}");
            let mut earlier = vec![element.as_str()];
            earlier.extend(&forwarded);
            assert_eq!(
                client_of(peer, &earlier, &x_forwarded_for),
                client,
                "{input:?}"
            );
        }
    }
});
