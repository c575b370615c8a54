//! Malformed and unsupported requests: FORMERR, NOTIMP, or dropped; never a stall.

use std::time::Duration;

use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use praetor_dns::DnsSettings;
use rand::RngExt as _;

use crate::support::*;

/// Long enough for an answer on loopback; used where no answer is expected.
const SILENCE: Duration = Duration::from_millis(300);

fn header(id: u16, flags: u16, qd: u16) -> Vec<u8> {
    let mut h = Vec::new();
    for v in [id, flags, qd, 0, 0, 0] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    h
}

async fn rcode_of(f: &Fixture, bytes: &[u8]) -> ResponseCode {
    let reply = udp_raw(f.addr, bytes, Duration::from_secs(5))
        .await
        .expect("no reply");
    Message::from_vec(&reply).unwrap().metadata.response_code
}

async fn still_answers(f: &Fixture) {
    let r = ask(f.addr, "node1.node.consul.", RecordType::A).await;
    assert_eq!(texts(&r.answers), ["node1.node.consul. A 10.0.0.1"]);
}

#[tokio::test]
async fn malformed_packets_get_formerr_or_nothing() {
    let f = Fixture::start(DnsSettings::default()).await;
    f.register("node1", "10.0.0.1", None).await;

    // Shorter than a header: dropped.
    assert!(udp_raw(f.addr, &[1, 2, 3], SILENCE).await.is_none());
    // A question announced but missing.
    assert_eq!(
        rcode_of(&f, &header(7, 0x0100, 1)).await,
        ResponseCode::FormErr
    );
    // A compression pointer to itself.
    let mut looped = header(8, 0x0100, 1);
    looped.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
    assert_eq!(rcode_of(&f, &looped).await, ResponseCode::FormErr);
    // Two pointers pointing at each other.
    let mut pair = header(9, 0x0100, 1);
    pair.extend_from_slice(&[0xC0, 14, 0xC0, 12, 0, 1, 0, 1]);
    assert_eq!(rcode_of(&f, &pair).await, ResponseCode::FormErr);
    // A 64-byte label (the length byte's top bits say "extended label").
    let mut long_label = header(10, 0x0100, 1);
    long_label.push(64);
    long_label.extend_from_slice(&[b'a'; 64]);
    long_label.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(rcode_of(&f, &long_label).await, ResponseCode::FormErr);
    // A name longer than 255 bytes.
    let mut long_name = header(11, 0x0100, 1);
    for _ in 0..5 {
        long_name.push(63);
        long_name.extend_from_slice(&[b'a'; 63]);
    }
    long_name.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(rcode_of(&f, &long_name).await, ResponseCode::FormErr);
    // A response sent to us: dropped, no reflection.
    let mut response = query("node1.node.consul.", RecordType::A, None);
    response.metadata.message_type = hickory_proto::op::MessageType::Response;
    assert!(
        udp_raw(f.addr, &response.to_vec().unwrap(), SILENCE)
            .await
            .is_none()
    );
    still_answers(&f).await;
    f.stop().await;
}

#[tokio::test]
async fn unsupported_requests_get_notimp_or_formerr() {
    let f = Fixture::start(DnsSettings::default()).await;
    f.register("node1", "10.0.0.1", None).await;

    let mut status = query("node1.node.consul.", RecordType::A, None);
    status.metadata.op_code = OpCode::Status;
    assert_eq!(
        udp(f.addr, &status).await.metadata.response_code,
        ResponseCode::NotImp
    );

    let mut chaos = Message::query();
    chaos.metadata.id = 77;
    let mut q = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    q.set_query_class(DNSClass::CH);
    chaos.add_query(q);
    assert_eq!(
        udp(f.addr, &chaos).await.metadata.response_code,
        ResponseCode::NotImp
    );

    let axfr = query("consul.", RecordType::AXFR, None);
    assert_eq!(
        tcp(f.addr, &axfr).await.metadata.response_code,
        ResponseCode::NotImp
    );

    let mut two = query("node1.node.consul.", RecordType::A, None);
    two.add_query(Query::query(
        Name::from_ascii("web.service.consul.").unwrap(),
        RecordType::A,
    ));
    assert_eq!(
        udp(f.addr, &two).await.metadata.response_code,
        ResponseCode::FormErr
    );

    assert_eq!(
        rcode_of(&f, &header(12, 0x0100, 0)).await,
        ResponseCode::FormErr
    );
    still_answers(&f).await;
    f.stop().await;
}

#[tokio::test]
async fn random_garbage_never_stops_the_server() {
    let f = Fixture::start(DnsSettings::default()).await;
    f.register("node1", "10.0.0.1", None).await;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut rng = rand::rng();
    let valid = query("web.service.consul.", RecordType::SRV, Some(1232))
        .to_vec()
        .unwrap();
    for i in 0..3000 {
        let bytes: Vec<u8> = if i % 2 == 0 {
            let len = rng.random_range(0..600);
            (0..len).map(|_| rng.random()).collect()
        } else {
            // A valid query with a few bytes flipped.
            let mut v = valid.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..v.len());
                v[at] = rng.random();
            }
            v
        };
        sock.send_to(&bytes, f.addr).await.unwrap();
    }
    // TCP: a length prefix promising more than is sent, then a hang-up.
    {
        use tokio::io::AsyncWriteExt as _;
        let mut s = tokio::net::TcpStream::connect(f.addr).await.unwrap();
        s.write_all(&[0x01, 0x00, 1, 2, 3]).await.unwrap();
    }
    still_answers(&f).await;
    let r = tcp(f.addr, &query("node1.node.consul.", RecordType::A, None)).await;
    assert_eq!(r.answers.len(), 1);
    f.stop().await;
}
