//! A client agent's requests reach a server over RPC, fail over past an unreachable one,
//! and answer Consul's error when no server is known.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use praetor_agent::{BackendError, NO_KNOWN_SERVERS, RemoteServers};
use praetor_gossip::testing::FakeMembership;
use praetor_gossip::{AgentTags, Bootstrap, CONSUL_PROTOCOL, Member, MemberStatus};
use praetor_raft::RaftConfig;
use praetor_rpc::{ClientConfig, RpcClient};
use praetor_server::{Server, ServerConfig};
use praetor_types::{KvQuery, KvRequest, KvResult, QueryOptions};
use tokio_util::sync::CancellationToken;

fn tags(server_port: Option<u16>) -> BTreeMap<String, String> {
    AgentTags {
        server: server_port.is_some(),
        datacenter: "dc1".into(),
        node_id: "9d754d17-0000-4000-8000-000000000001".into(),
        build: "1.22.0:test".into(),
        server_port,
        wan_join_port: None,
        bootstrap: Bootstrap::Single,
    }
    .to_tags()
}

fn server_member(name: &str, rpc: SocketAddr) -> Member {
    Member {
        name: name.into(),
        addr: rpc.ip(),
        port: 8301,
        tags: tags(Some(rpc.port())),
        status: MemberStatus::Alive,
        protocol: CONSUL_PROTOCOL,
    }
}

fn pool() -> Arc<FakeMembership> {
    Arc::new(FakeMembership::new(
        "client1",
        "127.0.0.1:8301".parse().unwrap(),
        tags(None),
    ))
}

fn remote(pool: Arc<FakeMembership>) -> RemoteServers {
    RemoteServers::new(
        RpcClient::new(ClientConfig::default()),
        pool,
        "dc1",
        Duration::from_secs(600),
    )
}

fn put(key: &str, value: &str) -> KvRequest {
    KvRequest::set(key, value.as_bytes().to_vec())
}

#[tokio::test]
async fn no_known_servers_is_consuls_error() {
    let remote = remote(pool());
    let err = remote.kv_apply(put("a", "b")).await.unwrap_err();
    assert_eq!(err, BackendError::Internal(NO_KNOWN_SERVERS.to_owned()));
    assert_eq!(err.to_string(), "No known Consul servers");
}

#[tokio::test]
async fn requests_fail_over_past_an_unreachable_server() {
    // A live server serving RPC on an ephemeral port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut raft = RaftConfig::new(1, addr.to_string());
    raft.bootstrap = true;
    let server = Server::start_with_rpc(
        ServerConfig::new(raft),
        RpcClient::new(ClientConfig::default()),
    )
    .await
    .unwrap();
    server
        .wait_for_leader(Duration::from_secs(10))
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let serving = tokio::spawn(praetor_rpc::serve(
        listener,
        Arc::new(server.clone()),
        stop.clone(),
    ));
    // A dead one: a port nothing listens on any more.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let pool = pool();
    pool.upsert(server_member("s-alive", addr));
    pool.upsert(server_member("s-dead", dead));
    // Whichever server a fresh client tries first (random), every request is answered:
    // over 8 fresh clients the dead one comes first with near certainty.
    for i in 0..8 {
        let fresh = remote(pool.clone());
        assert!(fresh.kv_apply(put(&format!("k{i}"), "v")).await.unwrap());
    }
    let remote = remote(pool);
    let (_, result) = remote
        .kv_read(KvQuery::Get { key: "k4".into() }, QueryOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(result, KvResult::Entries(ref e) if e.len() == 1),
        "{result:?}"
    );
    assert_eq!(remote.status_leader().await.unwrap(), addr.to_string());

    stop.cancel();
    let _ = serving.await;
    server.shutdown().await.unwrap();
}
