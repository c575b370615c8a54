//! The agent's [`Backend`]: requests are served by the server in this process (server
//! agents) or sent to a server over RPC (client agents, [`RemoteServers`]); the agent's
//! own services and checks and its cluster membership are answered locally.

use async_trait::async_trait;
use praetor_server::{Server, ServerError};
use std::collections::BTreeMap;

use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, HealthStatus, KvQuery, KvRequest, KvResult,
    Node, NodeService, NodeServices, QueryMeta, QueryOptions, RaftConfiguration, RaftPeer,
    RegisterRequest, ServiceNode, Session, TxnOp, TxnOutcome, UserEvent, member::Member,
};
use serde_json::Value;

use crate::{AgentSelf, Backend, BackendError, Cluster, LocalAgent, RemoteServers, UserEvents};

/// Where catalog, health, KV and status requests are served.
#[derive(Clone)]
enum Target {
    /// The server in this process.
    Server(Server),
    /// Servers over RPC (a client agent).
    Remote(RemoteServers),
}

/// Calls `$method` on the in-process server or the remote servers alike.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.target {
            Target::Server(s) => Ok(s.$method($($arg),*).await?),
            Target::Remote(r) => r.$method($($arg),*).await,
        }
    };
}

/// A backend over the [`Server`] running in this agent, or over RPC to the servers.
#[derive(Clone)]
pub struct LocalBackend {
    target: Target,
    identity: AgentSelf,
    agent: Option<LocalAgent>,
    cluster: Option<Cluster>,
    events: Option<UserEvents>,
}

impl LocalBackend {
    /// Serves requests from `server`; `identity` is what `/v1/agent/self` reports.
    pub fn new(server: Server, identity: AgentSelf) -> Self {
        Self {
            target: Target::Server(server),
            identity,
            agent: None,
            cluster: None,
            events: None,
        }
    }

    /// A client agent's backend: requests go to `servers` over RPC.
    pub fn remote(servers: RemoteServers, identity: AgentSelf) -> Self {
        Self {
            target: Target::Remote(servers),
            identity,
            agent: None,
            cluster: None,
            events: None,
        }
    }

    /// Serves the membership and Raft operator requests from `cluster`.
    pub fn with_cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = Some(cluster);
        self
    }

    fn cluster(&self) -> Result<&Cluster, BackendError> {
        self.cluster
            .as_ref()
            .ok_or_else(|| BackendError::Internal("this agent runs no gossip pool".to_owned()))
    }

    /// Fires and lists user events with `events`.
    pub fn with_events(mut self, events: UserEvents) -> Self {
        self.events = Some(events);
        self
    }

    fn events(&self) -> Result<&UserEvents, BackendError> {
        self.events
            .as_ref()
            .ok_or_else(|| BackendError::Internal("this agent runs no gossip pool".to_owned()))
    }

    /// Serves `/v1/agent/...` service and check requests from `agent`.
    pub fn with_agent(mut self, agent: LocalAgent) -> Self {
        self.agent = Some(agent);
        self
    }

    fn agent(&self) -> Result<&LocalAgent, BackendError> {
        self.agent.as_ref().ok_or_else(|| {
            BackendError::Internal("this agent keeps no local services or checks".to_owned())
        })
    }
}

impl From<ServerError> for BackendError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::NoLeader => Self::NoLeader,
            // A single-server agent forwards nowhere yet; a follower that cannot reach the
            // leader is, to its clients, without one.
            ServerError::NotLeader { .. } => Self::NoLeader,
            ServerError::ShuttingDown => Self::ShuttingDown,
            ServerError::Apply(praetor_state::ApplyError::InvalidSession(id)) => {
                Self::InvalidSession(id)
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

#[async_trait]
impl Backend for LocalBackend {
    async fn kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, KvResult), BackendError> {
        dispatch!(self.kv_read(query, opts))
    }

    fn kv_watch(&self, query: &KvQuery, opts: &QueryOptions) -> Option<crate::KvWatch> {
        match &self.target {
            Target::Server(s) => {
                let (watch, index, wait) = s.kv_watch(query, opts)?;
                Some(crate::KvWatch { index, watch, wait })
            }
            Target::Remote(_) => None,
        }
    }

    fn kv_index(&self, query: &KvQuery) -> Option<u64> {
        match &self.target {
            Target::Server(s) => Some(s.kv_index(query)),
            Target::Remote(_) => None,
        }
    }

    async fn kv_write(&self, req: KvRequest) -> Result<bool, BackendError> {
        dispatch!(self.kv_apply(req))
    }

    async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, BackendError> {
        dispatch!(self.catalog_register(req))
    }

    async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, BackendError> {
        dispatch!(self.catalog_deregister(req))
    }

    async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Node>), BackendError> {
        dispatch!(self.catalog_nodes(opts))
    }

    async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, BTreeMap<String, Vec<String>>), BackendError> {
        dispatch!(self.catalog_services(opts))
    }

    async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<ServiceNode>), BackendError> {
        dispatch!(self.catalog_service(name, tags, opts))
    }

    async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Option<NodeServices>), BackendError> {
        dispatch!(self.catalog_node(name, opts))
    }

    async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        dispatch!(self.health_node(name, opts))
    }

    async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        dispatch!(self.health_checks(service, opts))
    }

    async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<CheckServiceNode>), BackendError> {
        dispatch!(self.health_service(name, tags, passing, opts))
    }

    fn local_catalog_index(&self) -> Option<u64> {
        match &self.target {
            Target::Server(s) => Some(s.catalog_index()),
            Target::Remote(_) => None,
        }
    }

    async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        dispatch!(self.health_state(state, opts))
    }

    async fn status_leader(&self) -> Result<String, BackendError> {
        match &self.target {
            Target::Server(s) => Ok(s.leader_addr()),
            Target::Remote(r) => r.status_leader().await,
        }
    }

    async fn status_peers(&self) -> Result<Vec<String>, BackendError> {
        match &self.target {
            Target::Server(s) => Ok(s.peers()),
            Target::Remote(r) => r.status_peers().await,
        }
    }

    async fn agent_members(&self, wan: bool) -> Result<Vec<Member>, BackendError> {
        self.cluster()?.members(wan).await
    }

    async fn agent_join(&self, addr: &str, wan: bool) -> Result<usize, BackendError> {
        self.cluster()?.join(&[addr.to_owned()], wan).await
    }

    async fn agent_leave(&self) -> Result<(), BackendError> {
        self.cluster()?.leave().await
    }

    async fn agent_force_leave(
        &self,
        node: &str,
        prune: bool,
        wan: bool,
    ) -> Result<(), BackendError> {
        self.cluster()?.force_leave(node, prune, wan).await
    }

    async fn operator_raft_configuration(
        &self,
        opts: QueryOptions,
    ) -> Result<RaftConfiguration, BackendError> {
        self.cluster()?.raft_configuration(&opts).await
    }

    async fn operator_raft_remove_peer(&self, peer: RaftPeer) -> Result<(), BackendError> {
        self.cluster()?.remove_peer(peer).await
    }

    async fn operator_autopilot_configuration(
        &self,
        opts: QueryOptions,
    ) -> Result<praetor_types::AutopilotConfig, BackendError> {
        dispatch!(self.autopilot_config(opts))
    }

    async fn operator_autopilot_set_configuration(
        &self,
        config: praetor_types::AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, BackendError> {
        dispatch!(self.autopilot_set_config(config, cas))
    }

    async fn operator_autopilot_health(
        &self,
    ) -> Result<praetor_types::AutopilotHealth, BackendError> {
        dispatch!(self.autopilot_health())
    }

    async fn session_create(&self, session: Session) -> Result<String, BackendError> {
        dispatch!(self.session_create(session))
    }

    async fn session_destroy(&self, id: &str) -> Result<bool, BackendError> {
        dispatch!(self.session_destroy(id))
    }

    async fn session_renew(&self, id: &str) -> Result<Vec<Session>, BackendError> {
        dispatch!(self.session_renew(id))
    }

    async fn session_info(
        &self,
        id: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        dispatch!(self.session_info(id, opts))
    }

    async fn session_list(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        dispatch!(self.session_list(opts))
    }

    async fn session_node(
        &self,
        node: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        dispatch!(self.session_node(node, opts))
    }

    async fn txn(
        &self,
        ops: Vec<TxnOp>,
        opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), BackendError> {
        dispatch!(self.txn(ops, opts))
    }

    fn agent_self(&self) -> AgentSelf {
        self.identity.clone()
    }

    async fn event_fire(&self, event: UserEvent) -> Result<UserEvent, BackendError> {
        self.events()?.fire(event).await
    }

    async fn event_list(
        &self,
        name: Option<String>,
        opts: QueryOptions,
    ) -> Result<(u64, Vec<UserEvent>), BackendError> {
        Ok(self.events()?.list(name.as_deref(), opts).await)
    }

    async fn agent_services(&self) -> Result<Vec<NodeService>, BackendError> {
        Ok(self.agent()?.services())
    }

    async fn agent_checks(&self) -> Result<Vec<HealthCheck>, BackendError> {
        Ok(self.agent()?.checks())
    }

    async fn agent_service_register(
        &self,
        definition: Value,
        replace_existing_checks: bool,
    ) -> Result<(), BackendError> {
        self.agent()?
            .register_service(&definition, replace_existing_checks)
    }

    async fn agent_service_deregister(&self, id: &str) -> Result<(), BackendError> {
        self.agent()?.deregister_service(id)
    }

    async fn agent_service_maintenance(
        &self,
        id: &str,
        enable: bool,
        reason: &str,
    ) -> Result<(), BackendError> {
        self.agent()?.service_maintenance(id, enable, reason)
    }

    async fn agent_node_maintenance(&self, enable: bool, reason: &str) -> Result<(), BackendError> {
        self.agent()?.node_maintenance(enable, reason)
    }

    async fn agent_check_register(&self, definition: Value) -> Result<(), BackendError> {
        self.agent()?.register_check(&definition)
    }

    async fn agent_check_deregister(&self, id: &str) -> Result<(), BackendError> {
        self.agent()?.deregister_check(id)
    }

    async fn agent_check_update(
        &self,
        id: &str,
        status: HealthStatus,
        output: &str,
    ) -> Result<(), BackendError> {
        self.agent()?.update_ttl(id, status, output)
    }

    async fn agent_local_generation(&self) -> u64 {
        self.agent.as_ref().map_or(0, LocalAgent::generation)
    }

    async fn agent_local_wait(&self, since: u64, wait: std::time::Duration) {
        match &self.agent {
            Some(agent) => agent.wait_for_change(since, wait).await,
            None => tokio::time::sleep(wait).await,
        }
    }

    async fn agent_reload(&self) -> Result<(), BackendError> {
        let agent = self.agent()?.clone();
        // Reading config files is blocking I/O.
        tokio::task::spawn_blocking(move || agent.reload())
            .await
            .map_err(|e| BackendError::Internal(e.to_string()))?
    }
}
