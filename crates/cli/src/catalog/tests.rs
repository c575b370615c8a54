//! `consul catalog …` through `run()` against a [`FakeAgent`] on loopback.

use praetor_client::testing::FakeAgent;
use praetor_types::{Node, ServiceNode};

use crate::tests::{Outcome, invoke_on};

fn node(name: &str, id: &str, env: &str) -> Node {
    Node {
        id: id.to_owned(),
        node: name.to_owned(),
        address: "10.4.5.31".to_owned(),
        datacenter: "dc1".to_owned(),
        tagged_addresses: [
            ("wan".to_owned(), "10.4.5.31".to_owned()),
            ("lan".to_owned(), "10.4.5.31".to_owned()),
        ]
        .into(),
        meta: [("env".to_owned(), env.to_owned())].into(),
        ..Node::default()
    }
}

fn instance(node: &str, id: &str, name: &str, tags: &[&str]) -> ServiceNode {
    ServiceNode {
        id: String::new(),
        node: node.to_owned(),
        address: "10.4.5.31".to_owned(),
        datacenter: "dc1".to_owned(),
        service_id: id.to_owned(),
        service_name: name.to_owned(),
        service_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..ServiceNode::default()
    }
}

async fn seeded() -> FakeAgent {
    let agent = FakeAgent::start().await.unwrap();
    {
        let mut state = agent.state();
        state.nodes = vec![
            node("node1", "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5", "prod"),
            node("db-2", "aaaaaaaa-8b5c-3cc2-0ac0-96f55ad423b5", "dev"),
        ];
        state.instances = vec![
            instance("node1", "consul", "consul", &[]),
            instance("node1", "redis", "redis", &["v1"]),
            instance("node1", "web1", "web", &["v2", "rails"]),
            instance("node1", "web2", "web", &["rails"]),
            instance("db-2", "web3", "web", &[]),
        ];
    }
    agent
}

async fn catalog(agent: &FakeAgent, sub: &str, args: &[&str]) -> Outcome {
    invoke_on(agent, &["catalog", sub], args).await
}

#[tokio::test]
async fn nodes_prints_columns_with_short_ids_sorted_by_name() {
    let agent = seeded().await;
    let out = catalog(&agent, "nodes", &[]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Node   ID        Address    DC\n\
         db-2   aaaaaaaa  10.4.5.31  dc1\n\
         node1  1b662d97  10.4.5.31  dc1\n"
    );
}

#[tokio::test]
async fn nodes_detailed_adds_full_id_tagged_addresses_and_meta() {
    let agent = seeded().await;
    let out = catalog(&agent, "nodes", &["-detailed", "-node-meta", "env=prod"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Node   ID                                    Address    DC   TaggedAddresses               Meta\n\
         node1  1b662d97-8b5c-3cc2-0ac0-96f55ad423b5  10.4.5.31  dc1  lan=10.4.5.31, wan=10.4.5.31  env=prod\n"
    );
    assert!(
        agent
            .state()
            .last_query
            .contains(&("node-meta".to_owned(), "env:prod".to_owned()))
    );
}

#[tokio::test]
async fn nodes_sends_near_and_filter() {
    let agent = seeded().await;
    let out = catalog(
        &agent,
        "nodes",
        &["-near=_agent", "-filter", "Meta.env == prod"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.err);
    let query = agent.state().last_query.clone();
    assert!(query.contains(&("near".to_owned(), "_agent".to_owned())));
    assert!(query.contains(&("filter".to_owned(), "Meta.env == prod".to_owned())));
}

#[tokio::test]
async fn nodes_for_a_service_lists_each_node_once() {
    let agent = seeded().await;
    let out = catalog(&agent, "nodes", &["-service=web"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    let lines: Vec<&str> = out.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.out);
    assert!(lines[1].starts_with("node1  ") && lines[2].starts_with("db-2 "));
}

#[tokio::test]
async fn no_nodes_is_a_message_on_stderr_and_exit_0() {
    let agent = seeded().await;
    let out = catalog(&agent, "nodes", &["-node-meta=env=none"]).await;
    assert_eq!(out.code, 0);
    assert!(out.out.is_empty());
    assert_eq!(
        out.err,
        "No nodes match the given query - try expanding your search.\n"
    );
}

#[tokio::test]
async fn bad_node_meta_flag_is_a_usage_error() {
    let agent = seeded().await;
    let out = catalog(&agent, "nodes", &["-node-meta=novalue"]).await;
    assert_eq!(out.code, 1);
    assert!(out.err.contains("key=value"), "{}", out.err);
}

#[tokio::test]
async fn services_lists_sorted_names() {
    let agent = seeded().await;
    let out = catalog(&agent, "services", &[]).await;
    assert_eq!((out.code, out.out.as_str()), (0, "consul\nredis\nweb\n"));
}

#[tokio::test]
async fn services_tags_are_aligned_like_tabwriter() {
    let agent = seeded().await;
    let out = catalog(&agent, "services", &["-tags"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "consul      \nredis       v1\nweb         rails,v2\n"
    );
}

#[tokio::test]
async fn services_on_one_node() {
    let agent = seeded().await;
    let out = catalog(&agent, "services", &["-node=db-2", "-tags"]).await;
    assert_eq!((out.code, out.out.as_str()), (0, "web\n"));
    let none = catalog(&agent, "services", &["-node=ghost"]).await;
    assert_eq!(none.code, 0);
    assert_eq!(
        none.err,
        "No services match the given query - try expanding your search.\n"
    );
}

#[tokio::test]
async fn services_sends_node_meta_and_filter() {
    let agent = seeded().await;
    let out = catalog(&agent, "services", &["-node-meta", "env=dev", "-filter=x"]).await;
    assert_eq!((out.code, out.out.as_str()), (0, "web\n"));
    assert!(
        agent
            .state()
            .last_query
            .contains(&("filter".to_owned(), "x".to_owned()))
    );
}

#[tokio::test]
async fn datacenters_one_per_line() {
    let agent = seeded().await;
    agent.state().datacenters = vec!["dc1".into(), "dc2".into()];
    let out = catalog(&agent, "datacenters", &[]).await;
    assert_eq!((out.code, out.out.as_str()), (0, "dc1\ndc2\n"));
}

#[tokio::test]
async fn api_errors_are_reported_with_exit_1() {
    let agent = seeded().await;
    agent.state().fail_next = Some((500, "No cluster leader".into()));
    let out = catalog(&agent, "nodes", &[]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.err,
        "Error listing nodes: Unexpected response code: 500 (No cluster leader)\n"
    );
    agent.state().fail_next = Some((500, "boom".into()));
    let out = catalog(&agent, "services", &[]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.err.starts_with("Error listing services: "),
        "{}",
        out.err
    );
}

#[tokio::test]
async fn unreachable_agent_is_an_error() {
    let agent = seeded().await;
    let addr = agent.http_addr();
    drop(agent);
    let out =
        crate::tests::invoke(&["catalog", "datacenters", &format!("-http-addr={addr}")]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.err.starts_with("Error listing datacenters: Get \""),
        "{}",
        out.err
    );
}

#[tokio::test]
async fn catalog_without_subcommand_prints_usage() {
    let out = crate::tests::invoke(&["catalog"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.err
            .contains("datacenters    Lists all known datacenters")
    );
    let help = crate::tests::invoke(&["catalog", "-h"]).await;
    assert_eq!(help.code, 0);
    assert!(help.out.starts_with("Usage: consul catalog"));
}
