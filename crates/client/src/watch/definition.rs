//! A watch in the agent's configuration (`watches = [{type = "key", key = "…", args = […]}]`,
//! spec/agent-config.md §4.6): the watch's parameters as Consul's `watch.ParseExempt` reads
//! them, plus the handler — a script (`args`, or the older shell `handler` string) or an
//! HTTP endpoint (`handler_type = "http"` with `http_handler_config`).

use std::time::Duration;

use praetor_types::Consistency;
use praetor_types::duration::parse_go_duration;
use serde_json::{Map, Value};

use super::{Data, Params, WatchKind};

/// How long an HTTP handler may take when `http_handler_config.timeout` is not set.
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One configured watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// What is watched.
    pub kind: WatchKind,
    /// What runs on every change.
    pub handler: Handler,
    /// `datacenter`: another datacenter to query.
    pub datacenter: Option<String>,
    /// `token`: the ACL token the watch's queries carry.
    pub token: Option<String>,
    /// `stale`: let any server answer.
    pub stale: bool,
}

/// A configured watch's handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// `args`: a program and its arguments, run directly.
    Args(Vec<String>),
    /// `handler`: a command line run by the shell (`sh -c`).
    Shell(String),
    /// `handler_type = "http"`.
    Http(HttpHandler),
}

/// `http_handler_config`: where the data is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHandler {
    /// The URL (`path`).
    pub url: String,
    /// The method (default `POST`).
    pub method: String,
    /// Extra headers, each name with its values.
    pub headers: Vec<(String, Vec<String>)>,
    /// How long the request may take (default 10s).
    pub timeout: Duration,
    /// Accept any TLS certificate.
    pub tls_skip_verify: bool,
}

impl Definition {
    /// Reads one entry of the `watches` list, with Consul's messages for what is wrong.
    pub fn from_config(entry: &Value) -> Result<Self, String> {
        let Some(fields) = entry.as_object() else {
            return Err("Expecting a watch to be an object".to_owned());
        };
        let mut fields = Fields(fields.clone());
        let kind_name = fields.string("type")?.unwrap_or_default();
        if kind_name.is_empty() {
            return Err("Watch type must be specified".to_owned());
        }
        let params = Params {
            key: fields.string("key")?,
            prefix: fields.string("prefix")?,
            service: fields.string("service")?,
            tags: fields.strings("tag")?,
            passing_only: fields.boolean("passingonly")?,
            state: fields.string("state")?,
            name: fields.string("name")?,
            filter: fields.string("filter")?,
        };
        let datacenter = fields.string("datacenter")?;
        let token = fields.string("token")?;
        let stale = fields.boolean("stale")?.unwrap_or(false);
        let handler_type = fields
            .string("handler_type")?
            .unwrap_or_else(|| "script".to_owned());
        let shell = fields.string("handler")?.filter(|h| !h.is_empty());
        let args = fields.strings("args")?;
        let http = fields.0.remove("http_handler_config");
        let handler = match handler_type.as_str() {
            "script" => match (shell, args.is_empty()) {
                (Some(_), false) => {
                    return Err("Only one of 'handler' or 'args' may be set".to_owned());
                }
                (Some(shell), true) => Handler::Shell(shell),
                (None, false) => Handler::Args(args),
                (None, true) => return Err("Must define a watch handler".to_owned()),
            },
            "http" => {
                let config = http.ok_or("Must define 'http_handler_config' for an http handler")?;
                Handler::Http(HttpHandler::from_config(&config)?)
            }
            other => return Err(format!("Handler type '{other}' not recognized")),
        };
        // Left-over keys are parameters no watch takes.
        let mut unknown: Vec<&String> = fields.0.keys().collect();
        if !unknown.is_empty() {
            unknown.sort();
            let names: Vec<&str> = unknown.iter().map(|k| k.as_str()).collect();
            return Err(format!("Invalid parameters: [{}]", names.join(" ")));
        }
        let kind = WatchKind::parse(&kind_name, &params)?;
        Ok(Self {
            kind,
            handler,
            datacenter,
            token,
            stale,
        })
    }

    /// The consistency the watch's queries ask for.
    pub fn consistency(&self) -> Consistency {
        if self.stale {
            Consistency::Stale
        } else {
            Consistency::Default
        }
    }
}

impl HttpHandler {
    /// Sends `data` (compact JSON) with `X-Consul-Index: <index>`; an error names the
    /// failure or the non-2xx status.
    pub async fn invoke(&self, index: u64, data: &Data) -> Result<(), String> {
        // reqwest sets TLS up even for plain http and needs a crypto provider for it. Err
        // only means another provider is already installed, which serves as well.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .tls_backend_rustls()
            .tls_danger_accept_invalid_certs(self.tls_skip_verify);
        let client = builder.build().map_err(|e| e.to_string())?;
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| format!("invalid method {:?}", self.method))?;
        let mut request = client
            .request(method, &self.url)
            .header("Content-Type", "application/json")
            .header("X-Consul-Index", index.to_string())
            .body(data.compact.clone());
        for (name, values) in &self.headers {
            for value in values {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the endpoint answered {status}"))
        }
    }

    fn from_config(config: &Value) -> Result<Self, String> {
        // HCL blocks may arrive as a one-element list.
        let config = match config {
            Value::Array(items) if items.len() == 1 => &items[0],
            other => other,
        };
        let Some(fields) = config.as_object() else {
            return Err("Expecting http_handler_config to be an object".to_owned());
        };
        let mut fields = Fields(fields.clone());
        let url = fields.string("path")?.unwrap_or_default();
        if url.is_empty() {
            return Err("http_handler_config.path must be set".to_owned());
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "http_handler_config.path must be an http or https URL: {url:?}"
            ));
        }
        let method = fields
            .string("method")?
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "POST".to_owned())
            .to_ascii_uppercase();
        let mut headers = Vec::new();
        if let Some(header) = fields.0.remove("header") {
            let Value::Object(map) = header else {
                return Err("Expecting http_handler_config.header to be a map".to_owned());
            };
            for (name, values) in map {
                let values = match values {
                    Value::String(v) => vec![v],
                    Value::Array(items) => items
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s),
                            _ => Err(format!("Expecting header {name} to be a list of strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(format!("Expecting header {name} to be a list of strings")),
                };
                headers.push((name, values));
            }
        }
        let timeout = match fields.string("timeout")? {
            Some(t) if !t.is_empty() => {
                parse_go_duration(&t).map_err(|e| format!("http_handler_config.timeout: {e}"))?
            }
            _ => DEFAULT_HTTP_TIMEOUT,
        };
        let tls_skip_verify = fields.boolean("tls_skip_verify")?.unwrap_or(false);
        if let Some(key) = fields.0.keys().next() {
            return Err(format!("Invalid http_handler_config key: {key}"));
        }
        Ok(Self {
            url,
            method,
            headers,
            timeout,
            tls_skip_verify,
        })
    }
}

/// The fields of one object, taken out one by one so what is left is unknown.
struct Fields(Map<String, Value>);

impl Fields {
    fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("Expecting {key} to be a string")),
        }
    }

    fn boolean(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(format!("Expecting {key} to be a boolean")),
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, key: &str) -> Result<Vec<String>, String> {
        let wrong = || format!("Expecting {key} to be a string or a list of strings");
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(wrong()),
                })
                .collect(),
            Some(_) => Err(wrong()),
        }
    }
}
