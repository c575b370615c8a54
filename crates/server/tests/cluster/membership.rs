//! `-bootstrap-expect`'s multi-voter bootstrap and the leader's Raft duties driven by
//! gossip members: a late server is added, a left server removed.

use std::collections::BTreeMap;

use praetor_server::{Member, MemberState, raft_id};

use crate::harness::{Node, Opts};

/// A node ID whose Raft id (`raft_id`) is `id`.
pub(crate) fn node_id(id: u64) -> String {
    format!("00000000-0000-{id:04x}-0000-000000000000")
}

pub(crate) fn member(node: &Node, state: MemberState) -> Member {
    let (ip, port) = node.addr.rsplit_once(':').unwrap();
    Member {
        name: format!("s{}", node.id),
        id: node_id(node.id),
        addr: ip.to_owned(),
        server_port: Some(port.parse().unwrap()),
        version: "1.22.0".into(),
        state,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_with_all_voters_then_gossip_adds_and_removes_servers() {
    assert_eq!(raft_id(&node_id(3)), 3);
    let mut nodes = Vec::new();
    for id in 1..=3 {
        nodes.push(Node::start(id, Opts::default()).await);
    }
    let voters: BTreeMap<u64, String> = nodes.iter().map(|n| (n.id, n.addr.clone())).collect();
    assert!(
        nodes[0]
            .server
            .bootstrap_cluster(voters.clone())
            .await
            .unwrap()
    );
    for n in &nodes {
        n.wait_status("three voters and a leader", |s| {
            s.voters.len() == 3 && s.leader_id.is_some()
        })
        .await;
    }
    // Already initialised (by the first one's configuration): never again.
    assert!(!nodes[1].server.bootstrap_cluster(voters).await.unwrap());

    let leader_id = nodes[0].status().leader_id.unwrap();
    let leader = nodes.iter().find(|n| n.id == leader_id).unwrap();

    // A fourth server appears in gossip: the leader adds it as a voter.
    let late = Node::start(4, Opts::default()).await;
    let mut members: Vec<Member> = nodes
        .iter()
        .map(|n| member(n, MemberState::Alive))
        .collect();
    members.push(member(&late, MemberState::Alive));
    leader.server.set_members(members.clone());
    late.wait_status("being a voter", |s| s.voters.iter().any(|(id, _)| *id == 4))
        .await;

    // A follower leaves: the leader removes it from Raft.
    let gone = nodes.iter().find(|n| n.id != leader_id).unwrap().id;
    for m in &mut members {
        if m.name == format!("s{gone}") {
            m.state = MemberState::Left;
        }
    }
    leader.server.set_members(members);
    leader
        .wait_status("the left server removed", |s| {
            s.voters.len() == 3 && !s.voters.iter().any(|(id, _)| *id == gone)
        })
        .await;

    late.stop().await;
    for n in nodes {
        n.stop().await;
    }
}
