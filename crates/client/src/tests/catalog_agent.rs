//! Catalog and agent endpoints against [`FakeAgent`].

use praetor_types::{Node, ServiceNode};

use super::setup;
use crate::{
    AgentServiceRegistration, CatalogQuery, ClientError, NODE_MAINTENANCE_CHECK_ID, QueryOptions,
};

fn node(name: &str, env: &str) -> Node {
    Node {
        id: format!("{name}-0000"),
        node: name.to_owned(),
        address: "127.0.0.1".to_owned(),
        datacenter: "dc1".to_owned(),
        meta: [("env".to_owned(), env.to_owned())].into(),
        ..Node::default()
    }
}

#[tokio::test]
async fn catalog_nodes_sends_node_meta_and_filter() {
    let (agent, client) = setup().await;
    agent.state().nodes = vec![node("b", "prod"), node("a", "dev")];
    let query = CatalogQuery {
        node_meta: vec![("env".into(), "prod".into())],
        filter: Some("Node != x".into()),
        near: Some("_agent".into()),
    };
    let (nodes, meta) = client
        .catalog_nodes(&query, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].node, "b");
    assert!(meta.index >= 1);
    let sent = agent.state().last_query.clone();
    assert!(sent.contains(&("node-meta".into(), "env:prod".into())));
    assert!(sent.contains(&("filter".into(), "Node != x".into())));
    assert!(sent.contains(&("near".into(), "_agent".into())));
}

#[tokio::test]
async fn catalog_services_and_node_and_datacenters() {
    let (agent, client) = setup().await;
    {
        let mut state = agent.state();
        state.nodes = vec![node("n1", "prod")];
        state.instances = vec![ServiceNode {
            node: "n1".into(),
            service_id: "web1".into(),
            service_name: "web".into(),
            service_tags: vec!["v2".into(), "rails".into()],
            ..ServiceNode::default()
        }];
    }
    let options = QueryOptions::default();
    let (services, _) = client
        .catalog_services(&CatalogQuery::default(), &options)
        .await
        .unwrap();
    assert_eq!(services["web"], ["rails", "v2"]);
    let (found, _) = client
        .catalog_node("n1", &CatalogQuery::default(), &options)
        .await
        .unwrap();
    assert_eq!(found.unwrap().services["web1"].service, "web");
    let (missing, _) = client
        .catalog_node("nope", &CatalogQuery::default(), &options)
        .await
        .unwrap();
    assert!(missing.is_none());
    let (instances, _) = client
        .catalog_service("web", &CatalogQuery::default(), &options)
        .await
        .unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(client.catalog_datacenters().await.unwrap(), ["dc1"]);
}

#[tokio::test]
async fn agent_register_maintenance_and_deregister() {
    let (agent, client) = setup().await;
    let service = AgentServiceRegistration {
        id: "redis1".into(),
        name: "redis".into(),
        port: 6379,
        ..AgentServiceRegistration::default()
    };
    client.agent_service_register(&service).await.unwrap();
    assert_eq!(agent.state().agent_services["redis1"], service);
    assert_eq!(client.agent_services().await.unwrap()["redis1"].port, 6379);

    client.agent_node_maintenance(true, "broken").await.unwrap();
    client
        .agent_service_maintenance("redis1", true, "")
        .await
        .unwrap();
    let checks = client.agent_checks().await.unwrap();
    assert_eq!(checks[NODE_MAINTENANCE_CHECK_ID].notes, "broken");
    assert_eq!(checks["_service_maintenance:redis1"].service_id, "redis1");
    client.agent_node_maintenance(false, "").await.unwrap();
    assert!(
        !client
            .agent_checks()
            .await
            .unwrap()
            .contains_key(NODE_MAINTENANCE_CHECK_ID)
    );

    client.agent_service_deregister("redis1").await.unwrap();
    let err = client.agent_service_deregister("redis1").await.unwrap_err();
    assert!(matches!(err, ClientError::Api { status: 404, .. }), "{err}");
    assert_eq!(client.agent_node_name().await.unwrap(), "fake");
}

#[tokio::test]
async fn agent_reload_and_its_failure() {
    let (agent, client) = setup().await;
    client.agent_reload().await.unwrap();
    assert_eq!(agent.state().reloads, 1);
    agent.state().fail_next = Some((500, "Failed reloading services: boom".into()));
    let err = client.agent_reload().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unexpected response code: 500 (Failed reloading services: boom)"
    );
}
