//! Where the agent is and how to talk to it: [`ClientConfig`], its environment variables
//! (Consul's `CONSUL_HTTP_*`, with `PRAETOR_HTTP_*` fallbacks) and address parsing.

use std::path::PathBuf;

use reqwest::Url;

use crate::ClientError;

/// The agent address used when neither a flag nor the environment names one.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8500";

/// How to reach the agent's HTTP API.
///
/// Build one with [`ClientConfig::from_env`] (or [`ClientConfig::from_lookup`] in tests) and
/// overlay command-line flags on top: flag > environment > default, as in Consul.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `host:port`, `http://host:port` or `https://host:port`.
    pub address: String,
    /// Use https for an address without a scheme (`CONSUL_HTTP_SSL`).
    pub ssl: bool,
    /// ACL token sent as `X-Consul-Token`; wins over `token_file`.
    pub token: Option<String>,
    /// File holding the ACL token, read by [`crate::Client::new`].
    pub token_file: Option<PathBuf>,
    /// `?dc=` added to every server-backed request.
    pub datacenter: Option<String>,
    /// PEM file of extra CA certificates trusted for https.
    pub ca_file: Option<PathBuf>,
    /// Verify the server certificate for https (`CONSUL_HTTP_SSL_VERIFY`, default true).
    pub tls_verify: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            address: DEFAULT_HTTP_ADDR.to_owned(),
            ssl: false,
            token: None,
            token_file: None,
            datacenter: None,
            ca_file: None,
            tls_verify: true,
        }
    }
}

impl ClientConfig {
    /// The defaults overlaid with the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The defaults overlaid with the variables `lookup` returns, so tests need not touch the
    /// process environment. Empty variables count as unset, as in Consul.
    ///
    /// Reads `CONSUL_HTTP_ADDR` (else `PRAETOR_HTTP_ADDR`), `CONSUL_HTTP_TOKEN` (else
    /// `PRAETOR_HTTP_TOKEN`), `CONSUL_HTTP_TOKEN_FILE`, `CONSUL_HTTP_SSL`,
    /// `CONSUL_HTTP_SSL_VERIFY` and `CONSUL_CACERT`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut config = Self::default();
        if let Some(addr) = get("CONSUL_HTTP_ADDR").or_else(|| get("PRAETOR_HTTP_ADDR")) {
            config.address = addr;
        }
        config.token = get("CONSUL_HTTP_TOKEN").or_else(|| get("PRAETOR_HTTP_TOKEN"));
        config.token_file = get("CONSUL_HTTP_TOKEN_FILE").map(PathBuf::from);
        // Unparsable booleans keep the default, as Consul's client does.
        if let Some(ssl) = get("CONSUL_HTTP_SSL").and_then(|v| parse_go_bool(&v)) {
            config.ssl = ssl;
        }
        if let Some(verify) = get("CONSUL_HTTP_SSL_VERIFY").and_then(|v| parse_go_bool(&v)) {
            config.tls_verify = verify;
        }
        config.ca_file = get("CONSUL_CACERT").map(PathBuf::from);
        config
    }
}

/// A boolean the way Go's `strconv.ParseBool` reads it.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Turns an `-http-addr` value into the base URL of the API (no path).
///
/// `host:port` gets `http://` (or `https://` when `ssl`); `http://` and `https://` are kept;
/// `unix://` and other schemes are refused.
pub fn parse_http_addr(address: &str, ssl: bool) -> Result<Url, ClientError> {
    let trimmed = address.trim();
    let with_scheme = match trimmed.split_once("://") {
        Some((scheme, _)) => {
            let scheme = scheme.to_ascii_lowercase();
            match scheme.as_str() {
                "http" | "https" => trimmed.to_owned(),
                "unix" => {
                    return Err(ClientError::UnixSocketUnsupported {
                        address: address.to_owned(),
                    });
                }
                _ => {
                    return Err(ClientError::UnsupportedScheme {
                        address: address.to_owned(),
                        scheme,
                    });
                }
            }
        }
        None if ssl => format!("https://{trimmed}"),
        None => format!("http://{trimmed}"),
    };
    let url = Url::parse(&with_scheme).map_err(|source| ClientError::InvalidAddress {
        address: address.to_owned(),
        source,
    })?;
    let bare = url.host_str().is_some_and(|h| !h.is_empty())
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !bare {
        return Err(ClientError::MalformedAddress {
            address: address.to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn host_port_gets_http_scheme() {
        let url = parse_http_addr("127.0.0.1:8500", false).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8500/");
    }

    #[test]
    fn host_port_gets_https_scheme_with_ssl() {
        let url = parse_http_addr("localhost:8501", true).unwrap();
        assert_eq!(url.as_str(), "https://localhost:8501/");
    }

    #[test]
    fn explicit_schemes_are_kept() {
        assert_eq!(
            parse_http_addr("http://10.0.0.1:8500", true)
                .unwrap()
                .scheme(),
            "http"
        );
        assert_eq!(
            parse_http_addr("https://example.com:8501/", false)
                .unwrap()
                .scheme(),
            "https"
        );
        assert_eq!(
            parse_http_addr("HTTP://[::1]:8500", false)
                .unwrap()
                .as_str(),
            "http://[::1]:8500/"
        );
    }

    #[test]
    fn unix_socket_is_refused_clearly() {
        let err = parse_http_addr("unix:///var/run/consul.sock", false).unwrap_err();
        assert!(matches!(err, ClientError::UnixSocketUnsupported { .. }));
        assert!(err.to_string().contains("unix socket"), "{err}");
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(matches!(
            parse_http_addr("ftp://host:21", false),
            Err(ClientError::UnsupportedScheme { ref scheme, .. }) if scheme == "ftp"
        ));
        assert!(parse_http_addr("", false).is_err());
        assert!(parse_http_addr("host:notaport", false).is_err());
        assert!(parse_http_addr("http://host:8500/v1/kv", false).is_err());
        assert!(parse_http_addr("http://user:pw@host:8500", false).is_err());
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_without_environment() {
        assert_eq!(ClientConfig::from_lookup(env(&[])), ClientConfig::default());
        assert_eq!(ClientConfig::default().address, "127.0.0.1:8500");
    }

    #[test]
    fn consul_variables_win_over_praetor_fallbacks() {
        let config = ClientConfig::from_lookup(env(&[
            ("CONSUL_HTTP_ADDR", "10.0.0.1:8500"),
            ("PRAETOR_HTTP_ADDR", "10.0.0.2:8500"),
            ("CONSUL_HTTP_TOKEN", "consul-token"),
            ("PRAETOR_HTTP_TOKEN", "praetor-token"),
        ]));
        assert_eq!(config.address, "10.0.0.1:8500");
        assert_eq!(config.token.as_deref(), Some("consul-token"));
    }

    #[test]
    fn praetor_variables_are_fallbacks() {
        let config = ClientConfig::from_lookup(env(&[
            ("CONSUL_HTTP_ADDR", ""),
            ("PRAETOR_HTTP_ADDR", "10.0.0.2:8500"),
            ("PRAETOR_HTTP_TOKEN", "praetor-token"),
            ("CONSUL_HTTP_SSL", "true"),
            ("CONSUL_HTTP_SSL_VERIFY", "0"),
            ("CONSUL_HTTP_TOKEN_FILE", "/tmp/token"),
        ]));
        assert_eq!(config.address, "10.0.0.2:8500");
        assert_eq!(config.token.as_deref(), Some("praetor-token"));
        assert!(config.ssl);
        assert!(!config.tls_verify);
        assert_eq!(config.token_file, Some(PathBuf::from("/tmp/token")));
    }

    #[test]
    fn go_bool_accepts_strconv_forms_only() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_go_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_go_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(parse_go_bool(""), None);
    }
}
