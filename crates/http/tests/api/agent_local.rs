//! `/v1/agent/services`, `/service/*`, `/checks`, `/check/*`, `/health/service/*`,
//! `/maintenance` and `/reload` against the fake backend.

use std::sync::Arc;

use axum::http::{Request, StatusCode};
use praetor_agent::BackendError;
use praetor_types::{HealthCheck, HealthStatus, NodeService, Weights};
use serde_json::json;

use crate::fake::{FakeBackend, app, call, send};

fn service(id: &str, name: &str) -> NodeService {
    NodeService {
        id: id.into(),
        service: name.into(),
        port: 80,
        datacenter: "dc1".into(),
        weights: Weights::default(),
        create_index: 5,
        modify_index: 6,
        ..NodeService::default()
    }
}

fn check(id: &str, service_id: &str, status: HealthStatus) -> HealthCheck {
    HealthCheck {
        node: "n1".into(),
        check_id: id.into(),
        name: id.into(),
        service_id: service_id.into(),
        status,
        ..HealthCheck::default()
    }
}

fn with_web() -> Arc<FakeBackend> {
    let fake = Arc::new(FakeBackend::default());
    {
        let mut a = fake.agent();
        a.services = vec![
            service("web1", "web"),
            service("web2", "web"),
            service("db", "db"),
        ];
        a.checks = vec![
            check("c1", "web1", HealthStatus::Passing),
            check("c2", "web2", HealthStatus::Warning),
            check("c3", "db", HealthStatus::Critical),
        ];
    }
    fake
}

#[tokio::test]
async fn services_are_keyed_by_id_without_raft_indexes_and_filterable() {
    let fake = with_web();
    let r = call(&fake, "GET", "/v1/agent/services", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["web1"]["Service"], "web");
    assert_eq!(v["web1"]["Tags"], json!([]));
    assert_eq!(v["web1"]["Meta"], json!({}));
    assert_eq!(v["web1"]["Weights"], json!({"Passing":1,"Warning":1}));
    assert_eq!(v["web1"]["Datacenter"], "dc1");
    assert!(v["web1"].get("CreateIndex").is_none());
    let r = call(
        &fake,
        "GET",
        "/v1/agent/services?filter=Service%20%3D%3D%20db",
        b"",
    )
    .await;
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["db"]
    );
}

#[tokio::test]
async fn single_service_has_a_content_hash_and_unknown_is_404() {
    let fake = with_web();
    let r = call(&fake, "GET", "/v1/agent/service/web1", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["ID"], "web1");
    assert_eq!(r.json()["ContentHash"].as_str().unwrap().len(), 16);
    let r = call(&fake, "GET", "/v1/agent/service/nope", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "unknown service ID: nope");
}

#[tokio::test]
async fn register_passes_the_body_and_replace_flag() {
    let fake = Arc::new(FakeBackend::default());
    let body = br#"{"name":"web","Check":{"TTL":"5s"}}"#;
    let r = call(
        &fake,
        "PUT",
        "/v1/agent/service/register?replace-existing-checks",
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    let r = call(&fake, "PUT", "/v1/agent/service/register", body).await;
    assert_eq!(r.status, StatusCode::OK);
    let a = fake.agent();
    assert_eq!(a.calls, ["service_register true", "service_register false"]);
    assert_eq!(a.bodies[0]["Check"]["TTL"], "5s");
}

#[tokio::test]
async fn register_errors_map_to_their_codes() {
    let fake = Arc::new(FakeBackend::default());
    let r = call(&fake, "PUT", "/v1/agent/service/register", b"{").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().starts_with("Request decode failed: "));
    let r = call(&fake, "GET", "/v1/agent/service/register", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    for (error, code) in [
        (
            BackendError::BadRequest("Missing service name".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            BackendError::NotFound("Unknown service ID \"x\"".into()),
            StatusCode::NOT_FOUND,
        ),
        (
            BackendError::Internal("Scripts are disabled".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ] {
        fake.agent().error = Some(error.clone());
        let r = call(&fake, "PUT", "/v1/agent/service/register", b"{}").await;
        assert_eq!((r.status, r.text()), (code, error.to_string()));
    }
}

#[tokio::test]
async fn deregister_maintenance_and_reload_reach_the_backend() {
    let fake = Arc::new(FakeBackend::default());
    for uri in [
        "/v1/agent/service/deregister/web1",
        "/v1/agent/service/maintenance/web1?enable=true&reason=up%20grade",
        "/v1/agent/maintenance?enable=false",
        "/v1/agent/check/deregister/c1",
        "/v1/agent/check/pass/c1?note=ok",
        "/v1/agent/check/warn/c1",
        "/v1/agent/check/fail/c1?note=bad",
        "/v1/agent/reload",
    ] {
        let r = call(&fake, "PUT", uri, b"").await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
    assert_eq!(
        fake.agent().calls,
        [
            "service_deregister web1",
            "service_maintenance web1 true up grade",
            "node_maintenance false ",
            "check_deregister c1",
            "check_update c1 passing ok",
            "check_update c1 warning ",
            "check_update c1 critical bad",
            "reload",
        ]
    );
    let r = call(&fake, "GET", "/v1/agent/check/pass/c1", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn maintenance_needs_a_boolean_enable() {
    let fake = Arc::new(FakeBackend::default());
    let r = call(&fake, "PUT", "/v1/agent/maintenance", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Missing value for enable".into())
    );
    let r = call(&fake, "PUT", "/v1/agent/maintenance?enable=yes", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (
            StatusCode::BAD_REQUEST,
            "Invalid value for enable: \"yes\"".into()
        )
    );
    let r = call(
        &fake,
        "PUT",
        "/v1/agent/service/maintenance/?enable=true",
        b"",
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Missing service ID".into())
    );
}

#[tokio::test]
async fn check_update_decodes_status_and_output() {
    let fake = Arc::new(FakeBackend::default());
    let r = call(
        &fake,
        "PUT",
        "/v1/agent/check/update/c1",
        br#"{"status":"warning","output":"hm"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fake.agent().calls, ["check_update c1 warning hm"]);
    let r = call(
        &fake,
        "PUT",
        "/v1/agent/check/update/c1",
        br#"{"Status":"up"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Invalid check status: 'up'".into())
    );
}

#[tokio::test]
async fn checks_are_keyed_by_id_and_registration_passes_the_body() {
    let fake = with_web();
    let r = call(
        &fake,
        "GET",
        "/v1/agent/checks?filter=Status%20%3D%3D%20critical",
        b"",
    )
    .await;
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["c3"]
    );
    assert_eq!(r.json()["c3"]["ServiceID"], "db");
    let r = call(
        &fake,
        "PUT",
        "/v1/agent/check/register",
        br#"{"Name":"mem","TTL":"5s"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fake.agent().bodies[0]["Name"], "mem");
}

#[tokio::test]
async fn health_by_id_and_name_answer_with_status_codes_and_reasons() {
    let fake = with_web();
    let r = call(&fake, "GET", "/v1/agent/health/service/id/web1", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["x-consul-reason"], "passing");
    assert_eq!(r.json()["AggregatedStatus"], "passing");
    assert_eq!(r.json()["Checks"][0]["CheckID"], "c1");
    let r = call(
        &fake,
        "GET",
        "/v1/agent/health/service/id/web2?format=text",
        b"",
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::TOO_MANY_REQUESTS, "warning".into())
    );
    let r = call(&fake, "GET", "/v1/agent/health/service/id/db", b"").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let r = call(&fake, "GET", "/v1/agent/health/service/name/web", b"").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the worst instance decides"
    );
    assert_eq!(r.json().as_array().unwrap().len(), 2);

    let r = call(&fake, "GET", "/v1/agent/health/service/id/nope", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers["x-consul-reason"], "ServiceId nope not found");
    assert_eq!(
        r.json(),
        json!({"AggregatedStatus":"critical","Service":null,"Checks":null})
    );
    let req = Request::builder()
        .uri("/v1/agent/health/service/name/nope")
        .header("Accept", "text/plain")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(app(&fake, Default::default()), req).await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::NOT_FOUND, "ServiceName nope Not Found".into())
    );
    let r = call(&fake, "GET", "/v1/agent/health/service/id/", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Missing serviceID".into())
    );
    let r = call(&fake, "GET", "/v1/agent/health/service/name/", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Missing service Name".into())
    );

    // Maintenance wins over everything.
    fake.agent().checks.push(check(
        "_service_maintenance:web1",
        "web1",
        HealthStatus::Critical,
    ));
    let r = call(
        &fake,
        "GET",
        "/v1/agent/health/service/id/web1?format=text",
        b"",
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::SERVICE_UNAVAILABLE, "maintenance".into())
    );
}

#[tokio::test]
async fn service_blocks_on_an_unchanged_hash_until_the_wait_ends() {
    let fake = with_web();
    let first = call(&fake, "GET", "/v1/agent/service/web1", b"")
        .await
        .json();
    let hash = first["ContentHash"].as_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let r = call(
        &fake,
        "GET",
        &format!("/v1/agent/service/web1?hash={hash}&wait=200ms"),
        b"",
    )
    .await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(r.json()["ContentHash"], hash.as_str());
    // Another hash answers at once.
    let r = call(
        &fake,
        "GET",
        "/v1/agent/service/web1?hash=stale&wait=10m",
        b"",
    )
    .await;
    assert_eq!(r.json()["ContentHash"], hash.as_str());
    let r = call(&fake, "GET", "/v1/agent/service/web1?hash=x&wait=soon", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn agent_self_counts_local_services_and_checks() {
    let fake = with_web();
    let r = call(&fake, "GET", "/v1/agent/self", b"").await;
    let agent = &r.json()["Stats"]["agent"];
    assert_eq!(agent["services"], "3");
    assert_eq!(agent["checks"], "3");
    assert_eq!(agent["check_ttls"], "0");
}
