use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{any, get};
use praetor_checks::{CheckKind, HealthStatus, HttpCheck};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{spec, start};

/// A tiny HTTP target on loopback that can be stopped and started again on the same port.
struct Target {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Target {
    async fn start(addr: SocketAddr) -> Target {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the http target");
        let addr = listener.local_addr().expect("local addr");
        let app = Router::new()
            .route("/ok", get(|| async { "all good" }))
            .route(
                "/busy",
                get(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow down") }),
            )
            .route(
                "/fail",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "broken") }),
            )
            .route("/big", get(|| async { "b".repeat(10_000) }))
            .route("/hang", get(std::future::pending::<&'static str>))
            .route(
                "/echo",
                any(
                    |method: Method, headers: HeaderMap, body: String| async move {
                        let token = headers
                            .get_all("x-token")
                            .iter()
                            .map(|v| v.to_str().unwrap_or("?"))
                            .collect::<Vec<_>>()
                            .join(",");
                        let agent = headers
                            .get("user-agent")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        format!("{method} token={token} agent={agent} body={body}")
                    },
                ),
            );
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
                .expect("serve the http target");
        });
        Target { addr, stop, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) -> SocketAddr {
        self.stop.cancel();
        self.task.await.expect("http target stops");
        self.addr
    }
}

async fn loopback_target() -> Target {
    Target::start(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

#[tokio::test]
async fn responses_map_to_statuses_with_consul_output() {
    let target = loopback_target().await;
    for (path, status, output) in [
        ("/ok", HealthStatus::Passing, "200 OK Output: all good"),
        (
            "/busy",
            HealthStatus::Warning,
            "429 Too Many Requests Output: slow down",
        ),
        (
            "/fail",
            HealthStatus::Critical,
            "500 Internal Server Error Output: broken",
        ),
    ] {
        let url = target.url(path);
        let update = start(spec(CheckKind::Http(HttpCheck::new(url.clone()))))
            .next()
            .await;
        assert_eq!(update.status, status, "{path}");
        assert_eq!(update.output, format!("HTTP GET {url}: {output}"));
    }
    target.stop().await;
}

#[tokio::test]
async fn stopped_target_turns_critical_and_restarted_passes_again() {
    let target = loopback_target().await;
    let mut running = start(spec(CheckKind::Http(HttpCheck::new(target.url("/ok")))));
    assert_eq!(running.next().await.status, HealthStatus::Passing);

    let addr = target.stop().await;
    let down = running.next().await;
    assert_eq!(down.status, HealthStatus::Critical);
    assert!(
        down.output
            .starts_with(&format!("HTTP GET http://{addr}/ok: ")),
        "{}",
        down.output
    );

    let target = Target::start(addr).await;
    assert_eq!(running.next().await.status, HealthStatus::Passing);
    target.stop().await;
}

#[tokio::test]
async fn method_headers_and_body_are_sent() {
    let target = loopback_target().await;
    let mut check = HttpCheck::new(target.url("/echo"));
    check.method = "POST".into();
    check.body = "payload".into();
    check
        .header
        .insert("X-Token".into(), vec!["a".into(), "b".into()]);
    let update = start(spec(CheckKind::Http(check))).next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    assert!(
        update
            .output
            .ends_with("Output: POST token=a,b agent=Consul Health Check body=payload"),
        "{}",
        update.output
    );
    target.stop().await;
}

#[tokio::test]
async fn big_bodies_are_capped_at_4k() {
    let target = loopback_target().await;
    let url = target.url("/big");
    let update = start(spec(CheckKind::Http(HttpCheck::new(url.clone()))))
        .next()
        .await;
    let prefix = format!("HTTP GET {url}: 200 OK Output: ");
    assert!(update.output.starts_with(&prefix));
    assert_eq!(update.output.len(), prefix.len() + 4096);
    target.stop().await;
}

#[tokio::test]
async fn a_hanging_target_times_out_critical() {
    let target = loopback_target().await;
    let mut check = spec(CheckKind::Http(HttpCheck::new(target.url("/hang"))));
    check.timeout = Duration::from_millis(200);
    check.initial_status = HealthStatus::Passing;
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert!(update.output.contains("timed out"), "{}", update.output);
    target.stop().await;
}
