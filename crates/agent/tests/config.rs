//! Golden tests: sample JSON/HCL configs in `tests/fixtures/` loaded through the public API.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use praetor_agent::config::{
    AgentArgs, ConfigError, HostFacts, LogLevel, RuntimeConfig, load_with,
};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    agent: AgentArgs,
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn no_interfaces() -> std::io::Result<Vec<IpAddr>> {
    Ok(Vec::new())
}

fn args(argv: &[&str]) -> AgentArgs {
    let argv = std::iter::once("agent").chain(argv.iter().copied());
    Cli::try_parse_from(argv).expect("flags parse").agent
}

fn load(args: &AgentArgs) -> Result<RuntimeConfig, ConfigError> {
    load_with(
        args,
        &HostFacts {
            hostname: Some("test-host".to_owned()),
            interface_addrs: &no_interfaces,
        },
    )
}

fn data_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().display().to_string();
    (dir, path)
}

#[test]
fn config_dir_files_merge_in_lexical_order() {
    let (_tmp, data) = data_dir();
    let config = load(&args(&[
        "--config-dir",
        &fixture("config-dir"),
        "--data-dir",
        &data,
    ]))
    .expect("loads");

    // scalars: the later file wins, then flags
    assert_eq!(config.datacenter, "dc-west");
    assert_eq!(config.data_dir, Some(PathBuf::from(&data)));
    // lists append in load order; singular `service` blocks append
    assert_eq!(config.retry_join, ["10.0.0.6", "10.0.0.7"]);
    let names: Vec<_> = config.services.iter().map(|s| s["name"].as_str()).collect();
    assert_eq!(names, [Some("web"), Some("db")]);
    // maps and nested blocks merge key by key
    assert_eq!(config.node_meta.get("rack").map(String::as_str), Some("r2"));
    assert_eq!(config.node_meta.get("zone").map(String::as_str), Some("z1"));
    assert_eq!(config.ports.http, 8500);
    assert_eq!(config.ports.dns, -1);
    assert_eq!(config.http_response_headers.len(), 2);
    assert_eq!(
        config
            .http_response_headers
            .get("Access-Control-Allow-Origin")
            .map(String::as_str),
        Some("*")
    );
    // only *.json / *.hcl, not recursive; the rest is a warning
    let loaded: Vec<_> = config
        .sources()
        .iter()
        .map(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(loaded, ["10-base.json", "20-override.hcl"]);
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| w.starts_with("skipping file")
                && w.ends_with(
                    "README.txt, extension must be .hcl or .json, or config format must be set"
                )),
        "{:?}",
        config.warnings()
    );
    assert!(config.server);
    assert_eq!(config.bootstrap_expect, 3);
    assert_eq!(
        config.advertise_addr,
        "10.0.0.5".parse::<IpAddr>().expect("ip")
    );
}

#[test]
fn flags_override_files_and_list_flags_append() {
    let (_tmp, data) = data_dir();
    let config = load(&args(&[
        "--config-dir",
        &fixture("config-dir"),
        "--data-dir",
        &data,
        "--datacenter=dc9",
        "--retry-join",
        "10.0.0.8",
        "--retry-join=10.0.0.9",
        "--node-meta",
        "rack:r3",
        "--dns-port",
        "-1",
        "--http-port=18500",
        "--server=false",
        "--bootstrap-expect=0",
    ]))
    .expect("loads");
    assert_eq!(config.datacenter, "dc9");
    assert_eq!(
        config.retry_join,
        ["10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9"]
    );
    assert_eq!(config.node_meta.get("rack").map(String::as_str), Some("r3"));
    assert_eq!(config.ports.http, 18500);
    assert_eq!(config.ports.dns, -1);
    assert!(!config.server);
    assert!(
        config.leave_on_terminate,
        "clients leave on terminate by default"
    );
    assert!(!config.skip_leave_on_interrupt);
}

#[test]
fn hcl_with_nested_and_repeated_blocks_and_one_line_ports() {
    let config = load(&args(&["--config-file", &fixture("services.hcl")])).expect("loads");
    assert_eq!(config.ports.http, 18500);
    assert_eq!(config.ports.dns, -1);
    assert_eq!(config.ports.grpc, 18502);
    assert_eq!(config.kv_max_value_size, 1024);
    assert!(config.enable_local_script_checks);
    assert_eq!(config.services.len(), 2);
    assert_eq!(config.services[0]["name"], "web");
    assert_eq!(
        config.services[0]["check"]["http"],
        "http://localhost:80/health"
    );
    assert_eq!(
        config.services[1]["check"]["args"][0],
        "/usr/local/bin/check_redis.py"
    );
    assert_eq!(config.checks.len(), 1);
    assert_eq!(config.checks[0]["ttl"], "30s");
    assert_eq!(
        config.bind_addr,
        "192.168.10.2".parse::<IpAddr>().expect("ip")
    );
}

#[test]
fn unknown_keys_are_errors_naming_file_and_key() {
    let path = fixture("unknown-key.json");
    let err = load(&args(&["--config-file", &path])).expect_err("unknown keys");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{path}: invalid config key bogus_key")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{path}: invalid config key ports.htp")),
        "{text}"
    );
    assert_eq!(err.problems().len(), 2, "{text}");
}

#[test]
fn bad_types_are_all_reported_together() {
    let path = fixture("bad-types.json");
    let err = load(&args(&["--config-file", &path])).expect_err("bad types");
    let text = err.to_string();
    for key in [
        "server",
        "ports.http",
        "retry_join",
        "retry_interval",
        "node_meta",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{path}: invalid value for {key}:"))),
            "{key} missing from:\n{text}"
        );
    }
    assert_eq!(text.lines().count(), 5, "{text}");
}

#[test]
fn dev_mode_overrides_defaults_and_still_loads_files() {
    let config = load(&args(&[
        "--dev",
        "--config-file",
        &fixture("seed-dev.json"),
    ]))
    .expect("dev loads");
    assert!(config.dev);
    assert!(config.server);
    assert!(config.ui_enabled);
    assert_eq!(config.log_level, LogLevel::Debug);
    assert_eq!(config.ports.grpc, 8502);
    assert_eq!(config.raft_multiplier, 1);
    let localhost: IpAddr = "127.0.0.1".parse().expect("ip");
    assert_eq!(config.bind_addr, localhost);
    assert_eq!(config.advertise_addr, localhost);
    assert_eq!(config.client_addrs, [localhost]);
    assert_eq!(config.data_dir, None);
    assert!(!config.node_id.is_nil());
    assert_eq!(config.services.len(), 1);

    // -bind and -client override the dev defaults; a second dev start gets a new node ID
    let other = load(&args(&["--dev", "--bind", "192.168.1.9"])).expect("dev loads");
    assert_eq!(
        other.advertise_addr,
        "192.168.1.9".parse::<IpAddr>().expect("ip")
    );
    assert_ne!(other.node_id, config.node_id);
}

#[test]
fn node_id_is_persisted_in_the_data_dir() {
    let (_tmp, data) = data_dir();
    let flags = args(&["--data-dir", &data, "--bind", "10.1.1.1"]);
    let first = load(&flags).expect("loads");
    let second = load(&flags).expect("loads again");
    assert_eq!(first.node_id, second.node_id);
    let on_disk = std::fs::read_to_string(PathBuf::from(&data).join("node-id")).expect("node-id");
    assert_eq!(on_disk, first.node_id.to_string());

    let given = "3f2a1c9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
    let explicit = load(&args(&[
        "--data-dir",
        &data,
        "--bind",
        "10.1.1.1",
        "--node-id",
        given,
    ]))
    .expect("loads");
    assert_eq!(explicit.node_id.to_string(), given);
}

#[test]
fn defaults_match_consul() {
    let (_tmp, data) = data_dir();
    let c = load(&args(&["--data-dir", &data, "--bind", "10.1.1.1"])).expect("loads");
    assert_eq!(c.node_name, "test-host");
    assert_eq!(c.datacenter, "dc1");
    assert_eq!(c.primary_datacenter, "dc1");
    assert_eq!(c.domain, "consul.");
    assert!(!c.server && !c.bootstrap && !c.dev);
    assert_eq!(c.bootstrap_expect, 0);
    assert_eq!(c.client_addrs, ["127.0.0.1".parse::<IpAddr>().expect("ip")]);
    let p = c.ports;
    assert_eq!(
        (
            p.http, p.https, p.grpc, p.grpc_tls, p.dns, p.server, p.serf_lan, p.serf_wan
        ),
        (8500, -1, -1, 8503, 8600, 8300, 8301, 8302)
    );
    assert_eq!(c.log_level, LogLevel::Info);
    assert!(!c.log_json && !c.ui_enabled);
    assert_eq!(c.ui_content_path, "/ui/");
    assert!(!c.enable_script_checks && !c.enable_local_script_checks);
    assert_eq!(c.retry_interval, Duration::from_secs(30));
    assert_eq!(c.retry_max, 0);
    assert_eq!(c.reconnect_timeout, Duration::from_secs(72 * 3600));
    assert!(c.leave_on_terminate && !c.skip_leave_on_interrupt);
    assert_eq!(c.kv_max_value_size, 524_288);
    assert_eq!(c.txn_max_req_len, 524_288);
    assert!(!c.disable_kv_key_validation);
    assert_eq!(c.raft_snapshot_threshold, 16_384);
    assert_eq!(c.raft_multiplier, 5);
    assert_eq!(c.default_query_time, Duration::from_secs(300));
    assert_eq!(c.max_query_time, Duration::from_secs(600));
    assert_eq!(c.session_ttl_min, Duration::from_secs(10));
    assert_eq!(c.check_output_max_size, 4096);
    assert_eq!(c.check_update_interval, Duration::from_secs(300));
    assert!(c.disable_remote_exec);
    assert!(c.dns.allow_stale);
    assert_eq!(c.dns.max_stale, Duration::from_secs(87_600 * 3600));
    assert_eq!(c.dns.udp_answer_limit, 3);
    assert_eq!(c.dns.recursor_timeout, Duration::from_secs(2));
    assert_eq!(c.acl_default_policy, "allow");
    assert!(c.retry_join.is_empty() && c.recursors.is_empty() && c.services.is_empty());

    let server = load(&args(&[
        "--data-dir",
        &data,
        "--bind",
        "10.1.1.1",
        "--server",
    ]))
    .expect("loads");
    assert!(!server.leave_on_terminate && server.skip_leave_on_interrupt);
}

#[test]
fn data_dir_is_required_outside_dev() {
    let err = load(&args(&["--bind", "10.1.1.1"])).expect_err("no data dir");
    assert_eq!(err.to_string(), "data_dir cannot be empty");
}

#[test]
fn semantic_errors_are_reported_together() {
    let err = load(&args(&[
        "--bootstrap",
        "--bootstrap-expect=3",
        "--datacenter",
        "dc 1",
        "--node-id",
        "not-a-uuid",
        "--bind",
        "10.1.1.1",
    ]))
    .expect_err("invalid");
    let lines: Vec<String> = err.to_string().lines().map(str::to_owned).collect();
    for want in [
        "data_dir cannot be empty",
        "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive",
        "'bootstrap_expect > 0' requires 'server = true'",
        "'bootstrap = true' requires 'server = true'",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "{want} missing from {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("datacenter can only contain")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("not-a-uuid")), "{lines:?}");

    let dev = load(&args(&["--dev", "--bootstrap-expect=3"])).expect_err("dev expect");
    assert!(
        dev.to_string()
            .contains("'bootstrap_expect > 0' not allowed in dev mode")
    );
}

#[test]
fn bind_any_uses_the_single_private_address_or_fails_with_consuls_text() {
    let (_tmp, data) = data_dir();
    let flags = args(&["--data-dir", &data]);
    let one = || {
        Ok(vec![
            "203.0.113.1".parse().expect("ip"),
            "10.4.4.4".parse().expect("ip"),
        ])
    };
    let config = load_with(
        &flags,
        &HostFacts {
            hostname: Some("h".into()),
            interface_addrs: &one,
        },
    )
    .expect("loads");
    assert_eq!(config.bind_addr, "0.0.0.0".parse::<IpAddr>().expect("ip"));
    assert_eq!(
        config.advertise_addr,
        "10.4.4.4".parse::<IpAddr>().expect("ip")
    );
    assert_eq!(config.advertise_addr_wan, config.advertise_addr);

    let two = || {
        Ok(vec![
            "10.4.4.4".parse().expect("ip"),
            "172.17.0.1".parse().expect("ip"),
        ])
    };
    let err = load_with(
        &flags,
        &HostFacts {
            hostname: Some("h".into()),
            interface_addrs: &two,
        },
    )
    .expect_err("ambiguous");
    assert_eq!(
        err.to_string(),
        "Multiple private IPv4 addresses found. Please configure one with 'bind' and/or 'advertise'."
    );

    // an explicit -advertise needs no detection
    let config = load_with(
        &args(&["--data-dir", &data, "--advertise", "10.9.9.9"]),
        &HostFacts {
            hostname: Some("h".into()),
            interface_addrs: &two,
        },
    )
    .expect("loads");
    assert_eq!(
        config.advertise_addr,
        "10.9.9.9".parse::<IpAddr>().expect("ip")
    );
}

#[test]
fn client_accepts_a_space_separated_list_and_addresses_override_it() {
    let config = load(&args(&[
        "--dev",
        "--client",
        "127.0.0.1 ::1",
        "--hcl",
        "addresses { dns = \"127.0.0.2\" http = \"unix:///tmp/praetor.sock\" }",
    ]))
    .expect("loads");
    assert_eq!(config.client_addrs.len(), 2);
    assert_eq!(
        config.addresses.dns,
        ["127.0.0.2".parse::<IpAddr>().expect("ip")]
    );
    assert_eq!(
        config.addresses.http,
        [praetor_agent::config::ListenAddr::Unix(PathBuf::from(
            "/tmp/praetor.sock"
        ))]
    );
    assert_eq!(config.addresses.grpc.len(), 2);

    let err = load(&args(&["--dev", "--client", "{{ GetPrivateIP }}"])).expect_err("template");
    assert!(
        err.to_string()
            .contains("go-sockaddr templates are not supported")
    );
}

#[test]
fn flag_forms_parse() {
    let a = args(&[
        "--server",
        "--ui",
        "--bootstrap-expect",
        "1",
        "--data-dir=/tmp/x",
        "--retry-join",
        "a",
        "--retry-join=b",
        "--join",
        "c",
        "--config-file",
        "f1",
        "--config-dir=d1",
        "--recursor",
        "8.8.8.8",
        "--https-port",
        "-1",
        "--check_output_max_size=100",
        "--log-json",
        "--enable-script-checks",
    ]);
    assert_eq!(a.server, Some(true));
    assert_eq!(a.ui, Some(true));
    assert_eq!(a.bootstrap_expect, Some(1));
    assert_eq!(a.data_dir.as_deref(), Some("/tmp/x"));
    assert_eq!(a.retry_join, ["a", "b"]);
    assert_eq!(a.join, ["c"]);
    assert_eq!(a.config_file, ["f1"]);
    assert_eq!(a.config_dir, ["d1"]);
    assert_eq!(a.recursor, ["8.8.8.8"]);
    assert_eq!(a.https_port, Some(-1));
    assert_eq!(a.check_output_max_size, Some(100));
    assert_eq!(a.log_json, Some(true));
    assert_eq!(a.enable_script_checks, Some(true));
    assert!(Cli::try_parse_from(["agent", "--bogus-flag"]).is_err());
}

#[test]
fn missing_config_file_is_an_error() {
    let err = load(&args(&[
        "--dev",
        "--config-file",
        "/nonexistent/praetor.json",
    ]))
    .expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("failed to read /nonexistent/praetor.json")
    );
}

#[test]
fn ui_is_enabled_by_flag_dev_or_config() {
    let (tmp, data) = data_dir();
    let off = load(&args(&["--bind", "127.0.0.1", "--data-dir", &data])).expect("loads");
    assert!(!off.ui_enabled);
    assert!(
        load(&args(&["--bind", "127.0.0.1", "--data-dir", &data, "--ui"]))
            .expect("loads")
            .ui_enabled
    );
    assert!(load(&args(&["--dev"])).expect("loads").ui_enabled);
    assert!(
        !load(&args(&["--dev", "--ui=false"]))
            .expect("loads")
            .ui_enabled
    );

    for (name, body) in [
        (
            "modern.json",
            r#"{"ui_config": {"enabled": true, "content_path": "/console/"}}"#,
        ),
        (
            "legacy.json",
            r#"{"ui": true, "ui_content_path": "/console/"}"#,
        ),
        (
            "modern.hcl",
            "ui_config {\n  enabled = true\n  content_path = \"/console/\"\n}\n",
        ),
    ] {
        let file = tmp.path().join(name);
        std::fs::write(&file, body).expect("write config");
        let file = file.display().to_string();
        let c = load(&args(&[
            "--bind",
            "127.0.0.1",
            "--data-dir",
            &data,
            "--config-file",
            &file,
        ]))
        .expect("loads");
        assert!(c.ui_enabled, "{name}");
        assert_eq!(c.ui_content_path, "/console/", "{name}");
    }
}

#[tokio::test]
async fn hcl_services_and_checks_register_on_the_local_agent() {
    use praetor_agent::{LocalAgent, LocalAgentConfig};
    let config = load(&args(&["--config-file", &fixture("services.hcl")])).expect("loads");
    let stop = tokio_util::sync::CancellationToken::new();
    let (agent, task) = LocalAgent::new(LocalAgentConfig::from_runtime(&config), stop.clone());
    let task = tokio::spawn(task.run());
    agent.load_config(&config).expect("registers");
    let services: Vec<String> = agent.services().into_iter().map(|s| s.id).collect();
    assert_eq!(services, ["redis", "web"]);
    let checks: Vec<String> = agent.checks().into_iter().map(|c| c.check_id).collect();
    assert_eq!(checks, ["mem", "service:redis", "web-http"]);
    let web = agent
        .checks()
        .into_iter()
        .find(|c| c.check_id == "web-http")
        .expect("web-http");
    assert_eq!((web.r#type.as_str(), web.timeout.as_str()), ("http", "1s"));
    stop.cancel();
    task.await.expect("task ends");
}
