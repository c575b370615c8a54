//! `/v1/agent/members`, `/join`, `/leave`, `/force-leave`, `/v1/operator/raft/*` and the
//! cluster parts of `/v1/agent/self` against the fake backend.

use std::sync::Arc;

use axum::http::StatusCode;
use praetor_agent::BackendError;
use praetor_http::{HttpConfig, serve};
use praetor_types::member::{CONSUL_PROTOCOL, Member, MemberStatus};
use praetor_types::{RaftConfiguration, RaftServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

use crate::fake::{FakeBackend, call};

fn member(name: &str, role: &str, status: MemberStatus) -> Member {
    Member {
        name: name.into(),
        addr: "127.0.0.1".parse().expect("ip"),
        port: 8301,
        tags: [
            ("role".to_owned(), role.to_owned()),
            ("dc".to_owned(), "dc1".to_owned()),
        ]
        .into(),
        status,
        protocol: CONSUL_PROTOCOL,
    }
}

fn with_cluster() -> Arc<FakeBackend> {
    let fake = Arc::new(FakeBackend::default());
    {
        let mut c = fake.cluster();
        c.lan = vec![
            member("node1", "consul", MemberStatus::Alive),
            member("c1", "node", MemberStatus::Failed),
            member("c2", "node", MemberStatus::Left),
        ];
        c.wan = vec![member("node1.dc1", "consul", MemberStatus::Alive)];
        c.raft = Some(RaftConfiguration {
            servers: vec![RaftServer {
                id: "id-1".into(),
                node: "node1".into(),
                address: "127.0.0.1:8300".into(),
                leader: true,
                protocol_version: "3".into(),
                voter: true,
                last_index: 22,
            }],
            index: 22,
        });
    }
    fake
}

#[tokio::test]
async fn members_lists_the_lan_pool_in_consul_shape() {
    let fake = with_cluster();
    let r = call(&fake, "GET", "/v1/agent/members?segment=_all", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    assert_eq!(v[0]["Name"], "node1");
    assert_eq!(v[0]["Status"], 1);
    assert_eq!(v[1]["Status"], 4);
    assert_eq!(v[0]["Tags"]["role"], "consul");
    assert_eq!(v[0]["DelegateCur"], 4);
}

#[tokio::test]
async fn members_wan_needs_a_value_and_lists_the_wan_pool() {
    let fake = with_cluster();
    let r = call(&fake, "GET", "/v1/agent/members?wan=1", b"").await;
    assert_eq!(r.json()[0]["Name"], "node1.dc1");
    // An empty `wan` is the LAN pool, as Consul's `Get("wan") != ""`.
    let r = call(&fake, "GET", "/v1/agent/members?wan", b"").await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn members_segment_with_wan_is_400() {
    let fake = with_cluster();
    let r = call(&fake, "GET", "/v1/agent/members?wan=1&segment=alpha", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.text(), "Cannot provide a segment with wan=true");
    let r = call(&fake, "GET", "/v1/agent/members?wan=1&segment=_all", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(&fake, "GET", "/v1/agent/members?segment=alpha", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.text().contains("segments are not supported"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn members_filter_selects_members() {
    let fake = with_cluster();
    let r = call(
        &fake,
        "GET",
        "/v1/agent/members?filter=Tags.role%20%3D%3D%20node%20and%20Status%20%3D%3D%204",
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["Name"], "c1");
    let bad = call(&fake, "GET", "/v1/agent/members?filter=%3D%3D", b"").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn members_without_a_pool_is_500() {
    let fake = Arc::new(FakeBackend::default());
    fake.cluster().error = Some(BackendError::Internal("no pool".into()));
    let r = call(&fake, "GET", "/v1/agent/members", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "no pool");
}

#[tokio::test]
async fn members_is_get_only() {
    let fake = with_cluster();
    let r = call(&fake, "PUT", "/v1/agent/members", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,GET"));
}

#[tokio::test]
async fn join_passes_address_and_wan_and_answers_empty() {
    let fake = with_cluster();
    let r = call(&fake, "PUT", "/v1/agent/join/127.0.0.2:8301", b"").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, ""));
    let r = call(&fake, "PUT", "/v1/agent/join/127.0.0.3?wan=1", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        fake.cluster().calls,
        ["join 127.0.0.2:8301 false", "join 127.0.0.3 true"]
    );
    let r = call(&fake, "GET", "/v1/agent/join/127.0.0.2", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn join_failure_is_500_with_the_error_and_empty_address_is_400() {
    let fake = with_cluster();
    let r = call(&fake, "PUT", "/v1/agent/join/", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    fake.cluster().error = Some(BackendError::Internal(
        "Failed to join 127.0.0.9:8301: connection refused".into(),
    ));
    let r = call(&fake, "PUT", "/v1/agent/join/127.0.0.9", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        r.text(),
        "Failed to join 127.0.0.9:8301: connection refused"
    );
}

#[tokio::test]
async fn force_leave_reads_prune_and_wan_as_presence_flags() {
    let fake = with_cluster();
    let r = call(&fake, "PUT", "/v1/agent/force-leave/c1", b"").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, ""));
    call(&fake, "PUT", "/v1/agent/force-leave/c1?prune", b"").await;
    call(&fake, "PUT", "/v1/agent/force-leave/c1.dc1?prune&wan", b"").await;
    assert_eq!(
        fake.cluster().calls,
        [
            "force_leave c1 false false",
            "force_leave c1 true false",
            "force_leave c1.dc1 true true"
        ]
    );
    let r = call(&fake, "PUT", "/v1/agent/force-leave/", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    fake.cluster().error = Some(BackendError::Internal(
        "agent: No node found with name 'x'".into(),
    ));
    let r = call(&fake, "PUT", "/v1/agent/force-leave/x", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// Over a real socket: the backend cancels the server's shutdown token as the leave
/// completes, and the client still gets its `200`.
#[tokio::test]
async fn leave_answers_200_even_as_the_agent_shuts_down() {
    let fake = with_cluster();
    let shutdown = CancellationToken::new();
    fake.cluster().cancel_on_leave = Some(shutdown.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(
        listener,
        fake.clone(),
        HttpConfig::default(),
        shutdown.clone(),
    ));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "PUT /v1/agent/leave HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert_eq!(fake.cluster().calls, ["leave"]);
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("server stops after the leave")
        .expect("join")
        .expect("serve");
}

#[tokio::test]
async fn leave_failure_is_500() {
    let fake = with_cluster();
    fake.cluster().error = Some(BackendError::Internal("leave failed".into()));
    let r = call(&fake, "PUT", "/v1/agent/leave", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "leave failed");
}

#[tokio::test]
async fn raft_configuration_in_consul_shape_with_stale() {
    let fake = with_cluster();
    let r = call(&fake, "GET", "/v1/operator/raft/configuration", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"Servers":[{"ID":"id-1","Node":"node1","Address":"127.0.0.1:8300",
            "Leader":true,"ProtocolVersion":"3","Voter":true,"LastIndex":22}],"Index":22})
    );
    call(&fake, "GET", "/v1/operator/raft/configuration?stale", b"").await;
    assert_eq!(
        fake.cluster().calls,
        ["raft_configuration Default", "raft_configuration Stale"]
    );
    let r = call(&fake, "GET", "/v1/operator/raft/configuration?dc=dc9", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "No path to datacenter");
}

#[tokio::test]
async fn raft_configuration_without_leader_is_500() {
    let fake = with_cluster();
    fake.cluster().error = Some(BackendError::NoLeader);
    let r = call(&fake, "GET", "/v1/operator/raft/configuration", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "No cluster leader");
}

#[tokio::test]
async fn raft_peer_removal_needs_exactly_one_of_id_or_address() {
    let fake = with_cluster();
    let r = call(&fake, "DELETE", "/v1/operator/raft/peer", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove"
    );
    let r = call(
        &fake,
        "DELETE",
        "/v1/operator/raft/peer?id=a&address=b",
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&fake, "DELETE", "/v1/operator/raft/peer?id=id-2", b"").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, ""));
    call(
        &fake,
        "DELETE",
        "/v1/operator/raft/peer?address=127.0.0.2:8300",
        b"",
    )
    .await;
    assert_eq!(
        fake.cluster().calls,
        [
            r#"remove_peer Id("id-2")"#,
            r#"remove_peer Address("127.0.0.2:8300")"#
        ]
    );
    let r = call(&fake, "GET", "/v1/operator/raft/peer?id=x", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,DELETE"));
}

#[tokio::test]
async fn raft_peer_not_found_is_500_with_the_backend_text() {
    let fake = with_cluster();
    let text = "address \"10.0.0.9:8300\" was not found in the Raft configuration";
    fake.cluster().error = Some(BackendError::Internal(text.into()));
    let r = call(
        &fake,
        "DELETE",
        "/v1/operator/raft/peer?address=10.0.0.9:8300",
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), text);
}

#[tokio::test]
async fn agent_self_reports_member_and_cluster_stats() {
    let fake = with_cluster();
    let v = call(&fake, "GET", "/v1/agent/self", b"").await.json();
    assert_eq!(v["Member"]["Name"], "node1");
    assert_eq!(v["Member"]["Tags"]["dc"], "dc1");
    assert_eq!(v["Stats"]["serf_lan"]["members"], "3");
    assert_eq!(v["Stats"]["serf_lan"]["failed"], "1");
    assert_eq!(v["Stats"]["serf_lan"]["left"], "1");
    assert_eq!(v["Stats"]["serf_wan"]["members"], "1");
    assert_eq!(v["Stats"]["raft"]["state"], "Leader");
    assert_eq!(v["Stats"]["raft"]["num_peers"], "0");
    assert_eq!(v["Stats"]["raft"]["last_log_index"], "22");
    assert_eq!(v["Stats"]["consul"]["server"], "true");
}

#[tokio::test]
async fn agent_self_without_a_pool_keeps_the_synthesized_member() {
    let fake = Arc::new(FakeBackend::default());
    fake.cluster().error = Some(BackendError::Internal("no pool".into()));
    let r = call(&fake, "GET", "/v1/agent/self", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["Member"]["Name"], "node1");
    assert!(v["Stats"].get("serf_lan").is_none());
    assert!(v["Stats"].get("raft").is_none());
}

#[tokio::test]
async fn autopilot_configuration_get_and_cas_put() {
    let fake = with_cluster();
    fake.cluster().autopilot = praetor_types::AutopilotConfig {
        create_index: 4,
        modify_index: 4,
        ..praetor_types::AutopilotConfig::default()
    };
    let r = call(&fake, "GET", "/v1/operator/autopilot/configuration", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"CleanupDeadServers":true,"LastContactThreshold":"200ms",
            "MaxTrailingLogs":250,"MinQuorum":0,"ServerStabilizationTime":"10s",
            "RedundancyZoneTag":"","DisableUpgradeMigration":false,"UpgradeVersionTag":"",
            "CreateIndex":4,"ModifyIndex":4})
    );
    let body = br#"{"CleanupDeadServers":false,"LastContactThreshold":"1s"}"#;
    let path = "/v1/operator/autopilot/configuration";
    let r = call(&fake, "PUT", &format!("{path}?cas=3"), body).await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "false"));
    let r = call(&fake, "PUT", &format!("{path}?cas=4"), body).await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "true"));
    let r = call(&fake, "PUT", path, body).await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "true"));
    let r = call(&fake, "PUT", &format!("{path}?cas=x"), body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&fake, "PUT", path, b"{nope").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    call(&fake, "GET", &format!("{path}?stale"), b"").await;
    assert_eq!(
        fake.cluster().calls,
        [
            "autopilot_configuration Default",
            "autopilot_set Some(3) false 1s",
            "autopilot_set Some(4) false 1s",
            "autopilot_set None false 1s",
            "autopilot_configuration Stale",
        ]
    );
}

#[tokio::test]
async fn autopilot_health_is_429_when_unhealthy() {
    let fake = with_cluster();
    let server = praetor_types::ServerHealth {
        id: "id-1".into(),
        name: "node1".into(),
        address: "127.0.0.1:8300".into(),
        serf_status: "alive".into(),
        leader: true,
        healthy: true,
        voter: true,
        ..praetor_types::ServerHealth::default()
    };
    fake.cluster().health = praetor_types::AutopilotHealth {
        healthy: true,
        failure_tolerance: 0,
        servers: vec![server.clone()],
    };
    let r = call(&fake, "GET", "/v1/operator/autopilot/health", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let json = r.json();
    assert_eq!(json["Healthy"], true);
    assert_eq!(json["FailureTolerance"], 0);
    assert_eq!(json["Servers"][0]["LastContact"], "0s");
    assert_eq!(json["Servers"][0]["SerfStatus"], "alive");
    fake.cluster().health.healthy = false;
    let r = call(&fake, "GET", "/v1/operator/autopilot/health", b"").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["Healthy"], false);

    // The state is 200 either way and keys the servers by ID.
    let r = call(&fake, "GET", "/v1/operator/autopilot/state", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let json = r.json();
    assert_eq!(json["Healthy"], false);
    assert_eq!(json["Leader"], "id-1");
    assert_eq!(json["Voters"], serde_json::json!(["id-1"]));
    assert_eq!(json["Servers"]["id-1"]["Status"], "leader");
    assert_eq!(json["Servers"]["id-1"]["NodeStatus"], "alive");
    let r = call(&fake, "POST", "/v1/operator/autopilot/state", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
