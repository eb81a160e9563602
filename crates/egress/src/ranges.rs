//! The ranges no callback may reach unless allowed: everything that is not a public unicast address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind of non-public range `address` is in; `None` for a public address.
pub fn denied_range(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    Some(match (a, b, c) {
        _ if address.is_unspecified() || a == 0 => "unspecified",
        _ if address.is_loopback() => "loopback",
        _ if address.is_private() => "private",
        _ if address.is_link_local() => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        _ if address.is_multicast() => "multicast",
        _ if address.is_documentation() => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (192, 0, 0) => "protocol assignment",
        _ if address.is_broadcast() || a >= 240 => "reserved",
        _ => return None,
    })
}

fn v6_range(address: Ipv6Addr) -> Option<&'static str> {
    let first = address.segments()[0];
    Some(match first {
        _ if address.is_unspecified() => "unspecified",
        _ if address.is_loopback() => "loopback",
        _ if first & 0xfe00 == 0xfc00 => "private",
        _ if first & 0xffc0 == 0xfe80 => "link-local",
        _ if first & 0xffc0 == 0xfec0 => "site-local",
        _ if address.is_multicast() => "multicast",
        _ if first == 0x2001 && address.segments()[1] == 0x0db8 => "documentation",
        _ if first & 0xe000 != 0x2000 => "reserved",
        _ => return None,
    })
}
