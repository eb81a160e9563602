//! The egress guard (SSRF): a consumer chooses the URL the gateway calls, so the gateway must not become their way
//! into the operator's network.
//!
//! [`EgressPolicy`] permits public addresses and the networks the operator allows; it denies loopback, private,
//! link-local (cloud metadata), CGNAT, multicast, unspecified, reserved and documentation ranges
//! ([`denied_range`]). It also confines the files a subscription may name to one folder
//! ([`EgressPolicy::confine_file`]). The host checks the operator's settings with it; the webhook plugins enforce it
//! when they resolve and connect.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod files;
mod ranges;

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

pub use ranges::denied_range;

/// What callbacks may reach and which files subscriptions may name.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allowed: Vec<IpNet>,
    files_dir: Option<PathBuf>,
}

/// An address the policy does not permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The address.
    pub address: IpAddr,
    /// What kind of range it is in (`loopback`, `private`, `link-local`).
    pub range: &'static str,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is a {} address; callbacks reach only public addresses unless the gateway's egress.allow_networks \
             allows it",
            self.address, self.range
        )
    }
}

impl std::error::Error for Denied {}

impl EgressPolicy {
    /// A policy allowing `allow_networks` (CIDR, or single addresses) besides public addresses, and files under
    /// `files_dir`. Returns the first network that does not parse, with why.
    pub fn new(allow_networks: &[impl AsRef<str>], files_dir: Option<PathBuf>) -> Result<Self, String> {
        let allowed = allow_networks.iter().map(|network| parse_network(network.as_ref())).collect::<Result<_, _>>()?;
        Ok(Self { allowed, files_dir })
    }

    /// Whether a call may go to `address`.
    pub fn check(&self, address: IpAddr) -> Result<(), Denied> {
        let address = canonical(address);
        match denied_range(address) {
            Some(range) if !self.allowed.iter().any(|network| network.contains(&address)) => {
                Err(Denied { address, range })
            }
            _ => Ok(()),
        }
    }
}

/// The address a URL's host is, when it is a literal one (`10.1.2.3`, `[::1]`); `None` for a name.
pub fn literal_address(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// `10.0.0.0/8`, or a single address (`127.0.0.1`, `::1`).
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not a network (CIDR such as 10.0.0.0/8) or an address"))
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass_and_the_others_need_an_allowed_network() {
        let closed = EgressPolicy::default();
        assert_eq!(closed.check(ip("93.184.215.14")), Ok(()));
        assert_eq!(closed.check(ip("2606:4700::1111")), Ok(()));
        for (address, range) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("192.0.2.1", "documentation"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00::1", "private"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("::ffff:169.254.169.254", "link-local"),
        ] {
            let denied = closed.check(ip(address)).unwrap_err();
            assert_eq!(denied.range, range, "{address}");
        }
        let open = EgressPolicy::new(&["127.0.0.0/8", "fd00::1"], None).unwrap();
        assert_eq!(open.check(ip("127.0.0.2")), Ok(()));
        assert_eq!(open.check(ip("fd00::1")), Ok(()));
        assert!(open.check(ip("fd00::2")).is_err());
        assert!(open.check(ip("10.0.0.1")).is_err());
    }

    #[test]
    fn a_network_that_does_not_parse_is_named() {
        let error = EgressPolicy::new(&["127.0.0.0/8", "localhost"], None).unwrap_err();
        assert!(error.contains("`localhost`"), "{error}");
    }
}
