//! The seam between the interfaces (HTTP, DNS) and the agent's view of the cluster.

use async_trait::async_trait;
use praetor_types::{KvQuery, KvRequest, KvResult, QueryMeta, QueryOptions};
use serde::Serialize;

/// Why a backend call failed. `Display` is the plain-text body Consul answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// No leader is known, so writes and non-stale reads cannot be served.
    #[error("No cluster leader")]
    NoLeader,
    /// A lock operation named a session that does not exist.
    #[error("invalid session \"{0}\"")]
    InvalidSession(String),
    /// The agent is shutting down.
    #[error("agent is shutting down")]
    ShuttingDown,
    /// Anything else: an internal failure, reported as a 500 with its text.
    #[error("{0}")]
    Internal(String),
}

/// Identity facts `/v1/agent/self` reports.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AgentSelf {
    /// Datacenter name.
    pub datacenter: String,
    /// Node name.
    pub node_name: String,
    /// Node ID (UUID).
    pub node_id: String,
    /// Whether this agent is a server.
    pub server: bool,
    /// Advertised LAN address.
    pub advertise_addr: String,
    /// Bind address.
    pub bind_addr: String,
    /// Client (HTTP/DNS) address.
    pub client_addr: String,
    /// Server RPC port.
    pub server_port: u16,
    /// LAN gossip port.
    pub serf_lan_port: u16,
    /// HTTP port (-1: disabled).
    pub http_port: i32,
    /// DNS port (-1: disabled).
    pub dns_port: i32,
    /// Whether this is a `-dev` agent.
    pub dev: bool,
}

/// Everything the HTTP and DNS interfaces need from the agent.
///
/// Reads take [`QueryOptions`] and block as Consul's blocking queries do (the
/// implementation waits; callers just await).
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A KV read, possibly blocking.
    async fn kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, KvResult), BackendError>;

    /// A KV write through Raft; `Ok(false)` when a condition (CAS, lock) did not hold.
    async fn kv_write(&self, req: KvRequest) -> Result<bool, BackendError>;

    /// The leader's server RPC address (`"127.0.0.1:8300"`), or `""` when none is known.
    async fn status_leader(&self) -> Result<String, BackendError>;

    /// The Raft peers' server RPC addresses.
    async fn status_peers(&self) -> Result<Vec<String>, BackendError>;

    /// Identity facts for `/v1/agent/self`.
    fn agent_self(&self) -> AgentSelf;
}
