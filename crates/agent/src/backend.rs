//! The seam between the interfaces (HTTP, DNS) and the agent's view of the cluster.

use async_trait::async_trait;
use std::collections::BTreeMap;

use praetor_types::{
    AutopilotConfig, AutopilotHealth, CheckServiceNode, DeregisterRequest, HealthCheck,
    HealthStatus, KvQuery, KvRequest, KvResult, Node, NodeService, NodeServices, QueryMeta,
    QueryOptions, RaftConfiguration, RaftPeer, RegisterRequest, ServiceNode, Session, TxnOp,
    TxnOutcome, UserEvent, member::Member,
};
use serde::Serialize;
use serde_json::Value;

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
    /// The request is malformed or invalid: a 400 with this text.
    #[error("{0}")]
    BadRequest(String),
    /// The named object does not exist: a 404 with this text.
    #[error("{0}")]
    NotFound(String),
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

/// A blocking KV read parked outside [`Backend::kv_read`]: what it waits on.
#[derive(Debug)]
pub struct KvWatch {
    /// The index `kv_read` would answer the read with now.
    pub index: u64,
    /// Completes once something the read covers may have changed (ask again then).
    pub watch: praetor_state::Watch,
    /// How long the read may block in all: the requested wait, capped, with jitter.
    pub wait: std::time::Duration,
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

    /// For a blocking KV read this agent answers from its own state (a leader, or
    /// `?stale` on a server): the read's current index and a watch to wait on, so a
    /// caller can hold the request compactly and call [`Backend::kv_read`] only once the
    /// index has passed `opts.min_index` (or the wait is over; then without the index).
    /// `None` (the default) when the read is forwarded or needs a quorum round: just
    /// call `kv_read`.
    fn kv_watch(&self, query: &KvQuery, opts: &QueryOptions) -> Option<KvWatch> {
        let _ = (query, opts);
        None
    }

    /// After a [`KvWatch`]'s watch fired: the index a read of `query` would answer with
    /// now (the same watch goes on covering it). `None` when this agent no longer
    /// answers it itself.
    fn kv_index(&self, query: &KvQuery) -> Option<u64> {
        let _ = query;
        None
    }

    /// A KV write through Raft; `Ok(false)` when a condition (CAS, lock) did not hold.
    async fn kv_write(&self, req: KvRequest) -> Result<bool, BackendError>;

    /// `PUT /v1/catalog/register`: upserts a node, optionally a service and checks.
    /// Validation failures are [`BackendError::Internal`] with Consul's text (a 500).
    async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, BackendError>;

    /// `PUT /v1/catalog/deregister`: removes a check, a service or a whole node.
    async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, BackendError>;

    /// Every catalog node, sorted by name.
    async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Node>), BackendError>;

    /// Service names with the sorted union of their instances' tags.
    async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, BTreeMap<String, Vec<String>>), BackendError>;

    /// Catalog rows of service `name` whose instances carry every tag in `tags`.
    async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<ServiceNode>), BackendError>;

    /// The node `name` with its services by ID; `None` for an unknown node.
    async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Option<NodeServices>), BackendError>;

    /// Every check on node `name`.
    async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError>;

    /// The checks of every instance of `service`.
    async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError>;

    /// The catalog's index (nodes, services, checks) in the state this agent reads
    /// stale catalog reads from, without reading anything; `None` (the default) when
    /// those reads are answered elsewhere (a client agent), so nothing may be cached by it.
    fn local_catalog_index(&self) -> Option<u64> {
        None
    }

    /// Instances of `name` (carrying every tag in `tags`) with their node and checks;
    /// with `passing`, only those whose every check passes.
    async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<CheckServiceNode>), BackendError>;

    /// Checks in `state` (`any`, `passing`, `warning`, `critical`; other words match
    /// nothing).
    async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError>;

    /// The leader's server RPC address (`"127.0.0.1:8300"`), or `""` when none is known.
    async fn status_leader(&self) -> Result<String, BackendError>;

    /// The Raft peers' server RPC addresses.
    async fn status_peers(&self) -> Result<Vec<String>, BackendError>;

    /// Identity facts for `/v1/agent/self`.
    fn agent_self(&self) -> AgentSelf;

    // The agent's own services and checks (`/v1/agent/...`). The defaults answer that
    // the backend keeps none, so backends without local state need not implement them.

    /// The agent's services (`/v1/agent/services`), `Datacenter` filled in.
    async fn agent_services(&self) -> Result<Vec<NodeService>, BackendError> {
        Err(no_local_state())
    }

    /// The agent's checks (`/v1/agent/checks`).
    async fn agent_checks(&self) -> Result<Vec<HealthCheck>, BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/service/register` with the body as parsed JSON.
    async fn agent_service_register(
        &self,
        _definition: Value,
        _replace_existing_checks: bool,
    ) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/service/deregister/<id>`.
    async fn agent_service_deregister(&self, _id: &str) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/service/maintenance/<id>`.
    async fn agent_service_maintenance(
        &self,
        _id: &str,
        _enable: bool,
        _reason: &str,
    ) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/maintenance`.
    async fn agent_node_maintenance(
        &self,
        _enable: bool,
        _reason: &str,
    ) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/check/register` with the body as parsed JSON.
    async fn agent_check_register(&self, _definition: Value) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/check/deregister/<id>`.
    async fn agent_check_deregister(&self, _id: &str) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/check/pass|warn|fail|update/<id>`.
    async fn agent_check_update(
        &self,
        _id: &str,
        _status: HealthStatus,
        _output: &str,
    ) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// `PUT /v1/agent/reload`.
    async fn agent_reload(&self) -> Result<(), BackendError> {
        Err(no_local_state())
    }

    /// A counter of local service/check changes (hash-based blocking reads).
    async fn agent_local_generation(&self) -> u64 {
        0
    }

    /// Waits until the local generation is no longer `since`, or `wait` passes.
    async fn agent_local_wait(&self, _since: u64, wait: std::time::Duration) {
        tokio::time::sleep(wait).await;
    }
    // Cluster membership and Raft operations (`/v1/agent/members|join|leave|force-leave`,
    // `/v1/operator/raft/*`). The defaults answer that this agent runs no gossip pool.

    /// `GET /v1/agent/members` (`wan`: the WAN pool, servers only).
    async fn agent_members(&self, _wan: bool) -> Result<Vec<Member>, BackendError> {
        Err(no_cluster())
    }

    /// `PUT /v1/agent/join/<addr>` (`wan`: join the WAN pool); the number of nodes
    /// contacted.
    async fn agent_join(&self, _addr: &str, _wan: bool) -> Result<usize, BackendError> {
        Err(no_cluster())
    }

    /// `PUT /v1/agent/leave`: leave the pool gracefully, then shut the agent down.
    async fn agent_leave(&self) -> Result<(), BackendError> {
        Err(no_cluster())
    }

    /// `PUT /v1/agent/force-leave/<node>` (`prune`: drop it from the member list).
    async fn agent_force_leave(
        &self,
        _node: &str,
        _prune: bool,
        _wan: bool,
    ) -> Result<(), BackendError> {
        Err(no_cluster())
    }

    /// `GET /v1/operator/raft/configuration` (`opts.consistency` stale or not).
    async fn operator_raft_configuration(
        &self,
        _opts: QueryOptions,
    ) -> Result<RaftConfiguration, BackendError> {
        Err(no_cluster())
    }

    /// `DELETE /v1/operator/raft/peer?id=|address=`.
    async fn operator_raft_remove_peer(&self, _peer: RaftPeer) -> Result<(), BackendError> {
        Err(no_cluster())
    }

    /// `GET /v1/operator/autopilot/configuration` (default or stale).
    async fn operator_autopilot_configuration(
        &self,
        _opts: QueryOptions,
    ) -> Result<AutopilotConfig, BackendError> {
        Err(no_cluster())
    }

    /// `PUT /v1/operator/autopilot/configuration[?cas=]`: whether it was written.
    async fn operator_autopilot_set_configuration(
        &self,
        _config: AutopilotConfig,
        _cas: Option<u64>,
    ) -> Result<bool, BackendError> {
        Err(no_cluster())
    }

    /// `GET /v1/operator/autopilot/health`.
    async fn operator_autopilot_health(&self) -> Result<AutopilotHealth, BackendError> {
        Err(no_cluster())
    }

    // Sessions and transactions (`/v1/session/*`, `/v1/txn`). The defaults answer that
    // this agent has no server to keep them.

    /// `PUT /v1/session/create`: the new session's ID.
    async fn session_create(&self, _session: Session) -> Result<String, BackendError> {
        Err(no_sessions())
    }

    /// `PUT /v1/session/destroy/<id>`.
    async fn session_destroy(&self, _id: &str) -> Result<bool, BackendError> {
        Err(no_sessions())
    }

    /// `PUT /v1/session/renew/<id>`: the session, or empty when unknown.
    async fn session_renew(&self, _id: &str) -> Result<Vec<Session>, BackendError> {
        Err(no_sessions())
    }

    /// `GET /v1/session/info/<id>`.
    async fn session_info(
        &self,
        _id: &str,
        _opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Err(no_sessions())
    }

    /// `GET /v1/session/list`.
    async fn session_list(
        &self,
        _opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Err(no_sessions())
    }

    /// `GET /v1/session/node/<node>`.
    async fn session_node(
        &self,
        _node: &str,
        _opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Err(no_sessions())
    }

    /// `PUT /v1/txn`: the outcome, with query meta for a read-only transaction.
    async fn txn(
        &self,
        _ops: Vec<TxnOp>,
        _opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), BackendError> {
        Err(no_sessions())
    }

    // User events (`/v1/event/*`). The defaults answer that this agent runs no gossip
    // pool to fire them into or hear them from.

    /// `PUT /v1/event/fire/<name>`: fires `event` (name, payload, filters) into LAN
    /// gossip and answers it with its ID and version.
    async fn event_fire(&self, _event: UserEvent) -> Result<UserEvent, BackendError> {
        Err(no_cluster())
    }

    /// `GET /v1/event/list`: the events this agent recorded, oldest first (only those
    /// named `name` when given), and their index; with `opts.min_index`, blocks while the
    /// index still equals it.
    async fn event_list(
        &self,
        _name: Option<String>,
        _opts: QueryOptions,
    ) -> Result<(u64, Vec<UserEvent>), BackendError> {
        Err(no_cluster())
    }
}

fn no_cluster() -> BackendError {
    BackendError::Internal("this agent runs no gossip pool".to_owned())
}

fn no_local_state() -> BackendError {
    BackendError::Internal("this agent keeps no local services or checks".to_owned())
}

fn no_sessions() -> BackendError {
    BackendError::Internal("this agent keeps no sessions or transactions".to_owned())
}
