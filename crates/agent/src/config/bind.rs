//! Bind and advertise address resolution (Consul's `-bind`/`-advertise` rules).
//!
//! [`detect_advertise`] is the pure decision over a list of host addresses;
//! [`host_addresses`] is the shell that lists the host's interfaces.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::Problem;

/// The address to advertise when `bind_addr` is the unspecified address (`0.0.0.0` or `::`)
/// and no `advertise_addr` is configured: the host's single private IPv4 address (for
/// `0.0.0.0`) or single public IPv6 address (for `::`), out of `host_addrs`.
///
/// Returns `bind` itself when it is a specific address.
pub fn detect_advertise(bind: IpAddr, host_addrs: &[IpAddr]) -> Result<IpAddr, Problem> {
    if !bind.is_unspecified() {
        return Ok(bind);
    }
    let mut found: Vec<IpAddr> = Vec::new();
    let v4 = bind.is_ipv4();
    for &addr in host_addrs {
        let wanted = match addr {
            IpAddr::V4(a) => v4 && is_private_ipv4(a),
            IpAddr::V6(a) => !v4 && is_public_ipv6(a),
        };
        if wanted && !found.contains(&addr) {
            found.push(addr);
        }
    }
    match (found.as_slice(), v4) {
        ([one], _) => Ok(*one),
        ([], true) => Err(Problem::NoPrivateIpv4),
        ([], false) => Err(Problem::NoPublicIpv6),
        (_, true) => Err(Problem::MultiplePrivateIpv4),
        (_, false) => Err(Problem::MultiplePublicIpv6),
    }
}

/// RFC 1918 (10/8, 172.16/12, 192.168/16) and RFC 6598 shared address space (100.64/10).
pub fn is_private_ipv4(addr: Ipv4Addr) -> bool {
    let [a, b, ..] = addr.octets();
    addr.is_private() || (a == 100 && (64..128).contains(&b))
}

/// A globally routable unicast IPv6 address: not loopback, unspecified, multicast,
/// link-local (fe80::/10), unique-local (fc00::/7) or documentation (2001:db8::/32).
pub fn is_public_ipv6(addr: Ipv6Addr) -> bool {
    let seg = addr.segments();
    !(addr.is_loopback()
        || addr.is_unspecified()
        || addr.is_multicast()
        || (seg[0] & 0xffc0) == 0xfe80
        || (seg[0] & 0xfe00) == 0xfc00
        || (seg[0] == 0x2001 && seg[1] == 0x0db8))
}

/// The addresses of the host's interfaces that are not down and not loopback.
pub fn host_addresses() -> std::io::Result<Vec<IpAddr>> {
    let interfaces = if_addrs::get_if_addrs()?;
    Ok(interfaces
        .into_iter()
        .filter(|i| !i.is_loopback() && i.oper_status != if_addrs::IfOperStatus::Down)
        .map(|i| i.ip())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter()
            .map(|s| s.parse().expect("test address"))
            .collect()
    }

    const ANY4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

    #[test]
    fn specific_bind_is_advertised_as_is() {
        let bind: IpAddr = "192.0.2.7".parse().expect("ip");
        assert_eq!(
            detect_advertise(bind, &ips(&["10.0.0.1", "10.0.0.2"])).ok(),
            Some(bind)
        );
    }

    #[test]
    fn single_private_ipv4_is_picked() {
        let host = ips(&["203.0.113.5", "10.1.2.3", "fe80::1", "2001:4860::1"]);
        assert_eq!(
            detect_advertise(ANY4, &host).ok(),
            Some("10.1.2.3".parse().expect("ip"))
        );
    }

    #[test]
    fn shared_address_space_counts_as_private() {
        let host = ips(&["100.64.0.9", "8.8.8.8"]);
        assert_eq!(
            detect_advertise(ANY4, &host).ok(),
            Some("100.64.0.9".parse().expect("ip"))
        );
        assert!(!is_private_ipv4("100.128.0.1".parse().expect("ip")));
    }

    #[test]
    fn several_private_ipv4_is_an_error_with_consuls_text() {
        // A typical Docker host: the LAN address plus the docker0 bridge.
        let host = ips(&["192.168.1.20", "172.17.0.1"]);
        let err = detect_advertise(ANY4, &host).expect_err("ambiguous");
        assert_eq!(
            err.to_string(),
            "Multiple private IPv4 addresses found. Please configure one with 'bind' and/or 'advertise'."
        );
    }

    #[test]
    fn duplicate_addresses_count_once() {
        let host = ips(&["10.0.0.5", "10.0.0.5"]);
        assert!(detect_advertise(ANY4, &host).is_ok());
    }

    #[test]
    fn no_private_ipv4_is_an_error() {
        let err = detect_advertise(ANY4, &ips(&["203.0.113.5"])).expect_err("none");
        assert_eq!(err.to_string(), "No private IPv4 address found");
        assert!(matches!(
            detect_advertise(ANY4, &[]),
            Err(Problem::NoPrivateIpv4)
        ));
    }

    #[test]
    fn ipv6_any_picks_the_single_public_ipv6() {
        let host = ips(&["10.0.0.1", "fe80::1", "fd00::2", "2a00:1450::5"]);
        assert_eq!(
            detect_advertise(ANY6, &host).ok(),
            Some("2a00:1450::5".parse().expect("ip"))
        );
        assert!(matches!(
            detect_advertise(ANY6, &ips(&["fd00::2"])),
            Err(Problem::NoPublicIpv6)
        ));
        assert!(matches!(
            detect_advertise(ANY6, &ips(&["2a00:1450::5", "2a00:1450::6"])),
            Err(Problem::MultiplePublicIpv6)
        ));
    }

    #[test]
    fn listing_host_addresses_works_and_skips_loopback() {
        let addrs = host_addresses().expect("interfaces can be listed");
        assert!(addrs.iter().all(|a| !a.is_loopback()));
    }
}
