use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use praetor_http::HttpConfig;
use praetor_types::{Consistency, KvOp, KvQuery, KvResult};

use crate::fake::{FakeBackend, call, call_with, entry, meta, send};

fn fake() -> Arc<FakeBackend> {
    Arc::new(FakeBackend::default())
}

#[tokio::test]
async fn get_single_key_is_an_array_with_read_headers() {
    let b = Arc::new(FakeBackend::answering(
        KvResult::Entries(vec![entry("web/a", b"test", 7)]),
        7,
    ));
    let r = call(&b, "GET", "/v1/kv/web/a", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"[{"LockIndex":0,"Key":"web/a","Flags":0,"Value":"dGVzdA==","CreateIndex":7,"ModifyIndex":7}]"#
    );
    assert_eq!(r.header("x-consul-index"), Some("7"));
    assert_eq!(r.header("x-consul-knownleader"), Some("true"));
    assert_eq!(r.header("x-consul-lastcontact"), Some("7"));
    assert_eq!(r.header("x-consul-effective-consistency"), Some("leader"));
    assert_eq!(r.header("x-consul-default-acl-policy"), Some("allow"));
    assert_eq!(
        b.reads()[0].0,
        KvQuery::Get {
            key: "web/a".into()
        }
    );
}

#[tokio::test]
async fn missing_key_is_404_with_empty_body_and_index_never_zero() {
    let b = fake(); // answers no entries at index 0
    let r = call(&b, "GET", "/v1/kv/nope", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-consul-index"), Some("1"));
    assert_eq!(r.header("x-consul-knownleader"), Some("true"));
}

#[tokio::test]
async fn blocking_and_consistency_options_reach_the_backend() {
    let b = fake();
    call(&b, "GET", "/v1/kv/k?index=42&wait=1m30s&stale", b"").await;
    let (_, opts) = &b.reads()[0];
    assert_eq!(opts.min_index, 42);
    assert_eq!(opts.max_wait, Some(Duration::from_secs(90)));
    assert_eq!(opts.consistency, Consistency::Stale);
}

#[tokio::test]
async fn effective_consistency_header_comes_from_the_backend() {
    let b = fake();
    let mut m = meta(3);
    m.consistency = Consistency::Consistent;
    m.known_leader = false;
    *b.read_answer.lock().unwrap() = Ok((m, KvResult::Entries(vec![entry("k", b"", 3)])));
    let r = call(&b, "GET", "/v1/kv/k?consistent", b"").await;
    assert_eq!(
        r.header("x-consul-effective-consistency"),
        Some("consistent")
    );
    assert_eq!(r.header("x-consul-knownleader"), Some("false"));
    assert_eq!(r.json()[0]["Value"], serde_json::Value::Null);
}

#[tokio::test]
async fn option_errors_have_consul_texts() {
    let cases = [
        (
            "GET",
            "/v1/kv/k?index=-1",
            StatusCode::BAD_REQUEST,
            "Invalid index",
        ),
        (
            "GET",
            "/v1/kv/k?wait=forever",
            StatusCode::BAD_REQUEST,
            "Invalid wait time",
        ),
        (
            "GET",
            "/v1/kv/k?stale&consistent",
            StatusCode::BAD_REQUEST,
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        ),
        (
            "GET",
            "/v1/kv/k?dc=dc2",
            StatusCode::INTERNAL_SERVER_ERROR,
            "No path to datacenter",
        ),
        (
            "GET",
            "/v1/kv/k?ns=team",
            StatusCode::BAD_REQUEST,
            r#"Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature"#,
        ),
        (
            "PUT",
            "/v1/kv/k?cas=abc",
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"strconv.ParseUint: parsing "abc": invalid syntax"#,
        ),
        (
            "PUT",
            "/v1/kv/k?flags=-1",
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"strconv.ParseUint: parsing "-1": invalid syntax"#,
        ),
        (
            "PUT",
            "/v1/kv/k?cas=1&acquire=s1",
            StatusCode::BAD_REQUEST,
            "Conflicting flags: acquire=s1&cas=1\n",
        ),
        (
            "PUT",
            "/v1/kv/k?release=s1&acquire=s1",
            StatusCode::BAD_REQUEST,
            "Conflicting flags: acquire=s1&release=s1\n",
        ),
        (
            "DELETE",
            "/v1/kv/k?recurse&cas=3",
            StatusCode::BAD_REQUEST,
            "Conflicting flags: cas=3&recurse=\n",
        ),
        (
            "GET",
            "/v1/kv/",
            StatusCode::BAD_REQUEST,
            "Missing key name",
        ),
        (
            "PUT",
            "/v1/kv/",
            StatusCode::BAD_REQUEST,
            "Missing key name",
        ),
        (
            "DELETE",
            "/v1/kv/",
            StatusCode::BAD_REQUEST,
            "Missing key name",
        ),
    ];
    for (method, uri, status, text) in cases {
        let b = fake();
        let r = call(&b, method, uri, b"v").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (status, text),
            "{method} {uri}"
        );
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{method} {uri}"
        );
        assert!(
            b.reads().is_empty() && b.writes().is_empty(),
            "{method} {uri} reached the backend"
        );
    }
}

#[tokio::test]
async fn backend_errors_are_500_with_their_text() {
    let b = fake();
    *b.write_answer.lock().unwrap() = Err(praetor_agent::BackendError::InvalidSession("s9".into()));
    let r = call(&b, "PUT", "/v1/kv/k?acquire=s9", b"").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, r#"invalid session "s9""#)
    );

    *b.read_answer.lock().unwrap() = Err(praetor_agent::BackendError::NoLeader);
    let r = call(&b, "GET", "/v1/kv/k", b"").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "No cluster leader")
    );
}

#[tokio::test]
async fn recurse_lists_and_empty_list_is_404() {
    let b = Arc::new(FakeBackend::answering(
        KvResult::Entries(vec![entry("web/a", b"1", 4), entry("web/b", b"2", 9)]),
        9,
    ));
    let r = call(&b, "GET", "/v1/kv/web/?recurse", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
    assert_eq!(r.header("x-consul-index"), Some("9"));
    assert_eq!(
        b.reads()[0].0,
        KvQuery::List {
            prefix: "web/".into()
        }
    );

    // The whole store, recursively, with nothing in it: still a 404.
    let b = fake();
    let r = call(&b, "GET", "/v1/kv/?recurse=", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());
    assert_eq!(
        b.reads()[0].0,
        KvQuery::List {
            prefix: String::new()
        }
    );
}

#[tokio::test]
async fn keys_pass_separator_through_both_spellings() {
    let keys = KvResult::Keys(vec!["web/bar".into(), "web/subdir/".into()]);
    let b = Arc::new(FakeBackend::answering(keys, 5));
    let r = call(&b, "GET", "/v1/kv/web/?keys&separator=/", b"").await;
    assert_eq!(r.text(), r#"["web/bar","web/subdir/"]"#);
    call(&b, "GET", "/v1/kv/web/?keys&seperator=%2F", b"").await;
    call(&b, "GET", "/v1/kv/web/?keys&recurse", b"").await;
    let queries: Vec<_> = b.reads().into_iter().map(|(q, _)| q).collect();
    let want = |sep: Option<&str>| KvQuery::Keys {
        prefix: "web/".into(),
        separator: sep.map(Into::into),
    };
    assert_eq!(queries, vec![want(Some("/")), want(Some("/")), want(None)]);
}

#[tokio::test]
async fn keys_empty_root_is_200_empty_array_but_empty_prefix_is_404() {
    let b = Arc::new(FakeBackend::answering(KvResult::Keys(Vec::new()), 0));
    let r = call(&b, "GET", "/v1/kv/?keys", b"").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "[]"));
    assert_eq!(r.header("x-consul-index"), Some("1"));
    let r = call(&b, "GET", "/v1/kv/web/?keys", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn raw_returns_the_value_bytes() {
    let b = Arc::new(FakeBackend::answering(
        KvResult::Entries(vec![entry("k", b"\x00hi", 3)]),
        3,
    ));
    let r = call(&b, "GET", "/v1/kv/k?raw", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"\x00hi");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("content-security-policy"), Some("sandbox"));
    assert_eq!(r.header("content-length"), Some("3"));
    assert_eq!(r.header("x-consul-index"), Some("3"));

    // Ignored with ?recurse.
    let r = call(&b, "GET", "/v1/kv/k?raw&recurse", b"").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn pretty_vs_compact() {
    let b = Arc::new(FakeBackend::answering(KvResult::Keys(vec!["a".into()]), 2));
    let r = call(&b, "GET", "/v1/kv/?keys", b"").await;
    assert_eq!(r.text(), r#"["a"]"#);
    let r = call(&b, "GET", "/v1/kv/?keys&pretty", b"").await;
    assert_eq!(r.text(), "[\n    \"a\"\n]\n");
    let dev = HttpConfig {
        pretty_default: true,
        ..HttpConfig::default()
    };
    let r = call_with(&b, dev, "PUT", "/v1/kv/a", b"v").await;
    assert_eq!(r.text(), "true\n");
}

#[tokio::test]
async fn put_builds_requests_for_each_flag() {
    let b = fake();
    for uri in [
        "/v1/kv/k",
        "/v1/kv/k?flags=42",
        "/v1/kv/k?cas=0",
        "/v1/kv/k?cas=17&flags=1",
        "/v1/kv/k?acquire=s1",
        "/v1/kv/k?release=s1",
        "/v1/kv/k?acquire=",
    ] {
        let r = call(&b, "PUT", uri, b"body").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, "true"),
            "{uri}"
        );
    }
    let w = b.writes();
    let got: Vec<_> = w
        .iter()
        .map(|r| (r.op, r.flags, r.cas_index, r.session.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (KvOp::Set, 0, 0, None),
            (KvOp::Set, 42, 0, None),
            (KvOp::Cas, 0, 0, None),
            (KvOp::Cas, 1, 17, None),
            (KvOp::Lock, 0, 0, Some("s1")),
            (KvOp::Unlock, 0, 0, Some("s1")),
            (KvOp::Set, 0, 0, None),
        ]
    );
    assert!(w.iter().all(|r| r.key == "k" && r.value == b"body"));
}

#[tokio::test]
async fn put_answers_false_when_the_backend_says_so() {
    let b = fake();
    *b.write_answer.lock().unwrap() = Ok(false);
    let r = call(&b, "PUT", "/v1/kv/k?cas=5", b"").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "false"));
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn delete_variants() {
    let b = fake();
    for uri in [
        "/v1/kv/k",
        "/v1/kv/pre?recurse",
        "/v1/kv/?recurse",
        "/v1/kv/k?cas=9",
    ] {
        let r = call(&b, "DELETE", uri, b"").await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
    }
    let got: Vec<_> = b
        .writes()
        .into_iter()
        .map(|r| (r.op, r.key, r.cas_index))
        .collect();
    assert_eq!(
        got,
        vec![
            (KvOp::Delete, "k".to_owned(), 0),
            (KvOp::DeleteTree, "pre".to_owned(), 0),
            (KvOp::DeleteTree, String::new(), 0),
            (KvOp::DeleteCas, "k".to_owned(), 9),
        ]
    );
}

#[tokio::test]
async fn value_size_limit_checks_content_length_and_actual_body() {
    let b = fake();
    let cfg = HttpConfig {
        kv_max_value_size: 4,
        ..HttpConfig::default()
    };
    let limit_text = |n: u64| {
        format!(
            "Request body({n} bytes) too large, max size: 4 bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size."
        )
    };

    // Exactly the limit is fine.
    let r = call_with(&b, cfg.clone(), "PUT", "/v1/kv/k", b"1234").await;
    assert_eq!(r.status, StatusCode::OK);

    // Announced too large: refused before reading.
    let req = Request::builder()
        .method("PUT")
        .uri("/v1/kv/k")
        .header("content-length", "10")
        .body(Body::from(&b"0123456789"[..]))
        .unwrap();
    let r = send(crate::fake::app(&b, cfg.clone()), req).await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::PAYLOAD_TOO_LARGE, limit_text(10))
    );

    // No Content-Length (as with chunked uploads): the bytes themselves are counted.
    let r = call_with(&b, cfg, "PUT", "/v1/kv/k", b"12345").await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::PAYLOAD_TOO_LARGE, limit_text(5))
    );
    assert_eq!(
        b.writes().len(),
        1,
        "oversized writes must not reach the backend"
    );
}

#[tokio::test]
async fn key_validation() {
    let b = fake();
    // Non-ASCII is allowed and reaches the backend (Traefik's liveness probe).
    let r = call(&b, "GET", "/v1/kv/traefik/%C3%A7a", b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        b.reads()[0].0,
        KvQuery::Get {
            key: "traefik/ça".into()
        }
    );
    // Inner spaces too.
    let r = call(&b, "PUT", "/v1/kv/a%20b", b"").await;
    assert_eq!(r.status, StatusCode::OK);

    for uri in [
        "/v1/kv/a../b",
        "/v1/kv/..%2fetc",
        "/v1/kv/a/%2e%2e/b",
        "/v1/kv/%20lead",
        "/v1/kv/trail%20",
    ] {
        let r = call(&b, "PUT", uri, b"").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            r.text().starts_with("Invalid key name"),
            "{uri}: {}",
            r.text()
        );
    }
    assert_eq!(b.writes().len(), 1);

    // Switchable off.
    let cfg = HttpConfig {
        disable_kv_key_validation: true,
        ..HttpConfig::default()
    };
    let r = call_with(&b, cfg, "PUT", "/v1/kv/%20lead", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(b.writes()[1].key, " lead");
}
