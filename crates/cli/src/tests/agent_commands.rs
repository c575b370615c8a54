//! `consul reload`, `consul maint` and `consul validate` through `run()`.

use praetor_client::AgentServiceRegistration;
use praetor_client::testing::FakeAgent;

use super::{invoke, invoke_on};

async fn agent_with_redis() -> FakeAgent {
    let agent = FakeAgent::start().await.unwrap();
    agent.state().agent_services.insert(
        "redis".into(),
        AgentServiceRegistration {
            name: "redis".into(),
            ..AgentServiceRegistration::default()
        },
    );
    agent
}

#[tokio::test]
async fn reload_triggers_and_reports() {
    let agent = FakeAgent::start().await.unwrap();
    let out = invoke_on(&agent, &["reload"], &[]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Configuration reload triggered\n")
    );
    assert_eq!(agent.state().reloads, 1);
}

#[tokio::test]
async fn reload_failure_is_error_reloading_with_exit_1() {
    let agent = FakeAgent::start().await.unwrap();
    agent.state().fail_next = Some((500, "Failed reloading services: bad".into()));
    let out = invoke_on(&agent, &["reload"], &[]).await;
    assert_eq!(out.code, 1);
    assert!(out.out.is_empty());
    assert_eq!(
        out.err,
        "Error reloading: Unexpected response code: 500 (Failed reloading services: bad)\n"
    );
}

#[tokio::test]
async fn maint_lists_nothing_when_nothing_is_in_maintenance() {
    let agent = agent_with_redis().await;
    let out = invoke_on(&agent, &["maint"], &[]).await;
    assert_eq!((out.code, out.out.as_str(), out.err.as_str()), (0, "", ""));
}

#[tokio::test]
async fn maint_enable_list_and_disable_node_and_service() {
    let agent = agent_with_redis().await;
    let out = invoke_on(
        &agent,
        &["maint"],
        &["-enable", "-reason", "This node is broken."],
    )
    .await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Node entered maintenance mode\n")
    );
    let out = invoke_on(
        &agent,
        &["maint"],
        &[
            "-enable",
            "-service=redis",
            "-reason=Redis is currently offline.",
        ],
    )
    .await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Service entered maintenance mode: redis\n")
    );
    let list = invoke_on(&agent, &["maint"], &[]).await;
    assert_eq!(list.code, 0, "{}", list.err);
    assert_eq!(
        list.out,
        "Node:\n  Name:   fake\n  Reason: This node is broken.\n\n\
         Service:\n  ID:     redis\n  Reason: Redis is currently offline.\n\n"
    );

    let out = invoke_on(&agent, &["maint"], &["-disable", "-service", "redis"]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Service left maintenance mode: redis\n")
    );
    let out = invoke_on(&agent, &["maint"], &["-disable"]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Node left maintenance mode\n")
    );
    assert!(agent.state().agent_checks.is_empty());
}

#[tokio::test]
async fn maint_enable_without_reason_gets_the_default_note() {
    let agent = agent_with_redis().await;
    invoke_on(&agent, &["maint"], &["-enable"]).await;
    let list = invoke_on(&agent, &["maint"], &[]).await;
    assert!(
        list.out
            .contains("Reason: Maintenance mode is enabled for this node"),
        "{}",
        list.out
    );
}

#[tokio::test]
async fn maint_flag_conflicts_are_errors() {
    let agent = agent_with_redis().await;
    let both = invoke_on(&agent, &["maint"], &["-enable", "-disable"]).await;
    assert_eq!(
        (both.code, both.err.as_str()),
        (1, "Only one of -enable or -disable may be provided\n")
    );
    let reason = invoke_on(&agent, &["maint"], &["-disable", "-reason=x"]).await;
    assert_eq!(
        (reason.code, reason.err.as_str()),
        (1, "Reason may only be provided with -enable\n")
    );
    let service = invoke_on(&agent, &["maint"], &["-service=redis"]).await;
    assert_eq!(
        (service.code, service.err.as_str()),
        (1, "Service requires either -enable or -disable\n")
    );
}

#[tokio::test]
async fn maint_unknown_service_is_an_error() {
    let agent = agent_with_redis().await;
    let out = invoke_on(&agent, &["maint"], &["-enable", "-service=ghost"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.err
            .starts_with("Error enabling service maintenance: Unexpected response code: 404"),
        "{}",
        out.err
    );
}

#[tokio::test]
async fn validate_accepts_a_good_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent.json"),
        format!(
            r#"{{"data_dir": {:?}, "bind_addr": "127.0.0.1", "node_id": "adf4238a-882b-9ddc-4a9d-5b6758e4159e"}}"#,
            dir.path().join("data")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("web.hcl"),
        "service {\n  name = \"web\"\n  port = 80\n}\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let out = invoke(&["validate", path]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Configuration is valid!\n"),
        "{}",
        out.err
    );
    let quiet = invoke(&["validate", "-quiet", path]).await;
    assert_eq!((quiet.code, quiet.out.as_str()), (0, ""));
}

#[tokio::test]
async fn validate_reports_the_agents_error_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"data_dir": "/tmp/x", "bind_addr": "127.0.0.1", "bogus_key": 1}"#,
    )
    .unwrap();
    let out = invoke(&["validate", file.to_str().unwrap()]).await;
    assert_eq!(out.code, 1);
    assert!(out.out.is_empty());
    assert_eq!(
        out.err,
        format!(
            "Config validation failed: {}: invalid config key bogus_key\n",
            file.display()
        )
    );
}

#[tokio::test]
async fn validate_needs_a_data_dir_like_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.json");
    // A loopback bind keeps the host's interfaces out of the answer.
    std::fs::write(&file, r#"{"bind_addr": "127.0.0.1"}"#).unwrap();
    let out = invoke(&["validate", file.to_str().unwrap()]).await;
    assert_eq!(
        (out.code, out.err.as_str()),
        (1, "Config validation failed: data_dir cannot be empty\n")
    );
}

#[tokio::test]
async fn validate_without_paths_is_an_error() {
    let out = invoke(&["validate"]).await;
    assert_eq!(
        (out.code, out.err.as_str()),
        (1, "Must specify at least one config file or directory\n")
    );
}

#[tokio::test]
async fn validate_honours_config_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.conf");
    std::fs::write(
        &file,
        "data_dir = \"/tmp/praetor-validate\"\nnode_id = \"adf4238a-882b-9ddc-4a9d-5b6758e4159e\"\nbind_addr = \"127.0.0.1\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = invoke(&["validate", "-config-format=hcl", path]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    let bad = invoke(&["validate", "-config-format=yaml", path]).await;
    assert_eq!(bad.code, 1);
    assert!(bad.err.contains("invalid config format"), "{}", bad.err);
}

#[tokio::test]
async fn new_commands_are_dispatched_not_unsupported() {
    for command in ["catalog", "services", "maint", "reload", "validate"] {
        let out = invoke(&[command, "-h"]).await;
        assert_eq!(out.code, 0, "{command}: {}", out.err);
        assert!(!out.err.contains("not supported"), "{command}");
    }
}
