//! praetor-raft against the real state store: single servers on disk and in memory, and
//! a three-server cluster over the in-process transport.

use std::path::Path;
use std::time::Duration;

use praetor_raft::{InProcessNetwork, RaftConfig, RaftError, RaftNode, RaftStatus, ReadMode};
use praetor_state::{Command, CommandResponse, Store};
use praetor_types::{KvOp, KvRequest};

const TIMEOUT: Duration = Duration::from_secs(10);

fn set(key: &str, value: &str) -> Command {
    Command::Kv(KvRequest::set(key, value.as_bytes().to_vec()))
}

fn cas(key: &str, value: &str, cas_index: u64) -> Command {
    Command::Kv(KvRequest {
        cas_index,
        value: value.as_bytes().to_vec(),
        ..KvRequest::new(KvOp::Cas, key)
    })
}

fn value(store: &Store, key: &str) -> Option<Vec<u8>> {
    store.view().kv_get(key).map(|e| e.value.clone())
}

fn single(dir: Option<&Path>) -> RaftConfig {
    let mut cfg = RaftConfig::new(1, "127.0.0.1:8300");
    cfg.data_dir = dir.map(Path::to_path_buf);
    cfg.bootstrap = true;
    cfg
}

async fn start_single(cfg: RaftConfig) -> (RaftNode, Store) {
    let store = Store::new();
    let node = RaftNode::start(cfg, store.clone()).await.expect("start");
    node.wait_for_leader(TIMEOUT).await.expect("leader");
    (node, store)
}

/// Waits, without sleeping, until `node`'s status satisfies `pred`.
async fn wait_status(
    node: &RaftNode,
    what: &str,
    pred: impl Fn(&RaftStatus) -> bool,
) -> RaftStatus {
    let mut watch = node.status_watch();
    let wait = async {
        loop {
            let status = watch.borrow_and_update().clone();
            if pred(&status) {
                return status;
            }
            watch.changed().await.expect("status watch open");
        }
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test]
async fn single_bootstrapped_node_elects_itself_and_applies_writes() {
    let started = tokio::time::Instant::now();
    let (node, store) = start_single(single(None)).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "single voter took {:?}",
        started.elapsed()
    );

    let status = node.status();
    assert!(status.is_leader);
    assert_eq!(status.leader_id, Some(1));
    assert_eq!(status.leader_addr.as_deref(), Some("127.0.0.1:8300"));
    assert_eq!(status.last_contact, Some(Duration::ZERO));
    assert_eq!(status.voters, vec![(1, "127.0.0.1:8300".to_string())]);

    let applied = node.propose(set("web/key1", "v1")).await.expect("propose");
    assert_eq!(applied.response, Ok(CommandResponse::Bool(true)));
    assert_eq!(value(&store, "web/key1").as_deref(), Some(b"v1".as_slice()));
    assert_eq!(
        store.view().kv_get("web/key1").map(|e| e.modify_index),
        Some(applied.index)
    );
    assert!(store.view().applied_index() >= applied.index);

    node.ensure_linearizable(ReadMode::Lease)
        .await
        .expect("lease read");
    node.ensure_linearizable(ReadMode::ReadIndex)
        .await
        .expect("read-index read");
    let status = wait_status(&node, "applied index", |s| s.applied_index >= applied.index).await;
    assert!(status.commit_index >= applied.index);
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn concurrent_proposals_share_entries_and_each_gets_its_own_answer() {
    let (node, store) = start_single(single(None)).await;
    let before = node.status().last_log_index;

    // 100 CAS-creates of the same key: exactly one may win.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let node = node.clone();
        tasks.spawn(async move { (i, node.propose(cas("lock", &format!("owner-{i}"), 0)).await) });
    }
    let mut winners = Vec::new();
    let mut indexes = std::collections::BTreeSet::new();
    while let Some(res) = tasks.join_next().await {
        let (i, applied) = res.expect("task");
        let applied = applied.expect("propose");
        indexes.insert(applied.index);
        match applied.response {
            Ok(CommandResponse::Bool(true)) => winners.push(i),
            Ok(CommandResponse::Bool(false)) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one CAS wins: {winners:?}");
    let expected = format!("owner-{}", winners[0]);
    assert_eq!(value(&store, "lock").as_deref(), Some(expected.as_bytes()));

    let entries = node.status().last_log_index - before;
    assert!(entries <= 20, "100 proposals used {entries} log entries");
    assert_eq!(
        indexes.len() as u64,
        entries,
        "each entry's index reported to its proposers"
    );
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn batched_proposals_keep_errors_per_proposer() {
    let (node, _store) = start_single(single(None)).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let node = node.clone();
        // Every other write has an empty key, which the store rejects.
        let key = if i % 2 == 0 {
            format!("k{i}")
        } else {
            String::new()
        };
        tasks.spawn(async move { (i, node.propose(set(&key, "v")).await) });
    }
    while let Some(res) = tasks.join_next().await {
        let (i, applied) = res.expect("task");
        let response = applied.expect("propose").response;
        if i % 2 == 0 {
            assert_eq!(response, Ok(CommandResponse::Bool(true)), "proposal {i}");
        } else {
            assert!(
                response.is_err(),
                "proposal {i} should be rejected: {response:?}"
            );
        }
    }
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn restart_recovers_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, _) = start_single(single(Some(dir.path()))).await;
    let mut last = 0;
    for i in 0..50 {
        last = node
            .propose(set(&format!("k{i}"), &format!("v{i}")))
            .await
            .expect("propose")
            .index;
    }
    node.shutdown().await.expect("shutdown");
    drop(node);

    let (node, store) = start_single(single(Some(dir.path()))).await;
    for i in 0..50 {
        assert_eq!(
            value(&store, &format!("k{i}")),
            Some(format!("v{i}").into_bytes()),
            "k{i}"
        );
    }
    assert!(store.view().applied_index() >= last);
    // The term moved on and new writes get higher indexes.
    let next = node
        .propose(set("after", "restart"))
        .await
        .expect("propose");
    assert!(next.index > last);
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn low_threshold_snapshots_purges_and_restart_uses_snapshot_and_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = single(Some(dir.path()));
    cfg.snapshot_threshold = 20;
    let (node, _) = start_single(cfg.clone()).await;
    for i in 0..120 {
        node.propose(set(&format!("k{i}"), &format!("v{i}")))
            .await
            .expect("propose");
    }
    let snapshots = dir.path().join("raft").join("snapshots");
    let snapshot_files = || -> Vec<String> {
        std::fs::read_dir(&snapshots)
            .expect("snapshot dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".snap"))
            .collect()
    };
    // Snapshots are built in the background: keep writing until one is on disk.
    let mut extra = 0;
    let wait = async {
        while snapshot_files().is_empty() {
            node.propose(set(&format!("extra{extra}"), "x"))
                .await
                .expect("propose");
            extra += 1;
        }
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("a snapshot file");
    node.propose(set("tail", "after-snapshot"))
        .await
        .expect("propose");
    node.shutdown().await.expect("shutdown");
    drop(node);
    let files = snapshot_files();
    assert!(
        !files.is_empty() && files.len() <= 2,
        "kept snapshots: {files:?}"
    );

    let (node, store) = start_single(cfg).await;
    for i in 0..120 {
        assert_eq!(
            value(&store, &format!("k{i}")),
            Some(format!("v{i}").into_bytes()),
            "k{i}"
        );
    }
    assert_eq!(
        value(&store, "tail").as_deref(),
        Some(b"after-snapshot".as_slice())
    );
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn log_is_purged_behind_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = single(Some(dir.path()));
    cfg.snapshot_threshold = 10;
    let (node, _) = start_single(cfg).await;
    // A purge follows each snapshot once `max_in_snapshot_log_to_keep` (here 10) entries
    // lie behind it; keep writing until openraft reports one.
    let mut i = 0;
    let wait = async {
        loop {
            node.propose(set(&format!("k{i}"), "v"))
                .await
                .expect("propose");
            i += 1;
            if let (Some(snapshot), Some(purged)) = node.compaction() {
                return (snapshot, purged);
            }
        }
    };
    let (snapshot, purged) = tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("snapshot and purge");
    assert!(
        purged <= snapshot,
        "purged {purged} beyond snapshot {snapshot}"
    );
    // The WAL still opens and serves a restart after purges.
    node.shutdown().await.expect("shutdown");
    let (node, store) = start_single(single(Some(dir.path()))).await;
    assert_eq!(
        store.view().kv_get("k0").map(|e| e.value.clone()),
        Some(b"v".to_vec())
    );
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn in_memory_mode_works_and_forgets_on_restart() {
    let (node, store) = start_single(single(None)).await;
    node.propose(set("dev", "yes")).await.expect("propose");
    assert_eq!(value(&store, "dev").as_deref(), Some(b"yes".as_slice()));
    node.shutdown().await.expect("shutdown");
    let (node, store) = start_single(single(None)).await;
    assert_eq!(value(&store, "dev"), None);
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn shutdown_is_clean_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, _) = start_single(single(Some(dir.path()))).await;
    node.propose(set("a", "b")).await.expect("propose");
    let other = node.clone();
    let (a, b) = tokio::join!(node.shutdown(), other.shutdown());
    a.expect("first shutdown");
    b.expect("concurrent shutdown");
    node.shutdown().await.expect("repeated shutdown");
    assert!(matches!(
        node.propose(set("c", "d")).await,
        Err(RaftError::ShuttingDown)
    ));
    assert!(matches!(
        node.ensure_linearizable(ReadMode::Lease).await,
        Err(RaftError::ShuttingDown)
    ));
    // The WAL lock is released: the same dir opens again at once.
    let (node, _) = start_single(single(Some(dir.path()))).await;
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn node_without_bootstrap_has_no_leader() {
    let mut cfg = single(None);
    cfg.bootstrap = false;
    cfg.election_timeout = Duration::from_millis(200);
    let node = RaftNode::start(cfg, Store::new()).await.expect("start");
    let err = node
        .wait_for_leader(Duration::from_millis(300))
        .await
        .expect_err("no leader");
    assert_eq!(err.to_string(), "No cluster leader");
    assert!(node.status().leader_id.is_none());
    assert!(matches!(
        node.propose(set("a", "b")).await,
        Err(RaftError::NoLeader)
    ));
    node.shutdown().await.expect("shutdown");
}

mod cluster;
