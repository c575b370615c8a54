//! Success responses: JSON bodies (compact, or pretty with 4-space indent and a trailing
//! newline) and the `X-Consul-*` headers of reads (spec/http-api.md §1.3, §1.4).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praetor_types::QueryMeta;
use serde::Serialize;

pub(crate) const X_CONSUL_INDEX: HeaderName = HeaderName::from_static("x-consul-index");
pub(crate) const X_CONSUL_KNOWN_LEADER: HeaderName =
    HeaderName::from_static("x-consul-knownleader");
pub(crate) const X_CONSUL_LAST_CONTACT: HeaderName =
    HeaderName::from_static("x-consul-lastcontact");
pub(crate) const X_CONSUL_EFFECTIVE_CONSISTENCY: HeaderName =
    HeaderName::from_static("x-consul-effective-consistency");
pub(crate) const X_CONSUL_DEFAULT_ACL_POLICY: HeaderName =
    HeaderName::from_static("x-consul-default-acl-policy");

/// A `200` JSON response of `value`.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Response {
    let encoded = if pretty {
        let mut buf = Vec::with_capacity(128);
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        value.serialize(&mut ser).map(|()| {
            buf.push(b'\n');
            buf
        })
    } else {
        serde_json::to_vec(value)
    };
    match encoded {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            // Our response types always serialise; this guards against a future mistake.
            tracing::error!(error = %e, "failed to encode response");
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}

/// Adds the blocking-query headers; `X-Consul-Index` is never 0 so a client looping on
/// it really blocks.
pub(crate) fn set_meta(headers: &mut HeaderMap, meta: &QueryMeta) {
    headers.insert(X_CONSUL_INDEX, HeaderValue::from(meta.index.max(1)));
    headers.insert(
        X_CONSUL_KNOWN_LEADER,
        HeaderValue::from_static(if meta.known_leader { "true" } else { "false" }),
    );
    let last_contact_ms = u64::try_from(meta.last_contact.as_millis()).unwrap_or(u64::MAX);
    headers.insert(X_CONSUL_LAST_CONTACT, HeaderValue::from(last_contact_ms));
    headers.insert(
        X_CONSUL_EFFECTIVE_CONSISTENCY,
        HeaderValue::from_static(meta.consistency.header_value()),
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use praetor_types::Consistency;

    use super::*;

    #[test]
    fn meta_headers_never_report_index_zero() {
        let mut h = HeaderMap::new();
        let meta = QueryMeta {
            index: 0,
            known_leader: true,
            last_contact: Duration::from_millis(1500),
            consistency: Consistency::Stale,
        };
        set_meta(&mut h, &meta);
        assert_eq!(h[X_CONSUL_INDEX], "1");
        assert_eq!(h[X_CONSUL_KNOWN_LEADER], "true");
        assert_eq!(h[X_CONSUL_LAST_CONTACT], "1500");
        assert_eq!(h[X_CONSUL_EFFECTIVE_CONSISTENCY], "stale");
    }
}
