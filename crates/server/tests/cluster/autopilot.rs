//! Autopilot over a real three-server cluster: configuration in Raft with CAS, server
//! health, dead-server cleanup within its limits; `?max_stale` and read-index follower
//! reads.

use std::time::Duration;

use praetor_server::MemberState;
use praetor_types::{AutopilotConfig, Consistency, KvQuery, KvRequest, KvResult, QueryOptions};

use crate::harness::{Node, Opts, TIMEOUT, cluster};
use crate::membership::member;

fn stale(max_stale: Option<Duration>) -> QueryOptions {
    QueryOptions {
        consistency: Consistency::Stale,
        max_stale,
        ..QueryOptions::default()
    }
}

/// Tells every node the gossip states of `states` (node index → state).
fn gossip(nodes: &[Node], states: &[MemberState]) {
    let members: Vec<_> = nodes
        .iter()
        .zip(states)
        .map(|(n, s)| member(n, *s))
        .collect();
    for n in nodes {
        n.server.set_members(members.clone());
    }
}

/// Polls `f` on autopilot's cadence until it holds.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, f: impl Fn() -> F) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut status = tokio::time::interval(Duration::from_millis(50));
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        status.tick().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autopilot_config_lives_in_raft_and_dead_servers_are_removed_within_limits() {
    let opts = Opts {
        autopilot_interval: Duration::from_millis(100),
        dead_server_grace: Duration::from_millis(300),
        min_quorum: 3,
        ..Opts::default()
    };
    let mut nodes = cluster(3, opts).await;
    use MemberState::{Alive, Failed};
    gossip(&nodes, &[Alive, Alive, Alive]);
    let follower = nodes[1].server.clone();

    // The leader writes the agent's settings into Raft once; followers read them.
    eventually("autopilot config written", || async {
        follower
            .autopilot_config(QueryOptions::default())
            .await
            .unwrap()
            .create_index
            > 0
    })
    .await;
    let cfg = follower
        .autopilot_config(QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(cfg.min_quorum, 3);
    assert_eq!(cfg.last_contact_threshold, Duration::from_millis(200));
    assert!(cfg.cleanup_dead_servers);
    assert_eq!(cfg.modify_index, cfg.create_index);

    // Every server healthy: one may fail.
    eventually("all healthy", || async {
        let h = follower.autopilot_health().await.unwrap();
        h.healthy && h.failure_tolerance == 1 && h.servers.len() == 3
    })
    .await;
    let health = follower.autopilot_health().await.unwrap();
    assert_eq!(health.servers.iter().filter(|s| s.leader).count(), 1);
    assert!(
        health
            .servers
            .iter()
            .all(|s| s.voter && s.serf_status == "alive")
    );
    assert!(
        health
            .servers
            .iter()
            .any(|s| s.name == "s3" && s.version == "1.22.0")
    );

    // Server 3 dies; gossip reports it failed. min_quorum = 3 keeps it in Raft.
    let dead = nodes.pop().unwrap();
    let dead_states = [Alive, Alive, Failed];
    let members: Vec<_> = nodes
        .iter()
        .chain(std::iter::once(&dead))
        .zip(dead_states)
        .map(|(n, s)| member(n, s))
        .collect();
    dead.stop().await;
    for n in &nodes {
        n.server.set_members(members.clone());
    }
    eventually("s3 unhealthy", || async {
        let h = nodes[0].server.autopilot_health().await.unwrap();
        !h.healthy
            && h.failure_tolerance == 0
            && h.servers
                .iter()
                .any(|s| s.name == "s3" && !s.healthy && s.serf_status == "failed")
    })
    .await;
    // Several autopilot passes past the grace period: still three voters.
    let leader = nodes.iter().find(|n| n.status().is_leader).unwrap();
    let mut status = leader.server.raft_status_watch();
    let kept = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            status.changed().await.unwrap();
            if status.borrow().voters.len() != 3 {
                return;
            }
        }
    })
    .await;
    assert!(kept.is_err(), "removed below min_quorum");

    // A CAS over a stale index loses; over the current one wins and lets cleanup run.
    let stale_cas = AutopilotConfig {
        min_quorum: 0,
        ..cfg.clone()
    };
    assert!(
        !follower
            .autopilot_set_config(stale_cas.clone(), Some(cfg.modify_index + 100))
            .await
            .unwrap()
    );
    assert!(
        follower
            .autopilot_set_config(stale_cas, Some(cfg.modify_index))
            .await
            .unwrap()
    );
    let after = follower
        .autopilot_config(QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(after.min_quorum, 0);
    assert!(after.modify_index > cfg.modify_index);
    assert_eq!(after.create_index, cfg.create_index);

    leader
        .wait_status("the dead server removed", |s| s.voters.len() == 2)
        .await;
    for n in &nodes {
        n.wait_status("two voters", |s| s.voters.len() == 2).await;
    }
    // The two left keep writing.
    assert!(
        nodes[1]
            .server
            .kv_apply(KvRequest::set("after", "1"))
            .await
            .unwrap()
    );
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_stale_sends_too_stale_reads_to_the_leader() {
    let nodes = cluster(3, Opts::default()).await;
    assert!(
        nodes[0]
            .server
            .kv_apply(KvRequest::set("k", "v"))
            .await
            .unwrap()
    );
    let follower = nodes.iter().find(|n| !n.status().is_leader).unwrap();
    let key = || KvQuery::Get { key: "k".into() };
    // A follower in touch with the leader answers a stale read itself, with its own
    // last contact (heartbeats every 50 ms) and a known leader.
    let (meta, _) = follower
        .server
        .kv_read(key(), stale(Some(Duration::from_secs(3600))))
        .await
        .unwrap();
    assert_eq!(meta.consistency, Consistency::Stale);
    assert!(meta.known_leader);
    assert!(meta.last_contact < Duration::from_secs(5));
    // Bound below its last contact: the leader answers, in default mode.
    let (meta, _) = follower
        .server
        .kv_read(key(), stale(Some(Duration::from_nanos(1))))
        .await
        .unwrap();
    assert_eq!(meta.consistency, Consistency::Default);
    assert_eq!(meta.last_contact, Duration::ZERO, "the leader's meta");
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_index_follower_reads_see_writes_made_through_the_leader() {
    let nodes = cluster(
        3,
        Opts {
            follower_reads: true,
            ..Opts::default()
        },
    )
    .await;
    let leader = nodes.iter().find(|n| n.status().is_leader).unwrap();
    for i in 0..20 {
        let value = format!("v{i}");
        assert!(
            leader
                .server
                .kv_apply(KvRequest::set("key", value.as_str()))
                .await
                .unwrap()
        );
        for n in nodes.iter().filter(|n| !n.status().is_leader) {
            for consistency in [Consistency::Consistent, Consistency::Default] {
                let opts = QueryOptions {
                    consistency,
                    ..QueryOptions::default()
                };
                let (meta, result) = n
                    .server
                    .kv_read(KvQuery::Get { key: "key".into() }, opts)
                    .await
                    .unwrap();
                let KvResult::Entries(entries) = result else {
                    panic!("entries expected");
                };
                assert_eq!(entries[0].value, value.as_bytes(), "node {}", n.id);
                assert_eq!(meta.consistency, consistency);
                assert!(meta.known_leader);
                // The follower's own meta (a forwarded read carries the leader's zero).
                assert!(meta.last_contact > Duration::ZERO, "served by the follower");
            }
        }
    }
    for n in nodes {
        n.stop().await;
    }
}
