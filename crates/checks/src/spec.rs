//! What to run: a check definition as the runners take it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::HealthStatus;

/// Timeout of HTTP, TCP, UDP and gRPC checks when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of script checks when none is given (Consul's script default).
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Consul raises intervals below this (with a warning) when it validates a definition; the
/// runners themselves accept any non-zero interval so the agent decides.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// One check to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// The CheckID, copied into every [`crate::CheckUpdate`].
    pub id: String,
    pub kind: CheckKind,
    /// Time between the end of one run and the start of the next (ignored by TTL checks).
    pub interval: Duration,
    /// How long one run may take (script, HTTP, TCP, UDP, gRPC).
    pub timeout: Duration,
    /// The status the check has before its first result; the runner does not send it.
    pub initial_status: HealthStatus,
    pub success_before_passing: u32,
    /// 0 means the same as `failures_before_critical`.
    pub failures_before_warning: u32,
    pub failures_before_critical: u32,
}

impl CheckSpec {
    /// A spec with Consul's defaults: initial status critical, timeout per kind, counters 0,
    /// interval 10s (set `interval` for interval kinds).
    pub fn new(id: impl Into<String>, kind: CheckKind) -> Self {
        CheckSpec {
            id: id.into(),
            timeout: kind.default_timeout(),
            kind,
            interval: Duration::from_secs(10),
            initial_status: HealthStatus::Critical,
            success_before_passing: 0,
            failures_before_warning: 0,
            failures_before_critical: 0,
        }
    }
}

/// The kind of a check and its kind-specific settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckKind {
    /// Runs `args[0]` with the rest as arguments, no shell.
    Script {
        args: Vec<String>,
    },
    Http(HttpCheck),
    /// `host:port` to connect to.
    Tcp {
        addr: String,
    },
    /// `host:port` to send a datagram to.
    Udp {
        addr: String,
    },
    /// Status pushed through [`crate::CheckHandle`]; critical when not refreshed within `ttl`.
    Ttl {
        ttl: Duration,
    },
    /// A `grpc.health.v1.Health/Check` call: `SERVING` is passing; any other status, an error
    /// status (such as `NotFound` for a service the server does not know) or no answer within
    /// the timeout is critical. Each run dials a new connection, as Consul does.
    ///
    /// From a definition: `GRPC` → `target`, `GRPCUseTLS` → `use_tls`, `TLSServerName` →
    /// `tls_server_name`, `TLSSkipVerify` → `tls_skip_verify`.
    Grpc {
        /// `host:port[/service]`, the definition's `GRPC` field verbatim. Everything after the
        /// first `/` is the service name sent in the request; without it the server's overall
        /// health (service `""`) is asked for. Also quoted in the check's output.
        target: String,
        /// `GRPCUseTLS`: speak TLS (with ALPN `h2`); plaintext HTTP/2 otherwise.
        use_tls: bool,
        /// `TLSServerName`: the name the server certificate is verified against (and sent as
        /// SNI); empty means the host part of `target`. Only used with `use_tls`.
        tls_server_name: String,
        /// `TLSSkipVerify`: accept any server certificate. Only used with `use_tls`.
        tls_skip_verify: bool,
    },
}

impl CheckKind {
    /// A legacy `script` check: the string is run by `/bin/sh -c`.
    pub fn shell(script: impl Into<String>) -> Self {
        CheckKind::Script {
            args: vec!["/bin/sh".to_owned(), "-c".to_owned(), script.into()],
        }
    }

    /// A plaintext gRPC check of `target` (`host:port[/service]`).
    pub fn grpc(target: impl Into<String>) -> Self {
        CheckKind::Grpc {
            target: target.into(),
            use_tls: false,
            tls_server_name: String::new(),
            tls_skip_verify: false,
        }
    }

    /// Consul's default timeout for this kind.
    pub fn default_timeout(&self) -> Duration {
        match self {
            CheckKind::Script { .. } => DEFAULT_SCRIPT_TIMEOUT,
            _ => DEFAULT_TIMEOUT,
        }
    }
}

/// The settings of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub url: String,
    /// `GET` when empty.
    pub method: String,
    /// Header name to values; replaces the default `User-Agent`/`Accept` when given.
    pub header: BTreeMap<String, Vec<String>>,
    /// Request body; none when empty.
    pub body: String,
    pub tls_skip_verify: bool,
    /// Do not follow redirects (a 3xx is then critical).
    pub disable_redirects: bool,
}

impl HttpCheck {
    /// A `GET` of `url` with no extra headers.
    pub fn new(url: impl Into<String>) -> Self {
        HttpCheck {
            url: url.into(),
            method: "GET".to_owned(),
            header: BTreeMap::new(),
            body: String::new(),
            tls_skip_verify: false,
            disable_redirects: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_spec_uses_kind_default_timeout_and_critical() {
        let spec = CheckSpec::new("web", CheckKind::shell("true"));
        assert_eq!(spec.timeout, DEFAULT_SCRIPT_TIMEOUT);
        assert_eq!(spec.initial_status, HealthStatus::Critical);
        let spec = CheckSpec::new(
            "web",
            CheckKind::Tcp {
                addr: "127.0.0.1:1".into(),
            },
        );
        assert_eq!(spec.timeout, DEFAULT_TIMEOUT);
        let spec = CheckSpec::new("grpc", CheckKind::grpc("127.0.0.1:1/web"));
        assert_eq!(spec.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn shell_wraps_the_script_in_sh_c() {
        assert_eq!(
            CheckKind::shell("exit 1"),
            CheckKind::Script {
                args: vec!["/bin/sh".into(), "-c".into(), "exit 1".into()]
            }
        );
    }
}
