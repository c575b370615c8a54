//! Names outside the zones: REFUSED, or forwarded to a recursor the test runs.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_net::runtime::Time;
use hickory_proto::op::{Header, Metadata, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use praetor_dns::DnsSettings;

use crate::support::*;

/// An upstream resolver: `example.com. A 192.0.2.1`, NXDOMAIN for anything else.
struct Upstream;

#[async_trait::async_trait]
impl RequestHandler for Upstream {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let mut meta = Metadata::response_from_request(&request.metadata);
        meta.recursion_available = true;
        let q = &request.queries.queries()[0];
        let mut answers = Vec::new();
        if q.name().to_string() == "example.com." {
            answers.push(Record::from_rdata(
                Name::from_str("example.com.").unwrap(),
                60,
                RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
            ));
        } else {
            meta.response_code = ResponseCode::NXDomain;
        }
        let msg = MessageResponseBuilder::from_message_request(request).build(
            meta,
            answers.iter(),
            [],
            [],
            [],
        );
        response.send_response(msg).await.unwrap_or_else(|_| {
            ResponseInfo::from(Header {
                metadata: meta,
                counts: Default::default(),
            })
        })
    }
}

/// A UDP socket and a TCP listener on one loopback port.
async fn bind_pair() -> (tokio::net::UdpSocket, tokio::net::TcpListener) {
    loop {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        if let Ok(tcp) = tokio::net::TcpListener::bind(udp.local_addr().unwrap()).await {
            return (udp, tcp);
        }
    }
}

/// A port nothing listens on (bound, then closed).
async fn dead_port() -> SocketAddr {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.local_addr().unwrap()
}

#[tokio::test]
async fn outside_names_are_refused_without_recursors() {
    let f = Fixture::start(DnsSettings::default()).await;
    let r = ask(f.addr, "example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert!(!r.metadata.recursion_available);
    f.stop().await;
}

#[tokio::test]
async fn outside_names_go_to_the_recursors_over_udp_and_tcp() {
    let (udp_socket, tcp_listener) = bind_pair().await;
    let upstream_addr = udp_socket.local_addr().unwrap();
    let mut upstream_server = hickory_server::Server::new(Upstream);
    upstream_server.register_socket(udp_socket);
    upstream_server.register_listener(tcp_listener, Duration::from_secs(5), 65535);
    let settings = DnsSettings {
        recursors: vec![dead_port().await, upstream_addr],
        recursor_timeout: Duration::from_millis(500),
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    let r = ask(f.addr, "example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.metadata.recursion_available);
    assert_eq!(texts(&r.answers), ["example.com. A 192.0.2.1"]);
    let r = tcp(f.addr, &query("example.com.", RecordType::A, None)).await;
    assert_eq!(texts(&r.answers), ["example.com. A 192.0.2.1"]);
    let r = ask(f.addr, "nothing.example.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    // Our own zone never recurses, and says recursion is available.
    let r = ask(f.addr, "nosuch.node.consul.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert!(r.metadata.recursion_available);
    f.stop().await;
    upstream_server.shutdown_gracefully().await.unwrap();
}

#[tokio::test]
async fn all_recursors_failing_is_servfail() {
    let settings = DnsSettings {
        recursors: vec![dead_port().await],
        recursor_timeout: Duration::from_millis(300),
        ..DnsSettings::default()
    };
    let f = Fixture::start(settings).await;
    let r = ask(f.addr, "example.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
    assert!(r.metadata.recursion_available);
    f.stop().await;
}
