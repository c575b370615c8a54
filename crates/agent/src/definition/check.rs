//! Check definitions: the fields every check kind uses, Consul's validation
//! (`structs.CheckType.Validate`), and the conversion into a runner spec.

use std::collections::BTreeMap;
use std::time::Duration;

use praetor_checks::{CheckKind, CheckSpec, HttpCheck, MIN_INTERVAL};
use praetor_types::duration::format_go_duration;
use praetor_types::{HealthCheck, HealthCheckDefinition, HealthStatus, NodeService};
use serde::Deserialize;
use serde_json::Value;

use super::decode::go_duration;
use super::{ScriptPolicy, Source};
use crate::BackendError;

/// `Interval must be > 0 …`, as Consul words it.
const INTERVAL_REQUIRED: &str =
    "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks";

/// A check definition (`PUT /v1/agent/check/register` body, a service's `Check`/`Checks`
/// entry, a `check {}` block).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckDefinition {
    /// The check ID (`/agent/check/register`, config files).
    #[serde(rename = "ID")]
    pub id: String,
    /// The check ID (embedded service checks in the API).
    #[serde(rename = "CheckID")]
    pub check_id: String,
    /// The check name.
    pub name: String,
    /// Free-form notes.
    pub notes: String,
    /// The service the check belongs to (top-level checks).
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    /// Initial status (default `critical`).
    pub status: String,
    /// Script arguments.
    pub args: Vec<String>,
    /// Script arguments, older spelling.
    pub script_args: Vec<String>,
    /// Legacy 0.x shell script (run as `/bin/sh -c <script>`).
    pub script: String,
    /// Time between runs.
    #[serde(deserialize_with = "go_duration")]
    pub interval: Option<Duration>,
    /// Time a run may take.
    #[serde(deserialize_with = "go_duration")]
    pub timeout: Option<Duration>,
    /// TTL of a TTL check.
    #[serde(rename = "TTL", deserialize_with = "go_duration")]
    pub ttl: Option<Duration>,
    /// URL of an HTTP check.
    #[serde(rename = "HTTP")]
    pub http: String,
    /// HTTP headers.
    pub header: BTreeMap<String, Vec<String>>,
    /// HTTP method.
    pub method: String,
    /// HTTP body.
    pub body: String,
    /// Do not follow redirects.
    pub disable_redirects: bool,
    /// `host:port` of a TCP check.
    #[serde(rename = "TCP")]
    pub tcp: String,
    /// Whether the TCP check speaks TLS.
    #[serde(rename = "TCPUseTLS")]
    pub tcp_use_tls: bool,
    /// `host:port` of a UDP check.
    #[serde(rename = "UDP")]
    pub udp: String,
    /// Target of a gRPC check.
    #[serde(rename = "GRPC")]
    pub grpc: String,
    /// Whether the gRPC check speaks TLS.
    #[serde(rename = "GRPCUseTLS")]
    pub grpc_use_tls: bool,
    /// Target of an H2PING check.
    #[serde(rename = "H2PING")]
    pub h2ping: String,
    /// The OS service of an `os_service` check.
    #[serde(rename = "OSService")]
    pub os_service: String,
    /// Node an alias check mirrors.
    pub alias_node: String,
    /// Service ID an alias check mirrors.
    pub alias_service: String,
    /// Container of a Docker check.
    #[serde(rename = "DockerContainerID")]
    pub docker_container_id: String,
    /// Shell of a Docker check.
    pub shell: String,
    /// TLS server name.
    #[serde(rename = "TLSServerName")]
    pub tls_server_name: String,
    /// Skip TLS verification.
    #[serde(rename = "TLSSkipVerify")]
    pub tls_skip_verify: bool,
    /// Deregister the service after this long critical.
    #[serde(deserialize_with = "go_duration")]
    pub deregister_critical_service_after: Option<Duration>,
    /// Consecutive successes before passing.
    pub success_before_passing: u32,
    /// Consecutive failures before warning.
    pub failures_before_warning: u32,
    /// Consecutive failures before critical.
    pub failures_before_critical: u32,
    /// Largest output kept (0: the agent's `check_output_max_size`).
    pub output_max_size: usize,
    /// ACL token (kept, not enforced).
    pub token: String,
}

/// How a registered check gets its status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckRun {
    /// A runner from `praetor-checks` (script, HTTP, TCP, UDP, TTL).
    Spec(CheckSpec),
    /// Mirrors a local service's checks and/or a node's checks.
    Alias {
        /// Node whose checks count (empty: this agent's node).
        node: String,
        /// Service ID whose checks count (empty: node checks only).
        service: String,
    },
    /// Set only by the agent (maintenance checks).
    Static,
}

/// A validated check, ready to register and run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRegistration {
    /// The check as the agent and catalog show it (no node yet; initial status).
    pub check: HealthCheck,
    /// How it runs.
    pub run: CheckRun,
    /// `DeregisterCriticalServiceAfter`, for service checks.
    pub deregister_after: Option<Duration>,
    /// Largest output kept (0: the agent default).
    pub output_max_size: usize,
}

/// The kind a definition selects.
enum Kind {
    Script(Vec<String>),
    Http,
    Tcp,
    Udp,
    Ttl(Duration),
    Alias,
    Grpc,
    /// Decoded and validated, but not run by this agent yet.
    Unsupported(&'static str),
}

impl CheckDefinition {
    /// Decodes a definition from JSON; errors are `Request decode failed: …`.
    pub fn decode(value: &Value) -> Result<Self, BackendError> {
        super::decode::decode(value)
    }

    /// Whether nothing at all was set (an empty `Check` block is no check).
    pub fn is_empty(&self) -> bool {
        *self == CheckDefinition::default()
    }

    /// The ID written in the definition (`ID`, else `CheckID`).
    pub fn given_id(&self) -> &str {
        if self.id.is_empty() {
            &self.check_id
        } else {
            &self.id
        }
    }

    fn script_args(&self) -> Vec<String> {
        if self.args.is_empty() {
            self.script_args.clone()
        } else {
            self.args.clone()
        }
    }

    /// Picks the kind. A definition with the legacy `Script` string is a 0.8-era one and
    /// is read as 0.8 read it: TTL, else HTTP, else TCP, else the script, other fields
    /// ignored (the seed's redis check sets `Script`, `HTTP`, `Interval` and `TTL`).
    /// Otherwise Consul's modern rules apply.
    fn kind(&self) -> Result<Kind, String> {
        let interval = self.interval.filter(|d| !d.is_zero());
        let ttl = self.ttl.filter(|d| !d.is_zero());
        if !self.script.is_empty() && self.script_args().is_empty() {
            return match ttl {
                Some(ttl) => Ok(Kind::Ttl(ttl)),
                None if interval.is_none() => Err(INTERVAL_REQUIRED.to_owned()),
                None if !self.http.is_empty() => Ok(Kind::Http),
                None if !self.tcp.is_empty() => Ok(Kind::Tcp),
                None => Ok(Kind::Script(vec![
                    "/bin/sh".to_owned(),
                    "-c".to_owned(),
                    self.script.clone(),
                ])),
            };
        }
        let args = self.script_args();
        let interval_kind = !args.is_empty()
            || !self.http.is_empty()
            || !self.tcp.is_empty()
            || !self.udp.is_empty()
            || !self.grpc.is_empty()
            || !self.h2ping.is_empty()
            || !self.os_service.is_empty();
        let alias = !self.alias_node.is_empty() || !self.alias_service.is_empty();
        if interval.is_some() && ttl.is_some() {
            return Err("Interval and TTL cannot both be specified".to_owned());
        }
        if interval_kind && interval.is_none() {
            return Err(INTERVAL_REQUIRED.to_owned());
        }
        if interval_kind && alias {
            return Err("Interval cannot be set for Alias checks".to_owned());
        }
        if alias && ttl.is_some() {
            return Err("TTL must be not be set for Alias checks".to_owned());
        }
        if !interval_kind && !alias && ttl.is_none() {
            return Err("TTL must be > 0 for TTL checks".to_owned());
        }
        // Consul's `CheckType.Type` order.
        Ok(if !self.grpc.is_empty() {
            Kind::Grpc
        } else if !self.http.is_empty() {
            Kind::Http
        } else if let Some(ttl) = ttl {
            Kind::Ttl(ttl)
        } else if !self.tcp.is_empty() && self.tcp_use_tls {
            Kind::Unsupported("TCP with TLS")
        } else if !self.tcp.is_empty() {
            Kind::Tcp
        } else if !self.udp.is_empty() {
            Kind::Udp
        } else if alias {
            Kind::Alias
        } else if !self.docker_container_id.is_empty() {
            Kind::Unsupported("Docker")
        } else if !args.is_empty() {
            Kind::Script(args)
        } else if !self.h2ping.is_empty() {
            Kind::Unsupported("H2PING")
        } else {
            Kind::Unsupported("OSService")
        })
    }

    /// Validates the definition and builds the registration. `service` is the service a
    /// check is embedded in (its ID, name and tags are copied; the default name is
    /// `Service '<name>' check`); the check ID stays empty for embedded checks without
    /// one, for the caller to number.
    pub fn into_registration(
        self,
        service: Option<&NodeService>,
        source: Source,
        scripts: ScriptPolicy,
    ) -> Result<CheckRegistration, BackendError> {
        let invalid = |e: String| BackendError::BadRequest(format!("Invalid check: {e}"));
        let status = match self.status.as_str() {
            "" => HealthStatus::Critical,
            word => HealthStatus::parse(word).ok_or_else(|| {
                invalid("Status for checks must 'passing', 'warning', 'critical'".to_owned())
            })?,
        };
        let kind = self.kind().map_err(invalid)?;
        let check_id = match (self.given_id(), service) {
            ("", None) => self.name.clone(),
            (id, _) => id.to_owned(),
        };
        let name = match (self.name.as_str(), service) {
            ("", Some(svc)) => format!("Service '{}' check", svc.service),
            ("", None) => check_id.clone(),
            (name, _) => name.to_owned(),
        };
        let interval = self.interval.unwrap_or_default();
        let interval = if interval < MIN_INTERVAL {
            if !interval.is_zero() && !matches!(kind, Kind::Ttl(_) | Kind::Alias) {
                tracing::warn!(check = %check_id, minimum_interval = "1s", "check has interval below minimum");
            }
            MIN_INTERVAL
        } else {
            interval
        };
        let (run, kind_word) = match kind {
            Kind::Unsupported(what) => {
                return Err(invalid(format!(
                    "{what} checks are not supported by this agent yet"
                )));
            }
            Kind::Alias => (
                CheckRun::Alias {
                    node: self.alias_node.clone(),
                    service: self.alias_service.clone(),
                },
                "alias",
            ),
            Kind::Script(args) => {
                scripts.allow(source)?;
                (
                    self.spec(&check_id, CheckKind::Script { args }, interval, status),
                    "script",
                )
            }
            Kind::Http => {
                let mut http = HttpCheck::new(self.http.clone());
                if !self.method.is_empty() {
                    http.method = self.method.to_ascii_uppercase();
                }
                http.header = self.header.clone();
                http.body = self.body.clone();
                http.tls_skip_verify = self.tls_skip_verify;
                http.disable_redirects = self.disable_redirects;
                (
                    self.spec(&check_id, CheckKind::Http(http), interval, status),
                    "http",
                )
            }
            Kind::Tcp => {
                let kind = CheckKind::Tcp {
                    addr: self.tcp.clone(),
                };
                (self.spec(&check_id, kind, interval, status), "tcp")
            }
            Kind::Udp => {
                let kind = CheckKind::Udp {
                    addr: self.udp.clone(),
                };
                (self.spec(&check_id, kind, interval, status), "udp")
            }
            Kind::Ttl(ttl) => (
                self.spec(&check_id, CheckKind::Ttl { ttl }, interval, status),
                "ttl",
            ),
            Kind::Grpc => {
                let kind = CheckKind::Grpc {
                    target: self.grpc.clone(),
                    use_tls: self.grpc_use_tls,
                    tls_server_name: self.tls_server_name.clone(),
                    tls_skip_verify: self.tls_skip_verify,
                };
                (self.spec(&check_id, kind, interval, status), "grpc")
            }
        };
        let is_interval = !matches!(run, CheckRun::Alias { .. })
            && !matches!(&run, CheckRun::Spec(s) if matches!(s.kind, CheckKind::Ttl { .. }));
        let shown = |d: Option<Duration>| d.filter(|d| !d.is_zero()).map(format_go_duration);
        let interval_text = if is_interval {
            format_go_duration(interval)
        } else {
            String::new()
        };
        let timeout_text = shown(self.timeout).unwrap_or_default();
        let definition = HealthCheckDefinition {
            interval: if is_interval {
                interval_text.clone()
            } else {
                "0s".to_owned()
            },
            timeout: shown(self.timeout).unwrap_or_else(|| "0s".to_owned()),
            deregister_critical_service_after: shown(self.deregister_critical_service_after)
                .unwrap_or_else(|| "0s".to_owned()),
            http: self.http.clone(),
            header: (!self.header.is_empty()).then(|| self.header.clone()),
            method: self.method.clone(),
            body: self.body.clone(),
            tls_server_name: self.tls_server_name.clone(),
            tls_skip_verify: self.tls_skip_verify,
            tcp: self.tcp.clone(),
            tcp_use_tls: self.tcp_use_tls,
            udp: self.udp.clone(),
            grpc: self.grpc.clone(),
            os_service: self.os_service.clone(),
            grpc_use_tls: self.grpc_use_tls,
        };
        let (service_id, service_name, service_tags) = match service {
            Some(svc) => (svc.id.clone(), svc.service.clone(), svc.tags.clone()),
            None => (self.service_id.clone(), String::new(), Vec::new()),
        };
        let check = HealthCheck {
            check_id,
            name,
            status,
            notes: self.notes.clone(),
            service_id,
            service_name,
            service_tags,
            r#type: kind_word.to_owned(),
            interval: interval_text,
            timeout: timeout_text,
            definition,
            ..HealthCheck::default()
        };
        Ok(CheckRegistration {
            check,
            run,
            deregister_after: self.deregister_critical_service_after,
            output_max_size: self.output_max_size,
        })
    }

    fn spec(
        &self,
        check_id: &str,
        kind: CheckKind,
        interval: Duration,
        status: HealthStatus,
    ) -> CheckRun {
        let mut spec = CheckSpec::new(check_id, kind);
        spec.interval = interval;
        if let Some(timeout) = self.timeout.filter(|d| !d.is_zero()) {
            spec.timeout = timeout;
        }
        spec.initial_status = status;
        spec.success_before_passing = self.success_before_passing;
        spec.failures_before_warning = self.failures_before_warning;
        spec.failures_before_critical = self.failures_before_critical;
        CheckRun::Spec(spec)
    }
}
