//! Why a call through [`crate::Client`] failed.

use std::path::PathBuf;
use std::str::FromStr;

/// The URL parser's error type (`url::ParseError`, reached through reqwest's re-export).
pub type UrlParseError = <reqwest::Url as FromStr>::Err;

/// Why building a [`crate::Client`] or making a request failed.
///
/// An agent that answers with a non-2xx status is [`ClientError::Api`]; an expected
/// negative outcome (a losing CAS, a missing key) is not an error at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `unix://` addresses are not supported by this client.
    #[error("unix socket address {address:?} is not supported; use host:port or http(s)://")]
    UnixSocketUnsupported {
        /// The address as given.
        address: String,
    },
    /// The address has a scheme other than `http` or `https`.
    #[error("http address {address:?} has unsupported scheme {scheme:?}")]
    UnsupportedScheme {
        /// The address as given.
        address: String,
        /// The scheme found.
        scheme: String,
    },
    /// The address does not parse as `host:port` or a URL.
    #[error("invalid http address {address:?}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What the URL parser said.
        #[source]
        source: UrlParseError,
    },
    /// The address parses but names no host, or carries a path, query or credentials.
    #[error("invalid http address {address:?}: expected [scheme://]host[:port]")]
    MalformedAddress {
        /// The address as given.
        address: String,
    },
    /// The ACL token contains characters an HTTP header cannot carry.
    #[error("the acl token contains characters not allowed in an http header")]
    InvalidToken,
    /// The token file could not be read.
    #[error("reading token file {path}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The CA file could not be read or parsed.
    #[error("loading ca file {path}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// The I/O or PEM failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The TLS configuration could not be built.
    #[error("building the tls configuration")]
    Tls(#[source] rustls::Error),
    /// reqwest refused the client configuration.
    #[error("building the http client")]
    Build(#[source] reqwest::Error),
    /// The request never got an answer (connection refused, reset, timeout…).
    ///
    /// Displayed like Consul's Go client: `Get "http://…/v1/kv/x": <root cause>`.
    #[error("{method} \"{url}\": {}", root_cause(.source))]
    Transport {
        /// The HTTP method, in Go's capitalisation (`Get`, `Put`, `Delete`).
        method: &'static str,
        /// The full request URL.
        url: String,
        /// The transport failure.
        #[source]
        source: reqwest::Error,
    },
    /// The agent answered with a non-2xx status; `body` is its plain-text error.
    #[error("Unexpected response code: {status} ({body})")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The response body.
        body: String,
    },
    /// A 2xx answer whose JSON body did not have the expected shape.
    #[error("decoding the response of {url}")]
    Decode {
        /// The request URL.
        url: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A `X-Consul-*` response header did not parse.
    #[error("invalid {name} header {value:?}")]
    InvalidHeader {
        /// The header name.
        name: &'static str,
        /// The raw value.
        value: String,
    },
    /// The key begins with `/`, which Consul's clients refuse for writes.
    #[error("Invalid key. Key must not begin with a '/': {key}")]
    InvalidKey {
        /// The key as given.
        key: String,
    },
}

/// The innermost cause of an error chain, which for transport failures is the useful part
/// ("Connection refused (os error 111)") rather than reqwest's wrapper text.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
