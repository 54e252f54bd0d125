//! A client address as every counter counts it: one budget per host, not per address a host
//! can pick.

use std::net::IpAddr;

/// An address as counted: IPv4 as it is (IPv4-mapped IPv6 too), IPv6 by its /64 prefix —
/// what one host is usually given, so rotating the low bits does not buy a new budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountedAddress {
    /// An IPv4 address, as its 32 bits.
    V4(u32),
    /// The upper 64 bits of an IPv6 address.
    V6Prefix(u64),
}

impl CountedAddress {
    /// How `address` is counted.
    pub fn of(address: IpAddr) -> Self {
        match address.to_canonical() {
            IpAddr::V4(v4) => CountedAddress::V4(v4.to_bits()),
            IpAddr::V6(v6) => CountedAddress::V6Prefix((v6.to_bits() >> 64) as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> CountedAddress {
        CountedAddress::of(text.parse().unwrap())
    }

    #[test]
    fn ipv6_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(of("192.0.2.1"), CountedAddress::V4(0xc000_0201));
        assert_eq!(of("::ffff:192.0.2.1"), of("192.0.2.1"));
        assert_eq!(of("2001:db8:1:2::1"), of("2001:db8:1:2:ffff::9"));
        assert_eq!(
            of("2001:db8:1:2::1"),
            CountedAddress::V6Prefix(0x2001_0db8_0001_0002)
        );
        assert_ne!(of("2001:db8:1:2::1"), of("2001:db8:1:3::1"));
    }
}
