use praetor_checks::CheckKind;
use praetor_types::HealthStatus;
use serde_json::json;

use super::*;

const ALL: ScriptPolicy = ScriptPolicy {
    enable_script_checks: true,
    enable_local_script_checks: true,
};

fn register(body: Value) -> Result<ServiceRegistration, BackendError> {
    ServiceDefinition::decode(&body)?.validate(Source::Remote, ALL)
}

fn err(body: Value) -> String {
    register(body).expect_err("refused").to_string()
}

#[test]
fn decodes_camel_snake_and_lower_case() {
    for body in [
        json!({"Name":"web","ID":"w1","Tags":["a"],"Port":80,"EnableTagOverride":true,
               "Check":{"HTTP":"http://127.0.0.1/","Interval":"10s","DeregisterCriticalServiceAfter":"90m"}}),
        json!({"name":"web","id":"w1","tags":["a"],"port":80,"enable_tag_override":true,
               "check":{"http":"http://127.0.0.1/","interval":"10s","deregister_critical_service_after":"90m"}}),
        json!({"NAME":"web","id":"w1","TAGS":["a"],"port":80,"enabletagoverride":true,"Unknown":1,
               "checks":[{"http":"http://127.0.0.1/","interval":10_000_000_000u64,"deregistercriticalserviceafter":"90m"}]}),
    ] {
        let reg = register(body).expect("valid");
        assert_eq!(reg.service.id, "w1");
        assert_eq!(reg.service.service, "web");
        assert!(reg.service.enable_tag_override);
        assert_eq!(reg.checks.len(), 1);
        let check = &reg.checks[0];
        assert_eq!(check.check.check_id, "service:w1");
        assert_eq!(check.check.name, "Service 'web' check");
        assert_eq!(check.check.r#type, "http");
        assert_eq!(check.check.interval, "10s");
        assert_eq!(
            check.deregister_after,
            Some(std::time::Duration::from_secs(5400))
        );
        let CheckRun::Spec(spec) = &check.run else {
            panic!("runs")
        };
        assert_eq!(spec.id, "service:w1");
    }
}

#[test]
fn several_checks_are_numbered_and_id_defaults_to_name() {
    let reg = register(json!({"Name":"redis","Check":{"TTL":"5s"},
        "Checks":[{"TTL":"5s","Name":"second"},{"CheckID":"mine","TTL":"1s"}]}))
    .expect("valid");
    assert_eq!(reg.service.id, "redis");
    let ids: Vec<_> = reg
        .checks
        .iter()
        .map(|c| c.check.check_id.as_str())
        .collect();
    assert_eq!(ids, ["service:redis:1", "service:redis:2", "mine"]);
    assert_eq!(reg.checks[1].check.name, "second");
}

#[test]
fn null_fields_and_an_empty_check_are_absent() {
    let reg = register(json!({"Name":"web","Tags":null,"Check":{},"Checks":null,"Meta":null}))
        .expect("valid");
    assert!(reg.checks.is_empty() && reg.service.tags.is_empty());
}

#[test]
fn validation_errors_use_consuls_texts() {
    assert_eq!(err(json!({"Port":80})), "Missing service name");
    assert_eq!(
        err(json!({"Name":"w","Check":{"Interval":"10s"}})),
        "Invalid check: TTL must be > 0 for TTL checks"
    );
    assert_eq!(
        err(json!({"Name":"w","Check":{"HTTP":"http://x"}})),
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks"
    );
    assert_eq!(
        err(json!({"Name":"w","Check":{"HTTP":"http://x","Interval":"1s","TTL":"1s"}})),
        "Invalid check: Interval and TTL cannot both be specified"
    );
    assert_eq!(
        err(json!({"Name":"w","Check":{"AliasService":"x","TTL":"1s"}})),
        "Invalid check: TTL must be not be set for Alias checks"
    );
    assert_eq!(
        err(json!({"Name":"w","Check":{"TTL":"1s","Status":"up"}})),
        "Invalid check: Status for checks must 'passing', 'warning', 'critical'"
    );
    assert_eq!(
        err(json!({"Name":"w","Check":{"DockerContainerID":"c1","Args":["true"],"Interval":"1s"}})),
        "Invalid check: Docker checks are not supported by this agent yet"
    );
    assert_eq!(
        err(json!({"Name":"w","Weights":{"Passing":0}})),
        "Invalid Weights: Passing must be greater than 0"
    );
    assert_eq!(
        err(json!({"Name":"w","Address":"0.0.0.0"})),
        "Invalid service address"
    );
    assert!(
        err(json!({"Name":"w","Meta":{"consul-x":"1"}})).starts_with(
            "Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix"
        )
    );
    assert!(err(json!({"Name":"w","Port":"x"})).starts_with("Request decode failed: "));
    assert!(err(json!({"Name":"w","Check":{"TTL":"5x"}})).starts_with("Request decode failed: "));
}

#[test]
fn legacy_script_field_is_read_as_08_did() {
    // The seed's redis check: TTL wins, the script is never run (so no flag is needed).
    let body = json!({"ID":"redis1","Name":"redis","Check":{
        "DeregisterCriticalServiceAfter":"90m","Script":"/usr/local/bin/check_redis.py",
        "HTTP":"http://localhost:5000/health","Interval":"10s","TTL":"15s"}});
    let reg = ServiceDefinition::decode(&body)
        .expect("decodes")
        .validate(Source::Remote, ScriptPolicy::default())
        .expect("valid");
    assert_eq!(reg.checks[0].check.r#type, "ttl");
    // Without TTL/HTTP/TCP the script runs through the shell, if allowed.
    let body = json!({"Name":"w","Check":{"Script":"exit 1","Interval":"1s"}});
    let reg = register(body.clone()).expect("valid");
    let CheckRun::Spec(spec) = &reg.checks[0].run else {
        panic!("runs")
    };
    assert_eq!(spec.kind, CheckKind::shell("exit 1"));
    let refused = ServiceDefinition::decode(&body)
        .expect("decodes")
        .validate(Source::Remote, ScriptPolicy::default())
        .expect_err("scripts off");
    assert_eq!(
        refused.to_string(),
        "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"
    );
}

#[test]
fn script_policy_follows_the_source() {
    let local_only = ScriptPolicy {
        enable_script_checks: false,
        enable_local_script_checks: true,
    };
    assert!(local_only.allow(Source::Local).is_ok());
    assert!(local_only.allow(Source::Remote).is_err());
    let none = ScriptPolicy::default();
    assert_eq!(
        none.allow(Source::Local).expect_err("off").to_string(),
        "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
    );
    let args = json!({"Name":"w","Check":{"ScriptArgs":["/bin/true"],"Interval":"1s"}});
    let def = ServiceDefinition::decode(&args).expect("decodes");
    assert!(def.clone().validate(Source::Local, local_only).is_ok());
    assert!(def.validate(Source::Remote, local_only).is_err());
}

#[test]
fn short_intervals_are_raised_to_one_second() {
    let reg = register(json!({"Name":"w","Check":{"TCP":"127.0.0.1:1","Interval":"100ms"}}))
        .expect("valid");
    let CheckRun::Spec(spec) = &reg.checks[0].run else {
        panic!("runs")
    };
    assert_eq!(spec.interval, std::time::Duration::from_secs(1));
}

#[test]
fn top_level_check_id_defaults_to_name_and_keeps_service_id() {
    let def = CheckDefinition::decode(&json!({"name":"mem","service_id":"web","ttl":"30s",
        "status":"passing","notes":"n"}))
    .expect("decodes");
    let reg = def
        .into_registration(None, Source::Local, ScriptPolicy::default())
        .expect("valid");
    assert_eq!(reg.check.check_id, "mem");
    assert_eq!(reg.check.service_id, "web");
    assert_eq!(reg.check.status, HealthStatus::Passing);
    assert_eq!(reg.check.notes, "n");
}

#[test]
fn a_single_checks_block_is_a_list_of_one() {
    let reg = register(json!({"name":"web","checks":{"ttl":"5s"}})).expect("valid");
    assert_eq!(reg.checks.len(), 1);
    assert_eq!(reg.checks[0].check.check_id, "service:web");
}

#[test]
fn grpc_check_runs_the_health_protocol_runner() {
    let body = json!({"Name":"w","Check":{"GRPC":"127.0.0.1:9000/web","GRPCUseTLS":true,
        "TLSServerName":"web.local","TLSSkipVerify":true,"Interval":"5s"}});
    let reg = register(body).expect("valid");
    assert_eq!(reg.checks[0].check.r#type, "grpc");
    let CheckRun::Spec(spec) = &reg.checks[0].run else {
        panic!("runs")
    };
    assert_eq!(
        spec.kind,
        CheckKind::Grpc {
            target: "127.0.0.1:9000/web".into(),
            use_tls: true,
            tls_server_name: "web.local".into(),
            tls_skip_verify: true,
        }
    );
}
