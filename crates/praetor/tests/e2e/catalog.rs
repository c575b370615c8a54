//! The catalog as a fresh agent shows it: its own node, `serfHealth`, the `consul` service.

use std::time::Duration;

use serde_json::Value;

use crate::agent::AgentProcess;
use crate::{http, index_of};

/// Blocks on `url` until `done` holds for its JSON body; returns the body.
async fn block_until(url: &str, done: impl Fn(&Value) -> bool) -> Value {
    let c = http();
    let mut index = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resp = c
            .get(format!("{url}?index={index}&wait=5s"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        index = index_of(&resp);
        let body: Value = resp.json().await.unwrap();
        if done(&body) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up: {body}");
    }
}

#[tokio::test]
async fn a_dev_agent_lists_its_node_with_serf_health_and_the_consul_service() {
    let agent = AgentProcess::start(&["-dev", "-node", "alpha"]);
    let services = block_until(&format!("{}/v1/catalog/services", agent.http), |b| {
        b.get("consul").is_some()
    })
    .await;
    assert_eq!(services["consul"], serde_json::json!([]));

    let nodes = block_until(&format!("{}/v1/catalog/nodes", agent.http), |b| {
        b.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(nodes[0]["Node"], "alpha");
    assert_eq!(nodes[0]["Address"], "127.0.0.1");

    let checks = block_until(&format!("{}/v1/health/node/alpha", agent.http), |b| {
        b.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(checks[0]["CheckID"], "serfHealth");
    assert_eq!(checks[0]["Status"], "passing");
    assert_eq!(checks[0]["Output"], "Agent alive and reachable");

    let consul = http()
        .get(format!("{}/v1/health/service/consul?passing", agent.http))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(consul[0]["Node"]["Node"], "alpha");
    assert_eq!(consul[0]["Service"]["ID"], "consul");
    assert_eq!(consul[0]["Checks"][0]["CheckID"], "serfHealth");
}
