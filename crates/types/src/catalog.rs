//! The catalog and health shapes (Consul's `structs.Node`, `NodeService`, `ServiceNode`,
//! `HealthCheck`, `CheckServiceNode`, `NodeServices`, `RegisterRequest` and
//! `DeregisterRequest`), serialised as Consul's HTTP API shows them (`spec/http-api.md`
//! §4, §5): PascalCase names, `Tags` as `[]` and `Meta` as `{}` when empty.
//!
//! Deserialising accepts `null` wherever Consul's JSON may carry it for a list or map,
//! and missing fields default. Case-insensitive request decoding is the HTTP layer's job.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Meta and tagged-address maps: sorted, so JSON output is stable.
pub type StringMap = BTreeMap<String, String>;

/// `null` (or a missing field, with `#[serde(default)]`) as the type's default value.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A check's (or an aggregate's) health.
///
/// Serialised lowercase (`"passing"`). The default is `critical`, as for a check
/// registered without a status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The check passes.
    Passing,
    /// The check passes with a warning.
    Warning,
    /// The check fails (the default).
    #[default]
    Critical,
}

impl HealthStatus {
    /// The lowercase wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Passing => "passing",
            HealthStatus::Warning => "warning",
            HealthStatus::Critical => "critical",
        }
    }

    /// Parses the wire word (`passing`, `warning`, `critical`); anything else is `None`.
    pub fn parse(word: &str) -> Option<HealthStatus> {
        match word {
            "passing" => Some(HealthStatus::Passing),
            "warning" => Some(HealthStatus::Warning),
            "critical" => Some(HealthStatus::Critical),
            _ => None,
        }
    }

    /// The aggregate of several checks: any critical ⇒ critical, else any warning ⇒
    /// warning, else passing (also for no checks at all).
    pub fn aggregate<I: IntoIterator<Item = HealthStatus>>(statuses: I) -> HealthStatus {
        statuses
            .into_iter()
            .fold(HealthStatus::Passing, |worst, s| match (worst, s) {
                (HealthStatus::Critical, _) | (_, HealthStatus::Critical) => HealthStatus::Critical,
                (HealthStatus::Warning, _) | (_, HealthStatus::Warning) => HealthStatus::Warning,
                _ => HealthStatus::Passing,
            })
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node in the catalog (`/catalog/nodes` element; `Node` in health and node-services).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Node {
    /// The node's UUID (may be empty for catalog-only nodes).
    #[serde(rename = "ID", deserialize_with = "null_as_default")]
    pub id: String,
    /// The node name: the catalog key.
    #[serde(deserialize_with = "null_as_default")]
    pub node: String,
    /// The node address.
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    /// The node's datacenter.
    #[serde(deserialize_with = "null_as_default")]
    pub datacenter: String,
    /// Addresses by role (`lan`, `wan`, `lan_ipv4` …).
    #[serde(deserialize_with = "null_as_default")]
    pub tagged_addresses: StringMap,
    /// Node metadata.
    #[serde(deserialize_with = "null_as_default")]
    pub meta: StringMap,
    /// Raft index that created the node.
    pub create_index: u64,
    /// Raft index of the last change to the node.
    pub modify_index: u64,
}

/// How much DNS answers favour a service instance, by its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Weights {
    /// Weight while every check passes.
    pub passing: i32,
    /// Weight while some check warns.
    pub warning: i32,
}

impl Default for Weights {
    /// `{"Passing":1,"Warning":1}`, Consul's default.
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// One entry of a service's `TaggedAddresses`: `{"Address","Port"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceAddress {
    /// The address.
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    /// The port.
    pub port: u16,
}

/// A service instance on a node, agent-style (values of `Services` maps, `Service` in
/// health results, `Service` of a register request).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeService {
    /// `""` for a typical service; set for mesh gateways, proxies and the like.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub kind: String,
    /// The instance ID, unique on its node (defaults to the service name on register).
    #[serde(rename = "ID", deserialize_with = "null_as_default")]
    pub id: String,
    /// The service name.
    #[serde(deserialize_with = "null_as_default")]
    pub service: String,
    /// Tags, in registration order; `[]` when none.
    #[serde(deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// The service address; empty means "use the node's address".
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    /// Addresses by role; omitted when empty.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// Service metadata; `{}` when none.
    #[serde(deserialize_with = "null_as_default")]
    pub meta: StringMap,
    /// The service port.
    pub port: u16,
    /// A Unix socket path instead of address and port; omitted when empty.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub socket_path: String,
    /// DNS weights.
    #[serde(deserialize_with = "null_as_default")]
    pub weights: Weights,
    /// Whether anti-entropy leaves catalog tag changes alone.
    pub enable_tag_override: bool,
    /// The datacenter; omitted when empty.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub datacenter: String,
    /// Raft index that created the instance.
    pub create_index: u64,
    /// Raft index of the last change to the instance.
    pub modify_index: u64,
}

/// A catalog service row (`/catalog/service/<name>` element): the instance flattened
/// with its node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceNode {
    /// The node's UUID.
    #[serde(rename = "ID", deserialize_with = "null_as_default")]
    pub id: String,
    /// The node name.
    #[serde(deserialize_with = "null_as_default")]
    pub node: String,
    /// The node address.
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    /// The node's datacenter.
    #[serde(deserialize_with = "null_as_default")]
    pub datacenter: String,
    /// The node's tagged addresses.
    #[serde(deserialize_with = "null_as_default")]
    pub tagged_addresses: StringMap,
    /// The node's metadata.
    #[serde(deserialize_with = "null_as_default")]
    pub node_meta: StringMap,
    /// The service kind (`""` for a typical service).
    #[serde(deserialize_with = "null_as_default")]
    pub service_kind: String,
    /// The instance ID.
    #[serde(rename = "ServiceID", deserialize_with = "null_as_default")]
    pub service_id: String,
    /// The service name.
    #[serde(deserialize_with = "null_as_default")]
    pub service_name: String,
    /// The instance tags; `[]` when none.
    #[serde(deserialize_with = "null_as_default")]
    pub service_tags: Vec<String>,
    /// The service address (empty: use `Address`).
    #[serde(deserialize_with = "null_as_default")]
    pub service_address: String,
    /// The service's tagged addresses; omitted when empty.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub service_tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// DNS weights.
    #[serde(deserialize_with = "null_as_default")]
    pub service_weights: Weights,
    /// The service metadata; `{}` when none.
    #[serde(deserialize_with = "null_as_default")]
    pub service_meta: StringMap,
    /// The service port.
    pub service_port: u16,
    /// The service socket path.
    #[serde(deserialize_with = "null_as_default")]
    pub service_socket_path: String,
    /// Whether anti-entropy leaves catalog tag changes alone.
    pub service_enable_tag_override: bool,
    /// The instance's `CreateIndex`.
    pub create_index: u64,
    /// The instance's `ModifyIndex`.
    pub modify_index: u64,
}

impl ServiceNode {
    /// The catalog row of `service` running on `node`.
    pub fn new(node: &Node, service: &NodeService) -> ServiceNode {
        ServiceNode {
            id: node.id.clone(),
            node: node.node.clone(),
            address: node.address.clone(),
            datacenter: node.datacenter.clone(),
            tagged_addresses: node.tagged_addresses.clone(),
            node_meta: node.meta.clone(),
            service_kind: service.kind.clone(),
            service_id: service.id.clone(),
            service_name: service.service.clone(),
            service_tags: service.tags.clone(),
            service_address: service.address.clone(),
            service_tagged_addresses: service.tagged_addresses.clone(),
            service_weights: service.weights,
            service_meta: service.meta.clone(),
            service_port: service.port,
            service_socket_path: service.socket_path.clone(),
            service_enable_tag_override: service.enable_tag_override,
            create_index: service.create_index,
            modify_index: service.modify_index,
        }
    }
}

/// How a check is run, as registered (`Definition` of a [`HealthCheck`]). Durations
/// are Go duration strings (`"10s"`, `"0s"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheckDefinition {
    /// Time between runs.
    #[serde(deserialize_with = "null_as_default")]
    pub interval: String,
    /// Time a run may take.
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: String,
    /// How long a critical check may stay critical before its service is deregistered.
    #[serde(deserialize_with = "null_as_default")]
    pub deregister_critical_service_after: String,
    /// The URL of an HTTP check.
    #[serde(rename = "HTTP", deserialize_with = "null_as_default")]
    pub http: String,
    /// Request headers of an HTTP check (`null` when none).
    pub header: Option<BTreeMap<String, Vec<String>>>,
    /// The method of an HTTP check.
    #[serde(deserialize_with = "null_as_default")]
    pub method: String,
    /// The body of an HTTP check.
    #[serde(deserialize_with = "null_as_default")]
    pub body: String,
    /// The TLS server name of an HTTP/gRPC check.
    #[serde(rename = "TLSServerName", deserialize_with = "null_as_default")]
    pub tls_server_name: String,
    /// Whether TLS certificates go unverified.
    #[serde(rename = "TLSSkipVerify")]
    pub tls_skip_verify: bool,
    /// The address of a TCP check.
    #[serde(rename = "TCP", deserialize_with = "null_as_default")]
    pub tcp: String,
    /// Whether a TCP check speaks TLS.
    #[serde(rename = "TCPUseTLS")]
    pub tcp_use_tls: bool,
    /// The address of a UDP check.
    #[serde(rename = "UDP", deserialize_with = "null_as_default")]
    pub udp: String,
    /// The target of a gRPC check.
    #[serde(rename = "GRPC", deserialize_with = "null_as_default")]
    pub grpc: String,
    /// The OS service of an `os_service` check.
    #[serde(rename = "OSService", deserialize_with = "null_as_default")]
    pub os_service: String,
    /// Whether a gRPC check speaks TLS.
    #[serde(rename = "GRPCUseTLS")]
    pub grpc_use_tls: bool,
}

impl Default for HealthCheckDefinition {
    fn default() -> Self {
        HealthCheckDefinition {
            interval: "0s".into(),
            timeout: "0s".into(),
            deregister_critical_service_after: "0s".into(),
            http: String::new(),
            header: None,
            method: String::new(),
            body: String::new(),
            tls_server_name: String::new(),
            tls_skip_verify: false,
            tcp: String::new(),
            tcp_use_tls: false,
            udp: String::new(),
            grpc: String::new(),
            os_service: String::new(),
            grpc_use_tls: false,
        }
    }
}

/// A health check in the catalog (`/health/*` element).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheck {
    /// The node the check belongs to.
    #[serde(deserialize_with = "null_as_default")]
    pub node: String,
    /// The check ID, unique on its node (defaults to `Name` on register).
    #[serde(rename = "CheckID", deserialize_with = "null_as_default")]
    pub check_id: String,
    /// The check name.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// Current status (`critical` when registered without one).
    pub status: HealthStatus,
    /// Free-form notes.
    #[serde(deserialize_with = "null_as_default")]
    pub notes: String,
    /// Output of the last run.
    #[serde(deserialize_with = "null_as_default")]
    pub output: String,
    /// The instance the check belongs to; empty for a node-level check.
    #[serde(rename = "ServiceID", deserialize_with = "null_as_default")]
    pub service_id: String,
    /// That instance's service name (kept in step with the service by the store).
    #[serde(deserialize_with = "null_as_default")]
    pub service_name: String,
    /// That instance's tags (kept in step with the service); `[]` when none.
    #[serde(deserialize_with = "null_as_default")]
    pub service_tags: Vec<String>,
    /// The check type (`http`, `tcp`, `ttl` …; `""` for serfHealth and catalog checks).
    #[serde(deserialize_with = "null_as_default")]
    pub r#type: String,
    /// Time between runs, as registered.
    #[serde(deserialize_with = "null_as_default")]
    pub interval: String,
    /// Time a run may take, as registered.
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: String,
    /// The port exposed for the check through a mesh proxy (0: none).
    pub exposed_port: u16,
    /// How the check is run.
    #[serde(deserialize_with = "null_as_default")]
    pub definition: HealthCheckDefinition,
    /// Raft index that created the check.
    pub create_index: u64,
    /// Raft index of the last change to the check.
    pub modify_index: u64,
}

/// A service instance with its node and every check that bears on it
/// (`/health/service/<name>` element).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckServiceNode {
    /// The node running the instance.
    pub node: Node,
    /// The instance.
    pub service: NodeService,
    /// The node's own checks, then the instance's checks.
    #[serde(default, deserialize_with = "null_as_default")]
    pub checks: Vec<HealthCheck>,
}

impl CheckServiceNode {
    /// The aggregate status of [`Self::checks`].
    pub fn aggregate_status(&self) -> HealthStatus {
        HealthStatus::aggregate(self.checks.iter().map(|c| c.status))
    }
}

/// A node and its services by instance ID (`/catalog/node/<node>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeServices {
    /// The node.
    pub node: Node,
    /// Its service instances by ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub services: BTreeMap<String, NodeService>,
}

/// `PUT /catalog/register` (and the agent's anti-entropy writes): a node, optionally
/// one service and some checks, applied together.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegisterRequest {
    /// The datacenter the write is for.
    #[serde(deserialize_with = "null_as_default")]
    pub datacenter: String,
    /// The node's UUID (optional).
    #[serde(rename = "ID", deserialize_with = "null_as_default")]
    pub id: String,
    /// The node name (required).
    #[serde(deserialize_with = "null_as_default")]
    pub node: String,
    /// The node address (required unless `SkipNodeUpdate`).
    #[serde(deserialize_with = "null_as_default")]
    pub address: String,
    /// The node's tagged addresses.
    #[serde(deserialize_with = "null_as_default")]
    pub tagged_addresses: StringMap,
    /// The node's metadata.
    #[serde(deserialize_with = "null_as_default")]
    pub node_meta: StringMap,
    /// A service instance to upsert on the node.
    pub service: Option<NodeService>,
    /// A single check to upsert (applied with `Checks`).
    pub check: Option<HealthCheck>,
    /// Checks to upsert.
    #[serde(deserialize_with = "null_as_default")]
    pub checks: Vec<HealthCheck>,
    /// Leave an existing node's fields alone (still creates a missing node).
    pub skip_node_update: bool,
}

/// `PUT /catalog/deregister`: removes a check, a service (with its checks), or, when
/// neither is named, the node with everything on it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeregisterRequest {
    /// The datacenter the write is for.
    #[serde(deserialize_with = "null_as_default")]
    pub datacenter: String,
    /// The node (required).
    #[serde(deserialize_with = "null_as_default")]
    pub node: String,
    /// The service instance to remove, with its checks.
    #[serde(rename = "ServiceID", deserialize_with = "null_as_default")]
    pub service_id: String,
    /// The check to remove.
    #[serde(rename = "CheckID", deserialize_with = "null_as_default")]
    pub check_id: String,
}

#[cfg(test)]
mod tests;
