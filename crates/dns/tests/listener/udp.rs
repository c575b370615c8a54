//! The UDP receive loops and their answer cache: many questions in flight from several
//! sockets, malformed datagrams between good ones, and cached answers that never
//! outlive a catalog change nor answer a different question.

use std::collections::HashMap;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use praetor_dns::DnsSettings;
use praetor_types::{DeregisterRequest, HealthStatus};
use tokio::net::UdpSocket;

use crate::support::*;

/// How long the concurrent test waits for a reply.
const ALL_REPLIES: Duration = Duration::from_secs(10);
/// Questions asked per socket, and kept outstanding at once.
const PER_SOCKET: u16 = 200;
const IN_FLIGHT: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_questions_from_several_sockets_get_their_own_answers() {
    let f = Fixture::start(DnsSettings::default()).await;
    two_webs(&f).await;
    let names = [
        ("web.service.consul.", RecordType::A),
        ("WEB.service.consul.", RecordType::A),
        ("web.service.consul.", RecordType::SRV),
        ("node1.node.consul.", RecordType::A),
        ("nope.service.consul.", RecordType::A),
    ];
    let mut clients = Vec::new();
    for s in 0..6u16 {
        let addr = f.addr;
        clients.push(tokio::spawn(async move {
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut asked = HashMap::new();
            let mut buf = vec![0u8; 65535];
            let mut next = 0u16;
            while next < PER_SOCKET || !asked.is_empty() {
                // Keep IN_FLIGHT questions outstanding (a bound, as UDP buffers are).
                while next < PER_SOCKET && asked.len() < IN_FLIGHT {
                    let (name, qtype) = names[usize::from(next) % names.len()];
                    let mut q = query(name, qtype, next.is_multiple_of(2).then_some(1232));
                    let id = s * 1000 + next;
                    q.metadata.id = id;
                    sock.send_to(&q.to_vec().unwrap(), addr).await.unwrap();
                    asked.insert(id, (name, qtype));
                    next += 1;
                }
                let (n, _) = tokio::time::timeout(ALL_REPLIES, sock.recv_from(&mut buf))
                    .await
                    .expect("every question answered")
                    .unwrap();
                let reply = Message::from_vec(&buf[..n]).unwrap();
                let (name, qtype) = asked
                    .remove(&reply.metadata.id)
                    .expect("a reply to a question asked, once");
                let q = &reply.queries[0];
                assert_eq!(
                    q.name().to_string(),
                    name,
                    "the question is echoed as asked"
                );
                assert_eq!(q.query_type(), qtype);
                assert_eq!(
                    reply.edns.is_some(),
                    reply.metadata.id.is_multiple_of(2),
                    "OPT only for EDNS questions"
                );
                let expected = match (name, qtype) {
                    ("nope.service.consul.", _) => 0,
                    ("node1.node.consul.", _) => 1,
                    _ => 2,
                };
                assert_eq!(reply.answers.len(), expected, "{name} {qtype}");
                for r in &reply.answers {
                    assert_eq!(r.name.to_string(), name);
                    assert_eq!(r.record_type(), qtype);
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    f.stop().await;
}

#[tokio::test]
async fn a_malformed_datagram_does_not_disturb_the_next_question() {
    let f = Fixture::start(DnsSettings::default()).await;
    two_webs(&f).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let good = query("web.service.consul.", RecordType::A, None);
    // A header announcing a question that is cut short, then a good question, sent
    // back to back from the same socket.
    let mut bad = good.to_vec().unwrap();
    bad.truncate(20);
    bad[..2].copy_from_slice(&[0xBE, 0xEF]);
    sock.send_to(&bad, f.addr).await.unwrap();
    sock.send_to(&[0u8; 5], f.addr).await.unwrap();
    sock.send_to(&good.to_vec().unwrap(), f.addr).await.unwrap();
    let mut buf = vec![0u8; 65535];
    let mut seen = HashMap::new();
    while seen.len() < 2 {
        let (n, _) = tokio::time::timeout(ALL_REPLIES, sock.recv_from(&mut buf))
            .await
            .expect("both answered")
            .unwrap();
        let reply = Message::from_vec(&buf[..n]).unwrap();
        seen.insert(reply.metadata.id, reply);
    }
    assert_eq!(seen[&0xBEEF].metadata.response_code, ResponseCode::FormErr);
    let reply = &seen[&good.metadata.id];
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 2);
    f.stop().await;
}

#[tokio::test]
async fn cached_answers_change_at_once_after_critical_and_deregister() {
    let f = Fixture::start(DnsSettings::default()).await;
    two_webs(&f).await;
    // Asked repeatedly: answered from the cache from the second time on.
    for _ in 0..5 {
        let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
        assert_eq!(r.answers.len(), 2);
    }
    f.register(
        "node2",
        "10.0.0.2",
        Some(web("web2", &[], HealthStatus::Critical)),
    )
    .await;
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.0.0.1"]);
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.0.0.1"]);

    let dereg = DeregisterRequest {
        node: "node1".to_owned(),
        service_id: "web1".to_owned(),
        ..DeregisterRequest::default()
    };
    assert!(f.backend.catalog_deregister(dereg).await.unwrap());
    let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert!(r.answers.is_empty());
    f.stop().await;
}

#[tokio::test]
async fn question_variants_never_share_a_cached_answer() {
    let f = Fixture::start(DnsSettings::default()).await;
    two_webs(&f).await;
    for _ in 0..3 {
        // A, then SRV and AAAA of the same name.
        let a = ask(f.addr, "web.service.consul.", RecordType::A).await;
        assert_eq!(
            texts(&a.answers),
            [
                "web.service.consul. A 10.0.0.1",
                "web.service.consul. A 10.0.0.2"
            ]
        );
        let srv = ask(f.addr, "web.service.consul.", RecordType::SRV).await;
        assert_eq!(srv.answers.len(), 2);
        assert!(
            srv.answers
                .iter()
                .all(|r| r.record_type() == RecordType::SRV)
        );
        let aaaa = ask(f.addr, "web.service.consul.", RecordType::AAAA).await;
        assert!(aaaa.answers.is_empty());
        assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
        // Case: each answer echoes the name as asked.
        let upper = ask(f.addr, "Web.Service.Consul.", RecordType::A).await;
        assert!(upper.answers.iter().all(|r| r.name
            == Name::from_ascii("Web.Service.Consul.").unwrap()
            && r.name.to_string() == "Web.Service.Consul."));
        // EDNS or not: the OPT record only answers an OPT record.
        let plain = ask(f.addr, "web.service.consul.", RecordType::A).await;
        assert!(plain.edns.is_none());
        let edns = udp(
            f.addr,
            &query("web.service.consul.", RecordType::A, Some(1232)),
        )
        .await;
        assert_eq!(edns.edns.as_ref().map(|e| e.max_payload()), Some(1232));
        assert_eq!(edns.answers.len(), 2);
        let edns = udp(
            f.addr,
            &query("web.service.consul.", RecordType::A, Some(4096)),
        )
        .await;
        assert_eq!(edns.edns.as_ref().map(|e| e.max_payload()), Some(4096));
    }
    f.stop().await;
}

#[tokio::test]
async fn trimmed_answers_keep_varying() {
    // Five instances, three answered to plain UDP: which three must keep changing, so
    // such answers are never cached.
    let f = Fixture::start(DnsSettings::default()).await;
    for i in 1..=5 {
        let id = format!("web{i}");
        f.register(
            &format!("node{i}"),
            &format!("10.0.0.{i}"),
            Some(web(&id, &[], HealthStatus::Passing)),
        )
        .await;
    }
    let mut sets = std::collections::HashSet::new();
    for _ in 0..60 {
        let r = ask(f.addr, "web.service.consul.", RecordType::A).await;
        assert_eq!(r.answers.len(), 3);
        sets.insert(texts(&r.answers));
        if sets.len() > 2 {
            break;
        }
    }
    assert!(sets.len() > 2, "answers vary: {sets:?}");
    f.stop().await;
}

#[tokio::test]
async fn a_question_waiting_on_a_recursor_holds_up_no_other() {
    // A recursor that reads questions and never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let settings = DnsSettings {
        recursors: vec![silent.local_addr().unwrap()],
        recursor_timeout: Duration::from_secs(30),
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    two_webs(&f).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let outside = query("example.com.", RecordType::A, None);
    sock.send_to(&outside.to_vec().unwrap(), f.addr)
        .await
        .unwrap();
    // The recursor is asked once, not again when the question moves to a task.
    let mut buf = vec![0u8; 65535];
    let (n, _) = tokio::time::timeout(ALL_REPLIES, silent.recv_from(&mut buf))
        .await
        .expect("forwarded")
        .unwrap();
    let forwarded = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(forwarded.queries[0].name().to_string(), "example.com.");
    // Catalog questions are answered while the recursor keeps silent (well within its
    // 30 s timeout).
    for _ in 0..3 {
        let r = tokio::time::timeout(
            ALL_REPLIES,
            ask(f.addr, "web.service.consul.", RecordType::A),
        )
        .await
        .expect("answered while a recursor question waits");
        assert_eq!(r.answers.len(), 2);
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), silent.recv_from(&mut buf))
            .await
            .is_err(),
        "the outside question was forwarded twice"
    );
    f.stop().await;
}
