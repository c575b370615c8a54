use std::sync::Arc;

use axum::http::StatusCode;
use praetor_http::HttpConfig;

use crate::fake::{FakeBackend, call, call_with};

fn fake() -> Arc<FakeBackend> {
    Arc::new(FakeBackend::default())
}

#[tokio::test]
async fn undeclared_method_is_405_with_allow() {
    let b = fake();
    let r = call(&b, "POST", "/v1/kv/k", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,GET,PUT,DELETE"));
    assert_eq!(r.text(), "method POST not allowed");
    assert_eq!(r.header("x-consul-default-acl-policy"), Some("allow"));

    let r = call(&b, "PUT", "/v1/status/leader", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,GET"));
    assert_eq!(r.text(), "method PUT not allowed");
    assert!(b.writes().is_empty());
}

#[tokio::test]
async fn options_is_200_with_allow_and_empty_body() {
    let b = fake();
    let r = call(&b, "OPTIONS", "/v1/kv/anything", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("allow"), Some("OPTIONS,GET,PUT,DELETE"));
    assert!(r.body.is_empty());
    assert!(b.reads().is_empty());
    let r = call(&b, "OPTIONS", "/v1/agent/self", b"").await;
    assert_eq!(r.header("allow"), Some("OPTIONS,GET"));
}

#[tokio::test]
async fn unknown_paths_have_two_texts() {
    let b = fake();
    for path in ["/v1/nope", "/v1/status/leader/", "/api/v1/x"] {
        let r = call(&b, "GET", path, b"").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.text(),
            "Invalid URL path: not a recognized HTTP API endpoint\n",
            "{path}"
        );
    }
    for path in ["/nope", "/v1", "/v2/kv/x"] {
        let r = call(&b, "GET", path, b"").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.text(),
            "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n",
            "{path}"
        );
    }
}

#[tokio::test]
async fn unprintable_paths_are_400() {
    let b = fake();
    let r = call(&b, "GET", "/v1/kv/a%0ab", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&b, "GET", "/v1/kv/a%zz", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(b.reads().is_empty());
}

#[tokio::test]
async fn paths_are_cleaned_with_301s() {
    let b = fake();
    let r = call(&b, "GET", "/v1/kv/a//b?recurse", b"").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/v1/kv/a/b?recurse"));
    let r = call(&b, "PUT", "/v1/kv/a/../b", b"").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/v1/kv/b"));
    let r = call(&b, "GET", "/v1/kv?keys", b"").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/v1/kv/?keys"));
    assert!(b.reads().is_empty() && b.writes().is_empty());
}

#[tokio::test]
async fn root_answers_ui_disabled_or_redirects() {
    let b = fake();
    let r = call(&b, "GET", "/", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.text(),
        "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart."
    );
    let cfg = HttpConfig {
        ui_enabled: true,
        ..HttpConfig::default()
    };
    let r = call_with(&b, cfg, "GET", "/", b"").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/ui/"));
}

#[tokio::test]
async fn response_headers_are_added_everywhere() {
    let b = fake();
    let cfg = HttpConfig {
        response_headers: vec![
            ("Access-Control-Allow-Origin".into(), "*".into()),
            ("bad header".into(), "x".into()),
        ],
        ..HttpConfig::default()
    };
    for path in ["/", "/v1/nope", "/v1/status/leader"] {
        let r = call_with(&b, cfg.clone(), "GET", path, b"").await;
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(
            r.header("x-consul-default-acl-policy"),
            Some("allow"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn status_endpoints() {
    let b = fake();
    let r = call(&b, "GET", "/v1/status/leader", b"").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, r#""127.0.0.1:8300""#)
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = call(&b, "GET", "/v1/status/peers?dc=dc1", b"").await;
    assert_eq!(r.text(), r#"["127.0.0.1:8300","127.0.0.2:8300"]"#);
    let r = call(&b, "GET", "/v1/status/peers?dc=elsewhere", b"").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "No path to datacenter")
    );
}

#[tokio::test]
async fn agent_self_has_consul_shape() {
    let b = fake();
    // Agent-local: ?dc is ignored.
    let r = call(&b, "GET", "/v1/agent/self?dc=other", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["Config"]["Datacenter"], "dc1");
    assert_eq!(doc["Config"]["NodeName"], "node1");
    assert_eq!(doc["Config"]["Server"], true);
    assert_eq!(
        doc["Config"]["Version"],
        praetor_types::CONSUL_COMPAT_VERSION
    );
    assert_eq!(
        doc["Config"]["PraetorVersion"],
        praetor_types::PRAETOR_VERSION
    );
    assert_eq!(doc["Member"]["Name"], "node1");
    assert_eq!(doc["Member"]["Port"], 8301);
    assert_eq!(doc["Member"]["Status"], 1);
    assert_eq!(doc["Stats"]["consul"]["leader_addr"], "127.0.0.1:8300");
    assert!(doc["DebugConfig"].is_object() && doc["Meta"].is_object());
}
