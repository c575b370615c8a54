use std::collections::BTreeMap;

use hickory_proto::rr::RData;
use praetor_types::{HealthCheck, NodeService, Weights};

use super::*;

fn node(name: &str, address: &str) -> Node {
    Node {
        node: name.to_owned(),
        address: address.to_owned(),
        datacenter: "dc1".to_owned(),
        meta: BTreeMap::from([("rack".to_owned(), "r1".to_owned())]),
        ..Node::default()
    }
}

fn instance(
    node_name: &str,
    address: &str,
    svc_addr: &str,
    status: HealthStatus,
) -> CheckServiceNode {
    CheckServiceNode {
        node: node(node_name, address),
        service: NodeService {
            id: "web".to_owned(),
            service: "web".to_owned(),
            address: svc_addr.to_owned(),
            port: 80,
            weights: Weights {
                passing: 10,
                warning: 2,
            },
            ..NodeService::default()
        },
        checks: vec![HealthCheck {
            status,
            ..HealthCheck::default()
        }],
    }
}

fn question<'a>(settings: &'a DnsSettings, name: &str, qtype: RecordType) -> Question<'a> {
    Question {
        settings,
        name: records::fqdn(name).unwrap_or_else(Name::root),
        qtype,
        domain: "consul.",
    }
}

fn texts(records: &[Record]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| format!("{} {} {}", r.name, r.record_type(), r.data))
        .collect();
    v.sort();
    v
}

#[test]
fn node_a_answer_with_meta_in_additional() {
    let s = DnsSettings::default();
    let n = node("node1", "172.20.20.10");
    let reply = question(&s, "node1.node.consul", RecordType::A).node(Some(&n));
    assert_eq!(reply.rcode, ResponseCode::NoError);
    assert_eq!(texts(&reply.answers), ["node1.node.consul. A 172.20.20.10"]);
    assert_eq!(
        texts(&reply.additionals),
        ["node1.node.consul. TXT rack=r1"]
    );
    // AAAA on an IPv4 node: NOERROR, no answer, no SOA, meta still in additional.
    let reply = question(&s, "node1.node.consul", RecordType::AAAA).node(Some(&n));
    assert!(reply.answers.is_empty() && reply.authorities.is_empty());
    assert_eq!(reply.additionals.len(), 1);
    // TXT and ANY put the meta in the answer.
    let reply = question(&s, "node1.node.consul", RecordType::TXT).node(Some(&n));
    assert_eq!(texts(&reply.answers), ["node1.node.consul. TXT rack=r1"]);
    let reply = question(&s, "node1.node.consul", RecordType::ANY).node(Some(&n));
    assert_eq!(reply.answers.len(), 2);
    // MX: NOERROR, nothing.
    let reply = question(&s, "node1.node.consul", RecordType::MX).node(Some(&n));
    assert_eq!(reply, Reply::empty(ResponseCode::NoError, true));
}

#[test]
fn unknown_node_is_nxdomain_with_soa() {
    let s = DnsSettings::default();
    let reply = question(&s, "nosuch.node.consul", RecordType::A).node(None);
    assert_eq!(reply.rcode, ResponseCode::NXDomain);
    assert_eq!(reply.authorities.len(), 1);
    let RData::SOA(soa) = &reply.authorities[0].data else {
        panic!("not an SOA")
    };
    assert_eq!(soa.mname.to_string(), "ns.consul.");
    assert_eq!(soa.rname.to_string(), "hostmaster.consul.");
    assert_eq!(reply.authorities[0].name.to_string(), "consul.");
}

#[test]
fn critical_instances_never_answer_and_warning_only_without_only_passing() {
    let mut s = DnsSettings::default();
    let all = vec![
        instance("node1", "10.0.0.1", "", HealthStatus::Passing),
        instance("node2", "10.0.0.2", "", HealthStatus::Warning),
        instance("node3", "10.0.0.3", "", HealthStatus::Critical),
    ];
    let reply = question(&s, "web.service.consul", RecordType::A).service("web", all.clone());
    assert_eq!(
        texts(&reply.answers),
        [
            "web.service.consul. A 10.0.0.1",
            "web.service.consul. A 10.0.0.2"
        ]
    );
    s.only_passing = true;
    let reply = question(&s, "web.service.consul", RecordType::A).service("web", all);
    assert_eq!(texts(&reply.answers), ["web.service.consul. A 10.0.0.1"]);
    let crit = vec![instance("node3", "10.0.0.3", "", HealthStatus::Critical)];
    let reply = question(&s, "web.service.consul", RecordType::A).service("web", crit);
    assert_eq!(reply.rcode, ResponseCode::NXDomain);
}

#[test]
fn srv_targets_and_additionals() {
    let s = DnsSettings::default();
    let all = vec![
        instance("node1", "10.0.0.1", "", HealthStatus::Passing),
        instance("node2", "10.0.0.2", "192.0.2.10", HealthStatus::Warning),
    ];
    let reply = question(&s, "web.service.consul", RecordType::SRV).service("web", all);
    assert_eq!(
        texts(&reply.answers),
        [
            "web.service.consul. SRV 1 10 80 node1.node.dc1.consul.",
            "web.service.consul. SRV 1 2 80 c000020a.addr.dc1.consul.",
        ]
    );
    assert_eq!(
        texts(&reply.additionals),
        [
            "c000020a.addr.dc1.consul. A 192.0.2.10",
            "node1.node.dc1.consul. A 10.0.0.1",
            "node1.node.dc1.consul. TXT rack=r1",
        ]
    );
}

#[test]
fn duplicates_collapse_and_nodata_has_soa() {
    let s = DnsSettings::default();
    let mut second = instance("node1", "10.0.0.1", "", HealthStatus::Passing);
    second.service.id = "web2".to_owned();
    let all = vec![
        instance("node1", "10.0.0.1", "", HealthStatus::Passing),
        second,
    ];
    let reply = question(&s, "web.service.consul", RecordType::A).service("web", all.clone());
    assert_eq!(reply.answers.len(), 1);
    let reply = question(&s, "web.service.consul", RecordType::AAAA).service("web", all);
    assert_eq!(reply.rcode, ResponseCode::NoError);
    assert!(reply.answers.is_empty());
    assert_eq!(reply.authorities.len(), 1);
}

#[test]
fn ttls_come_from_the_settings() {
    let mut s = DnsSettings::default();
    s.service_ttl
        .insert("*".to_owned(), std::time::Duration::from_secs(5));
    s.node_ttl = std::time::Duration::from_secs(30);
    let reply = question(&s, "web.service.consul", RecordType::A).service(
        "web",
        vec![instance("node1", "10.0.0.1", "", HealthStatus::Passing)],
    );
    assert_eq!(reply.answers[0].ttl, 5);
    let reply =
        question(&s, "node1.node.consul", RecordType::A).node(Some(&node("node1", "10.0.0.1")));
    assert_eq!(reply.answers[0].ttl, 30);
}

#[test]
fn hostname_addresses_become_cnames() {
    let s = DnsSettings::default();
    let reply = question(&s, "web.service.consul", RecordType::A).service(
        "web",
        vec![instance(
            "node1",
            "10.0.0.1",
            "web.example.com",
            HealthStatus::Passing,
        )],
    );
    assert_eq!(
        texts(&reply.answers),
        ["web.service.consul. CNAME web.example.com."]
    );
}

#[test]
fn name_servers_fall_back_to_this_agent() {
    let me = (
        "server1".to_owned(),
        "127.0.0.1".parse().unwrap_or_else(|_| unreachable!()),
    );
    let servers = pick_servers(Vec::new(), Some(&me));
    let s = DnsSettings::default();
    let reply = question(&s, "consul", RecordType::SOA).soa(&servers);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(
        texts(&reply.authorities),
        ["consul. NS server1.node.dc1.consul."]
    );
    assert_eq!(
        texts(&reply.additionals),
        ["server1.node.dc1.consul. A 127.0.0.1"]
    );
}
