//! Consul's DNS name grammar (spec/dns.md §2): which zone a question is in and what it
//! asks for. Pure: labels in, a [`Route`] out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind labels, scanned for right to left.
const KINDS: [&str; 7] = [
    "service", "connect", "virtual", "ingress", "node", "query", "addr",
];

/// Where a question goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Inside a served zone; `alt` when the question used the alternative domain.
    Zone {
        /// The question asked the alternative domain.
        alt: bool,
        /// What the name asks for.
        lookup: Lookup,
    },
    /// A reverse (`in-addr.arpa.` / `ip6.arpa.`) name; `None` when it names no address.
    Reverse(Option<IpAddr>),
    /// Outside every served zone: recursors or REFUSED.
    Outside,
}

/// A name inside a served zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The zone apex itself.
    Apex,
    /// `<node>.node[.<dc>]`.
    Node {
        /// The node name (labels joined with `.`).
        node: String,
        /// The datacenter named, if any.
        dc: Option<String>,
    },
    /// `[<tag>.]<service>.service[.<dc>]` and the RFC 2782 forms.
    Service {
        /// The service name.
        service: String,
        /// The one tag to filter on.
        tag: Option<String>,
        /// The datacenter named, if any.
        dc: Option<String>,
    },
    /// `<hex-ip>.addr[.<dc>]`.
    Addr(IpAddr),
    /// A kind this agent has nothing for (prepared queries, connect, ingress, virtual,
    /// peers): NXDOMAIN.
    Unsupported,
    /// A name that does not parse: NXDOMAIN.
    Invalid,
}

/// The zones an agent serves, lower-cased with trailing dots.
#[derive(Debug, Clone)]
pub struct Zones {
    domain: Vec<String>,
    alt: Option<Vec<String>>,
}

impl Zones {
    /// `domain` and an optional `alt_domain` (`consul.`, lower-case).
    pub fn new(domain: &str, alt: Option<&str>) -> Self {
        Self {
            domain: split(domain),
            alt: alt.map(split),
        }
    }

    /// Routes a question name (labels, any case, root excluded); `srv` tells whether the
    /// question type is SRV (the RFC 2782 form may then omit the `service` label).
    pub fn route(&self, labels: &[String], srv: bool) -> Route {
        let lower: Vec<String> = labels.iter().map(|l| l.to_ascii_lowercase()).collect();
        let mut best: Option<(usize, bool)> = None;
        for (zone, alt) in
            std::iter::once((&self.domain, false)).chain(self.alt.iter().map(|z| (z, true)))
        {
            if lower.len() >= zone.len()
                && lower[lower.len() - zone.len()..] == zone[..]
                && best.is_none_or(|(len, _)| zone.len() > len)
            {
                best = Some((zone.len(), alt));
            }
        }
        if let Some((len, alt)) = best {
            let rest: Vec<&str> = lower[..lower.len() - len]
                .iter()
                .map(String::as_str)
                .collect();
            return Route::Zone {
                alt,
                lookup: parse_lookup(&rest, srv),
            };
        }
        let n = lower.len();
        if n >= 2 && lower[n - 1] == "arpa" && (lower[n - 2] == "in-addr" || lower[n - 2] == "ip6")
        {
            let body: Vec<&str> = lower[..n - 2].iter().map(String::as_str).collect();
            let ip = if lower[n - 2] == "in-addr" {
                reverse_v4(&body)
            } else {
                reverse_v6(&body)
            };
            return Route::Reverse(ip);
        }
        Route::Outside
    }
}

fn split(zone: &str) -> Vec<String> {
    zone.trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Parses the labels left of the zone.
fn parse_lookup(labels: &[&str], srv: bool) -> Lookup {
    if labels.is_empty() {
        return Lookup::Apex;
    }
    if labels.iter().any(|l| l.is_empty()) {
        return Lookup::Invalid;
    }
    let Some(kind_at) = labels.iter().rposition(|l| KINDS.contains(l)) else {
        // `_web._tcp[.dc].consul` for SRV questions only.
        if srv && labels.len() >= 2 && labels[0].starts_with('_') && labels[1].starts_with('_') {
            return match locality(&labels[2..]) {
                Some(Locality::Dc(dc)) => service_lookup(&labels[..2], dc),
                Some(Locality::Peer) => Lookup::Unsupported,
                None => Lookup::Invalid,
            };
        }
        return Lookup::Invalid;
    };
    let parts = &labels[..kind_at];
    let dc = match locality(&labels[kind_at + 1..]) {
        Some(Locality::Dc(dc)) => dc,
        Some(Locality::Peer) => return Lookup::Unsupported,
        None => return Lookup::Invalid,
    };
    match labels[kind_at] {
        "node" if !parts.is_empty() => Lookup::Node {
            node: parts.join("."),
            dc,
        },
        "service" if !parts.is_empty() => service_lookup(parts, dc),
        "addr" if parts.len() == 1 => hex_ip(parts[0]).map_or(Lookup::Invalid, Lookup::Addr),
        "query" | "connect" | "ingress" | "virtual" if !parts.is_empty() => Lookup::Unsupported,
        _ => Lookup::Invalid,
    }
}

fn service_lookup(parts: &[&str], dc: Option<String>) -> Lookup {
    let n = parts.len();
    if n == 2 && parts[0].starts_with('_') && parts[1].starts_with('_') {
        let tag = &parts[1][1..];
        return Lookup::Service {
            service: parts[0][1..].to_owned(),
            tag: (tag != "tcp" && !tag.is_empty()).then(|| tag.to_owned()),
            dc,
        };
    }
    Lookup::Service {
        service: parts[n - 1].to_owned(),
        tag: (n >= 2).then(|| parts[..n - 1].join(".")),
        dc,
    }
}

enum Locality {
    Dc(Option<String>),
    Peer,
}

/// The labels right of the kind label: none, `<dc>`, `<dc>.dc` or `<peer>.peer`.
fn locality(labels: &[&str]) -> Option<Locality> {
    match labels {
        [] => Some(Locality::Dc(None)),
        [dc] => Some(Locality::Dc(Some((*dc).to_owned()))),
        [dc, "dc"] => Some(Locality::Dc(Some((*dc).to_owned()))),
        [_, "peer"] => Some(Locality::Peer),
        _ => None,
    }
}

/// 8 hex digits as IPv4, 32 as IPv6.
fn hex_ip(text: &str) -> Option<IpAddr> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match text.len() {
        8 => u32::from_str_radix(text, 16)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        32 => u128::from_str_radix(text, 16)
            .ok()
            .map(|v| IpAddr::V6(Ipv6Addr::from(v))),
        _ => None,
    }
}

/// The `addr` label for an address: 8 or 32 lower-case hex digits.
pub fn ip_hex(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{:08x}", u32::from(v4)),
        IpAddr::V6(v6) => format!("{:032x}", u128::from(v6)),
    }
}

/// `d.c.b.a` (as labels) → `a.b.c.d`.
fn reverse_v4(labels: &[&str]) -> Option<IpAddr> {
    if labels.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, label) in labels.iter().rev().enumerate() {
        if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        octets[i] = label.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// 32 reversed nibbles → an IPv6 address.
fn reverse_v6(labels: &[&str]) -> Option<IpAddr> {
    if labels.len() != 32 {
        return None;
    }
    let mut value: u128 = 0;
    for label in labels.iter().rev() {
        let [b] = label.as_bytes() else { return None };
        let nibble = char::from(*b).to_digit(16)?;
        value = (value << 4) | u128::from(nibble);
    }
    Some(IpAddr::V6(Ipv6Addr::from(value)))
}

#[cfg(test)]
mod tests;
