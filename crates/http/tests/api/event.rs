//! `/v1/event/fire/<name>` and `/v1/event/list`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;

use crate::fake::{FakeBackend, call};

#[tokio::test]
async fn fire_sends_name_payload_and_filters_and_answers_the_event() {
    let b = Arc::new(FakeBackend::default());
    let r = call(
        &b,
        "PUT",
        "/v1/event/fire/deploy?node=^web&service=api&tag=v1",
        b"hello",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"ID": "id-0", "Name": "deploy", "Payload": "aGVsbG8=",
            "NodeFilter": "^web", "ServiceFilter": "api", "TagFilter": "v1",
            "Version": 1, "LTime": 0})
    );
    let r = call(&b, "PUT", "/v1/event/fire/empty", b"").await;
    assert_eq!(r.json()["Payload"], serde_json::Value::Null);
}

#[tokio::test]
async fn fire_refuses_a_missing_or_reserved_name_and_get() {
    let b = Arc::new(FakeBackend::default());
    let r = call(&b, "PUT", "/v1/event/fire/", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.text(), "Missing name");
    let r = call(&b, "PUT", "/v1/event/fire/_internal", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&b, "PUT", "/v1/event/fire/_rexec", b"{}").await;
    assert_eq!(r.status, StatusCode::OK, "consul exec fires _rexec");
    let r = call(&b, "GET", "/v1/event/fire/x", b"").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = call(&b, "PUT", "/v1/event/fire/x?dc=elsewhere", b"").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), "No path to datacenter");
}

#[tokio::test]
async fn list_answers_an_array_with_the_index_and_passes_blocking_options() {
    let b = Arc::new(FakeBackend::default());
    let r = call(&b, "GET", "/v1/event/list", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "[]");
    assert_eq!(r.header("x-consul-index"), Some("1"), "never 0");

    call(&b, "PUT", "/v1/event/fire/a", b"").await;
    call(&b, "PUT", "/v1/event/fire/b", b"").await;
    let r = call(&b, "GET", "/v1/event/list?name=b&index=7&wait=2s", b"").await;
    assert_eq!(r.header("x-consul-index"), Some("10"));
    let listed = r.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["Name"], "b");
    let (name, opts) = b.events.lock().unwrap().1.last().cloned().unwrap();
    assert_eq!(name.as_deref(), Some("b"));
    assert_eq!(opts.min_index, 7);
    assert_eq!(opts.max_wait, Some(Duration::from_secs(2)));

    let r = call(&b, "GET", "/v1/event/list?index=x", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.text(), "Invalid index");
}
