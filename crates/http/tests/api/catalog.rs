//! `/v1/catalog/*` and `/v1/health/*` against the fake backend.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use praetor_agent::BackendError;
use praetor_types::{
    CheckServiceNode, Consistency, HealthCheck, HealthStatus, Node, NodeService, NodeServices,
    ServiceNode,
};
use serde_json::json;

use crate::fake::{FakeBackend, call};

fn fake() -> Arc<FakeBackend> {
    Arc::new(FakeBackend::default())
}

fn node(name: &str, meta: &[(&str, &str)]) -> Node {
    Node {
        node: name.into(),
        address: "10.0.0.1".into(),
        datacenter: "dc1".into(),
        meta: meta
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Node::default()
    }
}

fn service(id: &str, name: &str, tags: &[&str]) -> NodeService {
    NodeService {
        id: id.into(),
        service: name.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        port: 80,
        ..NodeService::default()
    }
}

fn check(id: &str, status: HealthStatus) -> HealthCheck {
    HealthCheck {
        node: "n1".into(),
        check_id: id.into(),
        name: id.into(),
        status,
        ..HealthCheck::default()
    }
}

#[tokio::test]
async fn register_decodes_fields_ignoring_case_and_answers_true() {
    let b = fake();
    let body = br#"{"node":"n1","address":"10.0.0.1","Service":{"service":"web","port":80},
                    "check":{"name":"alive","status":"passing","serviceid":"web"},"Bogus":1}"#;
    let r = call(&b, "PUT", "/v1/catalog/register", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "true");
    let cat = b.cat();
    let req = &cat.registers[0];
    assert_eq!(
        (req.node.as_str(), req.address.as_str()),
        ("n1", "10.0.0.1")
    );
    assert_eq!(
        req.datacenter, "dc1",
        "the agent's datacenter is the default"
    );
    assert_eq!(req.service.as_ref().map(|s| s.port), Some(80));
    let chk = req.check.as_ref().expect("check");
    assert_eq!(
        (chk.status, chk.service_id.as_str()),
        (HealthStatus::Passing, "web")
    );
}

#[tokio::test]
async fn register_refuses_bad_json_and_other_datacenters() {
    let b = fake();
    let r = call(&b, "PUT", "/v1/catalog/register", b"{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().starts_with("Request decode failed: "),
        "{}",
        r.text()
    );
    let r = call(
        &b,
        "PUT",
        "/v1/catalog/register",
        br#"{"Node":"n","Datacenter":"dc9"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "No path to datacenter");
    assert!(b.cat().registers.is_empty());
}

#[tokio::test]
async fn register_validation_errors_are_500_with_the_servers_text() {
    let b = fake();
    b.cat().error = Some(BackendError::Internal("Must provide node".into()));
    let r = call(&b, "PUT", "/v1/catalog/register", br#"{"Address":"x"}"#).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "Must provide node");
}

#[tokio::test]
async fn register_and_deregister_are_put_only() {
    let b = fake();
    let r = call(&b, "GET", "/v1/catalog/register", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,PUT"));
    let r = call(&b, "POST", "/v1/catalog/deregister", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn deregister_decodes_ids_ignoring_case() {
    let b = fake();
    let body = br#"{"NODE":"n1","serviceID":"web1","checkid":"c1"}"#;
    let r = call(&b, "PUT", "/v1/catalog/deregister", body).await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "true".to_owned()));
    let cat = b.cat();
    let req = &cat.deregisters[0];
    assert_eq!(
        (
            req.node.as_str(),
            req.service_id.as_str(),
            req.check_id.as_str()
        ),
        ("n1", "web1", "c1")
    );
}

#[tokio::test]
async fn datacenters_lists_our_own() {
    let b = fake();
    let r = call(&b, "GET", "/v1/catalog/datacenters", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!(["dc1"]));
}

#[tokio::test]
async fn empty_lists_are_arrays_with_index_never_zero() {
    let b = fake(); // index 0, nothing registered
    for path in [
        "/v1/catalog/nodes",
        "/v1/catalog/service/web",
        "/v1/health/node/n1",
        "/v1/health/checks/web",
        "/v1/health/service/web",
        "/v1/health/state/any",
    ] {
        let r = call(&b, "GET", path, b"").await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.text(), "[]", "{path}");
        assert_eq!(r.header("x-consul-index"), Some("1"), "{path}");
        assert_eq!(r.header("x-consul-knownleader"), Some("true"), "{path}");
        assert_eq!(
            r.header("x-consul-effective-consistency"),
            Some("leader"),
            "{path}"
        );
    }
    let r = call(&b, "GET", "/v1/catalog/services", b"").await;
    assert_eq!(r.text(), "{}");
}

#[tokio::test]
async fn blocking_options_reach_the_backend() {
    let b = fake();
    call(
        &b,
        "GET",
        "/v1/health/service/web?index=9&wait=2s&stale",
        b"",
    )
    .await;
    let opts = b.cat().reads[0].opts;
    assert_eq!(opts.min_index, 9);
    assert_eq!(opts.max_wait, Some(Duration::from_secs(2)));
    assert_eq!(opts.consistency, Consistency::Stale);
    let r = call(&b, "GET", "/v1/catalog/nodes?index=x", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::BAD_REQUEST, "Invalid index".into())
    );
}

#[tokio::test]
async fn nodes_honour_node_meta_and_filter() {
    let b = fake();
    {
        let mut cat = b.cat();
        cat.index = 12;
        cat.nodes = vec![
            node("a", &[("env", "prod")]),
            node("b", &[("env", "qa")]),
            node("c", &[("env", "prod"), ("os", "linux")]),
        ];
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|n| n["Node"].as_str().expect("name").to_owned())
            .collect()
    };
    let r = call(&b, "GET", "/v1/catalog/nodes?node-meta=env:prod", b"").await;
    assert_eq!(r.header("x-consul-index"), Some("12"));
    assert_eq!(names(r.json()), ["a", "c"]);
    let r = call(
        &b,
        "GET",
        "/v1/catalog/nodes?node-meta=env:prod&node-meta=os:linux",
        b"",
    )
    .await;
    assert_eq!(names(r.json()), ["c"]);
    let r = call(
        &b,
        "GET",
        "/v1/catalog/nodes?filter=Meta.env%20%3D%3D%20%22qa%22&near=_agent",
        b"",
    )
    .await;
    assert_eq!(names(r.json()), ["b"]);
}

#[tokio::test]
async fn filter_errors_are_400_with_the_filter_text() {
    let b = fake();
    b.cat().nodes = vec![node("a", &[])];
    for q in ["Meta.env%20%3D%3D", "Nope%20%3D%3D%20%22x%22"] {
        let r = call(&b, "GET", &format!("/v1/catalog/nodes?filter={q}"), b"").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(
            r.text()
                .starts_with("Failed to create boolean expression evaluator: "),
            "{}",
            r.text()
        );
    }
}

#[tokio::test]
async fn catalog_services_filter_selects_instances_and_rebuilds_tags() {
    let b = fake();
    b.cat().services = [("web".to_owned(), vec!["v1".to_owned(), "v2".to_owned()])].into();
    b.cat().service_nodes = vec![
        ServiceNode::new(&node("a", &[]), &service("web1", "web", &["v1"])),
        ServiceNode::new(&node("b", &[]), &service("web2", "web", &["v2"])),
    ];
    let r = call(
        &b,
        "GET",
        "/v1/catalog/services?filter=%22v2%22%20in%20ServiceTags&index=5",
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), r#"{"web":["v2"]}"#);
    let reads = b.cat().reads.clone();
    assert_eq!(reads[0].method, "catalog_services");
    assert_eq!(reads[0].opts.min_index, 5, "the summary blocks");
    assert_eq!(reads[1].method, "catalog_service");
    assert_eq!(reads[1].opts.min_index, 0, "the instances do not");
    let r = call(
        &b,
        "GET",
        "/v1/catalog/services?filter=%22v9%22%20in%20ServiceTags",
        b"",
    )
    .await;
    assert_eq!(r.text(), "{}");
}

#[tokio::test]
async fn catalog_service_passes_every_tag_and_filters_rows() {
    let b = fake();
    b.cat().service_nodes = vec![
        ServiceNode::new(&node("a", &[]), &service("web1", "web", &["v1"])),
        ServiceNode::new(&node("b", &[]), &service("web2", "web", &["v2"])),
    ];
    let r = call(&b, "GET", "/v1/catalog/service/web?tag=v1&tag=primary", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let read = b.cat().reads[0].clone();
    assert_eq!((read.method, read.arg.as_str()), ("catalog_service", "web"));
    assert_eq!(read.tags, ["v1", "primary"]);
    let r = call(
        &b,
        "GET",
        "/v1/catalog/service/web?filter=%22v2%22%20in%20ServiceTags",
        b"",
    )
    .await;
    let rows = r.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(rows[0]["ServiceID"], "web2");
    assert_eq!(rows[0]["ServiceTags"], json!(["v2"]));
}

#[tokio::test]
async fn missing_path_arguments_are_400s() {
    let b = fake();
    for (path, text) in [
        ("/v1/catalog/service/", "Missing service name"),
        ("/v1/catalog/node/", "Missing node name"),
        ("/v1/catalog/node-services/", "Missing node name"),
        ("/v1/health/node/", "Missing node name"),
        ("/v1/health/checks/", "Missing service name"),
        ("/v1/health/service/", "Missing service name"),
        ("/v1/health/state/", "Missing check state"),
    ] {
        let r = call(&b, "GET", path, b"").await;
        assert_eq!(
            (r.status, r.text()),
            (StatusCode::BAD_REQUEST, text.to_owned()),
            "{path}"
        );
    }
    assert!(b.cat().reads.is_empty());
}

#[tokio::test]
async fn unknown_node_is_null_and_node_services_nulls() {
    let b = fake();
    let r = call(&b, "GET", "/v1/catalog/node/nope", b"").await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "null".to_owned()));
    assert_eq!(r.header("x-consul-index"), Some("1"));
    let r = call(&b, "GET", "/v1/catalog/node-services/nope", b"").await;
    assert_eq!(r.json(), json!({"Node": null, "Services": null}));
}

#[tokio::test]
async fn node_reads_shape_services_as_map_and_list_and_filter_them() {
    let b = fake();
    b.cat().node = Some(NodeServices {
        node: node("n1", &[]),
        services: [
            ("web1".to_owned(), service("web1", "web", &["v1"])),
            ("db1".to_owned(), service("db1", "db", &[])),
        ]
        .into(),
    });
    let r = call(&b, "GET", "/v1/catalog/node/n1", b"").await;
    let v = r.json();
    assert_eq!(v["Node"]["Node"], "n1");
    assert_eq!(v["Services"]["web1"]["Service"], "web");
    assert_eq!(v["Services"]["db1"]["Tags"], json!([]));

    let r = call(
        &b,
        "GET",
        "/v1/catalog/node/n1?filter=Service%20%3D%3D%20%22db%22",
        b"",
    )
    .await;
    let v = r.json();
    assert_eq!(v["Services"].as_object().map(|m| m.len()), Some(1));
    assert!(v["Services"].get("db1").is_some());

    let r = call(&b, "GET", "/v1/catalog/node-services/n1", b"").await;
    let v = r.json();
    assert_eq!(v["Node"]["Node"], "n1");
    let ids: Vec<&str> = v["Services"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["ID"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["db1", "web1"]);
}

#[tokio::test]
async fn passing_parses_go_booleans() {
    let cases = [
        ("", false),
        ("?passing", true),
        ("?passing=", true),
        ("?passing=1", true),
        ("?passing=TRUE", true),
        ("?passing=t", true),
        ("?passing=false", false),
        ("?passing=0", false),
        ("?passing=F", false),
    ];
    for (q, want) in cases {
        let b = fake();
        let r = call(&b, "GET", &format!("/v1/health/service/web{q}"), b"").await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        assert_eq!(b.cat().reads[0].passing, want, "{q}");
    }
    for bad in ["yes", "2", "tRuE"] {
        let b = fake();
        let r = call(
            &b,
            "GET",
            &format!("/v1/health/service/web?passing={bad}"),
            b"",
        )
        .await;
        assert_eq!(
            (r.status, r.text()),
            (
                StatusCode::BAD_REQUEST,
                "Invalid value for ?passing".to_owned()
            ),
            "{bad}"
        );
        assert!(b.cat().reads.is_empty());
    }
}

#[tokio::test]
async fn health_service_has_node_service_and_checks_and_filters() {
    let b = fake();
    let csn = |n: &str, env: &str, status| CheckServiceNode {
        node: node(n, &[("env", env)]),
        service: service("web1", "web", &[]),
        checks: vec![
            check("serfHealth", HealthStatus::Passing),
            check("c", status),
        ],
    };
    b.cat().check_service_nodes = vec![
        csn("a", "prod", HealthStatus::Passing),
        csn("b", "qa", HealthStatus::Critical),
    ];
    let r = call(&b, "GET", "/v1/health/service/web?tag=v1", b"").await;
    let v = r.json();
    assert_eq!(v[0]["Node"]["Node"], "a");
    assert_eq!(v[0]["Service"]["Tags"], json!([]));
    assert_eq!(v[0]["Checks"][0]["CheckID"], "serfHealth");
    assert_eq!(b.cat().reads[0].tags, ["v1"]);

    let r = call(&b, "GET", "/v1/health/service/web?node-meta=env:qa", b"").await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_eq!(r.json()[0]["Node"]["Node"], "b");

    let q = "Checks.Status%20%3D%3D%20%22critical%22";
    let r = call(
        &b,
        "GET",
        &format!("/v1/health/service/web?filter={q}"),
        b"",
    )
    .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_eq!(r.json()[0]["Node"]["Node"], "b");
}

#[tokio::test]
async fn health_state_passes_the_word_and_filters_checks() {
    let b = fake();
    b.cat().checks = vec![
        check("a", HealthStatus::Passing),
        check("b", HealthStatus::Critical),
    ];
    let r = call(
        &b,
        "GET",
        "/v1/health/state/critical?filter=CheckID%20%3D%3D%20%22b%22",
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_eq!(b.cat().reads[0].arg, "critical");
}

#[tokio::test]
async fn backend_failures_are_500s() {
    let b = fake();
    b.cat().error = Some(BackendError::NoLeader);
    let r = call(&b, "GET", "/v1/catalog/nodes", b"").await;
    assert_eq!(
        (r.status, r.text()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "No cluster leader".to_owned()
        )
    );
    let r = call(&b, "GET", "/v1/health/state/any?dc=dc2", b"").await;
    assert_eq!(r.text(), "No path to datacenter");
}

#[tokio::test]
async fn prefix_routes_redirect_without_their_slash() {
    let b = fake();
    let r = call(&b, "GET", "/v1/catalog/service?tag=x", b"").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/v1/catalog/service/?tag=x"));
}
