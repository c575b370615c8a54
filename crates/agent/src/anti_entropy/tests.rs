#![allow(clippy::unwrap_used)]

use std::sync::Mutex;

use praetor_types::{HealthStatus, Node, NodeService};
use serde_json::json;

use super::*;
use crate::local_agent::tests::{eventually, start, test_config};

/// A catalog holding one node's entries, with a switch to fail every call.
#[derive(Default)]
struct FakeCatalog {
    inner: Mutex<FakeInner>,
}

#[derive(Default)]
struct FakeInner {
    node: Option<Node>,
    services: BTreeMap<String, NodeService>,
    checks: BTreeMap<String, HealthCheck>,
    failing: bool,
    registers: usize,
}

impl FakeCatalog {
    fn lock(&self) -> std::sync::MutexGuard<'_, FakeInner> {
        self.inner.lock().unwrap()
    }
}

#[async_trait]
impl CatalogApi for FakeCatalog {
    async fn register(&self, req: RegisterRequest) -> Result<(), BackendError> {
        let mut c = self.lock();
        if c.failing {
            return Err(BackendError::NoLeader);
        }
        c.registers += 1;
        if !req.skip_node_update || c.node.is_none() {
            c.node = Some(Node {
                id: req.id.clone(),
                node: req.node.clone(),
                address: req.address.clone(),
                tagged_addresses: req.tagged_addresses.clone(),
                meta: req.node_meta.clone(),
                ..Node::default()
            });
        }
        if let Some(s) = req.service {
            c.services.insert(s.id.clone(), s);
        }
        for check in req.checks {
            c.checks.insert(check.check_id.clone(), check);
        }
        Ok(())
    }

    async fn deregister(&self, req: DeregisterRequest) -> Result<(), BackendError> {
        let mut c = self.lock();
        if c.failing {
            return Err(BackendError::NoLeader);
        }
        if !req.service_id.is_empty() {
            c.services.remove(&req.service_id);
            c.checks.retain(|_, k| k.service_id != req.service_id);
        }
        if !req.check_id.is_empty() {
            c.checks.remove(&req.check_id);
        }
        Ok(())
    }

    async fn node_services(&self, _node: &str) -> Result<Option<NodeServices>, BackendError> {
        let c = self.lock();
        if c.failing {
            return Err(BackendError::NoLeader);
        }
        Ok(c.node.clone().map(|node| NodeServices {
            node,
            services: c.services.clone(),
        }))
    }

    async fn watch_node_checks(
        &self,
        node: &str,
        min_index: u64,
        wait: Duration,
    ) -> Result<(u64, Vec<HealthCheck>), BackendError> {
        // Nothing ever changes here: a blocking query just times out.
        if min_index >= 1 {
            tokio::time::sleep(wait).await;
        }
        Ok((1, self.node_checks(node).await?))
    }

    async fn node_checks(&self, _node: &str) -> Result<Vec<HealthCheck>, BackendError> {
        let c = self.lock();
        if c.failing {
            return Err(BackendError::NoLeader);
        }
        Ok(c.checks.values().cloned().collect())
    }
}

fn ae_config() -> AntiEntropyConfig {
    AntiEntropyConfig {
        full_sync_interval: Duration::from_secs(60),
        min_retry: Duration::from_millis(100),
        max_retry: Duration::from_secs(1),
        coalesce: Duration::from_millis(5),
    }
}

#[tokio::test(start_paused = true)]
async fn syncs_node_services_and_checks_on_change() {
    let (agent, stop) = start(test_config(None));
    let catalog = Arc::new(FakeCatalog::default());
    tokio::spawn(AntiEntropy::new(agent.clone(), catalog.clone(), ae_config()).run(stop.clone()));
    eventually("node registered", || catalog.lock().node.is_some()).await;
    let node = catalog.lock().node.clone().unwrap();
    assert_eq!(node.address, "127.0.0.1");
    assert_eq!(node.tagged_addresses["lan_ipv4"], "127.0.0.1");
    assert_eq!(node.tagged_addresses["wan"], "127.0.0.1");

    agent
        .register_service(&json!({"Name":"web","Port":80,"Check":{"TTL":"1h"}}), false)
        .unwrap();
    eventually("service synced", || {
        catalog.lock().services.contains_key("web")
    })
    .await;
    assert_eq!(
        catalog.lock().checks["service:web"].status,
        HealthStatus::Critical
    );
    agent
        .update_ttl("service:web", HealthStatus::Passing, "ok")
        .unwrap();
    eventually("status synced", || {
        catalog.lock().checks["service:web"].status == HealthStatus::Passing
    })
    .await;

    // Output-only changes wait for check_update_interval (5m here).
    agent
        .update_ttl("service:web", HealthStatus::Passing, "still ok")
        .unwrap();
    eventually("local output", || agent.checks()[0].output == "still ok").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(catalog.lock().checks["service:web"].output, "ok");
    tokio::time::sleep(Duration::from_secs(300)).await;
    eventually("deferred output synced", || {
        catalog.lock().checks["service:web"].output == "still ok"
    })
    .await;

    agent.deregister_service("web").unwrap();
    eventually("service removed", || catalog.lock().services.is_empty()).await;
    assert!(catalog.lock().checks.is_empty());
    assert!(agent.state().services.is_empty(), "tombstone forgotten");
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn full_sync_repairs_drift_but_leaves_leader_entries() {
    let (agent, stop) = start(test_config(None));
    agent
        .register_service(&json!({"Name":"web","Tags":["a"]}), false)
        .unwrap();
    let catalog = Arc::new(FakeCatalog::default());
    {
        let mut c = catalog.lock();
        c.node = Some(Node {
            node: "n1".into(),
            address: "10.0.0.9".into(),
            ..Node::default()
        });
        for id in ["consul", "stray"] {
            c.services.insert(
                id.into(),
                NodeService {
                    id: id.into(),
                    service: id.into(),
                    ..NodeService::default()
                },
            );
        }
        for id in ["serfHealth", "stray-check"] {
            c.checks.insert(
                id.into(),
                HealthCheck {
                    check_id: id.into(),
                    ..HealthCheck::default()
                },
            );
        }
    }
    let ae = AntiEntropy::new(agent.clone(), catalog.clone(), ae_config());
    ae.sync_full().await.unwrap();
    {
        let c = catalog.lock();
        let services: Vec<_> = c.services.keys().cloned().collect();
        assert_eq!(services, ["consul", "web"]);
        let checks: Vec<_> = c.checks.keys().cloned().collect();
        assert_eq!(checks, ["serfHealth"]);
    }
    // Someone edits our service in the catalog: the next full sync puts it back.
    catalog.lock().services.get_mut("web").unwrap().tags = vec!["edited".into()];
    let before = catalog.lock().registers;
    ae.sync_full().await.unwrap();
    assert_eq!(catalog.lock().services["web"].tags, ["a"]);
    assert_eq!(catalog.lock().registers, before + 1);
    // In sync: a full sync writes nothing.
    ae.sync_full().await.unwrap();
    assert_eq!(catalog.lock().registers, before + 1);
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn failures_are_retried_until_the_catalog_answers() {
    let (agent, stop) = start(test_config(None));
    let catalog = Arc::new(FakeCatalog::default());
    catalog.lock().failing = true;
    tokio::spawn(AntiEntropy::new(agent.clone(), catalog.clone(), ae_config()).run(stop.clone()));
    agent
        .register_service(&json!({"Name":"web"}), false)
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    catalog.lock().failing = false;
    eventually("synced after the leader appears", || {
        catalog.lock().services.contains_key("web")
    })
    .await;
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn alias_of_another_node_follows_its_catalog_checks() {
    let (agent, stop) = start(test_config(None));
    let catalog = Arc::new(FakeCatalog::default());
    catalog.lock().checks.insert(
        "serfHealth".into(),
        HealthCheck {
            node: "other".into(),
            check_id: "serfHealth".into(),
            name: "Serf Health Status".into(),
            status: HealthStatus::Critical,
            output: "Agent not live or unreachable".into(),
            ..HealthCheck::default()
        },
    );
    agent.set_catalog(catalog.clone());
    agent
        .register_check(&json!({"Name":"other-alive","AliasNode":"other"}))
        .unwrap();
    eventually("alias evaluated", || {
        agent.checks().iter().any(|c| {
            c.output
                .starts_with("Aliased check \"Serf Health Status\" failing")
        })
    })
    .await;
    assert_eq!(agent.checks()[0].status, HealthStatus::Critical);
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn tag_override_keeps_the_catalogs_tags() {
    let (agent, stop) = start(test_config(None));
    agent
        .register_service(
            &json!({"Name":"web","Tags":["a"],"EnableTagOverride":true}),
            false,
        )
        .unwrap();
    let catalog = Arc::new(FakeCatalog::default());
    let ae = AntiEntropy::new(agent.clone(), catalog.clone(), ae_config());
    ae.sync_full().await.unwrap();
    catalog.lock().services.get_mut("web").unwrap().tags = vec!["edited".into()];
    ae.sync_full().await.unwrap();
    assert_eq!(catalog.lock().services["web"].tags, ["edited"]);
    assert_eq!(agent.services()[0].tags, ["edited"]);
    stop.cancel();
}
