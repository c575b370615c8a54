//! The body of `PUT /v1/agent/service/register` (Consul's `api.AgentServiceRegistration`).

use std::collections::BTreeMap;

use praetor_types::{ServiceAddress, Weights};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A service instance to register on the local agent. Empty fields are left out of the
/// JSON, so the agent applies its defaults (`ID` = `Name`, weights 1/1 …).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentServiceRegistration {
    /// `""` for a typical service; `connect-proxy`, `mesh-gateway` … otherwise.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The instance ID (defaults to `Name`).
    #[serde(rename = "ID", skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The service name (required).
    pub name: String,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The port.
    #[serde(skip_serializing_if = "is_zero")]
    pub port: u16,
    /// The address; empty means the node's.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// A Unix socket path instead of address and port.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub socket_path: String,
    /// Addresses by role (`lan`, `wan` …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// Whether anti-entropy leaves catalog tag changes alone.
    #[serde(skip_serializing_if = "is_false")]
    pub enable_tag_override: bool,
    /// Metadata.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
    /// DNS weights; the agent's default (1/1) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Weights>,
    /// A single check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<AgentServiceCheck>,
    /// Several checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<AgentServiceCheck>,
    /// Mesh proxy settings, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Value>,
    /// Connect settings, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<Value>,
}

/// A check embedded in a service registration (Consul's `api.AgentServiceCheck`). Every
/// field is optional; durations are Go duration strings (`"10s"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[allow(missing_docs)] // Each field is the API's field of the same name (spec/http-api.md §7.4).
pub struct AgentServiceCheck {
    #[serde(rename = "CheckID", skip_serializing_if = "Option::is_none")]
    pub check_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// The 0.x single shell string; the agent runs it through the shell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(rename = "DockerContainerID", skip_serializing_if = "Option::is_none")]
    pub docker_container_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(rename = "TTL", skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    #[serde(rename = "HTTP", skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_redirects: Option<bool>,
    #[serde(rename = "TCP", skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    #[serde(rename = "TCPUseTLS", skip_serializing_if = "Option::is_none")]
    pub tcp_use_tls: Option<bool>,
    #[serde(rename = "UDP", skip_serializing_if = "Option::is_none")]
    pub udp: Option<String>,
    #[serde(rename = "GRPC", skip_serializing_if = "Option::is_none")]
    pub grpc: Option<String>,
    #[serde(rename = "GRPCUseTLS", skip_serializing_if = "Option::is_none")]
    pub grpc_use_tls: Option<bool>,
    #[serde(rename = "H2PING", skip_serializing_if = "Option::is_none")]
    pub h2ping: Option<String>,
    #[serde(rename = "H2PingUseTLS", skip_serializing_if = "Option::is_none")]
    pub h2ping_use_tls: Option<bool>,
    #[serde(rename = "OSService", skip_serializing_if = "Option::is_none")]
    pub os_service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_service: Option<String>,
    #[serde(rename = "TLSServerName", skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(rename = "TLSSkipVerify", skip_serializing_if = "Option::is_none")]
    pub tls_skip_verify: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deregister_critical_service_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_before_passing: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures_before_warning: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures_before_critical: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_max_size: Option<u32>,
}

fn is_zero(port: &u16) -> bool {
    *port == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_leaves_empty_fields_out() {
        let service = AgentServiceRegistration {
            name: "web".into(),
            port: 80,
            check: Some(AgentServiceCheck {
                http: Some("http://127.0.0.1/health".into()),
                interval: Some("10s".into()),
                ..AgentServiceCheck::default()
            }),
            ..AgentServiceRegistration::default()
        };
        assert_eq!(
            serde_json::to_value(&service).unwrap(),
            serde_json::json!({
                "Name": "web",
                "Port": 80,
                "Check": {"HTTP": "http://127.0.0.1/health", "Interval": "10s"}
            })
        );
    }

    #[test]
    fn registration_round_trips() {
        let json = serde_json::json!({
            "ID": "redis1", "Name": "redis", "Tags": ["v1"], "Meta": {"a": "b"},
            "TaggedAddresses": {"lan": {"Address": "10.0.0.1", "Port": 1}},
            "Weights": {"Passing": 10, "Warning": 1}, "EnableTagOverride": true,
            "Checks": [{"CheckID": "c1", "TTL": "30s", "Header": {"X": ["y"]}}]
        });
        let service: AgentServiceRegistration = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&service).unwrap(), json);
    }
}
