//! Config-file service definitions → registrations.

use serde_json::json;

use super::{from_files, registration};

#[test]
fn snake_case_definition_maps_to_api_fields() {
    let service = registration(&json!({
        "id": "redis1", "name": "redis", "tags": ["primary"], "address": "10.0.0.5",
        "port": 6379, "meta": {"version": "4.0"}, "enable_tag_override": true,
        "weights": {"passing": 10},
        "tagged_addresses": {"lan": {"address": "10.0.0.5", "port": 6379}},
        "token": "ignored",
        "check": {"id": "redis-check", "args": ["/bin/check"], "interval": "10s",
                  "timeout": "1s", "deregister_critical_service_after": "90m"}
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&service).unwrap(),
        json!({
            "ID": "redis1", "Name": "redis", "Tags": ["primary"], "Address": "10.0.0.5",
            "Port": 6379, "Meta": {"version": "4.0"}, "EnableTagOverride": true,
            "Weights": {"Passing": 10, "Warning": 1},
            "TaggedAddresses": {"lan": {"Address": "10.0.0.5", "Port": 6379}},
            "Check": {"CheckID": "redis-check", "Args": ["/bin/check"], "Interval": "10s",
                      "Timeout": "1s", "DeregisterCriticalServiceAfter": "90m"}
        })
    );
}

#[test]
fn camel_case_and_legacy_script_are_accepted() {
    let service = registration(&json!({
        "Name": "web", "Port": 80, "EnableTagOverride": false,
        "Checks": [
            {"Script": "curl -s localhost", "Interval": "10s"},
            {"TTL": "30s", "ScriptArgs": ["x"], "Header": {"X-A": "b"}}
        ]
    }))
    .unwrap();
    assert_eq!(service.checks.len(), 2);
    assert_eq!(
        service.checks[0].script.as_deref(),
        Some("curl -s localhost")
    );
    assert_eq!(service.checks[1].ttl.as_deref(), Some("30s"));
    assert_eq!(
        service.checks[1].args.as_deref(),
        Some(&["x".to_owned()][..])
    );
    assert_eq!(service.checks[1].header.as_ref().unwrap()["X-A"], ["b"]);
}

#[test]
fn unknown_keys_and_bad_types_are_errors() {
    let err = registration(&json!({"name": "web", "prot": 80})).unwrap_err();
    assert_eq!(err, "invalid config key service.prot");
    let err = registration(&json!({"name": "web", "check": {"intervall": "1s"}})).unwrap_err();
    assert_eq!(err, "invalid config key service.check.intervall");
    let err = registration(&json!({"name": "web", "port": "eighty"})).unwrap_err();
    assert!(
        err.starts_with("invalid service definition \"web\": "),
        "{err}"
    );
}

#[test]
fn json_and_hcl_files_load_through_the_agent_loader() {
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("a.json");
    std::fs::write(
        &json_file,
        r#"{"services": [{"name": "api", "port": 1}, {"name": "db", "id": "db1"}]}"#,
    )
    .unwrap();
    let hcl_file = dir.path().join("b.hcl");
    std::fs::write(
        &hcl_file,
        r#"
service {
  name = "web"
  tags = ["rails"]
  port = 80
  check {
    id       = "web-http"
    http     = "http://localhost:80/health"
    interval = "10s"
  }
}
"#,
    )
    .unwrap();
    let files = [
        json_file.display().to_string(),
        hcl_file.display().to_string(),
    ];
    let (services, _) = from_files(&files).unwrap();
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "db", "web"]);
    let web = &services[2];
    assert_eq!(web.port, 80);
    let check = web.check.as_ref().unwrap();
    assert_eq!(check.check_id.as_deref(), Some("web-http"));
    assert_eq!(check.http.as_deref(), Some("http://localhost:80/health"));
}

#[test]
fn loader_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.json");
    std::fs::write(&file, r#"{"service": {"name": "a"}, "nonsense": 1}"#).unwrap();
    let err = from_files(&[file.display().to_string()]).unwrap_err();
    assert_eq!(
        err,
        format!("{}: invalid config key nonsense", file.display())
    );
    let missing = from_files(&["/nonexistent/praetor/svc.json".to_owned()]).unwrap_err();
    assert!(
        missing.contains("/nonexistent/praetor/svc.json"),
        "{missing}"
    );
}
