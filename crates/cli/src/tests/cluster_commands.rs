//! `consul members`, `join`, `leave`, `force-leave`, `info` and `operator raft` through
//! `run()` against the fake agent.

use praetor_client::testing::FakeAgent;
use praetor_types::member::{CONSUL_PROTOCOL, Member, MemberStatus};
use praetor_types::{RaftConfiguration, RaftServer};

use super::invoke_on;

fn member(name: &str, ip: &str, role: &str, status: MemberStatus) -> Member {
    let mut tags: std::collections::BTreeMap<String, String> = [
        ("build", "1.20.1:a8e2b1c3"),
        ("dc", "dc1"),
        ("role", role),
        ("vsn", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if role == "consul" {
        tags.insert("port".into(), "8300".into());
    }
    Member {
        name: name.into(),
        addr: ip.parse().unwrap(),
        port: 8301,
        tags,
        status,
        protocol: CONSUL_PROTOCOL,
    }
}

async fn cluster() -> FakeAgent {
    let agent = FakeAgent::start().await.unwrap();
    agent.state().members = vec![
        member("c1", "10.0.0.21", "node", MemberStatus::Failed),
        member("s2", "10.0.0.12", "consul", MemberStatus::Alive),
        member("s1", "10.0.0.11", "consul", MemberStatus::Alive),
    ];
    agent
}

#[tokio::test]
async fn members_sorts_servers_first_in_consul_columns() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["members"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Node  Address         Status  Type    Build   Protocol  DC   Partition  Segment\n\
         s1    10.0.0.11:8301  alive   server  1.20.1  2         dc1  default    <all>\n\
         s2    10.0.0.12:8301  alive   server  1.20.1  2         dc1  default    <all>\n\
         c1    10.0.0.21:8301  failed  client  1.20.1  2         dc1  default    <default>\n"
    );
    assert!(
        agent
            .state()
            .last_query
            .contains(&("segment".to_owned(), "_all".to_owned()))
    );
}

#[tokio::test]
async fn members_detailed_shows_sorted_tags_with_placeholders() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["members"], &["-detailed", "-status=failed"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Node  Address         Status  Tags\n\
         c1    10.0.0.21:8301  failed  ap=default,build=1.20.1:a8e2b1c3,dc=dc1,role=node,segment=<default>,vsn=2\n"
    );
}

#[tokio::test]
async fn members_exits_2_when_the_status_filter_matches_nothing() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["members"], &["-status=left"]).await;
    assert_eq!((out.code, out.out.as_str()), (2, ""));
    let bad = invoke_on(&agent, &["members"], &["-status=("]).await;
    assert_eq!(bad.code, 1);
}

#[tokio::test]
async fn members_wan_and_filter_reach_the_agent() {
    let agent = cluster().await;
    agent.state().wan_members = vec![member("s1.dc1", "10.0.0.11", "consul", MemberStatus::Alive)];
    let out = invoke_on(&agent, &["members"], &["-wan", "-filter=Name != x"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert!(out.out.contains("s1.dc1  10.0.0.11:8301"), "{}", out.out);
    let q = agent.state().last_query.clone();
    assert!(q.contains(&("wan".to_owned(), "1".to_owned())), "{q:?}");
    assert!(
        q.contains(&("filter".to_owned(), "Name != x".to_owned())),
        "{q:?}"
    );
}

#[tokio::test]
async fn members_error_is_error_retrieving_members() {
    let agent = cluster().await;
    agent.state().fail_next = Some((500, "no pool".into()));
    let out = invoke_on(&agent, &["members"], &[]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.err,
        "Error retrieving members: Unexpected response code: 500 (no pool)\n"
    );
}

#[tokio::test]
async fn join_counts_successes_and_reports_each_failure() {
    let agent = cluster().await;
    agent
        .state()
        .join_errors
        .insert("10.0.0.99".into(), "Failed to join 10.0.0.99".into());
    let out = invoke_on(&agent, &["join"], &["10.0.0.11", "10.0.0.99", "10.0.0.12"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Successfully joined cluster by contacting 2 nodes.\n"
    );
    assert_eq!(
        out.err,
        "Error joining address '10.0.0.99': Unexpected response code: 500 (Failed to join 10.0.0.99)\n"
    );
    let all_fail = invoke_on(&agent, &["join"], &["-wan", "10.0.0.99"]).await;
    assert_eq!(all_fail.code, 1);
    assert!(
        all_fail.err.ends_with("Failed to join any nodes.\n"),
        "{}",
        all_fail.err
    );
    assert_eq!(
        agent.state().cluster_calls.last().map(String::as_str),
        Some("join 10.0.0.99 true")
    );
    let none = invoke_on(&agent, &["join"], &[]).await;
    assert_eq!(
        (none.code, none.err.as_str()),
        (1, "At least one address to join must be specified.\n")
    );
}

#[tokio::test]
async fn leave_reports_graceful_leave_complete() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["leave"], &[]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Graceful leave complete\n")
    );
    assert_eq!(agent.state().cluster_calls, ["leave"]);
    agent.state().fail_next = Some((500, "boom".into()));
    let out = invoke_on(&agent, &["leave"], &[]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.err,
        "Error leaving: Unexpected response code: 500 (boom)\n"
    );
}

#[tokio::test]
async fn force_leave_is_silent_and_needs_one_node() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["force-leave"], &["-prune", "c1"]).await;
    assert_eq!((out.code, out.out.as_str(), out.err.as_str()), (0, "", ""));
    assert_eq!(agent.state().cluster_calls, ["force_leave c1 true false"]);
    let none = invoke_on(&agent, &["force-leave"], &[]).await;
    assert_eq!(none.code, 1);
    let two = invoke_on(&agent, &["force-leave"], &["a", "b"]).await;
    assert_eq!(two.code, 1);
    let unknown = invoke_on(&agent, &["force-leave"], &["nope"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.err.starts_with("Error force leaving: "),
        "{}",
        unknown.err
    );
}

#[tokio::test]
async fn info_prints_stats_sections_sorted_with_tabs() {
    let agent = cluster().await;
    agent.state().stats = Some(serde_json::json!({
        "serf_lan": {"members": "3", "failed": "1"},
        "agent": {"services": "0", "checks": "0"},
    }));
    let out = invoke_on(&agent, &["info"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "agent:\n\tchecks = 0\n\tservices = 0\nserf_lan:\n\tfailed = 1\n\tmembers = 3\n"
    );
}

fn server(node: &str, id: &str, leader: bool, last_index: u64) -> RaftServer {
    RaftServer {
        id: id.into(),
        node: node.into(),
        address: format!("{id}:8300"),
        leader,
        protocol_version: "3".into(),
        voter: true,
        last_index,
    }
}

#[tokio::test]
async fn list_peers_shows_state_and_trailing_commits() {
    let agent = cluster().await;
    agent.state().raft = Some(RaftConfiguration {
        servers: vec![
            server("s1", "10.0.0.11", true, 220),
            server("s2", "10.0.0.12", false, 219),
            server("s3", "10.0.0.13", false, 210),
        ],
        index: 220,
    });
    let out = invoke_on(&agent, &["operator", "raft", "list-peers"], &["-stale"]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "Node  ID         Address         State     Voter  RaftProtocol  Commit Index  Trails Leader By\n\
         s1    10.0.0.11  10.0.0.11:8300  leader    true   3             220           -\n\
         s2    10.0.0.12  10.0.0.12:8300  follower  true   3             219           1 commit\n\
         s3    10.0.0.13  10.0.0.13:8300  follower  true   3             210           10 commits\n"
    );
    assert_eq!(
        agent.state().last_query,
        [("stale".to_owned(), String::new())]
    );
    agent.state().raft = None;
    let out = invoke_on(&agent, &["operator", "raft", "list-peers"], &[]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.err,
        "Error getting peers: Unexpected response code: 500 (No cluster leader)\n"
    );
}

#[tokio::test]
async fn remove_peer_by_address_or_id() {
    let agent = cluster().await;
    agent.state().raft = Some(RaftConfiguration {
        servers: vec![
            server("s1", "10.0.0.11", true, 5),
            server("s2", "10.0.0.12", false, 5),
        ],
        index: 5,
    });
    let cmd = ["operator", "raft", "remove-peer"];
    let out = invoke_on(&agent, &cmd, &["-address=10.0.0.12:8300"]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Removed peer with address \"10.0.0.12:8300\"\n")
    );
    let out = invoke_on(&agent, &cmd, &["-id", "10.0.0.11"]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Removed peer with id \"10.0.0.11\"\n")
    );
    let missing = invoke_on(&agent, &cmd, &["-id=gone"]).await;
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .err
            .contains("was not found in the Raft configuration"),
        "{}",
        missing.err
    );
    let neither = invoke_on(&agent, &cmd, &[]).await;
    assert_eq!(neither.code, 1);
    let both = invoke_on(&agent, &cmd, &["-id=a", "-address=b"]).await;
    assert_eq!(both.code, 1);
}

#[tokio::test]
async fn unsupported_operator_subcommands_say_so() {
    let agent = cluster().await;
    let out = invoke_on(&agent, &["operator", "area"], &[]).await;
    assert_eq!(out.code, 1);
    assert!(out.err.contains("not supported"), "{}", out.err);
}

#[tokio::test]
async fn autopilot_get_config_and_cas_set_config() {
    let agent = cluster().await;
    agent.state().autopilot.modify_index = 4;
    let out = invoke_on(&agent, &["operator", "autopilot", "get-config"], &[]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(
        out.out,
        "CleanupDeadServers = true\nLastContactThreshold = 200ms\nMaxTrailingLogs = 250\n\
         MinQuorum = 0\nServerStabilizationTime = 10s\nRedundancyZoneTag = \"\"\n\
         DisableUpgradeMigration = false\nUpgradeVersionTag = \"\"\n"
    );
    let out = invoke_on(
        &agent,
        &["operator", "autopilot", "set-config"],
        &[
            "-cleanup-dead-servers=false",
            "-min-quorum=3",
            "-last-contact-threshold=1s",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(out.out, "Configuration updated!\n");
    let stored = agent.state().autopilot.clone();
    assert!(!stored.cleanup_dead_servers);
    assert_eq!(stored.min_quorum, 3);
    assert_eq!(
        stored.last_contact_threshold,
        std::time::Duration::from_secs(1)
    );
    assert_eq!(
        stored.max_trailing_logs, 250,
        "unset flags keep their value"
    );
    assert_eq!(stored.modify_index, 5);
    let out = invoke_on(
        &agent,
        &["operator", "autopilot", "set-config"],
        &["-last-contact-threshold=soon"],
    )
    .await;
    assert_eq!(out.code, 1);
}
