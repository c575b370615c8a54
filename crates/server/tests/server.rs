//! A single in-memory server: KV through Raft, blocking reads, tombstone reaping.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use praetor_raft::RaftConfig;
use praetor_server::{Server, ServerConfig};
use praetor_types::{KvOp, KvQuery, KvRequest, KvResult, QueryOptions};

async fn dev_server(tombstone_ttl: Duration) -> Server {
    let mut raft = RaftConfig::new(1, "127.0.0.1:8300");
    raft.bootstrap = true;
    let mut cfg = ServerConfig::new(raft);
    cfg.tombstone_ttl = tombstone_ttl;
    let server = Server::start(cfg).await.unwrap();
    server
        .wait_for_leader(Duration::from_secs(10))
        .await
        .unwrap();
    server
}

fn list(prefix: &str) -> KvQuery {
    KvQuery::List {
        prefix: prefix.into(),
    }
}

#[tokio::test]
async fn blocking_list_wakes_on_delete_and_index_rises() {
    let server = dev_server(praetor_server::DEFAULT_TOMBSTONE_TTL).await;
    assert!(server.kv_apply(KvRequest::set("web/a", "1")).await.unwrap());
    let (meta, _) = server
        .kv_read(list("web/"), QueryOptions::default())
        .await
        .unwrap();
    let blocked = tokio::spawn({
        let server = server.clone();
        let opts = QueryOptions {
            min_index: meta.index,
            max_wait: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        async move { server.kv_read(list("web/"), opts).await.unwrap() }
    });
    server
        .kv_apply(KvRequest::new(KvOp::Delete, "web/a"))
        .await
        .unwrap();
    let (after, result) = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(
        after.index > meta.index,
        "the tombstone must raise the prefix index"
    );
    assert_eq!(result, KvResult::Entries(vec![]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn blocking_read_times_out_with_the_same_index() {
    let server = dev_server(praetor_server::DEFAULT_TOMBSTONE_TTL).await;
    server.kv_apply(KvRequest::set("k", "v")).await.unwrap();
    let get = || KvQuery::Get { key: "k".into() };
    let (meta, _) = server
        .kv_read(get(), QueryOptions::default())
        .await
        .unwrap();
    let opts = QueryOptions {
        min_index: meta.index,
        max_wait: Some(Duration::from_millis(50)),
        ..Default::default()
    };
    let (again, _) = server.kv_read(get(), opts).await.unwrap();
    assert_eq!(again.index, meta.index);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_leader_reaps_old_tombstones() {
    let server = dev_server(Duration::from_millis(20)).await;
    server
        .kv_apply(KvRequest::set("gone/a", "1"))
        .await
        .unwrap();
    server
        .kv_apply(KvRequest::new(KvOp::Delete, "gone/a"))
        .await
        .unwrap();
    assert!(
        server.store().view().kv_prefix_index("gone/") > 0,
        "tombstone expected"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while server.store().view().kv_prefix_index("gone/") != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tombstone never reaped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn kv_watch_agrees_with_kv_read_and_wakes_on_a_write() {
    let server = dev_server(praetor_server::DEFAULT_TOMBSTONE_TTL).await;
    server.kv_apply(KvRequest::set("w/a", "1")).await.unwrap();
    server.kv_apply(KvRequest::set("other", "1")).await.unwrap();
    for query in [
        KvQuery::Get { key: "w/a".into() },
        KvQuery::Get {
            key: "w/missing".into(),
        },
        list("w/"),
    ] {
        let (meta, _) = server
            .kv_read(query.clone(), QueryOptions::default())
            .await
            .unwrap();
        let opts = QueryOptions {
            min_index: meta.index,
            ..Default::default()
        };
        let (_, index, wait) = server.kv_watch(&query, &opts).expect("the leader parks");
        assert_eq!(index, meta.index, "{query:?}");
        assert_eq!(server.kv_index(&query), meta.index, "{query:?}");
        assert!(
            wait >= Duration::from_secs(300),
            "the default wait: {wait:?}"
        );
    }

    // Not blocking, or needing a quorum round: no parking.
    let get = KvQuery::Get { key: "w/a".into() };
    assert!(server.kv_watch(&get, &QueryOptions::default()).is_none());
    let consistent = QueryOptions {
        min_index: 1,
        consistency: praetor_types::Consistency::Consistent,
        ..Default::default()
    };
    assert!(server.kv_watch(&get, &consistent).is_none());

    let (meta, _) = server
        .kv_read(get.clone(), QueryOptions::default())
        .await
        .unwrap();
    let opts = QueryOptions {
        min_index: meta.index,
        ..Default::default()
    };
    let (mut watch, _, _) = server.kv_watch(&get, &opts).unwrap();
    server.kv_apply(KvRequest::set("w/a", "2")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), watch.changed())
        .await
        .expect("the write wakes the watch");
    assert!(server.kv_index(&get) > meta.index);
    server.shutdown().await.unwrap();
}
