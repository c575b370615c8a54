//! The web UI's serving: content types, cache headers, deep links, the `/` redirect, and
//! Consul's 404 when the UI is disabled.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use praetor_http::HttpConfig;

use std::sync::Arc;

use crate::fake::{FakeBackend, Reply, app, call, call_with, send};

fn fake() -> Arc<FakeBackend> {
    Arc::new(FakeBackend::default())
}

fn ui_on() -> HttpConfig {
    HttpConfig {
        ui_enabled: true,
        ..HttpConfig::default()
    }
}

async fn get(cfg: HttpConfig, uri: &str) -> Reply {
    call_with(&fake(), cfg, "GET", uri, b"").await
}

#[tokio::test]
async fn index_and_deep_links_answer_the_app() {
    for path in [
        "/ui/",
        "/ui/index.html",
        "/ui/dc1/services",
        "/ui/dc1/services/web",
        "/ui/dc1/kv/web/",
        "/ui/dc1/kv/web/config%20a",
        "/ui/dc1/nodes/node%C3%A7",
    ] {
        let r = get(ui_on(), path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        assert!(r.header("content-security-policy").is_some(), "{path}");
        let html = r.text();
        assert!(html.contains("<base href=\"/ui/\">"), "{path}: {html}");
        assert!(
            html.contains("name=\"praetor-datacenter\" content=\"dc1\""),
            "{path}"
        );
        assert!(html.contains("assets/app.js"), "{path}");
    }
}

#[tokio::test]
async fn assets_have_their_content_types_and_etags() {
    for (path, ty) in [
        ("/ui/assets/app.js", "text/javascript; charset=utf-8"),
        ("/ui/assets/kv.js", "text/javascript; charset=utf-8"),
        ("/ui/assets/app.css", "text/css; charset=utf-8"),
        ("/ui/assets/favicon.svg", "image/svg+xml"),
    ] {
        let r = get(ui_on(), path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("content-type"), Some(ty), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-consul-default-acl-policy"), Some("allow"));
        assert!(!r.body.is_empty());
        let etag = r.header("etag").expect("etag").to_owned();

        // A browser revalidating gets 304 without a body.
        let req = Request::get(path)
            .header("If-None-Match", &etag)
            .body(Body::empty())
            .expect("request");
        let again = send(app(&fake(), ui_on()), req).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));

        let req = Request::get(path)
            .header("If-None-Match", "\"stale\"")
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            send(app(&fake(), ui_on()), req).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn missing_assets_are_404_not_the_app() {
    let r = get(ui_on(), "/ui/assets/nope.js").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text().contains("<html"));
}

#[tokio::test]
async fn root_and_bare_content_path_redirect() {
    let r = get(ui_on(), "/").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/ui/"));
    let r = get(ui_on(), "/ui").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), Some("/ui/"));
}

#[tokio::test]
async fn disabled_ui_is_consuls_404() {
    let b = fake();
    for path in ["/ui/", "/ui/dc1/services", "/ui/assets/app.js", "/ui"] {
        let r = call(&b, "GET", path, b"").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.text(),
            "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n",
            "{path}"
        );
    }
    let r = call(&b, "GET", "/", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().starts_with("Consul Agent: UI disabled."));
}

#[tokio::test]
async fn content_path_is_configurable() {
    let cfg = HttpConfig {
        ui_content_path: "console".to_owned(),
        ..ui_on()
    };
    let r = get(cfg.clone(), "/").await;
    assert_eq!(r.header("location"), Some("/console/"));
    let r = get(cfg.clone(), "/console/dc1/nodes").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<base href=\"/console/\">"));
    assert_eq!(get(cfg, "/ui/").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_get_and_head_are_served() {
    let b = fake();
    let r = call_with(&b, ui_on(), "POST", "/ui/dc1/services", b"x").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("OPTIONS,GET,HEAD"));
    assert_eq!(r.text(), "method POST not allowed");
    let r = call_with(&b, ui_on(), "OPTIONS", "/ui/", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call_with(&b, ui_on(), "HEAD", "/ui/assets/app.css", b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/css; charset=utf-8"));
}

#[tokio::test]
async fn the_api_is_untouched_by_the_ui() {
    let r = get(ui_on(), "/v1/status/leader").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(ui_on(), "/uix").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
