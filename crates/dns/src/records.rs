//! Record builders: address, CNAME, SRV, TXT (node meta), SOA, NS, PTR.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record};

use crate::config::DnsSettings;

/// A fully qualified name from text (a trailing dot is added); `None` if it is not a
/// valid DNS name.
pub fn fqdn(text: &str) -> Option<Name> {
    let mut name = if text.ends_with('.') {
        Name::from_ascii(text).ok()?
    } else {
        Name::from_ascii(format!("{text}.")).ok()?
    };
    name.set_fqdn(true);
    Some(name)
}

/// An A or AAAA record for `ip`.
pub fn address(name: &Name, ttl: u32, ip: IpAddr) -> Record {
    let data = match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(name.clone(), ttl, data)
}

/// A CNAME record pointing at `target`.
pub fn cname(name: &Name, ttl: u32, target: Name) -> Record {
    Record::from_rdata(name.clone(), ttl, RData::CNAME(CNAME(target)))
}

/// An SRV record with Consul's priority 1.
pub fn srv(name: &Name, ttl: u32, weight: u16, port: u16, target: Name) -> Record {
    Record::from_rdata(
        name.clone(),
        ttl,
        RData::SRV(SRV::new(1, weight, port, target)),
    )
}

/// A PTR record.
pub fn ptr(name: &Name, target: Name) -> Record {
    Record::from_rdata(name.clone(), 0, RData::PTR(PTR(target)))
}

/// One TXT record per node meta entry: `key=value` per RFC 1464, or the bare value
/// for `rfc1035-` keys.
pub fn node_meta_txt(name: &Name, ttl: u32, meta: &BTreeMap<String, String>) -> Vec<Record> {
    meta.iter()
        .map(|(key, value)| {
            let text = if key.starts_with("rfc1035-") {
                value.clone()
            } else {
                rfc1464(key, value)
            };
            Record::from_rdata(name.clone(), ttl, RData::TXT(TXT::new(vec![text])))
        })
        .collect()
}

/// RFC 1464 `key=value`: backquotes and `=` in the key, leading and trailing spaces of
/// the key, and backquotes in the value are escaped with a backquote.
pub fn rfc1464(key: &str, value: &str) -> String {
    let key = key.replace('`', "``").replace('=', "`=");
    let leading = key.len() - key.trim_start_matches(' ').len();
    let trimmed = key.trim_start_matches(' ');
    let trailing = trimmed.len() - trimmed.trim_end_matches(' ').len();
    let core = trimmed.trim_end_matches(' ');
    format!(
        "{}{}{}={}",
        "` ".repeat(leading),
        core,
        "` ".repeat(trailing),
        value.replace('`', "``")
    )
}

/// The zone's SOA record (`ns.<domain>. hostmaster.<domain>.`, serial = now).
pub fn soa(settings: &DnsSettings, domain: &str) -> Option<Record> {
    let zone = fqdn(domain)?;
    let mname = fqdn(&format!("ns.{domain}"))?;
    let rname = fqdn(&format!("hostmaster.{domain}"))?;
    let serial = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let [refresh, retry, expire, min_ttl] = settings.soa;
    let data = SOA::new(
        mname,
        rname,
        serial,
        i32::try_from(refresh).unwrap_or(i32::MAX),
        i32::try_from(retry).unwrap_or(i32::MAX),
        i32::try_from(expire).unwrap_or(i32::MAX),
        min_ttl,
    );
    Some(Record::from_rdata(zone, min_ttl, RData::SOA(data)))
}

/// NS records for the zone (`<domain>. NS <node>.node.<dc>.<domain>.`) and their glue.
pub fn name_servers(
    settings: &DnsSettings,
    domain: &str,
    servers: &[(String, IpAddr)],
) -> (Vec<Record>, Vec<Record>) {
    let Some(zone) = fqdn(domain) else {
        return (Vec::new(), Vec::new());
    };
    let ttl = settings.node_ttl();
    let mut ns = Vec::new();
    let mut glue = Vec::new();
    for (node, ip) in servers {
        let Some(target) = node_name(node, &settings.datacenter, domain) else {
            continue;
        };
        ns.push(Record::from_rdata(
            zone.clone(),
            ttl,
            RData::NS(NS(target.clone())),
        ));
        glue.push(address(&target, ttl, *ip));
    }
    (ns, glue)
}

/// `<node>.node.<dc>.<domain>.`
pub fn node_name(node: &str, dc: &str, domain: &str) -> Option<Name> {
    fqdn(&format!("{node}.node.{dc}.{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1464_escapes_keys_and_values() {
        assert_eq!(rfc1464("rack", "r1"), "rack=r1");
        assert_eq!(
            rfc1464("consul-network-segment", ""),
            "consul-network-segment="
        );
        assert_eq!(rfc1464("a=b", "c"), "a`=b=c");
        assert_eq!(rfc1464("a`b", "c`d"), "a``b=c``d");
        assert_eq!(rfc1464("  k ", "v"), "` ` k` =v");
    }

    #[test]
    fn rfc1035_keys_carry_only_the_value() {
        let name = fqdn("n.node.consul").unwrap_or_else(Name::root);
        let meta = BTreeMap::from([("rfc1035-x".to_owned(), "v=1".to_owned())]);
        let recs = node_meta_txt(&name, 0, &meta);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].data.to_string(), "v=1");
    }
}
