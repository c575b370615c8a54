//! [`Client`]: the connection to one agent, request plumbing shared by every endpoint,
//! `X-Consul-*` header parsing, and the small status/agent endpoints.

use std::sync::Arc;
use std::time::Duration;

use praetor_types::{Consistency, QueryMeta, QueryOptions};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::config::parse_http_addr;
use crate::{ClientConfig, ClientError};

/// The `X-Consul-Token` request header.
pub const TOKEN_HEADER: &str = "X-Consul-Token";

/// A typed client of one agent's HTTP API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    datacenter: Option<String>,
}

impl Client {
    /// Builds a client from `config`: parses the address, reads the token file if no token
    /// was given, and sets up TLS only when the address is https.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let base = parse_http_addr(&config.address, config.ssl)?;
        let token = match (config.token.clone(), &config.token_file) {
            (Some(token), _) => Some(token),
            (None, Some(path)) => Some(read_token_file(path)?),
            (None, None) => None,
        };
        let mut headers = HeaderMap::new();
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            let mut value = HeaderValue::from_str(&token).map_err(|_| ClientError::InvalidToken)?;
            value.set_sensitive(true);
            headers.insert(TOKEN_HEADER, value);
        }
        let mut builder = reqwest::Client::builder().default_headers(headers);
        // Go's client never proxies loopback; the local agent is the common case.
        if base.host_str().is_some_and(is_loopback_host) {
            builder = builder.no_proxy();
        }
        builder = if base.scheme() == "https" {
            https_builder(builder, &config)?
        } else {
            // reqwest builds a TLS config even for plain http and panics without a crypto
            // provider; hand it an unused ring-backed one instead of installing a global.
            let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(ClientError::Tls)?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
            builder.tls_backend_preconfigured(tls)
        };
        let http = builder.build().map_err(ClientError::Build)?;
        Ok(Self {
            http,
            base,
            datacenter: config.datacenter,
        })
    }

    /// The API's base URL (`http://127.0.0.1:8500/`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `GET /v1/status/leader`: the leader's RPC address, or `""` without a leader.
    pub async fn status_leader(&self) -> Result<String, ClientError> {
        let url = self.url("/v1/status/leader");
        let response = self.send(self.request(Method::GET, url.clone())).await?;
        decode_json(&url, response).await
    }

    /// `GET /v1/status/peers`: the RPC addresses of the Raft voters.
    pub async fn status_peers(&self) -> Result<Vec<String>, ClientError> {
        let url = self.url("/v1/status/peers");
        let response = self.send(self.request(Method::GET, url.clone())).await?;
        decode_json(&url, response).await
    }

    /// `GET /v1/agent/self`: the agent's configuration, member and stats, untyped.
    pub async fn agent_self(&self) -> Result<serde_json::Value, ClientError> {
        let url = self.url("/v1/agent/self");
        // Agent-local: no `?dc`.
        let response = self.send(self.http.get(url.clone())).await?;
        decode_json(&url, response).await
    }

    /// `base` joined with an already-encoded absolute path.
    pub(crate) fn url(&self, encoded_path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(encoded_path);
        url
    }

    /// A request to a server-backed endpoint, carrying `?dc` when configured.
    pub(crate) fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, url);
        match &self.datacenter {
            Some(dc) if !dc.is_empty() => builder.query(&[("dc", dc)]),
            _ => builder,
        }
    }

    /// A request to an agent-local endpoint: never carries `?dc`.
    pub(crate) fn local(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }

    /// `GET <encoded_path>` of a server-backed read with `extra` parameters and the read
    /// options (`?index`, `?wait`, consistency…): the decoded body and the `X-Consul-*`
    /// metadata.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        encoded_path: &str,
        extra: &[(&str, String)],
        options: &QueryOptions,
    ) -> Result<(T, QueryMeta), ClientError> {
        let url = self.url(encoded_path);
        let builder = self
            .request(Method::GET, url.clone())
            .query(extra)
            .query(&query_params(options));
        let response = self.send(builder).await?;
        let meta = query_meta_from_headers(response.headers())?;
        Ok((decode_json(&url, response).await?, meta))
    }

    /// Sends `builder`, turning transport failures and non-2xx answers into errors.
    pub(crate) async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<Response, ClientError> {
        let response = self.send_allowing(builder, None).await?;
        Ok(response)
    }

    /// Like [`Client::send`], but `allowed` (typically 404) is returned rather than an error.
    pub(crate) async fn send_allowing(
        &self,
        builder: reqwest::RequestBuilder,
        allowed: Option<StatusCode>,
    ) -> Result<Response, ClientError> {
        let request = builder.build().map_err(ClientError::Build)?;
        let method = go_method_name(request.method());
        let url = request.url().to_string();
        let response =
            self.http
                .execute(request)
                .await
                .map_err(|source| ClientError::Transport {
                    method,
                    url: url.clone(),
                    source,
                })?;
        let status = response.status();
        if status.is_success() || Some(status) == allowed {
            return Ok(response);
        }
        let body = response
            .text()
            .await
            .map_err(|source| ClientError::Transport {
                method,
                url,
                source,
            })?;
        Err(ClientError::Api {
            status: status.as_u16(),
            body,
        })
    }
}

/// Query parameters for a read's [`QueryOptions`].
pub(crate) fn query_params(options: &QueryOptions) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    if options.min_index > 0 {
        params.push(("index", options.min_index.to_string()));
    }
    if let Some(wait) = options.max_wait {
        params.push(("wait", go_duration(wait)));
    }
    match options.consistency {
        Consistency::Default => {}
        Consistency::Stale => params.push(("stale", String::new())),
        Consistency::Consistent => params.push(("consistent", String::new())),
    }
    if let Some(max_stale) = options.max_stale {
        params.push(("max_stale", go_duration(max_stale)));
    }
    params
}

/// A duration as the agent parses `?wait`: whole milliseconds (`1500ms`), or seconds when
/// exact (`5s`).
fn go_duration(d: Duration) -> String {
    let millis = d.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// Reads [`QueryMeta`] from the `X-Consul-*` headers of a read's answer. Missing headers
/// leave defaults; malformed ones are errors.
pub fn query_meta_from_headers(headers: &HeaderMap) -> Result<QueryMeta, ClientError> {
    let text = |name: &'static str| -> Result<Option<&str>, ClientError> {
        match headers.get(name) {
            None => Ok(None),
            Some(value) => {
                value
                    .to_str()
                    .map(|s| Some(s.trim()))
                    .map_err(|_| ClientError::InvalidHeader {
                        name,
                        value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    })
            }
        }
    };
    let invalid = |name: &'static str, value: &str| ClientError::InvalidHeader {
        name,
        value: value.to_owned(),
    };
    let mut meta = QueryMeta::default();
    if let Some(v) = text("X-Consul-Index")? {
        meta.index = v.parse().map_err(|_| invalid("X-Consul-Index", v))?;
    }
    if let Some(v) = text("X-Consul-KnownLeader")? {
        meta.known_leader = v == "true";
    }
    if let Some(v) = text("X-Consul-LastContact")? {
        let millis: u64 = v.parse().map_err(|_| invalid("X-Consul-LastContact", v))?;
        meta.last_contact = Duration::from_millis(millis);
    }
    if let Some(v) = text("X-Consul-Effective-Consistency")? {
        meta.consistency = match v {
            "leader" => Consistency::Default,
            "stale" => Consistency::Stale,
            "consistent" => Consistency::Consistent,
            _ => return Err(invalid("X-Consul-Effective-Consistency", v)),
        };
    }
    Ok(meta)
}

/// Reads a JSON body into `T`.
pub(crate) async fn decode_json<T: DeserializeOwned>(
    url: &Url,
    response: Response,
) -> Result<T, ClientError> {
    let method = "Get";
    let bytes = response
        .bytes()
        .await
        .map_err(|source| ClientError::Transport {
            method,
            url: url.to_string(),
            source,
        })?;
    serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
        url: url.to_string(),
        source,
    })
}

/// Method names as Go's `net/http` errors spell them (`Get "http://…": …`).
fn go_method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        Method::POST => "Post",
        Method::HEAD => "Head",
        _ => "Request",
    }
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn read_token_file(path: &std::path::Path) -> Result<String, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::TokenFile {
        path: path.to_owned(),
        source,
    })?;
    Ok(text.trim().to_owned())
}

/// TLS for an https agent: the ring provider becomes the process default (once), the
/// platform verifier checks certificates, plus any CA file.
fn https_builder(
    mut builder: reqwest::ClientBuilder,
    config: &ClientConfig,
) -> Result<reqwest::ClientBuilder, ClientError> {
    // Err only means another provider is already installed, which serves just as well.
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    builder = builder.tls_backend_rustls();
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path).map_err(|e| ClientError::CaFile {
            path: path.clone(),
            source: Box::new(e),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::CaFile {
                path: path.clone(),
                source: Box::new(e),
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    if !config.tls_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn query_meta_reads_every_header() {
        let meta = query_meta_from_headers(&headers(&[
            ("X-Consul-Index", "42"),
            ("X-Consul-KnownLeader", "true"),
            ("X-Consul-LastContact", "15"),
            ("X-Consul-Effective-Consistency", "stale"),
        ]))
        .unwrap();
        assert_eq!(meta.index, 42);
        assert!(meta.known_leader);
        assert_eq!(meta.last_contact, Duration::from_millis(15));
        assert_eq!(meta.consistency, Consistency::Stale);
    }

    #[test]
    fn query_meta_defaults_when_headers_missing() {
        assert_eq!(
            query_meta_from_headers(&HeaderMap::new()).unwrap(),
            QueryMeta::default()
        );
    }

    #[test]
    fn query_meta_rejects_malformed_index() {
        let err = query_meta_from_headers(&headers(&[("X-Consul-Index", "abc")])).unwrap_err();
        assert!(matches!(
            err,
            ClientError::InvalidHeader {
                name: "X-Consul-Index",
                ..
            }
        ));
    }

    #[test]
    fn query_params_encode_blocking_and_consistency() {
        let options = QueryOptions {
            min_index: 7,
            max_wait: Some(Duration::from_millis(1500)),
            consistency: Consistency::Consistent,
            max_stale: None,
        };
        assert_eq!(
            query_params(&options),
            vec![
                ("index", "7".to_owned()),
                ("wait", "1500ms".to_owned()),
                ("consistent", String::new())
            ]
        );
        assert!(query_params(&QueryOptions::default()).is_empty());
        assert_eq!(go_duration(Duration::from_secs(5)), "5s");
        let bounded = QueryOptions {
            consistency: Consistency::Stale,
            max_stale: Some(Duration::from_secs(10)),
            ..QueryOptions::default()
        };
        assert_eq!(
            query_params(&bounded),
            vec![("stale", String::new()), ("max_stale", "10s".to_owned())]
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("LOCALHOST"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("example.com"));
    }

    #[test]
    fn plain_http_client_builds_without_a_global_provider() {
        let client = Client::new(ClientConfig::default()).unwrap();
        assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8500/");
    }

    #[test]
    fn https_client_builds() {
        let config = ClientConfig {
            address: "https://127.0.0.1:8501".into(),
            ..Default::default()
        };
        assert_eq!(Client::new(config).unwrap().base_url().scheme(), "https");
    }

    #[test]
    fn unreadable_token_file_is_an_error() {
        let config = ClientConfig {
            token_file: Some("/nonexistent/praetor/token".into()),
            ..Default::default()
        };
        assert!(matches!(
            Client::new(config),
            Err(ClientError::TokenFile { .. })
        ));
    }

    #[test]
    fn token_with_newline_is_rejected() {
        let config = ClientConfig {
            token: Some("a\nb".into()),
            ..Default::default()
        };
        assert!(matches!(
            Client::new(config),
            Err(ClientError::InvalidToken)
        ));
    }
}
