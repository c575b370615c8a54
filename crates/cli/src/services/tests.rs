//! `consul services register|deregister` through `run()` against a [`FakeAgent`].

use praetor_client::testing::FakeAgent;

use crate::tests::{Outcome, invoke, invoke_on};

async fn services(agent: &FakeAgent, sub: &str, args: &[&str]) -> Outcome {
    invoke_on(agent, &["services", sub], args).await
}

#[tokio::test]
async fn register_from_flags() {
    let agent = FakeAgent::start().await.unwrap();
    let out = services(
        &agent,
        "register",
        &[
            "-name=web",
            "-id=web1",
            "-address=10.0.0.1",
            "-port=80",
            "-tag=v1",
            "-tag",
            "rails",
            "-meta",
            "version=1=2",
        ],
    )
    .await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Registered service: web\n"),
        "{}",
        out.err
    );
    let state = agent.state();
    let web = &state.agent_services["web1"];
    assert_eq!(web.name, "web");
    assert_eq!(web.address, "10.0.0.1");
    assert_eq!(web.port, 80);
    assert_eq!(web.tags, ["v1", "rails"]);
    assert_eq!(web.meta["version"], "1=2");
}

#[tokio::test]
async fn register_from_files_registers_each_service() {
    let agent = FakeAgent::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.json");
    std::fs::write(
        &file,
        r#"{"service": {"name": "redis", "port": 6379,
             "check": {"ttl": "30s"}},
            "services": [{"name": "web", "id": "web1"}]}"#,
    )
    .unwrap();
    let out = services(&agent, "register", &[file.to_str().unwrap()]).await;
    assert_eq!(out.code, 0, "{}", out.err);
    // `services` entries come first, then `service`, as the agent's loader folds them.
    assert_eq!(
        out.out,
        "Registered service: web\nRegistered service: redis\n"
    );
    let state = agent.state();
    assert_eq!(
        state.agent_services["redis"]
            .check
            .as_ref()
            .unwrap()
            .ttl
            .as_deref(),
        Some("30s")
    );
    assert!(state.agent_services.contains_key("web1"));
}

#[tokio::test]
async fn register_argument_errors() {
    let agent = FakeAgent::start().await.unwrap();
    let none = services(&agent, "register", &[]).await;
    assert_eq!(
        (none.code, none.err.as_str()),
        (1, "Service name must be specified via the -name flag\n")
    );
    let both = services(&agent, "register", &["-name=web", "x.json"]).await;
    assert_eq!(
        (both.code, both.err.as_str()),
        (
            1,
            "Service name must be specified via -name flag OR via a file, not both\n"
        )
    );
    let bad = services(&agent, "register", &["-port=http", "-name=web"]).await;
    assert_eq!(bad.code, 1);
}

#[tokio::test]
async fn register_bad_file_is_error_with_exit_1() {
    let agent = FakeAgent::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.hcl");
    std::fs::write(&file, "service {\n  name = \"web\"\n  prot = 80\n}\n").unwrap();
    let out = services(&agent, "register", &[file.to_str().unwrap()]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.err, "Error: invalid config key service.prot\n");
    assert!(agent.state().agent_services.is_empty());
}

#[tokio::test]
async fn register_api_error_names_the_service() {
    let agent = FakeAgent::start().await.unwrap();
    agent.state().fail_next = Some((400, "Invalid check: TTL must be > 0".into()));
    let out = services(&agent, "register", &["-name=web"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.err,
        "Error registering service \"web\": Unexpected response code: 400 (Invalid check: TTL must be > 0)\n"
    );
}

#[tokio::test]
async fn deregister_by_id_and_by_file() {
    let agent = FakeAgent::start().await.unwrap();
    services(&agent, "register", &["-name=web", "-id=web1"]).await;
    services(&agent, "register", &["-name=redis"]).await;
    let out = services(&agent, "deregister", &["-id=web1"]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Deregistered service: web1\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("redis.hcl");
    std::fs::write(&file, "service {\n  name = \"redis\"\n}\n").unwrap();
    let out = services(&agent, "deregister", &[file.to_str().unwrap()]).await;
    assert_eq!(
        (out.code, out.out.as_str()),
        (0, "Deregistered service: redis\n"),
        "{}",
        out.err
    );
    assert!(agent.state().agent_services.is_empty());
}

#[tokio::test]
async fn deregister_errors() {
    let agent = FakeAgent::start().await.unwrap();
    let none = services(&agent, "deregister", &[]).await;
    assert_eq!(
        (none.code, none.err.as_str()),
        (
            1,
            "Service deregistration requires at least one argument or -id.\n"
        )
    );
    let both = services(&agent, "deregister", &["-id=a", "f.json"]).await;
    assert_eq!(
        (both.code, both.err.as_str()),
        (
            1,
            "Service deregistration requires arguments or -id, not both.\n"
        )
    );
    let unknown = services(&agent, "deregister", &["-id=ghost"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.err.starts_with(
            "Error deregistering service \"ghost\": Unexpected response code: 404 (Unknown service ID"
        ),
        "{}",
        unknown.err
    );
}

#[tokio::test]
async fn services_without_subcommand_prints_usage() {
    let out = invoke(&["services"]).await;
    assert_eq!(out.code, 1);
    assert!(out.err.contains("register      Register services"));
}
