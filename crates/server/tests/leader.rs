//! The leader keeps its own agent in the catalog: node, `serfHealth`, `consul` service.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use praetor_raft::RaftConfig;
use praetor_server::{Member, Server, ServerConfig};
use praetor_types::{DeregisterRequest, HealthStatus, QueryOptions, RegisterRequest};

fn member() -> Member {
    Member {
        name: "node1".into(),
        id: "9d754d17-0000-4000-8000-000000000001".into(),
        addr: "127.0.0.1".into(),
        server_port: Some(8300),
        version: "1.22.0".into(),
        state: praetor_server::MemberState::Alive,
    }
}

async fn server(reconcile_interval: Duration) -> Server {
    let mut raft = RaftConfig::new(1, "127.0.0.1:8300");
    raft.bootstrap = true;
    let mut cfg = ServerConfig::new(raft);
    cfg.member = Some(member());
    cfg.reconcile_interval = reconcile_interval;
    let server = Server::start(cfg).await.unwrap();
    server
        .wait_for_leader(Duration::from_secs(10))
        .await
        .unwrap();
    server
}

/// Blocks until `/health/node/node1` shows a passing `serfHealth`, returning its index.
async fn wait_for_serf_health(server: &Server) -> u64 {
    let mut index = 0;
    loop {
        let opts = QueryOptions {
            min_index: index,
            max_wait: Some(Duration::from_secs(30)),
            ..QueryOptions::default()
        };
        let (meta, checks) = server.health_node("node1", opts).await.unwrap();
        if checks
            .iter()
            .any(|c| c.check_id == "serfHealth" && c.status == HealthStatus::Passing)
        {
            return meta.index;
        }
        assert!(
            meta.index > index,
            "blocking read timed out without serfHealth"
        );
        index = meta.index;
    }
}

#[tokio::test]
async fn leader_registers_its_node_serf_health_and_consul_service() {
    let server = server(Duration::from_secs(3600)).await;
    wait_for_serf_health(&server).await;

    let (_, node) = server
        .catalog_node("node1", QueryOptions::default())
        .await
        .unwrap();
    let node = node.unwrap();
    assert_eq!(node.node.address, "127.0.0.1");
    assert_eq!(node.node.id, member().id);
    let consul = &node.services["consul"];
    assert_eq!(consul.service, "consul");
    assert_eq!(consul.port, 8300);
    assert_eq!(consul.meta["raft_version"], "3");
    assert_eq!(consul.meta["version"], "1.22.0");

    let (_, checks) = server
        .health_node("node1", QueryOptions::default())
        .await
        .unwrap();
    let serf = checks.iter().find(|c| c.check_id == "serfHealth").unwrap();
    assert_eq!(serf.name, "Serf Health Status");
    assert_eq!(serf.output, "Agent alive and reachable");
    assert_eq!(serf.service_id, "");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn reconcile_repairs_a_deleted_check_and_keeps_agent_owned_node_fields() {
    let server = server(Duration::from_millis(100)).await;
    let first = wait_for_serf_health(&server).await;

    // The agent's anti-entropy adds its tagged addresses and meta; the leader keeps them.
    server
        .catalog_register(RegisterRequest {
            node: "node1".into(),
            id: member().id,
            address: "127.0.0.1".into(),
            node_meta: [("rack".to_owned(), "r1".to_owned())].into(),
            ..RegisterRequest::default()
        })
        .await
        .unwrap();
    server
        .catalog_deregister(DeregisterRequest {
            node: "node1".into(),
            check_id: "serfHealth".into(),
            ..DeregisterRequest::default()
        })
        .await
        .unwrap();
    let repaired = wait_for_serf_health(&server).await;
    assert!(repaired > first);

    let (_, node) = server
        .catalog_node("node1", QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(node.unwrap().node.meta["rack"], "r1");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_quiet_catalog_costs_no_raft_writes() {
    let server = server(Duration::from_millis(20)).await;
    wait_for_serf_health(&server).await;
    let applied = server.raft_status().applied_index;
    // Several reconcile periods pass; nothing differs, so nothing is written.
    let mut status = server.raft_status_watch();
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            status.changed().await.unwrap();
            if status.borrow().applied_index > applied {
                return;
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "reconcile wrote to Raft with nothing to repair"
    );
    server.shutdown().await.unwrap();
}

fn client(state: praetor_server::MemberState) -> Member {
    Member {
        name: "client1".into(),
        id: "9d754d17-0000-4000-8000-000000000002".into(),
        addr: "127.0.0.2".into(),
        server_port: None,
        version: "1.22.0".into(),
        state,
    }
}

/// Polls `/health/node/client1` until `pred` holds on its `serfHealth` (None: no check).
async fn wait_for_client_check(
    server: &Server,
    pred: impl Fn(Option<&praetor_types::HealthCheck>) -> bool,
) {
    let mut index = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let opts = QueryOptions {
            min_index: index,
            max_wait: Some(Duration::from_secs(1)),
            ..QueryOptions::default()
        };
        let (meta, checks) = server.health_node("client1", opts).await.unwrap();
        if pred(checks.iter().find(|c| c.check_id == "serfHealth")) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "check never got there: {checks:?}"
        );
        index = meta.index;
    }
}

#[tokio::test]
async fn gossip_states_drive_the_catalog() {
    use praetor_server::MemberState;
    let server = server(Duration::from_secs(3600)).await;
    wait_for_serf_health(&server).await;

    server.set_members(vec![member(), client(MemberState::Alive)]);
    wait_for_client_check(&server, |c| {
        c.is_some_and(|c| c.status == HealthStatus::Passing)
    })
    .await;

    // Failed: the node stays, serfHealth turns critical with Consul's output.
    server.set_members(vec![member(), client(MemberState::Failed)]);
    wait_for_client_check(&server, |c| {
        c.is_some_and(|c| {
            c.status == HealthStatus::Critical && c.output == "Agent not live or unreachable"
        })
    })
    .await;
    let (_, node) = server
        .catalog_node("client1", QueryOptions::default())
        .await
        .unwrap();
    assert!(node.is_some(), "a failed node is kept");

    // Left: the node is deregistered.
    server.set_members(vec![member(), client(MemberState::Left)]);
    wait_for_client_check(&server, |c| c.is_none()).await;
    let (_, node) = server
        .catalog_node("client1", QueryOptions::default())
        .await
        .unwrap();
    assert!(node.is_none(), "a left node is deregistered");

    // Reaped: a tracked node no member names any more is deregistered too.
    server.set_members(vec![member(), client(MemberState::Alive)]);
    wait_for_client_check(&server, |c| c.is_some()).await;
    server.set_members(vec![member()]);
    wait_for_client_check(&server, |c| c.is_none()).await;
    // The leader itself is untouched.
    wait_for_serf_health(&server).await;
    server.shutdown().await.unwrap();
}
