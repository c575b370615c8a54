//! Three servers in one process over real tonic RPC on loopback: join, replication,
//! forwarding to the leader, failover, snapshot install, and failures that must not hang.
#![allow(clippy::unwrap_used)]

mod autopilot;
mod harness;
mod membership;

use std::time::Duration;

use harness::{Node, Opts, TIMEOUT, cluster};
use praetor_server::ServerError;
use praetor_types::{
    Consistency, KvOp, KvQuery, KvRequest, KvResult, QueryOptions, RegisterRequest,
};

fn get(key: &str) -> KvQuery {
    KvQuery::Get { key: key.into() }
}

fn opts(consistency: Consistency) -> QueryOptions {
    QueryOptions {
        consistency,
        ..QueryOptions::default()
    }
}

/// The value of `key` as `node` reads it with `consistency`.
async fn read(node: &Node, key: &str, consistency: Consistency) -> Option<Vec<u8>> {
    let (_, result) = node
        .server
        .kv_read(get(key), opts(consistency))
        .await
        .unwrap();
    match result {
        KvResult::Entries(mut e) => e.pop().map(|e| e.value),
        other => panic!("unexpected {other:?}"),
    }
}

/// Waits until `node`'s own replica (a stale read) holds `key` = `value`.
async fn wait_replicated(node: &Node, key: &str, value: &[u8]) {
    let mut watch = node.server.store().watch_key(key);
    let wait = async {
        loop {
            if read(node, key, Consistency::Stale).await.as_deref() == Some(value) {
                return;
            }
            watch.changed().await;
            watch = node.server.store().watch_key(key);
        }
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .unwrap_or_else(|_| panic!("node {}: {key} never replicated", node.id));
}

fn leader_of(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .position(|n| n.status().is_leader)
        .expect("a leader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_forward_writes_and_reads_to_the_leader() {
    let nodes = cluster(3, Opts::default()).await;
    let leader = &nodes[0];
    assert!(leader.status().is_leader);
    let (f1, f2) = (&nodes[1], &nodes[2]);

    // A write through a follower is forwarded, applied and replicated everywhere.
    assert!(
        f1.server
            .kv_apply(KvRequest::set("web/a", "1"))
            .await
            .unwrap()
    );
    for n in &nodes {
        wait_replicated(n, "web/a", b"1").await;
    }

    // A losing CAS answers false through the follower, as on the leader.
    let cas = KvRequest {
        op: KvOp::Cas,
        cas_index: 1,
        ..KvRequest::set("web/a", "2")
    };
    assert!(!f2.server.kv_apply(cas).await.unwrap());
    // The state store's refusal comes back as the same error.
    let lock = KvRequest {
        session: Some("no-such-session".into()),
        ..KvRequest::new(KvOp::Lock, "web/lock")
    };
    match f1.server.kv_apply(lock).await {
        Err(ServerError::Apply(e)) => assert!(e.to_string().contains("invalid session")),
        other => panic!("expected the leader's apply error, got {other:?}"),
    }

    // A default read on a follower is the leader's answer, meta unchanged: the leader's
    // own last contact (zero) and index.
    let (meta, _) = f2
        .server
        .kv_read(get("web/a"), opts(Consistency::Default))
        .await
        .unwrap();
    let (leader_meta, _) = leader
        .server
        .kv_read(get("web/a"), opts(Consistency::Default))
        .await
        .unwrap();
    assert_eq!(meta, leader_meta);
    assert_eq!(meta.last_contact, Duration::ZERO);
    assert!(meta.known_leader);
    assert_eq!(
        read(f2, "web/a", Consistency::Consistent).await.as_deref(),
        Some(b"1".as_slice())
    );
    // A stale read is this follower's own answer.
    let (stale, _) = f2
        .server
        .kv_read(get("web/a"), opts(Consistency::Stale))
        .await
        .unwrap();
    assert_eq!(stale.consistency, Consistency::Stale);

    // A blocking read through a follower blocks at the leader and wakes on a write made
    // through the other follower.
    let blocked = tokio::spawn({
        let server = f1.server.clone();
        let opts = QueryOptions {
            min_index: meta.index,
            max_wait: Some(Duration::from_secs(30)),
            ..QueryOptions::default()
        };
        async move { server.kv_read(get("web/a"), opts).await }
    });
    assert!(
        f2.server
            .kv_apply(KvRequest::set("web/a", "3"))
            .await
            .unwrap()
    );
    let (woken, result) = tokio::time::timeout(TIMEOUT, blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(woken.index > meta.index);
    assert!(matches!(result, KvResult::Entries(e) if e[0].value == b"3"));

    // Catalog writes and health reads are forwarded too.
    let reg = RegisterRequest {
        node: "web-1".into(),
        address: "10.0.0.1".into(),
        ..RegisterRequest::default()
    };
    assert!(f2.server.catalog_register(reg).await.unwrap());
    let (_, nodes_seen) = f1
        .server
        .catalog_nodes(QueryOptions::default())
        .await
        .unwrap();
    assert!(
        nodes_seen.iter().any(|n| n.node == "web-1"),
        "{nodes_seen:?}"
    );

    // Status answers on any server.
    assert_eq!(f1.server.leader_addr(), leader.addr);
    let mut peers = f2.server.peers();
    peers.sort();
    let mut want: Vec<String> = nodes.iter().map(|n| n.addr.clone()).collect();
    want.sort();
    assert_eq!(peers, want);

    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_leader_elects_another_and_writes_continue() {
    let mut nodes = cluster(3, Opts::default()).await;
    for i in 0..20 {
        let via = &nodes[i % 3];
        assert!(
            via.server
                .kv_apply(KvRequest::set(format!("k/{i}"), "v"))
                .await
                .unwrap()
        );
    }
    let old = nodes.remove(leader_of(&nodes));
    let old_id = old.id;
    let stopped = tokio::time::Instant::now();
    old.stop().await;

    // A write made at once, before the survivors noticed: held (rpc_hold_timeout) while
    // the followers elect, then applied by the new leader.
    assert!(
        nodes[0]
            .server
            .kv_apply(KvRequest::set("during", "failover"))
            .await
            .unwrap()
    );

    let status = nodes[0]
        .wait_status("a new leader", |s| s.leader_id.is_some_and(|l| l != old_id))
        .await;
    let elapsed = stopped.elapsed();
    eprintln!("new leader {:?} after {elapsed:?}", status.leader_id);
    assert!(
        elapsed < Duration::from_secs(5),
        "failover took {elapsed:?}"
    );

    // Writes continue through either survivor (a follower forwards to the new leader),
    // and nothing acknowledged before is lost.
    for (i, n) in nodes.iter().enumerate() {
        assert!(
            n.server
                .kv_apply(KvRequest::set(format!("after/{i}"), "w"))
                .await
                .unwrap()
        );
    }
    for n in &nodes {
        for i in 0..20 {
            assert_eq!(
                read(n, &format!("k/{i}"), Consistency::Default)
                    .await
                    .as_deref(),
                Some(b"v".as_slice()),
                "k/{i} via node {}",
                n.id
            );
        }
        wait_replicated(n, "after/1", b"w").await;
        wait_replicated(n, "during", b"failover").await;
    }
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_joining_after_many_writes_installs_a_streamed_snapshot() {
    let opts = Opts {
        snapshot_threshold: 64,
        ..Opts::default()
    };
    let mut nodes = cluster(2, opts).await;
    // ~3 MiB of state, so the snapshot is several chunks. One write at a time (concurrent
    // ones would share log entries), until the leader has snapshotted and purged its log:
    // a newcomer can then only be sent a snapshot.
    let value = vec![b'x'; 12 * 1024];
    let leader = &nodes[0];
    let mut written = 0;
    while written < 256 || leader.server.raft_node().compaction().1.is_none() {
        assert!(written < 5000, "no log purge after {written} writes");
        let via = &nodes[written % 2].server;
        let key = format!("bulk/{written:04}");
        assert!(
            via.kv_apply(KvRequest::set(key, value.clone()))
                .await
                .unwrap()
        );
        written += 1;
    }
    assert!(leader.status().is_leader);
    let last = leader.status().last_log_index;
    let streamed_before = leader.rpc.streamed_raft_calls();

    let joiner = Node::start(3, opts).await;
    leader
        .server
        .add_server(3, &joiner.addr, TIMEOUT)
        .await
        .unwrap();
    joiner
        .wait_status("caught up", |s| {
            s.applied_index >= last && s.voters.len() == 3
        })
        .await;
    assert!(
        joiner.server.raft_node().compaction().0.is_some(),
        "the joiner should hold the installed snapshot"
    );
    assert!(
        leader.rpc.streamed_raft_calls() > streamed_before,
        "the snapshot should have been streamed in chunks"
    );
    let view = joiner.server.store().view();
    for i in 0..written {
        let key = format!("bulk/{i:04}");
        assert_eq!(
            view.kv_get(&key).map(|e| e.value.len()),
            Some(value.len()),
            "{key}"
        );
    }
    nodes.push(joiner);
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_leader_requests_fail_with_no_cluster_leader_but_stale_reads_answer() {
    // Never bootstrapped: no leader will ever be known.
    let node = Node::start(
        1,
        Opts {
            rpc_hold_timeout: Duration::from_millis(300),
            ..Opts::default()
        },
    )
    .await;
    let started = tokio::time::Instant::now();
    let err = node
        .server
        .kv_apply(KvRequest::set("a", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::NoLeader), "{err:?}");
    assert_eq!(err.to_string(), "No cluster leader");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "held {:?}",
        started.elapsed()
    );
    let err = node
        .server
        .kv_read(get("a"), opts(Consistency::Consistent))
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::NoLeader), "{err:?}");
    let (meta, _) = node
        .server
        .kv_read(get("a"), opts(Consistency::Stale))
        .await
        .unwrap();
    assert!(!meta.known_leader);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_server_at_a_dead_address_times_out_without_harming_the_quorum() {
    let nodes = cluster(2, Opts::default()).await;
    let dead = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let err = nodes[0]
        .server
        .add_server(9, &dead, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(
        nodes[0].status().voters.len(),
        2,
        "a learner that never caught up is no voter"
    );
    assert!(
        nodes[1]
            .server
            .kv_apply(KvRequest::set("still", "ok"))
            .await
            .unwrap()
    );

    // A follower asked to add a server says who leads instead.
    let err = nodes[1]
        .server
        .add_server(9, &dead, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::NotLeader { .. }), "{err:?}");
    for n in nodes {
        n.stop().await;
    }
}
