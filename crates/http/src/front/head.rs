//! Request heads: is the buffered request a plain `GET` the front loop serves itself?

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Version};

/// Most headers a plain request may carry; more go to hyper (which allows 100).
const MAX_HEADERS: usize = 48;

/// What the buffered bytes start with.
pub(super) enum Scan {
    /// Not a whole head yet.
    Partial,
    /// Anything the front loop does not serve itself (bodies, `Expect`, upgrades, other
    /// methods, malformed heads): hyper takes the connection.
    Other,
    /// A plain `GET` of `len` bytes.
    Plain(Plain),
}

/// A plain `GET` head.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plain {
    /// The head's length in bytes.
    pub(super) len: usize,
    /// Whether the connection stays open after the answer.
    pub(super) keep_alive: bool,
    /// An HTTP/1.0 request.
    pub(super) http10: bool,
}

/// Classifies the start of `buf`.
pub(super) fn scan(buf: &[u8]) -> Scan {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Scan::Partial,
        Err(_) => return Scan::Other,
    };
    if req.method != Some("GET") || !req.path.is_some_and(|p| p.starts_with('/')) {
        return Scan::Other;
    }
    let http10 = match req.version {
        Some(0) => true,
        Some(1) => false,
        _ => return Scan::Other,
    };
    let (mut close, mut keep) = (false, false);
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            if h.value.trim_ascii() != b"0" {
                return Scan::Other;
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
        {
            return Scan::Other;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep = true;
                } else if token.eq_ignore_ascii_case(b"upgrade") {
                    return Scan::Other;
                }
            }
        }
    }
    let keep_alive = !close && (!http10 || keep);
    Scan::Plain(Plain {
        len,
        keep_alive,
        http10,
    })
}

/// The `http::Request` of a plain head (already classified by [`scan`]); `None` when
/// the `http` crate refuses its target or a header (hyper then answers it).
pub(super) fn request(head: &[u8], target: Option<&str>) -> Option<Request<Body>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    let version = if req.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let mut out = Request::builder()
        .method(Method::GET)
        .uri(target.or(req.path)?)
        .version(version)
        .body(Body::empty())
        .ok()?;
    let map = out.headers_mut();
    map.reserve(req.headers.len());
    for h in req.headers.iter() {
        map.append(
            HeaderName::from_bytes(h.name.as_bytes()).ok()?,
            HeaderValue::from_bytes(h.value).ok()?,
        );
    }
    Some(out)
}

/// The request target of a plain head.
pub(super) fn target(head: &[u8]) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    req.path.map(str::to_owned)
}

/// `target` without its `index` query parameters: a blocking read whose wait is over
/// answers at once with the current result, as a timed-out blocking query does.
pub(super) fn without_index(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| p.split('=').next() != Some("index"))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(head: &str) -> Option<Plain> {
        match scan(head.as_bytes()) {
            Scan::Plain(p) => Some(p),
            _ => None,
        }
    }

    #[test]
    fn plain_gets_and_their_keep_alive() {
        let p = plain("GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\n").expect("plain");
        assert!(p.keep_alive && !p.http10);
        let p = plain("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").expect("plain");
        assert!(!p.keep_alive);
        let p = plain("GET / HTTP/1.0\r\n\r\n").expect("plain");
        assert!(!p.keep_alive && p.http10);
        let p = plain("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").expect("plain");
        assert!(p.keep_alive);
        let p = plain("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").expect("plain");
        assert_eq!(p.len, 37);
    }

    #[test]
    fn everything_else_goes_to_hyper() {
        for head in [
            "PUT /v1/kv/a HTTP/1.1\r\n\r\n",
            "HEAD / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET http://x/ HTTP/1.1\r\n\r\n",
            "GARBAGE\r\n\r\n",
        ] {
            assert!(matches!(scan(head.as_bytes()), Scan::Other), "{head:?}");
        }
        assert!(matches!(scan(b"GET / HTTP/1.1\r\nHo"), Scan::Partial));
    }

    #[test]
    fn index_is_dropped_from_the_target() {
        assert_eq!(
            without_index("/v1/kv/a?index=5&wait=1s"),
            "/v1/kv/a?wait=1s"
        );
        assert_eq!(without_index("/v1/kv/a?index=5"), "/v1/kv/a");
        assert_eq!(without_index("/v1/kv/a?stale&index"), "/v1/kv/a?stale");
        assert_eq!(without_index("/v1/kv/a"), "/v1/kv/a");
    }
}
