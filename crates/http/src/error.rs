//! The one error type of the HTTP layer and its mapping to Consul's status codes and
//! plain-text bodies (spec/http-api.md §1.10). Handlers return `Result<_, HttpError>` and
//! use `?`; nothing else in the crate builds an error response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praetor_agent::BackendError;
use praetor_filter::FilterError;

use crate::params::ParseUintError;

/// Why a request could not be answered normally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// `?index` is not an unsigned integer.
    #[error("Invalid index")]
    InvalidIndex,
    /// `?wait` is not a Go duration.
    #[error("Invalid wait time")]
    InvalidWait,
    /// `?max_stale` is not a Go duration.
    #[error("Invalid max_stale value {0:?}")]
    InvalidMaxStale(String),
    /// `?stale` together with `?consistent`.
    #[error("Cannot specify ?stale with ?consistent, conflicting semantics.")]
    StaleWithConsistent,
    /// `?cached` together with `?consistent`.
    #[error("Cannot specify ?cached with ?consistent, conflicting semantics.")]
    CachedWithConsistent,
    /// An Enterprise-only query parameter (`ns`, `partition`) on this community build.
    #[error("Invalid query parameter: {param:?} - {feature} are a Consul Enterprise feature")]
    EnterpriseParam {
        /// The parameter name.
        param: &'static str,
        /// `Namespaces` or `Partitions`.
        feature: &'static str,
    },
    /// An Enterprise-only header (`X-Consul-Namespace`, `X-Consul-Partition`).
    #[error("Invalid header: {header:?} - {feature} are a Consul Enterprise feature")]
    EnterpriseHeader {
        /// The header name.
        header: &'static str,
        /// `Namespaces` or `Partitions`.
        feature: &'static str,
    },
    /// A KV request without a key where one is required.
    #[error("Missing key name")]
    MissingKeyName,
    /// A node endpoint without a node name in its path.
    #[error("Missing node name")]
    MissingNodeName,
    /// A service endpoint without a service name in its path.
    #[error("Missing service name")]
    MissingServiceName,
    /// `/v1/health/state/` without a state.
    #[error("Missing check state")]
    MissingCheckState,
    /// A maintenance request without `?enable`.
    #[error("Missing value for enable")]
    MissingEnable,
    /// `?enable` that is not a Go boolean.
    #[error("Invalid value for enable: {0:?}")]
    InvalidEnable(String),
    /// A service maintenance request without a service ID in its path.
    #[error("Missing service ID")]
    MissingServiceId,
    /// `/v1/agent/health/service/id/` without an ID.
    #[error("Missing serviceID")]
    MissingHealthServiceId,
    /// `/v1/agent/health/service/name/` without a name.
    #[error("Missing service Name")]
    MissingHealthServiceName,
    /// A check update with a status that is not `passing`, `warning` or `critical`.
    #[error("Invalid check status: '{0}'")]
    InvalidCheckStatus(String),
    /// `?passing` with a value that is not a Go boolean.
    #[error("Invalid value for ?passing")]
    InvalidPassing,
    /// A JSON request body that did not decode into the request type.
    #[error("Request decode failed: {0}")]
    RequestDecode(String),
    /// A `?filter` expression that does not compile or does not fit the result type.
    /// Consul answers 500; we answer 400 since the expression is the client's fault.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// A query option this endpoint does not support yet (rather than ignoring it and
    /// answering unfiltered data).
    #[error("Unsupported query parameter: {0:?} on this endpoint")]
    UnsupportedParam(&'static str),
    /// Mutually exclusive query flags; carries the whole re-encoded query string.
    #[error("Conflicting flags: {0}\n")]
    ConflictingFlags(String),
    /// A KV key refused by key validation (§2.6).
    #[error("Invalid key name {key:?}: {reason}")]
    InvalidKey {
        /// The key as received.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A numeric query parameter (`?flags`, `?cas`) did not parse; Consul answers these
    /// with a 500 carrying Go's parse error.
    #[error(transparent)]
    InvalidUint(#[from] ParseUintError),
    /// A request body over `kv_max_value_size`.
    #[error(
        "Request body({size} bytes) too large, max size: {max} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size."
    )]
    BodyTooLarge {
        /// Bytes announced (`Content-Length`) or received so far.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// Reading the request body failed.
    #[error("failed to read request body: {0}")]
    BodyRead(#[source] axum::Error),
    /// `?dc` names a datacenter this agent cannot reach.
    #[error("No path to datacenter")]
    UnknownDatacenter,
    /// The path holds a character that is not printable.
    #[error("Invalid URL path: contains unprintable characters")]
    UnprintablePath,
    /// The path holds a malformed percent escape or is not UTF-8 once decoded.
    #[error("Invalid URL path: bad escape or encoding")]
    MalformedPath,
    /// A declared route requested with a method it does not accept.
    #[error("method {method} not allowed")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The `Allow` header value (`OPTIONS,GET,...`).
        allow: String,
    },
    /// No route matches; `api` is whether the path mentions `/v1/`.
    #[error("{}", unknown_path_text(*.api))]
    UnknownPath {
        /// Whether the path contains `/v1/`.
        api: bool,
    },
    /// `/v1/agent/members?wan=1` with a segment other than `_all`.
    #[error("Cannot provide a segment with wan=true")]
    SegmentWithWan,
    /// `/v1/agent/members?segment=<name>`: network segments are an Enterprise feature.
    #[error("Network segments are not supported in this version of Consul")]
    SegmentsNotSupported,
    /// `/v1/agent/join/` without an address.
    #[error("Missing address to join")]
    MissingJoinAddress,
    /// `DELETE /v1/operator/raft/peer` with neither `?id` nor `?address`.
    #[error(
        "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove"
    )]
    MissingRaftPeer,
    /// `DELETE /v1/operator/raft/peer` with both `?id` and `?address`.
    #[error("Must specify only one of ?id or ?address")]
    AmbiguousRaftPeer,
    /// The agent side failed; its text is already Consul's.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

fn unknown_path_text(api: bool) -> &'static str {
    if api {
        "Invalid URL path: not a recognized HTTP API endpoint\n"
    } else {
        "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n"
    }
}

impl HttpError {
    /// The status code Consul answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidIndex
            | Self::InvalidWait
            | Self::InvalidMaxStale(_)
            | Self::StaleWithConsistent
            | Self::CachedWithConsistent
            | Self::EnterpriseParam { .. }
            | Self::EnterpriseHeader { .. }
            | Self::MissingKeyName
            | Self::MissingNodeName
            | Self::MissingServiceName
            | Self::MissingCheckState
            | Self::InvalidPassing
            | Self::MissingEnable
            | Self::InvalidEnable(_)
            | Self::MissingServiceId
            | Self::MissingHealthServiceId
            | Self::MissingHealthServiceName
            | Self::InvalidCheckStatus(_)
            | Self::RequestDecode(_)
            | Self::Filter(_)
            | Self::UnsupportedParam(_)
            | Self::ConflictingFlags(_)
            | Self::InvalidKey { .. }
            | Self::BodyRead(_)
            | Self::UnprintablePath
            | Self::MalformedPath
            | Self::SegmentWithWan
            | Self::MissingJoinAddress
            | Self::MissingRaftPeer
            | Self::AmbiguousRaftPeer => StatusCode::BAD_REQUEST,
            Self::Backend(BackendError::BadRequest(_)) => StatusCode::BAD_REQUEST,
            Self::Backend(BackendError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnknownPath { .. } => StatusCode::NOT_FOUND,
            Self::InvalidUint(_)
            | Self::UnknownDatacenter
            | Self::SegmentsNotSupported
            | Self::Backend(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::debug!(error = %self, "request failed");
        }
        let mut resp = (status, self.to_string()).into_response();
        if let Self::MethodNotAllowed { allow, .. } = &self {
            // `allow` is built from our own route table, so it is always a valid value.
            if let Ok(v) = HeaderValue::from_str(allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
        }
        resp
    }
}
