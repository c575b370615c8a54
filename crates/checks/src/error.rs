//! Why a check could not be started or updated.

/// The error type of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("check {check_id} needs an interval above zero")]
    ZeroInterval { check_id: String },
    #[error("check {check_id} needs a ttl above zero")]
    ZeroTtl { check_id: String },
    #[error("script check {check_id} has no arguments")]
    EmptyArgs { check_id: String },
    #[error("http check {check_id} has an invalid url {url:?}")]
    InvalidUrl {
        check_id: String,
        url: String,
        #[source]
        source: UrlParseError,
    },
    #[error("http check {check_id} has an invalid method {method:?}")]
    InvalidMethod { check_id: String, method: String },
    #[error("http check {check_id} has an invalid header {name:?}")]
    InvalidHeader { check_id: String, name: String },
    #[error("grpc check {check_id} has an invalid target {target:?}")]
    InvalidGrpcTarget { check_id: String, target: String },
    #[error("check {check_id} has an invalid tls server name {name:?}")]
    InvalidTlsServerName { check_id: String, name: String },
    #[error("tls configuration for check {check_id} failed")]
    Tls {
        check_id: String,
        #[source]
        source: rustls::Error,
    },
    #[error("http client for check {check_id} could not be built")]
    HttpClient {
        check_id: String,
        #[source]
        source: reqwest::Error,
    },
    /// `pass`/`warn`/`fail`/`update` on a check that is not a TTL check.
    #[error("CheckID \"{check_id}\" does not have associated TTL")]
    NotTtl { check_id: String },
    /// The check's task has stopped (shutdown or `stop`).
    #[error("check {check_id} is stopped")]
    Stopped { check_id: String },
}

/// The error `reqwest::Url` parsing returns.
pub type UrlParseError = <reqwest::Url as std::str::FromStr>::Err;
