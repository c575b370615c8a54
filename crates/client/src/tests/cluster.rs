//! Members, join, leave, force-leave and operator raft against [`FakeAgent`].

use praetor_types::member::{CONSUL_PROTOCOL, Member, MemberStatus};
use praetor_types::{RaftConfiguration, RaftPeer, RaftServer};

use super::setup;
use crate::{ALL_SEGMENTS, ClientError, MembersQuery};

fn member(name: &str, status: MemberStatus) -> Member {
    Member {
        name: name.into(),
        addr: "127.0.0.1".parse().unwrap(),
        port: 8301,
        tags: [("role".to_owned(), "node".to_owned())].into(),
        status,
        protocol: CONSUL_PROTOCOL,
    }
}

#[tokio::test]
async fn members_sends_segment_wan_and_filter() {
    let (agent, client) = setup().await;
    agent.state().members = vec![member("a", MemberStatus::Alive)];
    agent.state().wan_members = vec![member("a.dc1", MemberStatus::Alive)];
    let query = MembersQuery {
        segment: Some(ALL_SEGMENTS.into()),
        filter: Some("Name == a".into()),
        ..MembersQuery::default()
    };
    let lan = client.agent_members(&query).await.unwrap();
    assert_eq!(lan[0].name, "a");
    assert_eq!(
        agent.state().last_query,
        [
            ("segment".to_owned(), "_all".to_owned()),
            ("filter".to_owned(), "Name == a".to_owned())
        ]
    );
    let wan = MembersQuery {
        wan: true,
        ..MembersQuery::default()
    };
    assert_eq!(client.agent_members(&wan).await.unwrap()[0].name, "a.dc1");
}

#[tokio::test]
async fn join_leave_and_force_leave_reach_the_agent() {
    let (agent, client) = setup().await;
    agent.state().members = vec![member("c1", MemberStatus::Failed)];
    client.agent_join("127.0.0.2:8301", false).await.unwrap();
    client.agent_join("127.0.0.3", true).await.unwrap();
    client.agent_force_leave("c1", false, false).await.unwrap();
    assert_eq!(agent.state().members[0].status, MemberStatus::Left);
    client.agent_force_leave("c1", true, false).await.unwrap();
    assert!(agent.state().members.is_empty());
    client.agent_leave().await.unwrap();
    assert_eq!(
        agent.state().cluster_calls,
        [
            "join 127.0.0.2:8301 false",
            "join 127.0.0.3 true",
            "force_leave c1 false false",
            "force_leave c1 true false",
            "leave"
        ]
    );
    let err = client
        .agent_force_leave("nope", false, false)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Api { status: 500, .. }), "{err}");
}

#[tokio::test]
async fn raft_configuration_and_peer_removal() {
    let (agent, client) = setup().await;
    agent.state().raft = Some(RaftConfiguration {
        servers: vec![RaftServer {
            id: "id-1".into(),
            node: "s1".into(),
            address: "127.0.0.1:8300".into(),
            leader: true,
            protocol_version: "3".into(),
            voter: true,
            last_index: 5,
        }],
        index: 5,
    });
    let config = client.operator_raft_configuration(true).await.unwrap();
    assert_eq!(config.servers[0].node, "s1");
    assert_eq!(
        agent.state().last_query,
        [("stale".to_owned(), String::new())]
    );
    let err = client
        .operator_raft_remove_peer(&RaftPeer::Address("10.0.0.9:8300".into()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unexpected response code: 500 (address \"10.0.0.9:8300\" was not found in the Raft configuration)"
    );
    client
        .operator_raft_remove_peer(&RaftPeer::Id("id-1".into()))
        .await
        .unwrap();
    assert_eq!(
        agent.state().last_query,
        [("id".to_owned(), "id-1".to_owned())]
    );
    assert!(agent.state().raft.as_ref().unwrap().servers.is_empty());
}
