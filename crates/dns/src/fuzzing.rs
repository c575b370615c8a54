//! The query path without sockets or a catalog, for the fuzz target and the bench:
//! raw bytes → request parse → name routing → reply building → trimming → encoding.

use std::net::SocketAddr;

use hickory_net::xfer::Protocol;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::RecordType;
use hickory_server::server::Request;
use praetor_types::{CheckServiceNode, HealthCheck, HealthStatus, Node, NodeService};

use crate::answer::Question;
use crate::config::DnsSettings;
use crate::name::{Lookup, Route, Zones};
use crate::trim::{self, Limits};

/// A small fixed catalog: `n` instances of `web` on nodes `node<i>` (every third
/// warning, every fifth critical).
pub fn sample_instances(n: usize) -> Vec<CheckServiceNode> {
    (0..n)
        .map(|i| CheckServiceNode {
            node: Node {
                node: format!("node{i}"),
                address: format!("10.0.{}.{}", i / 250, i % 250 + 1),
                datacenter: "dc1".to_owned(),
                meta: [("rack".to_owned(), format!("r{}", i % 3))].into(),
                ..Node::default()
            },
            service: NodeService {
                id: format!("web{i}"),
                service: "web".to_owned(),
                port: 80,
                address: if i % 4 == 0 {
                    format!("192.0.2.{}", i % 250 + 1)
                } else {
                    String::new()
                },
                ..NodeService::default()
            },
            checks: vec![HealthCheck {
                status: match i {
                    i if i % 5 == 4 => HealthStatus::Critical,
                    i if i % 3 == 2 => HealthStatus::Warning,
                    _ => HealthStatus::Passing,
                },
                ..HealthCheck::default()
            }],
        })
        .collect()
}

/// Answers one question from `instances` (a service lookup) or their first node
/// (a node lookup), fitted to `limits`, encoded.
pub fn answer_question(
    settings: &DnsSettings,
    zones: &Zones,
    query: &Query,
    edns: Option<&Edns>,
    udp: bool,
    instances: &[CheckServiceNode],
) -> Vec<u8> {
    let labels: Vec<String> = query
        .name()
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let qtype = query.query_type();
    let route = zones.route(&labels, qtype == RecordType::SRV);
    let Route::Zone { alt, lookup } = route else {
        return Vec::new();
    };
    let domain = match (&settings.alt_domain, alt) {
        (Some(d), true) => d.as_str(),
        _ => settings.domain.as_str(),
    };
    let q = Question {
        settings,
        name: query.name().clone(),
        qtype,
        domain,
    };
    let mut reply = match lookup {
        Lookup::Node { node, .. } => {
            q.node(instances.iter().map(|i| &i.node).find(|n| n.node == node))
        }
        Lookup::Service { service, .. } if service == "web" => {
            q.service(&service, instances.to_vec())
        }
        Lookup::Addr(ip) => q.addr(ip),
        Lookup::Apex => q.soa(&[]),
        _ => q.nxdomain(),
    };
    let limits = Limits::new(
        udp,
        edns.map(Edns::max_payload),
        settings.udp_answer_limit,
        qtype == RecordType::SRV,
    );
    trim::fit(&mut reply, query, edns, limits);
    let mut msg = Message::new(0, MessageType::Response, OpCode::Query);
    msg.queries.push(query.clone());
    msg.answers = reply.answers;
    msg.authorities = reply.authorities;
    msg.additionals = reply.additionals;
    msg.edns = edns.cloned();
    msg.to_vec().unwrap_or_default()
}

/// Parses `bytes` as the server does and answers every question in it from a sample
/// catalog; malformed input is simply rejected. Must never panic.
pub fn answer_packet(bytes: &[u8]) -> usize {
    let src = SocketAddr::from(([127, 0, 0, 1], 53));
    let Ok(request) = Request::from_bytes(bytes.to_vec(), src, Protocol::Udp) else {
        return 0;
    };
    let settings = DnsSettings {
        alt_domain: Some("example.internal.".to_owned()),
        ..DnsSettings::default()
    };
    let zones = Zones::new(&settings.domain, settings.alt_domain.as_deref());
    let instances = sample_instances(12);
    request
        .queries
        .queries()
        .iter()
        .map(|q| {
            answer_question(
                &settings,
                &zones,
                q.original(),
                request.edns.as_ref(),
                true,
                &instances,
            )
            .len()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::Name;

    use super::*;

    #[test]
    fn a_valid_packet_gets_an_answer_and_garbage_does_not_panic() {
        let mut m = Message::query();
        m.add_query(Query::query(
            Name::from_ascii("web.service.consul.").unwrap_or_else(|_| Name::root()),
            RecordType::SRV,
        ));
        let bytes = m.to_vec().unwrap_or_default();
        assert!(answer_packet(&bytes) > 0);
        assert!(answer_packet(&bytes) <= 512);
        for len in 0..bytes.len() {
            let _ = answer_packet(&bytes[..len]);
        }
        assert_eq!(answer_packet(&[0xff; 40]), 0);
    }
}
