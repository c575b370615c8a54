use std::net::SocketAddr;

use praetor_checks::{CheckKind, CheckRunner, HealthStatus};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::{spec, start};

/// A `grpc.health.v1` server on loopback (tonic-health): the whole server ("") is SERVING
/// until told otherwise; other services are unknown until given a status.
struct HealthTarget {
    addr: SocketAddr,
    reporter: HealthReporter,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl HealthTarget {
    async fn start(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the grpc target");
        let addr = listener.local_addr().expect("local addr");
        let (reporter, service) = tonic_health::server::health_reporter();
        let stop = CancellationToken::new();
        let serve = Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener),
                stop.clone().cancelled_owned(),
            );
        let task = tokio::spawn(async move { serve.await.expect("health server runs") });
        HealthTarget {
            addr,
            reporter,
            stop,
            task,
        }
    }

    async fn set(&self, service: &str, status: ServingStatus) {
        self.reporter.set_service_status(service, status).await;
    }

    /// Stops serving and waits until the listener is closed.
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("health server task");
    }
}

#[tokio::test]
async fn serving_is_passing_with_consul_output() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    let addr = target.addr.to_string();
    let mut running = start(spec(CheckKind::grpc(addr.clone())));
    let update = running.next().await;
    assert_eq!(update.check_id, "check-under-test");
    assert_eq!(update.status, HealthStatus::Passing);
    assert_eq!(update.output, format!("gRPC check {addr}: success"));
}

#[tokio::test]
async fn not_serving_is_critical_and_serving_again_passes() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    target.set("", ServingStatus::NotServing).await;
    let addr = target.addr.to_string();
    let mut running = start(spec(CheckKind::grpc(addr.clone())));
    let down = running.next().await;
    assert_eq!(down.status, HealthStatus::Critical);
    assert_eq!(
        down.output,
        format!("gRPC {addr} serving status: NOT_SERVING")
    );

    target.set("", ServingStatus::Serving).await;
    let up = running.until(|u| u.status == HealthStatus::Passing).await;
    assert_eq!(up.output, format!("gRPC check {addr}: success"));
}

#[tokio::test]
async fn unknown_status_is_critical() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    target.set("web", ServingStatus::Unknown).await;
    let grpc = format!("{}/web", target.addr);
    let update = start(spec(CheckKind::grpc(grpc.clone()))).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert_eq!(
        update.output,
        format!("gRPC {grpc} serving status: UNKNOWN")
    );
}

#[tokio::test]
async fn unknown_service_is_critical() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    let grpc = format!("{}/no-such-service", target.addr);
    let update = start(spec(CheckKind::grpc(grpc))).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    // tonic-health's answer; grpc-go servers say "unknown service".
    assert_eq!(
        update.output,
        "rpc error: code = NotFound desc = service not registered"
    );
}

#[tokio::test]
async fn service_suffix_selects_the_service() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    target.set("web", ServingStatus::Serving).await;
    target.set("db", ServingStatus::NotServing).await;
    // The server as a whole is SERVING: only the service name can make the db check fail.
    let web = format!("{}/web", target.addr);
    let db = format!("{}/db", target.addr);
    let mut web_check = spec(CheckKind::grpc(web.clone()));
    web_check.id = "web".into();
    let mut db_check = spec(CheckKind::grpc(db.clone()));
    db_check.id = "db".into();

    let web_update = start(web_check).next().await;
    assert_eq!(web_update.status, HealthStatus::Passing);
    assert_eq!(web_update.output, format!("gRPC check {web}: success"));
    let db_update = start(db_check).next().await;
    assert_eq!(db_update.status, HealthStatus::Critical);
    assert_eq!(
        db_update.output,
        format!("gRPC {db} serving status: NOT_SERVING")
    );
}

#[tokio::test]
async fn server_gone_is_critical_and_its_return_passes() {
    let target = HealthTarget::start("127.0.0.1:0".parse().expect("addr")).await;
    let addr = target.addr;
    let mut running = start(spec(CheckKind::grpc(addr.to_string())));
    assert_eq!(running.next().await.status, HealthStatus::Passing);

    target.stop().await;
    let down = running.next().await;
    assert_eq!(down.status, HealthStatus::Critical);
    assert!(
        down.output.starts_with(&format!(
            "rpc error: code = Unavailable desc = connection error: desc = \
             \"transport: Error while dialing: dial tcp {addr}: "
        )),
        "{}",
        down.output
    );

    let _back = HealthTarget::start(addr).await;
    let up = running.until(|u| u.status == HealthStatus::Passing).await;
    assert_eq!(up.output, format!("gRPC check {addr}: success"));
}

#[tokio::test]
async fn tls_skip_verify_reaches_a_self_signed_server() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("self-signed certificate");
    let identity =
        tonic::transport::Identity::from_pem(cert.cert.pem(), cert.signing_key.serialize_pem());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the grpc target");
    let addr = listener.local_addr().expect("local addr").to_string();
    let (_reporter, service) = tonic_health::server::health_reporter();
    let stop = CancellationToken::new();
    let serve = Server::builder()
        .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
        .expect("server tls")
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop.clone().cancelled_owned());
    let _server = tokio::spawn(serve);
    let _stop = stop.drop_guard();

    let tls = |tls_skip_verify| CheckKind::Grpc {
        target: addr.clone(),
        use_tls: true,
        tls_server_name: "localhost".into(),
        tls_skip_verify,
    };
    let skipped = start(spec(tls(true))).next().await;
    assert_eq!(skipped.status, HealthStatus::Passing, "{}", skipped.output);
    assert_eq!(skipped.output, format!("gRPC check {addr}: success"));

    // Verified against the system's CAs, the self-signed certificate is refused.
    let verified = start(spec(tls(false))).next().await;
    assert_eq!(verified.status, HealthStatus::Critical);
    assert!(
        verified.output.contains("authentication handshake failed"),
        "{}",
        verified.output
    );
}

#[tokio::test]
async fn invalid_grpc_targets_are_rejected() {
    let (tx, _rx) = mpsc::channel(1);
    let shutdown = CancellationToken::new();
    for target in ["", "/web", "no spaces allowed:1"] {
        let err = CheckRunner::spawn(spec(CheckKind::grpc(target)), tx.clone(), shutdown.clone())
            .expect_err("rejected");
        assert!(err.to_string().contains("has an invalid target"), "{err}");
    }
}
