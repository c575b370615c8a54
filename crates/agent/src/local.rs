//! The [`Backend`] of a server agent: requests are served by the server in this process.

use async_trait::async_trait;
use praetor_server::{Server, ServerError};
use std::collections::BTreeMap;

use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, HealthStatus, KvQuery, KvRequest, KvResult,
    Node, NodeService, NodeServices, QueryMeta, QueryOptions, RegisterRequest, ServiceNode,
    Session, TxnOp, TxnOutcome,
};
use serde_json::Value;

use crate::{AgentSelf, Backend, BackendError, LocalAgent};

/// A backend over the [`Server`] running in this agent.
#[derive(Clone)]
pub struct LocalBackend {
    server: Server,
    identity: AgentSelf,
    agent: Option<LocalAgent>,
}

impl LocalBackend {
    /// Serves requests from `server`; `identity` is what `/v1/agent/self` reports.
    pub fn new(server: Server, identity: AgentSelf) -> Self {
        Self {
            server,
            identity,
            agent: None,
        }
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
        Ok(self.server.kv_read(query, opts).await?)
    }

    async fn kv_write(&self, req: KvRequest) -> Result<bool, BackendError> {
        Ok(self.server.kv_apply(req).await?)
    }

    async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, BackendError> {
        Ok(self.server.catalog_register(req).await?)
    }

    async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, BackendError> {
        Ok(self.server.catalog_deregister(req).await?)
    }

    async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Node>), BackendError> {
        Ok(self.server.catalog_nodes(opts).await?)
    }

    async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, BTreeMap<String, Vec<String>>), BackendError> {
        Ok(self.server.catalog_services(opts).await?)
    }

    async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<ServiceNode>), BackendError> {
        Ok(self.server.catalog_service(name, tags, opts).await?)
    }

    async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Option<NodeServices>), BackendError> {
        Ok(self.server.catalog_node(name, opts).await?)
    }

    async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        Ok(self.server.health_node(name, opts).await?)
    }

    async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        Ok(self.server.health_checks(service, opts).await?)
    }

    async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<CheckServiceNode>), BackendError> {
        Ok(self
            .server
            .health_service(name, tags, passing, opts)
            .await?)
    }

    async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        Ok(self.server.health_state(state, opts).await?)
    }

    async fn status_leader(&self) -> Result<String, BackendError> {
        Ok(self.server.leader_addr())
    }

    async fn status_peers(&self) -> Result<Vec<String>, BackendError> {
        Ok(self.server.peers())
    }

    async fn session_create(&self, session: Session) -> Result<String, BackendError> {
        Ok(self.server.session_create(session).await?)
    }

    async fn session_destroy(&self, id: &str) -> Result<bool, BackendError> {
        Ok(self.server.session_destroy(id).await?)
    }

    async fn session_renew(&self, id: &str) -> Result<Vec<Session>, BackendError> {
        Ok(self.server.session_renew(id).await?)
    }

    async fn session_info(
        &self,
        id: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Ok(self.server.session_info(id, opts).await?)
    }

    async fn session_list(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Ok(self.server.session_list(opts).await?)
    }

    async fn session_node(
        &self,
        node: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        Ok(self.server.session_node(node, opts).await?)
    }

    async fn txn(
        &self,
        ops: Vec<TxnOp>,
        opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), BackendError> {
        Ok(self.server.txn(ops, opts).await?)
    }

    fn agent_self(&self) -> AgentSelf {
        self.identity.clone()
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
