//! `/v1/kv/<key>`: GET (single, `?recurse`, `?keys`, `?raw`), PUT (`?flags`, `?cas`,
//! `?acquire`, `?release`) and DELETE (`?recurse`, `?cas`), as Consul's
//! `agent/kvs_endpoint.go` answers them (spec/http-api.md §2).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use praetor_types::{KvOp, KvQuery, KvRequest, KvResult, QueryOptions};

use crate::app::{App, Call};
use crate::error::HttpError;
use crate::params::{check_datacenter, parse_uint, query_options, reject_enterprise_meta};
use crate::response::{json, set_meta};

/// Routes a KV call by method; options common to every method are checked first, in
/// Consul's order.
pub(crate) async fn handle(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let opts = query_options(&call.params)?;
    reject_enterprise_meta(&call.params, &call.headers)?;
    if !app.cfg.disable_kv_key_validation {
        validate_key(&call.arg)?;
    }
    match call.method {
        Method::GET => get(app, call, opts).await,
        Method::PUT => put(app, call, body).await,
        Method::DELETE => delete(app, call).await,
        // The route table admits only the methods above.
        _ => Err(HttpError::MethodNotAllowed {
            method: call.method.to_string(),
            allow: "OPTIONS,GET,PUT,DELETE".to_owned(),
        }),
    }
}

/// A `GET /v1/kv/…` blocking read that could wait outside the router: its query and
/// options, parsed exactly as [`handle`] parses them. `None` for anything else, and for
/// anything the handler would refuse (it then answers the error itself).
pub(crate) fn blocking_read(
    app: &App,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Option<(KvQuery, QueryOptions)> {
    let raw_path = uri.path();
    if crate::path::clean(raw_path) != raw_path {
        return None;
    }
    let decoded = crate::path::decode(raw_path).ok()?;
    crate::path::check_printable(&decoded).ok()?;
    let crate::route::Lookup::Found(route, arg) = crate::route::lookup(&decoded) else {
        return None;
    };
    if route.endpoint != crate::route::Endpoint::Kv {
        return None;
    }
    let params = crate::params::QueryParams::parse(uri.query());
    check_datacenter(&params, &app.cfg.datacenter).ok()?;
    let opts = query_options(&params).ok()?;
    if opts.min_index == 0 {
        return None;
    }
    reject_enterprise_meta(&params, headers).ok()?;
    if !app.cfg.disable_kv_key_validation {
        validate_key(arg).ok()?;
    }
    let query = kv_query(&params, arg).ok()?;
    Some((query, opts))
}

/// The read a GET asks for: `?keys`, `?recurse` or one key.
fn kv_query(p: &crate::params::QueryParams, key: &str) -> Result<KvQuery, HttpError> {
    let key = key.to_owned();
    Ok(if p.has("keys") {
        // Consul checks the misspelt form first; either works.
        let separator = p
            .non_empty("seperator")
            .or_else(|| p.non_empty("separator"));
        KvQuery::Keys {
            prefix: key.clone(),
            separator: separator.map(str::to_owned),
        }
    } else if p.has("recurse") {
        KvQuery::List {
            prefix: key.clone(),
        }
    } else if key.is_empty() {
        return Err(HttpError::MissingKeyName);
    } else {
        KvQuery::Get { key }
    })
}

async fn get(app: &App, call: &Call, opts: QueryOptions) -> Result<Response, HttpError> {
    let p = &call.params;
    let key = call.arg.clone();
    let query = kv_query(p, &key)?;
    let single = matches!(query, KvQuery::Get { .. });
    let (meta, result) = app.backend.kv_read(query, opts).await?;

    let mut resp = match result {
        // The whole keyspace listed empty is `[]`; an empty prefix listing is a 404.
        KvResult::Keys(keys) if keys.is_empty() && !key.is_empty() => not_found(),
        KvResult::Keys(keys) => json(&keys, call.pretty),
        KvResult::Entries(entries) if entries.is_empty() => not_found(),
        KvResult::Entries(mut entries) if single && p.has("raw") => {
            raw(std::mem::take(&mut entries[0].value))
        }
        KvResult::Entries(entries) => json(&entries, call.pretty),
    };
    set_meta(resp.headers_mut(), &meta);
    Ok(resp)
}

async fn put(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    let p = &call.params;
    if call.arg.is_empty() {
        return Err(HttpError::MissingKeyName);
    }
    p.reject_conflicting(&["cas", "acquire", "release"])?;
    let mut req = KvRequest::new(KvOp::Set, call.arg.clone());
    if let Some(flags) = p.get("flags") {
        req.flags = parse_uint(flags)?;
    }
    if let Some(cas) = p.get("cas") {
        req.cas_index = parse_uint(cas)?;
        req.op = KvOp::Cas;
    }
    if let Some(session) = p.non_empty("acquire") {
        req.op = KvOp::Lock;
        req.session = Some(session.to_owned());
    }
    if let Some(session) = p.non_empty("release") {
        req.op = KvOp::Unlock;
        req.session = Some(session.to_owned());
    }
    req.value = read_body(body, &call.headers, app.cfg.kv_max_value_size).await?;
    let done = app.backend.kv_write(req).await?;
    Ok(json(&done, call.pretty))
}

async fn delete(app: &App, call: &Call) -> Result<Response, HttpError> {
    let p = &call.params;
    p.reject_conflicting(&["recurse", "cas"])?;
    let mut req = if p.has("recurse") {
        KvRequest::new(KvOp::DeleteTree, call.arg.clone())
    } else if call.arg.is_empty() {
        return Err(HttpError::MissingKeyName);
    } else {
        KvRequest::new(KvOp::Delete, call.arg.clone())
    };
    if let Some(cas) = p.get("cas") {
        req.cas_index = parse_uint(cas)?;
        req.op = KvOp::DeleteCas;
    }
    let done = app.backend.kv_write(req).await?;
    Ok(json(&done, call.pretty))
}

/// Consul 1.22's key validation (spec §2.6): every character is allowed, but path
/// traversal (also URL-encoded, once more after the path's own decoding) and leading
/// or trailing spaces are refused.
pub(crate) fn validate_key(key: &str) -> Result<(), HttpError> {
    let refuse = |reason| {
        Err(HttpError::InvalidKey {
            key: key.to_owned(),
            reason,
        })
    };
    let lower = key.to_ascii_lowercase();
    let traversal = key.split(['/', '\\']).any(|seg| seg == "..")
        || key.contains("../")
        || key.contains("..\\")
        || ["..%2f", "..%5c", "%2e%2e"]
            .iter()
            .any(|enc| lower.contains(enc));
    if traversal {
        return refuse("path traversal is not allowed");
    }
    if key.starts_with(' ') || key.ends_with(' ') {
        return refuse("leading or trailing spaces are not allowed");
    }
    Ok(())
}

/// Reads the whole body, refusing more than `max` bytes whether announced by
/// `Content-Length` or actually sent (chunked bodies have no length up front).
async fn read_body(body: Body, headers: &HeaderMap, max: u64) -> Result<Vec<u8>, HttpError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(size) = announced.filter(|n| *n > max) {
        return Err(HttpError::BodyTooLarge { size, max });
    }
    let mut buf = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(HttpError::BodyRead)?;
        let size = (buf.len() + chunk.len()) as u64;
        if size > max {
            return Err(HttpError::BodyTooLarge { size, max });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// `?raw`: the value bytes as-is, marked so browsers never interpret them.
fn raw(value: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            ),
        ],
        value,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::validate_key;

    #[test]
    fn key_validation_is_permissive_except_traversal_and_edge_spaces() {
        for ok in [
            "a",
            "web/config",
            "ça",
            "a b",
            "a:b",
            "a%2Fb",
            "a..b",
            "..a",
            "a/..b/c",
            "日本",
        ] {
            assert!(validate_key(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "../x", "a/../b", "a/..", "..", "a..\\b", "a..%2fb", "A..%2Fb", "%2e%2e/x", " a", "a ",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
