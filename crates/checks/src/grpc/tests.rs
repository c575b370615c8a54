//! The probe's parsing and texts, and its TLS settings against a tonic health server with a
//! certificate from a test CA on loopback.

use std::net::SocketAddr;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use super::*;
use crate::HealthStatus;

const TIMEOUT: Duration = Duration::from_secs(5);
/// The name in the test server's certificate.
const SERVER_NAME: &str = "server.dc1.consul";

/// A test CA and a server certificate it signed for [`SERVER_NAME`].
struct TestPki {
    ca: rustls::pki_types::CertificateDer<'static>,
    identity: Identity,
}

fn test_pki() -> TestPki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
        .expect("ca certificate");
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec![SERVER_NAME.to_owned()])
        .expect("server params")
        .signed_by(&server_key, &ca)
        .expect("server certificate");
    TestPki {
        ca: ca.der().clone(),
        identity: Identity::from_pem(server.pem(), server_key.serialize_pem()),
    }
}

/// A health server on 127.0.0.1 whose overall status is SERVING; stopped when dropped.
struct TestServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl TestServer {
    async fn start(tls: Option<Identity>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (_reporter, service) = tonic_health::server::health_reporter();
        let mut builder = Server::builder();
        if let Some(identity) = tls {
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(identity))
                .expect("server tls");
        }
        let shutdown = CancellationToken::new();
        let serve = builder.add_service(service).serve_with_incoming_shutdown(
            TcpIncoming::from(listener),
            shutdown.clone().cancelled_owned(),
        );
        let task = tokio::spawn(async move {
            serve.await.expect("health server runs");
        });
        TestServer {
            addr,
            shutdown,
            task,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

fn settings(target: &str) -> GrpcSettings<'_> {
    GrpcSettings {
        target,
        use_tls: false,
        tls_server_name: "",
        tls_skip_verify: false,
    }
}

fn roots(cert: Option<&rustls::pki_types::CertificateDer<'static>>) -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    if let Some(cert) = cert {
        store.add(cert.clone()).expect("ca accepted as a root");
    }
    Arc::new(store)
}

async fn run_tls(
    server: &TestServer,
    tls_server_name: &str,
    tls_skip_verify: bool,
    trusted: Arc<RootCertStore>,
) -> CheckResult {
    let target = server.addr.to_string();
    let settings = GrpcSettings {
        target: &target,
        use_tls: true,
        tls_server_name,
        tls_skip_verify,
    };
    GrpcProbe::with_roots("tls", settings, TIMEOUT, trusted)
        .expect("valid tls settings")
        .run()
        .await
}

#[test]
fn target_splits_at_the_first_slash() {
    let probe = GrpcProbe::new("g", settings("127.0.0.1:5000/a/b"), TIMEOUT).expect("valid");
    assert_eq!(probe.addr, "127.0.0.1:5000");
    assert_eq!(probe.service, "a/b");
    let probe = GrpcProbe::new("g", settings("localhost:5000"), TIMEOUT).expect("valid");
    assert_eq!(probe.addr, "localhost:5000");
    assert_eq!(probe.service, "");
}

#[test]
fn invalid_targets_are_rejected() {
    for target in ["", "/web", "bad host:1", "127.0.0.1:1 /x"] {
        assert!(
            matches!(
                GrpcProbe::new("g", settings(target), TIMEOUT),
                Err(Error::InvalidGrpcTarget { .. })
            ),
            "{target:?} rejected"
        );
    }
    let mut tls = settings("127.0.0.1:1");
    tls.use_tls = true;
    tls.tls_server_name = "not a name!";
    assert!(matches!(
        GrpcProbe::new("g", tls, TIMEOUT),
        Err(Error::InvalidTlsServerName { .. })
    ));
}

#[test]
fn host_of_strips_port_and_brackets() {
    assert_eq!(host_of("127.0.0.1:80"), "127.0.0.1");
    assert_eq!(host_of("[::1]:80"), "::1");
    assert_eq!(host_of("example.com:443"), "example.com");
    assert_eq!(host_of("example.com"), "example.com");
}

#[test]
fn texts_follow_grpc_go() {
    assert_eq!(
        rpc_error(Code::NotFound, "unknown service"),
        "rpc error: code = NotFound desc = unknown service"
    );
    assert_eq!(code_name(Code::Cancelled), "Canceled");
    assert_eq!(code_name(Code::Ok), "OK");
    assert_eq!(code_name(Code::DeadlineExceeded), "DeadlineExceeded");
    assert_eq!(code_name(Code::Unavailable), "Unavailable");
    assert_eq!(status_name(ServingStatus::NotServing as i32), "NOT_SERVING");
    assert_eq!(status_name(ServingStatus::Unknown as i32), "UNKNOWN");
    assert_eq!(status_name(42), "42");
}

#[tokio::test]
async fn tls_with_trusted_ca_and_server_name_is_passing() {
    let pki = test_pki();
    let server = TestServer::start(Some(pki.identity)).await;
    let result = run_tls(&server, SERVER_NAME, false, roots(Some(&pki.ca))).await;
    assert_eq!(result.status, HealthStatus::Passing, "{}", result.output);
    assert_eq!(
        result.output,
        format!("gRPC check {}: success", server.addr)
    );
}

#[tokio::test]
async fn tls_name_defaults_to_the_target_host() {
    // The certificate names server.dc1.consul, not 127.0.0.1: without TLSServerName the
    // handshake fails.
    let pki = test_pki();
    let server = TestServer::start(Some(pki.identity)).await;
    let result = run_tls(&server, "", false, roots(Some(&pki.ca))).await;
    assert_eq!(result.status, HealthStatus::Critical);
    assert!(
        result.output.starts_with(
            "rpc error: code = Unavailable desc = connection error: desc = \
             \"transport: authentication handshake failed: "
        ),
        "{}",
        result.output
    );
}

#[tokio::test]
async fn tls_untrusted_certificate_is_critical_unless_skip_verify() {
    let pki = test_pki();
    let server = TestServer::start(Some(pki.identity)).await;
    let untrusted = run_tls(&server, SERVER_NAME, false, roots(None)).await;
    assert_eq!(untrusted.status, HealthStatus::Critical);
    assert!(
        untrusted.output.contains("authentication handshake failed"),
        "{}",
        untrusted.output
    );
    let skipped = run_tls(&server, "", true, roots(None)).await;
    assert_eq!(skipped.status, HealthStatus::Passing, "{}", skipped.output);
}

#[tokio::test]
async fn plaintext_against_a_tls_server_is_critical() {
    let pki = test_pki();
    let server = TestServer::start(Some(pki.identity)).await;
    let target = server.addr.to_string();
    let result = GrpcProbe::new("plain", settings(&target), TIMEOUT)
        .expect("valid")
        .run()
        .await;
    assert_eq!(result.status, HealthStatus::Critical, "{}", result.output);
    assert!(
        result.output.starts_with("rpc error: "),
        "{}",
        result.output
    );
}

#[tokio::test]
async fn tls_against_a_plaintext_server_is_critical() {
    let server = TestServer::start(None).await;
    let result = run_tls(&server, "", true, roots(None)).await;
    assert_eq!(result.status, HealthStatus::Critical, "{}", result.output);
    assert!(
        result.output.contains("authentication handshake failed"),
        "{}",
        result.output
    );
}

#[tokio::test]
async fn refused_connection_is_critical_with_the_dial_error() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    let addr = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        listener.local_addr().expect("local addr")
    };
    let target = addr.to_string();
    let result = GrpcProbe::new("gone", settings(&target), TIMEOUT)
        .expect("valid")
        .run()
        .await;
    assert_eq!(result.status, HealthStatus::Critical);
    let want = format!(
        "rpc error: code = Unavailable desc = connection error: desc = \
         \"transport: Error while dialing: dial tcp {addr}: "
    );
    assert!(result.output.starts_with(&want), "{}", result.output);
}

#[tokio::test]
async fn silent_server_times_out_as_deadline_exceeded() {
    // Accepts connections but never speaks HTTP/2.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let target = listener.local_addr().expect("local addr").to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let result = GrpcProbe::new("slow", settings(&target), Duration::from_millis(200))
        .expect("valid")
        .run()
        .await;
    holder.abort();
    assert_eq!(result.status, HealthStatus::Critical);
    assert_eq!(
        result.output,
        "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
    );
}
