//! Building replies from catalog data (spec/dns.md §3–§5, §9). Pure: the catalog rows
//! come in, records go out; the caller fetched the rows and sends the reply.

use std::collections::HashSet;
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use praetor_types::{CheckServiceNode, HealthStatus, Node};
use rand::seq::SliceRandom as _;

use crate::config::DnsSettings;
use crate::name::ip_hex;
use crate::records;

/// A reply before it is fitted to the transport and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The response code.
    pub rcode: ResponseCode,
    /// AA: set for answers from a served zone.
    pub authoritative: bool,
    /// ANSWER section.
    pub answers: Vec<Record>,
    /// AUTHORITY section.
    pub authorities: Vec<Record>,
    /// ADDITIONAL section (without the OPT record).
    pub additionals: Vec<Record>,
}

impl Reply {
    /// An empty reply with `rcode`.
    pub fn empty(rcode: ResponseCode, authoritative: bool) -> Self {
        Self {
            rcode,
            authoritative,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
        }
    }
}

/// The question being answered, and the zone it was asked in.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    /// Settings of the interface.
    pub settings: &'a DnsSettings,
    /// The question name, as asked (answers echo its case).
    pub name: Name,
    /// The question type.
    pub qtype: RecordType,
    /// The domain the question used (`consul.` or the alt domain), with a trailing dot.
    pub domain: &'a str,
}

impl Question<'_> {
    /// NXDOMAIN with the zone's SOA in AUTHORITY.
    pub fn nxdomain(&self) -> Reply {
        let mut reply = Reply::empty(ResponseCode::NXDomain, true);
        reply
            .authorities
            .extend(records::soa(self.settings, self.domain));
        reply
    }

    /// NOERROR, no answer, the SOA in AUTHORITY (RFC 2308 NODATA).
    pub fn nodata(&self) -> Reply {
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        reply
            .authorities
            .extend(records::soa(self.settings, self.domain));
        reply
    }

    fn wants_v4(&self) -> bool {
        matches!(self.qtype, RecordType::A | RecordType::ANY)
    }

    fn wants_v6(&self) -> bool {
        matches!(self.qtype, RecordType::AAAA | RecordType::ANY)
    }

    /// A node lookup: the node's address and meta TXT; `None` is an unknown node.
    pub fn node(&self, node: Option<&Node>) -> Reply {
        let Some(node) = node else {
            return self.nxdomain();
        };
        let ttl = self.settings.node_ttl();
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        let (address, meta_answer, meta_extra) = match self.qtype {
            RecordType::A | RecordType::AAAA => (true, false, self.settings.node_meta_txt),
            RecordType::ANY => (true, true, false),
            RecordType::TXT => (false, true, false),
            _ => (false, false, false),
        };
        if address {
            match node.address.parse::<IpAddr>() {
                Ok(ip)
                    if (ip.is_ipv4() && self.wants_v4()) || (ip.is_ipv6() && self.wants_v6()) =>
                {
                    reply.answers.push(records::address(&self.name, ttl, ip));
                }
                Ok(_) => {}
                Err(_) => {
                    if let Some(target) = records::fqdn(&node.address) {
                        reply.answers.push(records::cname(&self.name, ttl, target));
                    }
                }
            }
        }
        let meta = records::node_meta_txt(&self.name, ttl, &node.meta);
        if meta_answer {
            reply.answers.extend(meta);
        } else if meta_extra {
            reply.additionals.extend(meta);
        }
        reply
    }

    /// A `<hex>.addr` lookup: the address itself, whatever the question type.
    pub fn addr(&self, ip: IpAddr) -> Reply {
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        reply
            .answers
            .push(records::address(&self.name, self.settings.node_ttl(), ip));
        reply
    }

    /// A service lookup over `instances` (every instance of the service, any health):
    /// critical instances (and warning ones with `only_passing`) are left out, the rest
    /// shuffled, then answered as A/AAAA/CNAME or SRV.
    pub fn service(&self, service: &str, mut instances: Vec<CheckServiceNode>) -> Reply {
        let only_passing = self.settings.only_passing;
        instances.retain(|csn| match csn.aggregate_status() {
            HealthStatus::Passing => true,
            HealthStatus::Warning => !only_passing,
            HealthStatus::Critical => false,
        });
        if instances.is_empty() {
            return self.nxdomain();
        }
        instances.shuffle(&mut rand::rng());
        let ttl = self.settings.service_ttl(service);
        let reply = match self.qtype {
            RecordType::SRV => self.srv_records(&instances, ttl),
            RecordType::A | RecordType::AAAA | RecordType::ANY | RecordType::TXT => {
                self.address_records(&instances, ttl)
            }
            _ => Reply::empty(ResponseCode::NoError, true),
        };
        if reply.answers.is_empty() {
            return self.nodata();
        }
        reply
    }

    fn address_records(&self, instances: &[CheckServiceNode], ttl: u32) -> Reply {
        let (v4, v6) = match self.qtype {
            RecordType::A => (true, false),
            RecordType::AAAA => (false, true),
            _ => (true, true),
        };
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        let mut seen = HashSet::new();
        let mut cnames = Vec::new();
        let limit = match self.settings.a_record_limit {
            0 => usize::MAX,
            n => n,
        };
        for csn in instances {
            let text = instance_address(csn);
            match text.parse::<IpAddr>() {
                Ok(ip) => {
                    if ((ip.is_ipv4() && v4) || (ip.is_ipv6() && v6))
                        && reply.answers.len() < limit
                        && seen.insert(ip)
                    {
                        reply.answers.push(records::address(&self.name, ttl, ip));
                    }
                }
                Err(_) => {
                    if let Some(target) = records::fqdn(text)
                        && !cnames
                            .iter()
                            .any(|r: &Record| r.data.to_string() == target.to_string())
                    {
                        cnames.push(records::cname(&self.name, ttl, target));
                    }
                }
            }
        }
        if reply.answers.is_empty() {
            cnames.truncate(1.max(limit.min(cnames.len())));
            reply.answers = cnames;
        }
        reply
    }

    fn srv_records(&self, instances: &[CheckServiceNode], ttl: u32) -> Reply {
        let dc = &self.settings.datacenter;
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        let mut seen = HashSet::new();
        let mut extra_seen = HashSet::new();
        for csn in instances {
            let text = instance_address(csn);
            let port = csn.service.port;
            if !seen.insert((csn.node.node.as_str(), text, port)) {
                continue;
            }
            let weights = csn.service.weights;
            let weight = match csn.aggregate_status() {
                HealthStatus::Warning => weights.warning,
                _ => weights.passing,
            };
            let weight = u16::try_from(weight.max(0)).unwrap_or(u16::MAX);
            let ip = text.parse::<IpAddr>().ok();
            let (target, node_target) = match ip {
                Some(_) if csn.service.address.is_empty() => {
                    (records::node_name(&csn.node.node, dc, self.domain), true)
                }
                Some(ip) => (
                    records::fqdn(&format!("{}.addr.{dc}.{}", ip_hex(ip), self.domain)),
                    false,
                ),
                None => (records::fqdn(text), false),
            };
            let Some(target) = target else { continue };
            reply
                .answers
                .push(records::srv(&self.name, ttl, weight, port, target.clone()));
            if !extra_seen.insert(target.clone()) {
                continue;
            }
            if let Some(ip) = ip {
                reply.additionals.push(records::address(&target, ttl, ip));
            }
            if node_target && self.settings.node_meta_txt {
                reply
                    .additionals
                    .extend(records::node_meta_txt(&target, ttl, &csn.node.meta));
            }
        }
        reply
    }

    /// The SOA question: SOA in ANSWER, NS in AUTHORITY, glue in ADDITIONAL.
    pub fn soa(&self, servers: &[(String, IpAddr)]) -> Reply {
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        reply
            .answers
            .extend(records::soa(self.settings, self.domain));
        let (ns, glue) = records::name_servers(self.settings, self.domain, servers);
        reply.authorities = ns;
        reply.additionals = glue;
        reply
    }

    /// The NS question: NS in ANSWER, glue in ADDITIONAL.
    pub fn ns(&self, servers: &[(String, IpAddr)]) -> Reply {
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        let (ns, glue) = records::name_servers(self.settings, self.domain, servers);
        reply.answers = ns;
        reply.additionals = glue;
        reply
    }
}

/// The address an instance is reached at: the service's, else its node's.
pub fn instance_address(csn: &CheckServiceNode) -> &str {
    if csn.service.address.is_empty() {
        &csn.node.address
    } else {
        &csn.service.address
    }
}

/// Up to three healthy servers (`consul` service instances) as `(node, address)`,
/// randomly chosen; the fallback when none are registered.
pub fn pick_servers(
    mut instances: Vec<CheckServiceNode>,
    fallback: Option<&(String, IpAddr)>,
) -> Vec<(String, IpAddr)> {
    instances.retain(|csn| csn.aggregate_status() != HealthStatus::Critical);
    instances.shuffle(&mut rand::rng());
    let mut servers: Vec<(String, IpAddr)> = Vec::new();
    for csn in instances {
        if let Ok(ip) = csn.node.address.parse::<IpAddr>()
            && !servers.iter().any(|(n, _)| *n == csn.node.node)
        {
            servers.push((csn.node.node.clone(), ip));
        }
        if servers.len() == 3 {
            break;
        }
    }
    if servers.is_empty()
        && let Some(me) = fallback
    {
        servers.push(me.clone());
    }
    servers
}

#[cfg(test)]
mod tests;
