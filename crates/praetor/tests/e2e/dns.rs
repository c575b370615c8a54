//! The DNS interface of a real `praetor agent -dev`: the tutorials' `dig` lookups, and a
//! service that drops out of A/SRV answers while its check is critical.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::agent::AgentProcess;
use crate::http;

/// The UDP address from `Started DNS server: address=… network=udp`.
fn dns_addr(agent: &AgentProcess) -> SocketAddr {
    let output = agent.output();
    let line = output
        .lines()
        .find(|l| l.contains("Started DNS server") && l.contains("network=udp"))
        .unwrap_or_else(|| panic!("no DNS start line in:\n{output}"));
    let start = line.find("address=").unwrap() + "address=".len();
    line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap()
}

fn question(name: &str, qtype: RecordType) -> Message {
    let mut m = Message::query();
    m.metadata.id = 4242;
    m.add_query(Query::query(Name::from_str(name).unwrap(), qtype));
    m
}

async fn udp(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&question(name, qtype).to_vec().unwrap(), addr)
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("no DNS reply")
        .unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

async fn tcp(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let bytes = question(name, qtype).to_vec().unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&bytes);
    s.write_all(&out).await.unwrap();
    let len = s.read_u16().await.unwrap();
    let mut buf = vec![0u8; usize::from(len)];
    s.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

fn texts(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| format!("{} {} {}", r.name, r.record_type(), r.data))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn dig_lookups_follow_service_health() {
    let agent = AgentProcess::dev();
    let dns = dns_addr(&agent);
    let c = http();
    let register = |status: &'static str| {
        let c = c.clone();
        let url = format!("{}/v1/catalog/register", agent.http);
        async move {
            let body = json!({
                "Node": "web-node",
                "Address": "10.1.2.3",
                "NodeMeta": {"rack": "r1"},
                "Service": {"ID": "web1", "Service": "web", "Tags": ["rails"], "Port": 80},
                "Check": {"CheckID": "web1-alive", "Name": "alive", "Status": status, "ServiceID": "web1"}
            });
            let resp = c.put(url).json(&body).send().await.unwrap();
            assert_eq!(resp.status(), 200);
        }
    };
    register("passing").await;

    let r = udp(dns, "web-node.node.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.metadata.authoritative);
    assert_eq!(texts(&r.answers), ["web-node.node.consul. A 10.1.2.3"]);
    assert_eq!(texts(&r.additionals), ["web-node.node.consul. TXT rack=r1"]);
    let r = udp(dns, "web-node.node.dc1.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web-node.node.dc1.consul. A 10.1.2.3"]);

    let r = udp(dns, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.1.2.3"]);
    let r = udp(dns, "rails.web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["rails.web.service.consul. A 10.1.2.3"]);
    let r = udp(dns, "web.service.consul.", RecordType::SRV).await;
    assert_eq!(
        texts(&r.answers),
        ["web.service.consul. SRV 1 1 80 web-node.node.dc1.consul."]
    );
    assert!(texts(&r.additionals).contains(&"web-node.node.dc1.consul. A 10.1.2.3".to_owned()));

    register("critical").await;
    for qtype in [RecordType::A, RecordType::SRV] {
        let r = udp(dns, "web.service.consul.", qtype).await;
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{qtype}");
        assert!(r.answers.is_empty());
        assert_eq!(r.authorities[0].record_type(), RecordType::SOA);
    }

    register("passing").await;
    let r = udp(dns, "web.service.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["web.service.consul. A 10.1.2.3"]);
    let r = tcp(dns, "web.service.consul.", RecordType::SRV).await;
    assert_eq!(r.answers.len(), 1);

    let r = udp(dns, "example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn dns_port_minus_one_disables_dns() {
    let agent = AgentProcess::start(&["-dev", "-dns-port", "-1"]);
    assert!(
        !agent.output().contains("Started DNS server"),
        "{}",
        agent.output()
    );
}

/// A one-shot upstream resolver on loopback: answers every UDP question with
/// `A 192.0.2.7`.
async fn upstream() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
            resp.metadata.recursion_available = true;
            for q in &req.queries {
                resp.add_query(q.clone());
                resp.add_answer(Record::from_rdata(
                    q.name().clone(),
                    30,
                    RData::A(A::new(192, 0, 2, 7)),
                ));
            }
            let _ = sock.send_to(&resp.to_vec().unwrap(), from).await;
        }
    });
    (addr, task)
}

#[tokio::test]
async fn recursor_flag_forwards_names_outside_the_domain() {
    let (resolver, task) = upstream().await;
    let resolver = resolver.to_string();
    let agent = AgentProcess::start(&["-dev", "-recursor", &resolver]);
    let dns = dns_addr(&agent);
    let r = udp(dns, "example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.metadata.recursion_available);
    assert_eq!(texts(&r.answers), ["example.com. A 192.0.2.7"]);
    // The agent's own domain is never forwarded.
    let r = udp(dns, "nosuch.node.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    task.abort();
}
