//! The tutorials' lookups and the rest of the name grammar.

use std::net::{IpAddr, Ipv4Addr};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use praetor_dns::DnsSettings;
use praetor_types::HealthStatus;

use crate::support::*;

async fn tutorial() -> Fixture {
    let settings = DnsSettings {
        alt_domain: Some("example.internal.".to_owned()),
        self_server: Some((
            "node1".to_owned(),
            IpAddr::V4(Ipv4Addr::new(172, 20, 20, 10)),
        )),
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    f.register(
        "node1",
        "172.20.20.10",
        Some(web("web1", &[], HealthStatus::Passing)),
    )
    .await;
    f.register(
        "node2",
        "172.20.20.11",
        Some(web("web2", &["rails"], HealthStatus::Passing)),
    )
    .await;
    f.register(
        "node3",
        "172.20.20.12",
        Some(web("web3", &[], HealthStatus::Critical)),
    )
    .await;
    f
}

#[tokio::test]
async fn node_lookups_answer_a_with_meta_txt() {
    let f = tutorial().await;
    for name in [
        "node1.node.consul.",
        "node1.node.dc1.consul.",
        "node1.node.dc1.dc.consul.",
        "NODE1.Node.Consul.",
    ] {
        let r = ask(f.addr, name, RecordType::A).await;
        assert_eq!(r.metadata.response_code, ResponseCode::NoError, "{name}");
        assert!(r.metadata.authoritative);
        // Answers echo the question's case.
        assert_eq!(texts(&r.answers), [format!("{name} A 172.20.20.10")]);
        assert_eq!(texts(&r.additionals), [format!("{name} TXT rack=r1")]);
    }
    let r = ask(f.addr, "nosuch.node.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.authorities.len(), 1);
    assert_eq!(r.authorities[0].record_type(), RecordType::SOA);
    // Catalog names are matched case-insensitively too.
    f.register("MixedCase", "172.20.20.30", None).await;
    let r = ask(f.addr, "mixedcase.node.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["mixedcase.node.consul. A 172.20.20.30"]);
    let r = ask(f.addr, "node1.node.dc2.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    f.stop().await;
}

#[tokio::test]
async fn service_and_tag_lookups_leave_out_critical_instances() {
    let f = tutorial().await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        texts(&r.answers),
        [
            "web.service.consul. A 172.20.20.10",
            "web.service.consul. A 172.20.20.11"
        ]
    );
    let r = ask(f.addr, "rails.web.service.consul.", RecordType::A).await;
    assert_eq!(
        texts(&r.answers),
        ["rails.web.service.consul. A 172.20.20.11"]
    );
    let r = ask(f.addr, "nosuchtag.web.service.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.authorities[0].record_type(), RecordType::SOA);
    let r = ask(f.addr, "web.service.dc2.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    let r = ask(f.addr, "nosuch.service.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    f.stop().await;
}

#[tokio::test]
async fn srv_lookups_carry_additional_addresses() {
    let f = tutorial().await;
    for name in [
        "web.service.consul.",
        "_web._tcp.service.consul.",
        "_web._tcp.consul.",
    ] {
        let r = ask(f.addr, name, RecordType::SRV).await;
        assert_eq!(r.metadata.response_code, ResponseCode::NoError, "{name}");
        assert_eq!(
            texts(&r.answers),
            [
                format!("{name} SRV 1 1 80 node1.node.dc1.consul."),
                format!("{name} SRV 1 1 80 node2.node.dc1.consul."),
            ]
        );
        assert_eq!(
            texts(&r.additionals),
            [
                "node1.node.dc1.consul. A 172.20.20.10",
                "node1.node.dc1.consul. TXT rack=r1",
                "node2.node.dc1.consul. A 172.20.20.11",
                "node2.node.dc1.consul. TXT rack=r1",
            ]
        );
    }
    let r = ask(f.addr, "_web._rails.service.consul.", RecordType::SRV).await;
    assert_eq!(
        texts(&r.answers),
        ["_web._rails.service.consul. SRV 1 1 80 node2.node.dc1.consul."]
    );
    f.stop().await;
}

#[tokio::test]
async fn srv_target_is_the_addr_name_for_an_explicit_service_address() {
    let f = Fixture::start(DnsSettings::default()).await;
    let mut inst = web("web1", &[], HealthStatus::Passing);
    inst.address = "192.0.2.10";
    f.register("node1", "172.20.20.10", Some(inst)).await;
    let r = ask(f.addr, "web.service.consul.", RecordType::SRV).await;
    assert_eq!(
        texts(&r.answers),
        ["web.service.consul. SRV 1 1 80 c000020a.addr.dc1.consul."]
    );
    assert_eq!(
        texts(&r.additionals),
        ["c000020a.addr.dc1.consul. A 192.0.2.10"]
    );
    let r = ask(f.addr, "c000020a.addr.dc1.consul.", RecordType::A).await;
    assert_eq!(
        texts(&r.answers),
        ["c000020a.addr.dc1.consul. A 192.0.2.10"]
    );
    f.stop().await;
}

#[tokio::test]
async fn soa_ns_ptr_and_nodata() {
    let f = tutorial().await;
    let r = ask(f.addr, "consul.", RecordType::SOA).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    let RData::SOA(soa) = &r.answers[0].data else {
        panic!("no SOA: {r:?}")
    };
    assert_eq!(soa.mname.to_string(), "ns.consul.");
    assert_eq!(soa.rname.to_string(), "hostmaster.consul.");
    assert_eq!(texts(&r.authorities), ["consul. NS node1.node.dc1.consul."]);
    assert_eq!(
        texts(&r.additionals),
        ["node1.node.dc1.consul. A 172.20.20.10"]
    );
    let r = ask(f.addr, "consul.", RecordType::NS).await;
    assert_eq!(texts(&r.answers), ["consul. NS node1.node.dc1.consul."]);

    let r = ask(f.addr, "10.20.20.172.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(
        texts(&r.answers),
        ["10.20.20.172.in-addr.arpa. PTR node1.node.dc1.consul."]
    );
    let r = ask(f.addr, "99.20.20.172.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);

    // NODATA: instances exist, no AAAA: NOERROR with the SOA.
    let r = ask(f.addr, "web.service.consul.", RecordType::AAAA).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty());
    assert_eq!(r.authorities[0].record_type(), RecordType::SOA);
    // A node with an unsupported type: NOERROR, nothing, no SOA.
    let r = ask(f.addr, "node1.node.consul.", RecordType::MX).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty() && r.authorities.is_empty());
    // Unparsable names in the zone: NXDOMAIN.
    let r = ask(f.addr, "whatever.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    f.stop().await;
}

#[tokio::test]
async fn alt_domain_answers_echo_the_asked_domain() {
    let f = tutorial().await;
    let r = ask(f.addr, "web.service.example.internal.", RecordType::SRV).await;
    assert_eq!(
        texts(&r.answers),
        [
            "web.service.example.internal. SRV 1 1 80 node1.node.dc1.example.internal.",
            "web.service.example.internal. SRV 1 1 80 node2.node.dc1.example.internal.",
        ]
    );
    let r = ask(f.addr, "nosuch.node.example.internal.", RecordType::A).await;
    assert_eq!(r.authorities[0].name.to_string(), "example.internal.");
    f.stop().await;
}

#[tokio::test]
async fn tcp_answers_too() {
    let f = tutorial().await;
    let r = tcp(f.addr, &query("web.service.consul.", RecordType::SRV, None)).await;
    assert_eq!(r.answers.len(), 2);
    assert_eq!(r.additionals.len(), 4);
    let r = tcp(f.addr, &query("node1.node.consul.", RecordType::A, None)).await;
    assert_eq!(texts(&r.answers), ["node1.node.consul. A 172.20.20.10"]);
    f.stop().await;
}

#[tokio::test]
async fn hickory_resolver_resolves_service_names() {
    use hickory_net::runtime::TokioRuntimeProvider;
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    let f = tutorial().await;
    let mut ns = NameServerConfig::udp_and_tcp(f.addr.ip());
    for c in &mut ns.connections {
        c.port = f.addr.port();
    }
    let cfg = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    let resolver =
        hickory_resolver::Resolver::builder_with_config(cfg, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .unwrap();
    let mut ips: Vec<IpAddr> = resolver
        .lookup_ip("web.service.consul.")
        .await
        .unwrap()
        .iter()
        .collect();
    ips.sort();
    assert_eq!(
        ips,
        [
            IpAddr::V4(Ipv4Addr::new(172, 20, 20, 10)),
            IpAddr::V4(Ipv4Addr::new(172, 20, 20, 11))
        ]
    );
    f.stop().await;
}
