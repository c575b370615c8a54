//! The web UI at `ui_config.content_path` (default `/ui/`): the embedded assets of
//! `praetor-ui` with their content types, `ETag`s and cache headers, and `index.html` for
//! every other path below it, so the app's deep links survive a reload (spec/http-api.md
//! §1.1, §13). With the UI disabled nothing here answers and such paths get the usual 404.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praetor_ui::{Settings, Target};

use crate::HttpConfig;
use crate::error::HttpError;

const ALLOW: &str = "OPTIONS,GET,HEAD";

/// `ui_config.content_path` with a leading and a trailing `/`.
pub(crate) fn content_path(cfg: &HttpConfig) -> String {
    let trimmed = cfg.ui_content_path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// The answer for `path` (clean and decoded) when it belongs to the UI, else `None`.
pub(crate) fn serve(
    cfg: &HttpConfig,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
) -> Option<Result<Response, HttpError>> {
    if !cfg.ui_enabled {
        return None;
    }
    let base = content_path(cfg);
    if base == "/" {
        // Serving the UI at the root would shadow the API; Consul refuses it too.
        return None;
    }
    if path == base.trim_end_matches('/') {
        return Some(Ok(redirect(&base)));
    }
    let rel = path.strip_prefix(&base)?;
    if *method == Method::OPTIONS {
        let mut resp = StatusCode::OK.into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return Some(Ok(resp));
    }
    if *method != Method::GET && *method != Method::HEAD {
        return Some(Err(HttpError::MethodNotAllowed {
            method: method.to_string(),
            allow: ALLOW.to_owned(),
        }));
    }
    let resp = match praetor_ui::resolve(rel) {
        Target::Index => {
            let html = praetor_ui::index_html(&Settings {
                content_path: base,
                datacenter: cfg.datacenter.clone(),
            });
            with_headers(
                html.into_response(),
                praetor_ui::INDEX_CONTENT_TYPE,
                "no-cache",
                None,
            )
        }
        Target::Asset(asset) => {
            let etag = asset.etag();
            let fresh = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
            let resp = if fresh {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                asset.body.into_response()
            };
            with_headers(resp, asset.content_type, "no-cache", Some(&etag))
        }
        Target::NotFound => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
    };
    Some(Ok(resp))
}

/// Content type, cache policy and the security headers every UI file carries: nothing
/// may load from outside the agent, no framing, no type sniffing.
fn with_headers(
    mut resp: Response,
    content_type: &'static str,
    cache: &'static str,
    etag: Option<&str>,
) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(praetor_ui::CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert(header::ETAG, tag);
    }
    resp
}

/// `301` to the content path (`/ui` → `/ui/`).
fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}
