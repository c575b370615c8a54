//! Answer limits, EDNS, truncation and shuffling.

use std::collections::HashSet;

use hickory_proto::rr::RecordType;
use praetor_dns::DnsSettings;
use praetor_types::HealthStatus;

use crate::support::*;

async fn five(settings: DnsSettings) -> Fixture {
    let f = Fixture::start(settings).await;
    for i in 1..=5 {
        let id = format!("web{i}");
        f.register(
            &format!("node{i}"),
            &format!("10.0.0.{i}"),
            Some(web(&id, &[], HealthStatus::Passing)),
        )
        .await;
    }
    f
}

#[tokio::test]
async fn plain_udp_gets_three_edns_and_tcp_get_all() {
    let f = five(DnsSettings::default()).await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.answers.len(), 3);
    assert!(!r.metadata.truncation, "TC only with enable_truncate");
    assert!(r.edns.is_none());

    let r = udp(
        f.addr,
        &query("web.service.consul.", RecordType::A, Some(4096)),
    )
    .await;
    assert_eq!(r.answers.len(), 5);
    assert_eq!(r.edns.as_ref().map(|e| e.max_payload()), Some(4096));

    let r = tcp(f.addr, &query("web.service.consul.", RecordType::A, None)).await;
    assert_eq!(r.answers.len(), 5);

    // SRV: additional records follow the surviving answers.
    let r = ask(f.addr, "web.service.consul.", RecordType::SRV).await;
    assert_eq!(r.answers.len(), 3);
    let targets: HashSet<String> = r
        .answers
        .iter()
        .map(|a| a.data.to_string().rsplit(' ').next().unwrap().to_owned())
        .collect();
    let extra: HashSet<String> = r.additionals.iter().map(|a| a.name.to_string()).collect();
    assert_eq!(targets, extra);
    f.stop().await;
}

#[tokio::test]
async fn enable_truncate_sets_tc_when_trimming() {
    let settings = DnsSettings {
        enable_truncate: true,
        ..DnsSettings::default()
    };
    let f = five(settings).await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.answers.len(), 3);
    assert!(r.metadata.truncation);
    let r = udp(
        f.addr,
        &query("web.service.consul.", RecordType::A, Some(4096)),
    )
    .await;
    assert!(!r.metadata.truncation);
    f.stop().await;
}

#[tokio::test]
async fn answers_are_shuffled() {
    let f = five(DnsSettings::default()).await;
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let r = tcp(f.addr, &query("web.service.consul.", RecordType::A, None)).await;
        seen.insert(
            r.answers
                .iter()
                .map(|a| a.data.to_string())
                .collect::<Vec<_>>(),
        );
        if seen.len() > 1 {
            break;
        }
    }
    assert!(seen.len() > 1, "40 answers all in one order");
    f.stop().await;
}

#[tokio::test]
async fn a_record_limit_caps_tcp_answers_too() {
    let settings = DnsSettings {
        a_record_limit: 2,
        ..DnsSettings::default()
    };
    let f = five(settings).await;
    let r = tcp(f.addr, &query("web.service.consul.", RecordType::A, None)).await;
    assert_eq!(r.answers.len(), 2);
    f.stop().await;
}

#[tokio::test]
async fn many_instances_fit_in_512_bytes() {
    let settings = DnsSettings {
        udp_answer_limit: 100,
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    for i in 1..=30 {
        let id = format!("web{i}");
        f.register(
            &format!("a-rather-long-node-name-number-{i}"),
            &format!("10.0.1.{i}"),
            Some(web(&id, &[], HealthStatus::Passing)),
        )
        .await;
    }
    let msg = query("web.service.consul.", RecordType::SRV, None);
    let bytes = udp_raw(
        f.addr,
        &msg.to_vec().unwrap(),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(bytes.len() <= 512, "{} bytes", bytes.len());
    let r = hickory_proto::op::Message::from_vec(&bytes).unwrap();
    assert!(!r.answers.is_empty() && r.answers.len() <= 8);
    assert!(!r.metadata.truncation);
    f.stop().await;
}

#[tokio::test]
async fn edns_client_subnet_is_echoed_with_its_scope() {
    use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption};
    let f = five(DnsSettings::default()).await;
    let subnet = |name: &str| {
        let mut msg = query(name, RecordType::A, Some(1232));
        let ecs = ClientSubnet::new("192.0.2.0".parse().unwrap(), 24, 0);
        msg.edns
            .as_mut()
            .unwrap()
            .options_mut()
            .insert(EdnsOption::Subnet(ecs));
        msg
    };
    let scope =
        |r: &hickory_proto::op::Message| match r.edns.as_ref().unwrap().option(EdnsCode::Subnet) {
            Some(EdnsOption::Subnet(s)) => (s.scope_prefix(), s.addr().to_string()),
            other => panic!("no subnet option: {other:?}"),
        };
    let r = udp(f.addr, &subnet("web.service.consul.")).await;
    assert_eq!(r.answers.len(), 5);
    assert_eq!(scope(&r), (24, "192.0.2.0".to_owned()));
    let r = udp(f.addr, &subnet("nosuch.service.consul.")).await;
    assert_eq!(
        r.metadata.response_code,
        hickory_proto::op::ResponseCode::NXDomain
    );
    assert_eq!(scope(&r).0, 0);
    f.stop().await;
}
