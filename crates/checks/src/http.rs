//! HTTP checks: one request per run, 2xx passing, 429 warning, anything else critical.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode, Url};

use crate::output::MAX_OUTPUT_SIZE;
use crate::runner::CheckResult;
use crate::tls;
use crate::{Error, HealthStatus, HttpCheck};

/// Redirects followed before giving up, as Go's HTTP client does.
const MAX_REDIRECTS: usize = 10;

/// A validated HTTP check with its own client.
#[derive(Debug)]
pub(crate) struct HttpProbe {
    client: reqwest::Client,
    method: Method,
    url: Url,
    /// The URL as configured, quoted in the output.
    target: String,
    headers: HeaderMap,
    body: String,
}

impl HttpProbe {
    pub(crate) fn new(check_id: &str, check: &HttpCheck, timeout: Duration) -> Result<Self, Error> {
        let url = Url::parse(&check.url).map_err(|source| Error::InvalidUrl {
            check_id: check_id.to_owned(),
            url: check.url.clone(),
            source,
        })?;
        let method_name = if check.method.is_empty() {
            "GET"
        } else {
            &check.method
        };
        let method =
            Method::from_bytes(method_name.as_bytes()).map_err(|_| Error::InvalidMethod {
                check_id: check_id.to_owned(),
                method: check.method.clone(),
            })?;
        let headers = headers(check_id, check)?;
        let redirects = if check.disable_redirects {
            reqwest::redirect::Policy::none()
        } else {
            reqwest::redirect::Policy::limited(MAX_REDIRECTS)
        };
        let tls = tls::client_config(check.tls_skip_verify, Arc::clone(tls::system_roots()))
            .map_err(|source| Error::Tls {
                check_id: check_id.to_owned(),
                source,
            })?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .redirect(redirects)
            // Like Consul, no keep-alive: every run dials afresh so a dead endpoint is noticed.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|source| Error::HttpClient {
                check_id: check_id.to_owned(),
                source,
            })?;
        Ok(HttpProbe {
            client,
            method,
            url,
            target: check.url.clone(),
            headers,
            body: check.body.clone(),
        })
    }

    pub(crate) async fn run(&self) -> CheckResult {
        let mut request = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone());
        if !self.body.is_empty() {
            request = request.body(self.body.clone());
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return CheckResult::critical(format!(
                    "HTTP {} {}: {}",
                    self.method,
                    self.target,
                    error_chain(&error)
                ));
            }
        };
        let code = response.status();
        let mut body = Vec::new();
        while body.len() < MAX_OUTPUT_SIZE {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                // The status is what the check is about; a body cut short still counts.
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(MAX_OUTPUT_SIZE);
        let output = format!(
            "HTTP {} {}: {} Output: {}",
            self.method,
            self.target,
            status_line(code),
            String::from_utf8_lossy(&body)
        );
        CheckResult {
            status: status_of(code),
            output,
        }
    }
}

/// 2xx passing, 429 warning, anything else critical.
fn status_of(code: StatusCode) -> HealthStatus {
    if code.is_success() {
        HealthStatus::Passing
    } else if code == StatusCode::TOO_MANY_REQUESTS {
        HealthStatus::Warning
    } else {
        HealthStatus::Critical
    }
}

/// `200 OK`, as Go's `Response.Status`.
fn status_line(code: StatusCode) -> String {
    match code.canonical_reason() {
        Some(reason) => format!("{} {reason}", code.as_str()),
        None => code.as_str().to_owned(),
    }
}

/// Consul's default headers, replaced by the check's own of the same name.
fn headers(check_id: &str, check: &HttpCheck) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    map.insert(USER_AGENT, HeaderValue::from_static("Consul Health Check"));
    map.insert(ACCEPT, HeaderValue::from_static("text/plain, text/*, */*"));
    for (name, values) in &check.header {
        let invalid = || Error::InvalidHeader {
            check_id: check_id.to_owned(),
            name: name.clone(),
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        map.remove(&header);
        for value in values {
            let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            map.append(header.clone(), value);
        }
    }
    Ok(map)
}

/// The error and its sources, joined by `: `.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_follows_consul() {
        assert_eq!(status_of(StatusCode::OK), HealthStatus::Passing);
        assert_eq!(status_of(StatusCode::NO_CONTENT), HealthStatus::Passing);
        assert_eq!(
            status_of(StatusCode::TOO_MANY_REQUESTS),
            HealthStatus::Warning
        );
        assert_eq!(status_of(StatusCode::NOT_FOUND), HealthStatus::Critical);
        assert_eq!(
            status_of(StatusCode::INTERNAL_SERVER_ERROR),
            HealthStatus::Critical
        );
        assert_eq!(status_of(StatusCode::FOUND), HealthStatus::Critical);
    }

    #[test]
    fn status_line_is_code_and_reason() {
        assert_eq!(status_line(StatusCode::OK), "200 OK");
        assert_eq!(
            status_line(StatusCode::TOO_MANY_REQUESTS),
            "429 Too Many Requests"
        );
        let odd = StatusCode::from_u16(599).expect("valid code");
        assert_eq!(status_line(odd), "599");
    }

    #[test]
    fn check_headers_replace_defaults() {
        let mut check = HttpCheck::new("http://127.0.0.1/");
        check
            .header
            .insert("User-Agent".into(), vec!["probe/1".into()]);
        check
            .header
            .insert("X-Multi".into(), vec!["a".into(), "b".into()]);
        let map = headers("web", &check).expect("valid headers");
        assert_eq!(map.get_all(USER_AGENT).iter().count(), 1);
        assert_eq!(map[USER_AGENT], "probe/1");
        assert_eq!(map[ACCEPT], "text/plain, text/*, */*");
        assert_eq!(map.get_all("x-multi").iter().count(), 2);
    }

    #[test]
    fn invalid_definitions_are_rejected() {
        let timeout = Duration::from_secs(1);
        let bad_url = HttpCheck::new("not a url");
        assert!(matches!(
            HttpProbe::new("web", &bad_url, timeout),
            Err(Error::InvalidUrl { .. })
        ));
        let mut bad_method = HttpCheck::new("http://127.0.0.1/");
        bad_method.method = "GE T".into();
        assert!(matches!(
            HttpProbe::new("web", &bad_method, timeout),
            Err(Error::InvalidMethod { .. })
        ));
        let mut bad_header = HttpCheck::new("http://127.0.0.1/");
        bad_header.header.insert("bad name".into(), vec![]);
        assert!(matches!(
            HttpProbe::new("web", &bad_header, timeout),
            Err(Error::InvalidHeader { .. })
        ));
    }

    #[test]
    fn clients_build_with_and_without_verification() {
        let mut check = HttpCheck::new("https://127.0.0.1/");
        HttpProbe::new("verify", &check, Duration::from_secs(1)).expect("verifying client");
        check.tls_skip_verify = true;
        HttpProbe::new("skip", &check, Duration::from_secs(1)).expect("skip-verify client");
    }
}
