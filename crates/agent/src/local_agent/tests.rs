#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::definition::ScriptPolicy;

pub(crate) fn test_config(data_dir: Option<PathBuf>) -> LocalAgentConfig {
    LocalAgentConfig {
        node_name: "n1".into(),
        node_id: "0b1f0c53-8bd2-4c0e-9c43-2a2f9b0c6d11".into(),
        datacenter: "dc1".into(),
        advertise_addr: "127.0.0.1".into(),
        advertise_addr_wan: "127.0.0.1".into(),
        node_meta: BTreeMap::new(),
        scripts: ScriptPolicy::default(),
        check_output_max_size: 4096,
        check_update_interval: Duration::from_secs(300),
        discard_check_output: false,
        data_dir,
        reap_interval: Duration::from_secs(30),
        deregister_min: Duration::from_secs(60),
    }
}

/// An agent with its task running until the returned token is cancelled.
pub(crate) fn start(cfg: LocalAgentConfig) -> (LocalAgent, CancellationToken) {
    let stop = CancellationToken::new();
    let (agent, task) = LocalAgent::new(cfg, stop.clone());
    tokio::spawn(task.run());
    (agent, stop)
}

/// Polls `cond` every 10ms (of tokio time) for up to 30s.
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn check(agent: &LocalAgent, id: &str) -> Option<HealthCheck> {
    agent.checks().into_iter().find(|c| c.check_id == id)
}

fn status(agent: &LocalAgent, id: &str) -> Option<HealthStatus> {
    check(agent, id).map(|c| c.status)
}

#[tokio::test(start_paused = true)]
async fn ttl_check_starts_critical_and_follows_updates() {
    let (agent, _stop) = start(test_config(None));
    agent
        .register_service(
            &json!({"Name":"web","Port":80,"Check":{"TTL":"10s","Notes":"n"}}),
            false,
        )
        .unwrap();
    let services = agent.services();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].datacenter, "dc1");
    let c = check(&agent, "service:web").unwrap();
    assert_eq!((c.status, c.node.as_str()), (HealthStatus::Critical, "n1"));
    assert_eq!((c.service_name.as_str(), c.r#type.as_str()), ("web", "ttl"));

    agent
        .update_ttl("service:web", HealthStatus::Passing, "fine")
        .unwrap();
    eventually("passing", || {
        status(&agent, "service:web") == Some(HealthStatus::Passing)
    })
    .await;
    assert_eq!(check(&agent, "service:web").unwrap().output, "fine");
    // No update within the TTL: critical again.
    tokio::time::sleep(Duration::from_secs(11)).await;
    eventually("expired", || {
        status(&agent, "service:web") == Some(HealthStatus::Critical)
    })
    .await;
    assert!(
        check(&agent, "service:web")
            .unwrap()
            .output
            .starts_with("TTL expired")
    );
}

#[tokio::test(start_paused = true)]
async fn reregistering_unchanged_check_keeps_status_and_changed_one_restarts() {
    let (agent, _stop) = start(test_config(None));
    let body = json!({"Name":"web","Check":{"TTL":"30s"}});
    agent.register_service(&body, false).unwrap();
    agent
        .update_ttl("service:web", HealthStatus::Passing, "")
        .unwrap();
    eventually("passing", || {
        status(&agent, "service:web") == Some(HealthStatus::Passing)
    })
    .await;
    agent
        .register_service(
            &json!({"Name":"web","Tags":["v2"],"Check":{"TTL":"30s"}}),
            false,
        )
        .unwrap();
    assert_eq!(status(&agent, "service:web"), Some(HealthStatus::Passing));
    assert_eq!(check(&agent, "service:web").unwrap().service_tags, ["v2"]);
    agent
        .register_service(&json!({"Name":"web","Check":{"TTL":"20s"}}), false)
        .unwrap();
    assert_eq!(status(&agent, "service:web"), Some(HealthStatus::Critical));
}

#[tokio::test(start_paused = true)]
async fn replace_existing_checks_drops_the_others() {
    let (agent, _stop) = start(test_config(None));
    agent
        .register_service(
            &json!({"Name":"web","Checks":[{"CheckID":"a","TTL":"5s"},{"CheckID":"b","TTL":"5s"}]}),
            false,
        )
        .unwrap();
    agent
        .register_service(
            &json!({"Name":"web","Checks":[{"CheckID":"a","TTL":"5s"}]}),
            false,
        )
        .unwrap();
    assert!(check(&agent, "b").is_some(), "kept without the flag");
    agent
        .register_service(
            &json!({"Name":"web","Checks":[{"CheckID":"a","TTL":"5s"}]}),
            true,
        )
        .unwrap();
    assert!(check(&agent, "b").is_none());
    assert!(check(&agent, "a").is_some());
}

#[tokio::test(start_paused = true)]
async fn errors_carry_consuls_texts() {
    let (agent, _stop) = start(test_config(None));
    assert_eq!(
        agent.deregister_service("nope").unwrap_err(),
        BackendError::NotFound(
            "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.".into()
        )
    );
    assert_eq!(
        agent.register_check(&json!({"TTL":"5s"})).unwrap_err(),
        BackendError::BadRequest("Missing check name".into())
    );
    assert_eq!(
        agent
            .register_check(&json!({"Name":"c","TTL":"5s","Status":"up"}))
            .unwrap_err(),
        BackendError::BadRequest("Bad check status".into())
    );
    assert_eq!(
        agent
            .register_check(&json!({"Name":"c","TTL":"5s","ServiceID":"web"}))
            .unwrap_err(),
        BackendError::NotFound("ServiceID \"web\" does not exist".into())
    );
    assert!(matches!(
        agent.update_ttl("nope", HealthStatus::Passing, ""),
        Err(BackendError::NotFound(_))
    ));
    agent
        .register_check(&json!({"Name":"tcp","TCP":"127.0.0.1:1","Interval":"10s"}))
        .unwrap();
    assert_eq!(
        agent
            .update_ttl("tcp", HealthStatus::Passing, "")
            .unwrap_err(),
        BackendError::Internal("CheckID \"tcp\" does not have associated TTL".into())
    );
    agent.deregister_check("tcp").unwrap();
    assert!(matches!(
        agent.deregister_check("tcp"),
        Err(BackendError::NotFound(_))
    ));
    assert!(matches!(
        agent.service_maintenance("nope", true, ""),
        Err(BackendError::NotFound(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn maintenance_adds_and_removes_critical_checks() {
    let (agent, _stop) = start(test_config(None));
    agent
        .register_service(&json!({"Name":"web"}), false)
        .unwrap();
    agent.node_maintenance(true, "").unwrap();
    agent.service_maintenance("web", true, "upgrading").unwrap();
    let node = check(&agent, NODE_MAINTENANCE).unwrap();
    assert_eq!(node.name, "Node Maintenance Mode");
    assert_eq!(node.notes, NODE_MAINT_DEFAULT);
    assert_eq!(node.status, HealthStatus::Critical);
    let svc = check(&agent, "_service_maintenance:web").unwrap();
    assert_eq!(svc.name, "Service Maintenance Mode");
    assert_eq!(
        (svc.notes.as_str(), svc.service_id.as_str()),
        ("upgrading", "web")
    );
    agent.node_maintenance(false, "").unwrap();
    agent.service_maintenance("web", false, "").unwrap();
    assert!(agent.checks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn critical_service_is_deregistered_after_its_timeout() {
    let mut cfg = test_config(None);
    cfg.reap_interval = Duration::from_secs(1);
    cfg.deregister_min = Duration::from_secs(2);
    let (agent, _stop) = start(cfg);
    agent
        .register_service(
            &json!({"Name":"web","Check":{"TTL":"1h","DeregisterCriticalServiceAfter":"1s"}}),
            false,
        )
        .unwrap();
    agent
        .register_service(&json!({"Name":"db","Check":{"TTL":"1h"}}), false)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(agent.services().len(), 2, "the minimum applies");
    eventually("web reaped", || agent.services().len() == 1).await;
    assert_eq!(agent.services()[0].id, "db");
    assert!(check(&agent, "service:web").is_none());
}

#[tokio::test(start_paused = true)]
async fn alias_check_mirrors_a_local_service() {
    let (agent, _stop) = start(test_config(None));
    agent
        .register_service(&json!({"Name":"web","Check":{"TTL":"1h"}}), false)
        .unwrap();
    agent
        .register_check(&json!({"Name":"web-alias","AliasService":"web"}))
        .unwrap();
    assert_eq!(status(&agent, "web-alias"), Some(HealthStatus::Critical));
    agent
        .update_ttl("service:web", HealthStatus::Passing, "")
        .unwrap();
    eventually("alias passing", || {
        status(&agent, "web-alias") == Some(HealthStatus::Passing)
    })
    .await;
    agent.deregister_service("web").unwrap();
    let alias = check(&agent, "web-alias").unwrap();
    assert_eq!(
        (alias.status, alias.output.as_str()),
        (HealthStatus::Critical, "Service not found")
    );
}

#[tokio::test(start_paused = true)]
async fn api_registrations_ttl_state_and_maintenance_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (agent, stop) = start(test_config(Some(dir.path().to_path_buf())));
        agent
            .register_service(
                &json!({"ID":"web1","Name":"web","Check":{"TTL":"1h"}}),
                false,
            )
            .unwrap();
        agent
            .register_check(&json!({"Name":"mem","TTL":"1h"}))
            .unwrap();
        agent.node_maintenance(true, "moving racks").unwrap();
        agent
            .update_ttl("service:web1", HealthStatus::Warning, "slow")
            .unwrap();
        eventually("warning", || {
            status(&agent, "service:web1") == Some(HealthStatus::Warning)
        })
        .await;
        agent
            .register_service(&json!({"Name":"gone"}), false)
            .unwrap();
        agent.deregister_service("gone").unwrap();
        stop.cancel();
    }
    let (agent, _stop) = start(test_config(Some(dir.path().to_path_buf())));
    agent.restore();
    let ids: Vec<_> = agent.services().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["web1"]);
    let web = check(&agent, "service:web1").unwrap();
    assert_eq!(
        (web.status, web.output.as_str()),
        (HealthStatus::Warning, "slow")
    );
    assert!(check(&agent, "mem").is_some());
    assert_eq!(
        check(&agent, NODE_MAINTENANCE).unwrap().notes,
        "moving racks"
    );
}

fn runtime_with(services: Vec<Value>, checks: Vec<Value>) -> RuntimeConfig {
    let args = crate::config::AgentArgs {
        dev: true,
        ..Default::default()
    };
    let host = crate::config::HostFacts {
        hostname: Some("n1".into()),
        interface_addrs: &|| Ok(vec![]),
    };
    let mut cfg = crate::config::load_with(&args, &host).unwrap();
    cfg.services = services;
    cfg.checks = checks;
    cfg
}

#[tokio::test(start_paused = true)]
async fn config_reload_adds_removes_changes_and_keeps_api_registrations() {
    let (agent, _stop) = start(test_config(None));
    let first = runtime_with(
        vec![
            json!({"name":"web","port":80,"check":{"ttl":"1h"}}),
            json!({"name":"old"}),
        ],
        vec![json!({"id":"mem","name":"Memory","ttl":"1h"})],
    );
    agent.load_config(&first).unwrap();
    agent
        .register_service(&json!({"Name":"api"}), false)
        .unwrap();
    agent
        .update_ttl("service:web", HealthStatus::Passing, "")
        .unwrap();
    agent.update_ttl("mem", HealthStatus::Passing, "").unwrap();
    eventually("passing", || {
        status(&agent, "service:web") == Some(HealthStatus::Passing)
            && status(&agent, "mem") == Some(HealthStatus::Passing)
    })
    .await;

    let second = runtime_with(
        vec![
            json!({"name":"web","port":80,"check":{"ttl":"1h"}}),
            json!({"name":"new"}),
        ],
        vec![json!({"id":"mem","name":"Memory","ttl":"2h"})],
    );
    agent.load_config(&second).unwrap();
    let ids: Vec<_> = agent.services().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["api", "new", "web"]);
    assert_eq!(
        status(&agent, "service:web"),
        Some(HealthStatus::Passing),
        "unchanged"
    );
    assert_eq!(
        status(&agent, "mem"),
        Some(HealthStatus::Critical),
        "changed"
    );

    // A script check without the flag fails the whole reload and changes nothing.
    let bad = runtime_with(
        vec![json!({"name":"web","check":{"args":["/bin/true"],"interval":"10s"}})],
        vec![],
    );
    let err = agent.load_config(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to register service \"web\": Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
    );
    let ids: Vec<_> = agent.services().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["api", "new", "web"]);
    assert_eq!(status(&agent, "service:web"), Some(HealthStatus::Passing));
}

#[tokio::test(start_paused = true)]
async fn reload_without_a_loader_fails_with_the_reason() {
    let (agent, _stop) = start(test_config(None));
    agent.set_config_loader(Box::new(|| Err("bad.json: unknown key \"x\"".to_owned())));
    assert_eq!(
        agent.reload().unwrap_err().to_string(),
        "Failed to reload configs: bad.json: unknown key \"x\""
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_change_wakes_on_a_registration() {
    let (agent, _stop) = start(test_config(None));
    let since = agent.generation();
    let waiter = tokio::spawn({
        let agent = agent.clone();
        async move { agent.wait_for_change(since, Duration::from_secs(300)).await }
    });
    agent
        .register_service(&json!({"Name":"web"}), false)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(1), waiter)
        .await
        .expect("woken before the timeout")
        .unwrap();
    assert_ne!(agent.generation(), since);
}

#[tokio::test(start_paused = true)]
async fn api_check_and_maintenance_of_a_config_service_restore_after_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = runtime_with(vec![json!({"name":"web"})], vec![]);
    {
        let (agent, stop) = start(test_config(Some(dir.path().to_path_buf())));
        agent.load_config(&cfg).unwrap();
        agent
            .register_check(&json!({"Name":"extra","ServiceID":"web","TTL":"1h"}))
            .unwrap();
        agent.service_maintenance("web", true, "").unwrap();
        stop.cancel();
    }
    let (agent, _stop) = start(test_config(Some(dir.path().to_path_buf())));
    agent.load_config(&cfg).unwrap();
    agent.restore();
    let extra = check(&agent, "extra").unwrap();
    assert_eq!(extra.service_name, "web");
    assert!(check(&agent, "_service_maintenance:web").is_some());
}
