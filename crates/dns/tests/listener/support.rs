//! A server, a backend over it, and the DNS listeners; DNS clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use praetor_agent::{AgentSelf, Backend, LocalBackend};
use praetor_dns::{DnsHandler, DnsListeners, DnsServer, DnsSettings};
use praetor_raft::RaftConfig;
use praetor_server::{Server, ServerConfig};
use praetor_types::{HealthCheck, HealthStatus, NodeService, RegisterRequest};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, UdpSocket};

/// How long a test waits for one DNS reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Fixture {
    pub server: Server,
    pub backend: Arc<dyn Backend>,
    pub dns: Option<DnsServer>,
    pub addr: SocketAddr,
}

impl Fixture {
    /// A leader with the DNS interface in front of it, with `settings`.
    pub async fn start(settings: DnsSettings) -> Self {
        let mut raft = RaftConfig::new(1, "127.0.0.1:8300");
        raft.bootstrap = true;
        let server = Server::start(ServerConfig::new(raft)).await.unwrap();
        server
            .wait_for_leader(Duration::from_secs(10))
            .await
            .unwrap();
        let backend: Arc<dyn Backend> =
            Arc::new(LocalBackend::new(server.clone(), AgentSelf::default()));
        let listeners = DnsListeners::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listeners.local_addr().unwrap();
        let dns = listeners.serve(DnsHandler::new(backend.clone(), settings));
        Self {
            server,
            backend,
            dns: Some(dns),
            addr,
        }
    }

    pub async fn stop(mut self) {
        if let Some(dns) = self.dns.take() {
            dns.shutdown().await;
        }
        self.server.shutdown().await.unwrap();
    }

    /// Registers `node` at `address`, optionally with a service instance and its check.
    pub async fn register(&self, node: &str, address: &str, service: Option<Instance<'_>>) {
        let mut req = RegisterRequest {
            node: node.to_owned(),
            address: address.to_owned(),
            node_meta: [("rack".to_owned(), "r1".to_owned())].into(),
            ..RegisterRequest::default()
        };
        if let Some(inst) = service {
            req.service = Some(NodeService {
                id: inst.id.to_owned(),
                service: inst.name.to_owned(),
                tags: inst.tags.iter().map(|t| (*t).to_owned()).collect(),
                address: inst.address.to_owned(),
                port: inst.port,
                ..NodeService::default()
            });
            req.checks = vec![HealthCheck {
                check_id: format!("service:{}", inst.id),
                name: "alive".to_owned(),
                status: inst.status,
                service_id: inst.id.to_owned(),
                ..HealthCheck::default()
            }];
        }
        assert!(self.backend.catalog_register(req).await.unwrap());
    }
}

/// A service instance to register.
pub struct Instance<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub tags: &'a [&'a str],
    pub address: &'a str,
    pub port: u16,
    pub status: HealthStatus,
}

/// `web` on port 80 with `tags`, at the node's address.
pub fn web<'a>(id: &'a str, tags: &'a [&'a str], status: HealthStatus) -> Instance<'a> {
    Instance {
        id,
        name: "web",
        tags,
        address: "",
        port: 80,
        status,
    }
}

/// A query message for `name` / `qtype`, with an OPT record advertising `edns` bytes.
pub fn query(name: &str, qtype: RecordType, edns: Option<u16>) -> Message {
    let mut m = Message::query();
    m.metadata.id = rand_id();
    m.metadata.recursion_desired = true;
    // from_ascii keeps the case as typed (from_str lower-cases).
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.set_edns(e);
    }
    m
}

fn rand_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Sends `bytes` over UDP and returns the reply, or `None` if none came within `wait`.
pub async fn udp_raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(bytes, addr).await.unwrap();
    let mut buf = vec![0u8; 65535];
    match tokio::time::timeout(wait, sock.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// Asks `msg` over UDP.
pub async fn udp(addr: SocketAddr, msg: &Message) -> Message {
    let bytes = udp_raw(addr, &msg.to_vec().unwrap(), REPLY_TIMEOUT)
        .await
        .expect("no UDP reply");
    let reply = Message::from_vec(&bytes).unwrap();
    assert_eq!(reply.metadata.id, msg.metadata.id);
    reply
}

/// Asks `name`/`qtype` over UDP without EDNS.
pub async fn ask(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    udp(addr, &query(name, qtype, None)).await
}

/// Asks `msg` over TCP.
pub async fn tcp(addr: SocketAddr, msg: &Message) -> Message {
    let bytes = msg.to_vec().unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&bytes);
    stream.write_all(&out).await.unwrap();
    let reply = tokio::time::timeout(REPLY_TIMEOUT, async {
        let len = stream.read_u16().await.unwrap();
        let mut buf = vec![0u8; usize::from(len)];
        stream.read_exact(&mut buf).await.unwrap();
        buf
    })
    .await
    .expect("no TCP reply");
    Message::from_vec(&reply).unwrap()
}

/// `name TYPE data` of each record, sorted.
pub fn texts(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| format!("{} {} {}", r.name, r.record_type(), r.data))
        .collect();
    v.sort();
    v
}

/// Registers web1 on node1 (10.0.0.1) and web2 on node2 (10.0.0.2), both passing.
pub async fn two_webs(f: &Fixture) {
    f.register(
        "node1",
        "10.0.0.1",
        Some(web("web1", &[], HealthStatus::Passing)),
    )
    .await;
    f.register(
        "node2",
        "10.0.0.2",
        Some(web("web2", &[], HealthStatus::Passing)),
    )
    .await;
}
