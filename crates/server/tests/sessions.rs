//! Sessions, locks and transactions through a single in-memory server.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use praetor_raft::RaftConfig;
use praetor_server::{Server, ServerConfig, ServerError};
use praetor_types::{
    HealthCheck, HealthStatus, KvOp, KvQuery, KvRequest, KvResult, QueryOptions, RegisterRequest,
    Session, SessionBehavior, TxnKvOp, TxnKvVerb, TxnOp,
};

async fn dev_server() -> Server {
    let mut raft = RaftConfig::new(1, "127.0.0.1:8300");
    raft.bootstrap = true;
    let server = Server::start(ServerConfig::new(raft)).await.unwrap();
    server
        .wait_for_leader(Duration::from_secs(10))
        .await
        .unwrap();
    server
}

async fn register_node(server: &Server, status: HealthStatus) {
    let req = RegisterRequest {
        node: "n1".into(),
        address: "127.0.0.1".into(),
        checks: vec![HealthCheck {
            check_id: "serfHealth".into(),
            name: "Serf Health Status".into(),
            status,
            ..HealthCheck::default()
        }],
        ..RegisterRequest::default()
    };
    server.catalog_register(req).await.unwrap();
}

fn session(ttl: &str, lock_delay: Duration, checks: Option<Vec<String>>) -> Session {
    Session {
        node: "n1".into(),
        ttl: ttl.into(),
        lock_delay: u64::try_from(lock_delay.as_nanos()).unwrap(),
        behavior: SessionBehavior::Release,
        node_checks: checks,
        ..Session::default()
    }
}

async fn acquire(server: &Server, key: &str, id: &str) -> Result<bool, ServerError> {
    let mut req = KvRequest::new(KvOp::Lock, key);
    req.session = Some(id.into());
    req.value = b"leader".to_vec();
    server.kv_apply(req).await
}

async fn holder(server: &Server, key: &str) -> Option<String> {
    let query = KvQuery::Get { key: key.into() };
    match server
        .kv_read(query, QueryOptions::default())
        .await
        .unwrap()
        .1
    {
        KvResult::Entries(e) => e.first().and_then(|e| e.session.clone()),
        KvResult::Keys(_) => None,
    }
}

/// Blocks on `key` until its lock holder is gone, within `limit`.
async fn wait_released(server: &Server, key: &str, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let query = KvQuery::Get { key: key.into() };
        let (meta, result) = server
            .kv_read(query, QueryOptions::default())
            .await
            .unwrap();
        if let KvResult::Entries(e) = &result
            && e.first().is_some_and(|e| e.session.is_none())
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lock not released in time"
        );
        let opts = QueryOptions {
            min_index: meta.index,
            max_wait: Some(Duration::from_millis(500)),
            ..QueryOptions::default()
        };
        let _ = server
            .kv_read(KvQuery::Get { key: key.into() }, opts)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn ttl_lapse_invalidates_and_releases_and_renew_keeps_alive() {
    let server = dev_server().await;
    register_node(&server, HealthStatus::Passing).await;
    let id = server
        .session_create(session("1s", Duration::ZERO, Some(vec![])))
        .await
        .unwrap();
    assert!(acquire(&server, "service/leader", &id).await.unwrap());
    let other = server
        .session_create(session("", Duration::ZERO, Some(vec![])))
        .await
        .unwrap();
    assert!(!acquire(&server, "service/leader", &other).await.unwrap());
    // Renewing resets the timer: the session is still there after a renew.
    let renewed = server.session_renew(&id).await.unwrap();
    assert_eq!(renewed.len(), 1);
    assert_eq!(renewed[0].ttl, "1s");
    wait_released(&server, "service/leader", Duration::from_secs(10)).await;
    let (_, info) = server
        .session_info(&id, QueryOptions::default())
        .await
        .unwrap();
    assert!(info.is_empty(), "the lapsed session is gone");
    assert!(server.session_renew(&id).await.unwrap().is_empty());
    assert!(acquire(&server, "service/leader", &other).await.unwrap());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn lock_delay_blocks_reacquire_after_destroy() {
    let server = dev_server().await;
    register_node(&server, HealthStatus::Passing).await;
    let a = server
        .session_create(session("", Duration::from_secs(30), None))
        .await
        .unwrap();
    let b = server
        .session_create(session("", Duration::from_secs(30), None))
        .await
        .unwrap();
    assert!(acquire(&server, "k", &a).await.unwrap());
    assert!(server.session_destroy(&a).await.unwrap());
    assert_eq!(holder(&server, "k").await, None);
    assert!(!acquire(&server, "k", &b).await.unwrap(), "lock-delay");
    assert!(matches!(
        acquire(&server, "k", &a).await,
        Err(ServerError::Apply(
            praetor_state::ApplyError::InvalidSession(_)
        ))
    ));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn critical_check_invalidates_bound_session() {
    let server = dev_server().await;
    register_node(&server, HealthStatus::Passing).await;
    let id = server
        .session_create(session("", Duration::ZERO, Some(vec!["serfHealth".into()])))
        .await
        .unwrap();
    assert!(acquire(&server, "k", &id).await.unwrap());
    register_node(&server, HealthStatus::Critical).await;
    assert_eq!(holder(&server, "k").await, None);
    let (_, list) = server.session_list(QueryOptions::default()).await.unwrap();
    assert!(list.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn txn_commits_or_rolls_back() {
    let server = dev_server().await;
    let set = |key: &str| {
        TxnOp::Kv(TxnKvOp {
            verb: TxnKvVerb::Set,
            key: key.into(),
            value: b"v".to_vec(),
            flags: 0,
            index: 0,
            session: None,
        })
    };
    let check = TxnOp::Kv(TxnKvOp {
        verb: TxnKvVerb::CheckIndex,
        key: "a".into(),
        value: Vec::new(),
        flags: 0,
        index: 12345,
        session: None,
    });
    let (meta, outcome) = server
        .txn(vec![set("a"), check], QueryOptions::default())
        .await
        .unwrap();
    assert!(meta.is_none());
    assert_eq!(outcome.unwrap_err()[0].op_index, 1);
    assert_eq!(holder(&server, "a").await, None);
    let (_, outcome) = server
        .txn(vec![set("a"), set("b")], QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.unwrap().len(), 2);
    let get = TxnOp::Kv(TxnKvOp {
        verb: TxnKvVerb::Get,
        key: "b".into(),
        value: Vec::new(),
        flags: 0,
        index: 0,
        session: None,
    });
    let (meta, outcome) = server
        .txn(vec![get], QueryOptions::default())
        .await
        .unwrap();
    assert!(meta.is_some(), "a read-only txn is served without Raft");
    assert_eq!(outcome.unwrap().len(), 1);
    server.shutdown().await.unwrap();
}
