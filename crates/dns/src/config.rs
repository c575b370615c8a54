//! What the DNS interface needs to know, taken from the agent's [`RuntimeConfig`].

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use praetor_agent::config::RuntimeConfig;

/// Settings of the DNS interface (spec/dns.md §10).
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// This agent's datacenter, lower-cased.
    pub datacenter: String,
    /// The served zone, lower-cased, with a trailing dot (`consul.`).
    pub domain: String,
    /// A second served zone, lower-cased, with a trailing dot.
    pub alt_domain: Option<String>,
    /// Upstream resolvers for names outside the zones.
    pub recursors: Vec<SocketAddr>,
    /// Timeout of one recursor exchange.
    pub recursor_timeout: Duration,
    /// Try recursors in random order rather than as listed.
    pub recursor_random: bool,
    /// Read from any server's replica (the default).
    pub allow_stale: bool,
    /// A stale answer older than this is asked again of the leader.
    pub max_stale: Duration,
    /// TTL of node, NS and `addr` records.
    pub node_ttl: Duration,
    /// Per-service TTLs; a key ending in `*` is a prefix.
    pub service_ttl: BTreeMap<String, Duration>,
    /// Set TC when a UDP answer was shortened.
    pub enable_truncate: bool,
    /// Leave out instances with a warning check too.
    pub only_passing: bool,
    /// Cap on answers to non-EDNS UDP questions (at most 8 are ever sent).
    pub udp_answer_limit: usize,
    /// Cap on A/AAAA answers (0: none).
    pub a_record_limit: usize,
    /// Node meta as TXT records in the ADDITIONAL section of A/AAAA/SRV answers.
    pub node_meta_txt: bool,
    /// SOA refresh, retry, expire and minimum TTL, in seconds.
    pub soa: [u32; 4],
    /// This agent as a name server when no `consul` service is registered:
    /// its node name and advertised address (servers only).
    pub self_server: Option<(String, IpAddr)>,
}

impl Default for DnsSettings {
    /// Consul's defaults for datacenter `dc1`, domain `consul.`.
    fn default() -> Self {
        Self {
            datacenter: "dc1".to_owned(),
            domain: "consul.".to_owned(),
            alt_domain: None,
            recursors: Vec::new(),
            recursor_timeout: Duration::from_secs(2),
            recursor_random: false,
            allow_stale: true,
            max_stale: Duration::from_secs(87_600 * 3600),
            node_ttl: Duration::ZERO,
            service_ttl: BTreeMap::new(),
            enable_truncate: false,
            only_passing: false,
            udp_answer_limit: 3,
            a_record_limit: 0,
            node_meta_txt: true,
            soa: [3600, 600, 86400, 0],
            self_server: None,
        }
    }
}

impl DnsSettings {
    /// The DNS part of an agent's configuration. Recursors that do not parse are
    /// skipped with a warning.
    pub fn from_runtime(cfg: &RuntimeConfig) -> Self {
        let dns = &cfg.dns;
        let mut recursors = Vec::new();
        for text in &cfg.recursors {
            match parse_recursor(text) {
                Some(addr) if !recursors.contains(&addr) => recursors.push(addr),
                Some(_) => {}
                None => {
                    tracing::warn!(recursor = %text, "ignoring recursor that is not an IP address")
                }
            }
        }
        Self {
            datacenter: cfg.datacenter.to_ascii_lowercase(),
            domain: zone(&cfg.domain),
            alt_domain: cfg.alt_domain.as_deref().map(zone),
            recursors,
            recursor_timeout: dns.recursor_timeout,
            recursor_random: dns.recursor_strategy_random,
            allow_stale: dns.allow_stale,
            max_stale: dns.max_stale,
            node_ttl: dns.node_ttl,
            service_ttl: dns.service_ttl.clone(),
            enable_truncate: dns.enable_truncate,
            only_passing: dns.only_passing,
            udp_answer_limit: dns.udp_answer_limit as usize,
            a_record_limit: dns.a_record_limit as usize,
            node_meta_txt: dns.enable_additional_node_meta_txt,
            soa: dns.soa,
            self_server: cfg
                .server
                .then(|| (cfg.node_name.clone(), cfg.advertise_addr)),
        }
    }

    /// The TTL of a service's records: its exact name, else the longest `prefix*`
    /// key that matches (`*` matches all), else 0.
    pub fn service_ttl(&self, service: &str) -> u32 {
        if let Some(ttl) = self.service_ttl.get(service) {
            return secs(*ttl);
        }
        self.service_ttl
            .iter()
            .filter_map(|(key, ttl)| {
                let prefix = key.strip_suffix('*')?;
                service.starts_with(prefix).then_some((prefix.len(), *ttl))
            })
            .max_by_key(|(len, _)| *len)
            .map_or(0, |(_, ttl)| secs(ttl))
    }

    /// The TTL of node records, in seconds.
    pub fn node_ttl(&self) -> u32 {
        secs(self.node_ttl)
    }
}

/// A duration as a record TTL (whole seconds, saturating).
fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// A zone name lower-cased with one trailing dot.
fn zone(name: &str) -> String {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    format!("{name}.")
}

/// `ip`, `ip:port`, `[v6]:port` or a bare IPv6 address; port 53 when none is given.
pub fn parse_recursor(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ttl_prefers_exact_then_longest_prefix() {
        let mut s = DnsSettings::default();
        for (k, v) in [("*", 5), ("web", 30), ("db-*", 10), ("db-main*", 20)] {
            s.service_ttl.insert(k.to_owned(), Duration::from_secs(v));
        }
        assert_eq!(s.service_ttl("web"), 30);
        assert_eq!(s.service_ttl("db-x"), 10);
        assert_eq!(s.service_ttl("db-main-1"), 20);
        assert_eq!(s.service_ttl("other"), 5);
        s.service_ttl.remove("*");
        assert_eq!(s.service_ttl("other"), 0);
    }

    #[test]
    fn recursors_get_port_53_by_default() {
        assert_eq!(
            parse_recursor("8.8.8.8"),
            Some("8.8.8.8:53".parse().unwrap_or_else(|_| unreachable!()))
        );
        assert_eq!(
            parse_recursor("127.0.0.1:5353").map(|a| a.port()),
            Some(5353)
        );
        assert_eq!(parse_recursor("::1").map(|a| a.port()), Some(53));
        assert_eq!(parse_recursor("[::1]:54").map(|a| a.port()), Some(54));
        assert_eq!(parse_recursor("dns.example"), None);
    }
}
