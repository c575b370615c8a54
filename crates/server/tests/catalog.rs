//! Catalog and health through a single in-memory server: Raft writes, blocking reads.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use praetor_raft::RaftConfig;
use praetor_server::{Server, ServerConfig, ServerError};
use praetor_types::{
    DeregisterRequest, HealthCheck, HealthStatus, NodeService, QueryOptions, RegisterRequest,
};

async fn dev_server() -> Server {
    let mut raft = RaftConfig::new(1, "127.0.0.1:8300");
    raft.bootstrap = true;
    let server = Server::start(ServerConfig::new(raft)).await.unwrap();
    server
        .wait_for_leader(Duration::from_secs(10))
        .await
        .unwrap();
    server
}

fn web(node: &str, id: &str, tags: &[&str], status: HealthStatus) -> RegisterRequest {
    RegisterRequest {
        node: node.into(),
        address: "10.0.0.1".into(),
        service: Some(NodeService {
            id: id.into(),
            service: "web".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            port: 80,
            ..NodeService::default()
        }),
        checks: vec![HealthCheck {
            check_id: format!("check:{id}"),
            name: "alive".into(),
            status,
            service_id: id.into(),
            ..HealthCheck::default()
        }],
        ..RegisterRequest::default()
    }
}

fn now() -> QueryOptions {
    QueryOptions::default()
}

fn after(index: u64) -> QueryOptions {
    QueryOptions {
        min_index: index,
        max_wait: Some(Duration::from_secs(60)),
        ..QueryOptions::default()
    }
}

#[tokio::test]
async fn register_then_read_every_view_and_deregister() {
    let server = dev_server().await;
    let (m0, nodes) = server.catalog_nodes(now()).await.unwrap();
    assert!(nodes.is_empty());
    assert!(m0.index >= 1, "index is never 0");

    assert!(
        server
            .catalog_register(web("n1", "web1", &["v1", "primary"], HealthStatus::Passing))
            .await
            .unwrap()
    );
    assert!(
        server
            .catalog_register(web("n2", "web2", &["v1"], HealthStatus::Critical))
            .await
            .unwrap()
    );

    let (m1, nodes) = server.catalog_nodes(now()).await.unwrap();
    assert!(m1.index > m0.index);
    let names: Vec<_> = nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(names, ["n1", "n2"]);

    let (_, services) = server.catalog_services(now()).await.unwrap();
    assert_eq!(services["web"], ["primary", "v1"]);

    let (_, rows) = server.catalog_service("web", &[], now()).await.unwrap();
    assert_eq!(rows.len(), 2);
    let tags = vec!["V1".to_owned(), "primary".to_owned()];
    let (_, rows) = server.catalog_service("web", &tags, now()).await.unwrap();
    assert_eq!(rows.len(), 1, "every tag must match");
    assert_eq!(rows[0].service_id, "web1");

    let (_, node) = server.catalog_node("n1", now()).await.unwrap();
    assert!(node.unwrap().services.contains_key("web1"));
    let (_, none) = server.catalog_node("nope", now()).await.unwrap();
    assert!(none.is_none());

    let (_, checks) = server.health_node("n2", now()).await.unwrap();
    assert_eq!(checks.len(), 1);
    let (_, checks) = server.health_checks("web", now()).await.unwrap();
    assert_eq!(checks.len(), 2);

    let (_, all) = server
        .health_service("web", &[], false, now())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let (_, passing) = server
        .health_service("web", &[], true, now())
        .await
        .unwrap();
    assert_eq!(passing.len(), 1);
    assert_eq!(passing[0].node.node, "n1");

    let (_, critical) = server.health_state("critical", now()).await.unwrap();
    assert_eq!(critical.len(), 1);
    let (_, any) = server.health_state("any", now()).await.unwrap();
    assert_eq!(any.len(), 2);
    let (m, unknown) = server.health_state("maintenance", now()).await.unwrap();
    assert!(unknown.is_empty() && m.index >= 1);

    let dereg = DeregisterRequest {
        node: "n2".into(),
        ..DeregisterRequest::default()
    };
    assert!(server.catalog_deregister(dereg.clone()).await.unwrap());
    assert!(
        server.catalog_deregister(dereg).await.unwrap(),
        "idempotent"
    );
    let (_, rows) = server.catalog_service("web", &[], now()).await.unwrap();
    assert_eq!(rows.len(), 1);
    let (_, checks) = server.health_node("n2", now()).await.unwrap();
    assert!(checks.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_register_is_refused_with_consuls_text() {
    let server = dev_server().await;
    let err = server
        .catalog_register(RegisterRequest {
            address: "10.0.0.1".into(),
            ..RegisterRequest::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::Apply(_)), "{err:?}");
    assert_eq!(err.to_string(), "Must provide node");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn blocking_health_service_wakes_on_register_and_on_check_change() {
    let server = dev_server().await;
    let (meta, rows) = server
        .health_service("web", &[], true, now())
        .await
        .unwrap();
    assert!(rows.is_empty());

    // A register wakes a read over the services table.
    let blocked = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .health_service("web", &[], false, after(meta.index))
                .await
        }
    });
    server
        .catalog_register(web("n1", "web1", &[], HealthStatus::Critical))
        .await
        .unwrap();
    let (woken, rows) = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(woken.index > meta.index);
    assert_eq!(rows.len(), 1);

    // A check turning passing (only the checks table changes) wakes a ?passing read.
    let blocked = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .health_service("web", &[], true, after(woken.index))
                .await
        }
    });
    server
        .catalog_register(web("n1", "web1", &[], HealthStatus::Passing))
        .await
        .unwrap();
    let (again, rows) = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(again.index > woken.index);
    assert_eq!(rows.len(), 1, "the instance now passes");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn blocking_catalog_nodes_wakes_on_register() {
    let server = dev_server().await;
    let (meta, _) = server.catalog_nodes(now()).await.unwrap();
    let blocked = tokio::spawn({
        let server = server.clone();
        async move { server.catalog_nodes(after(meta.index)).await }
    });
    server
        .catalog_register(web("n9", "web9", &[], HealthStatus::Passing))
        .await
        .unwrap();
    let (woken, nodes) = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(woken.index > meta.index);
    assert_eq!(nodes[0].node, "n9");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn blocking_read_without_change_times_out_with_the_same_index() {
    let server = dev_server().await;
    server
        .catalog_register(web("n1", "web1", &[], HealthStatus::Passing))
        .await
        .unwrap();
    let (meta, _) = server.health_state("any", now()).await.unwrap();
    let opts = QueryOptions {
        min_index: meta.index,
        max_wait: Some(Duration::from_millis(50)),
        ..QueryOptions::default()
    };
    let (again, checks) = server.health_state("any", opts).await.unwrap();
    assert_eq!(again.index, meta.index);
    assert_eq!(checks.len(), 1);
    server.shutdown().await.unwrap();
}
