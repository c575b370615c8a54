//! Answering a plain `GET` through the router and writing the response as hyper would:
//! status line, the response's headers, `content-length` and `date`, then the body.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tower::ServiceExt as _;

use super::head::Plain;

/// A whole response from the router.
pub(super) struct Whole {
    parts: axum::http::response::Parts,
    body: Bytes,
}

/// Runs `req` through `router` and collects the body; `None` when the body fails (no
/// handler streams, so this does not happen).
pub(super) async fn respond(router: &Router, req: Request<Body>) -> Option<Whole> {
    let resp = match router.clone().oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.ok()?;
    Some(Whole { parts, body })
}

/// Runs `req` through `router` and writes the answer. `Ok(false)` when the connection
/// must close afterwards.
pub(super) async fn answer(
    router: &Router,
    req: Request<Body>,
    plain: Plain,
    stream: &mut TcpStream,
) -> std::io::Result<bool> {
    // A body that fails is answered as hyper would: not at all.
    let Some(whole) = respond(router, req).await else {
        return Ok(false);
    };
    write(&whole, plain, stream).await
}

/// Writes `whole` as the answer to `plain`. `Ok(false)` when the connection must close
/// afterwards.
pub(super) async fn write(
    whole: &Whole,
    plain: Plain,
    stream: &mut TcpStream,
) -> std::io::Result<bool> {
    let bytes = encode(&whole.parts, &whole.body, plain);
    stream.write_all(&bytes).await?;
    Ok(plain.keep_alive)
}

/// The response's bytes.
fn encode(parts: &axum::http::response::Parts, body: &[u8], plain: Plain) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    let status = parts.status;
    // hyper answers an HTTP/1.0 request in HTTP/1.0.
    out.extend_from_slice(if plain.http10 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut wrote_date = false;
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        wrote_date |= name == header::DATE;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !plain.keep_alive && !plain.http10 {
        out.extend_from_slice(b"connection: close\r\n");
    } else if plain.keep_alive && plain.http10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    if status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !wrote_date {
        out.extend_from_slice(b"date: ");
        date(|d| out.extend_from_slice(d.as_bytes()));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED {
        out.extend_from_slice(body);
    }
    out
}

thread_local! {
    /// The `date` header value, formatted once per second per thread (hyper caches it
    /// the same way).
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

fn date(f: impl FnOnce(&str)) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            *cached = (secs, httpdate::fmt_http_date(now));
        }
        f(&cached.1);
    });
}
