//! Health filtering: critical instances leave the answers and come back.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use praetor_dns::DnsSettings;
use praetor_types::HealthStatus;

use crate::support::*;

#[tokio::test]
async fn a_critical_instance_drops_out_and_comes_back() {
    let f = Fixture::start(DnsSettings::default()).await;
    two_webs(&f).await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.answers.len(), 2);

    f.register(
        "node2",
        "10.0.0.2",
        Some(web("web2", &[], HealthStatus::Critical)),
    )
    .await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.0.0.1"]);
    let r = ask(f.addr, "web.service.consul.", RecordType::SRV).await;
    assert_eq!(
        texts(&r.answers),
        ["web.service.consul. SRV 1 1 80 node1.node.dc1.consul."]
    );

    f.register(
        "node1",
        "10.0.0.1",
        Some(web("web1", &[], HealthStatus::Critical)),
    )
    .await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.authorities[0].record_type(), RecordType::SOA);

    f.register(
        "node2",
        "10.0.0.2",
        Some(web("web2", &[], HealthStatus::Passing)),
    )
    .await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.0.0.2"]);
    f.stop().await;
}

#[tokio::test]
async fn warning_instances_answer_unless_only_passing() {
    for (only_passing, expected) in [(false, 2), (true, 1)] {
        let settings = DnsSettings {
            only_passing,
            ..DnsSettings::default()
        };
        let f = Fixture::start(settings).await;
        f.register(
            "node1",
            "10.0.0.1",
            Some(web("web1", &[], HealthStatus::Passing)),
        )
        .await;
        f.register(
            "node2",
            "10.0.0.2",
            Some(web("web2", &[], HealthStatus::Warning)),
        )
        .await;
        let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
        assert_eq!(r.answers.len(), expected, "only_passing={only_passing}");
        f.stop().await;
    }
}

#[tokio::test]
async fn reads_still_answer_with_allow_stale_off() {
    let settings = DnsSettings {
        allow_stale: false,
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    f.register("node1", "10.0.0.1", None).await;
    let r = ask(f.addr, "node1.node.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["node1.node.consul. A 10.0.0.1"]);
    f.stop().await;
}
