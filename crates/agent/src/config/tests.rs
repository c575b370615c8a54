//! Unit tests for the pure parts of config loading: the schema check and the dev layer.

use serde_json::json;

use super::schema::normalize;
use super::*;

#[test]
fn dev_overrides_pass_the_schema() {
    let mut problems = Vec::new();
    let normalized = normalize("dev", dev_overrides(), &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(normalized["ports"]["grpc"], 8502);
}

#[test]
fn keys_are_case_insensitive_and_weak_types_are_coerced() {
    let mut problems = Vec::new();
    let v = normalize(
        "t",
        json!({"Datacenter": "dc2", "SERVER": "true", "ports": {"HTTP": "8501"}, "retry_join": "a"}),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        v,
        json!({"datacenter": "dc2", "server": true, "ports": {"http": 8501}, "retry_join": ["a"]})
    );
}

#[test]
fn singular_and_plural_services_fold_into_one_list() {
    let mut problems = Vec::new();
    let v = normalize(
        "t",
        json!({
            "services": [{"name": "a"}],
            "service": {"Name": "b", "Port": 1},
            "check": [{"ttl": "1s"}, {"ttl": "2s"}],
        }),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        v["services"],
        json!([{"name": "a"}, {"Name": "b", "Port": 1}])
    );
    assert_eq!(v["checks"].as_array().map(Vec::len), Some(2));
    assert!(v.get("service").is_none() && v.get("check").is_none());
}

#[test]
fn legacy_keys_move_to_their_modern_place_unless_set() {
    let mut problems = Vec::new();
    let v = normalize(
        "t",
        json!({"ui": true, "ui_dir": "/ui", "acl_datacenter": "dc0", "acl_token": "t1"}),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(v["ui_config"], json!({"enabled": true, "dir": "/ui"}));
    assert_eq!(v["primary_datacenter"], "dc0");
    assert_eq!(v["acl"]["tokens"]["default"], "t1");

    let v = normalize(
        "t",
        json!({"ui": true, "ui_config": {"enabled": false}}),
        &mut problems,
    );
    assert_eq!(v["ui_config"]["enabled"], false);
}

#[test]
fn repeated_hcl_blocks_of_an_object_key_merge() {
    let mut problems = Vec::new();
    let v = normalize(
        "t",
        json!({"ports": [{"http": 1}, {"dns": 2}]}),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(v["ports"], json!({"http": 1, "dns": 2}));
}

#[test]
fn non_object_top_level_is_an_error() {
    let mut problems = Vec::new();
    normalize("f.json", json!([1, 2]), &mut problems);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("f.json: invalid value for (top level)")
    );
}

#[test]
fn hcl_fragments_apply_after_flags() {
    let args = AgentArgs {
        dev: true,
        datacenter: Some("from-flag".to_owned()),
        hcl: vec![
            "datacenter = \"from-hcl\"".to_owned(),
            "retry_join = [\"x\"]".to_owned(),
        ],
        retry_join: vec!["w".to_owned()],
        ..AgentArgs::default()
    };
    let no_addrs = || Ok(Vec::new());
    let host = HostFacts {
        hostname: Some("h".to_owned()),
        interface_addrs: &no_addrs,
    };
    let config = load_with(&args, &host).expect("loads");
    assert_eq!(config.datacenter, "from-hcl");
    assert_eq!(config.retry_join, ["w", "x"]);
}

#[test]
fn bad_config_format_and_bad_flag_values_are_reported() {
    let args = AgentArgs {
        dev: true,
        config_format: Some("yaml".to_owned()),
        retry_interval: Some("soon".to_owned()),
        log_level: Some("loud".to_owned()),
        http_port: Some(70000),
        ..AgentArgs::default()
    };
    let no_addrs = || Ok(Vec::new());
    let host = HostFacts {
        hostname: Some("h".to_owned()),
        interface_addrs: &no_addrs,
    };
    let err = load_with(&args, &host).expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("invalid config format \"yaml\""), "{text}");
    assert!(
        text.contains("command-line flags: invalid value for retry_interval"),
        "{text}"
    );
    assert!(text.contains("unknown log level \"loud\""), "{text}");
    assert!(
        text.contains("port 70000 must be between -1 and 65535"),
        "{text}"
    );
    assert_eq!(err.problems().len(), 4, "{text}");
}

#[test]
fn missing_hostname_without_node_name_is_an_error() {
    let no_addrs = || Ok(Vec::new());
    let host = HostFacts {
        hostname: None,
        interface_addrs: &no_addrs,
    };
    let args = AgentArgs {
        dev: true,
        ..AgentArgs::default()
    };
    let err = load_with(&args, &host).expect_err("no node name");
    assert!(matches!(err.problems(), [Problem::InvalidNodeName(_)]));
}

#[test]
fn autopilot_block_and_follower_reads_option() {
    let load = |hcl: Vec<String>| {
        let args = AgentArgs {
            dev: true,
            hcl,
            ..AgentArgs::default()
        };
        let no_addrs = || Ok(Vec::new());
        let host = HostFacts {
            hostname: Some("h".to_owned()),
            interface_addrs: &no_addrs,
        };
        load_with(&args, &host).expect("loads")
    };
    let defaults = load(Vec::new());
    assert_eq!(
        defaults.autopilot,
        praetor_types::AutopilotConfig::default()
    );
    assert!(!defaults.read_index_follower_reads);
    let config = load(vec![
        "autopilot { cleanup_dead_servers = false, min_quorum = 3 }".to_owned(),
        "autopilot { last_contact_threshold = \"1s\" }".to_owned(),
        "read_index_follower_reads = true".to_owned(),
    ]);
    assert!(!config.autopilot.cleanup_dead_servers);
    assert_eq!(config.autopilot.min_quorum, 3);
    assert_eq!(
        config.autopilot.last_contact_threshold,
        std::time::Duration::from_secs(1)
    );
    assert_eq!(config.autopilot.max_trailing_logs, 250);
    assert!(config.read_index_follower_reads);
}

#[test]
fn watches_are_checked_when_the_config_loads() {
    let load = |hcl: &str| {
        let args = AgentArgs {
            dev: true,
            hcl: vec![hcl.to_owned()],
            ..AgentArgs::default()
        };
        let no_addrs = || Ok(Vec::new());
        let host = HostFacts {
            hostname: Some("h".to_owned()),
            interface_addrs: &no_addrs,
        };
        load_with(&args, &host)
    };
    let config = load(
        r#"watches = [{ type = "key", key = "web/cfg", args = ["/bin/true"] },
                      { type = "nodes", handler_type = "http",
                        http_handler_config = { path = "http://127.0.0.1:9/hook" } }]"#,
    )
    .expect("loads");
    assert_eq!(config.watches.len(), 2);

    let err = load(r#"watches = [{ type = "key", args = ["/bin/true"] }]"#).expect_err("no key");
    assert!(matches!(err.problems(), [Problem::InvalidWatch(_)]));
    let text = err.to_string();
    assert!(
        text.starts_with("Failed to parse watch (")
            && text.ends_with("): Must specify a single key to watch"),
        "{text}"
    );
}
