//! The [`Backend`] of a server agent: requests are served by the server in this process.

use async_trait::async_trait;
use praetor_server::{Server, ServerError};
use std::collections::BTreeMap;

use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, KvQuery, KvRequest, KvResult, Node,
    NodeServices, QueryMeta, QueryOptions, RegisterRequest, ServiceNode,
};

use crate::{AgentSelf, Backend, BackendError};

/// A backend over the [`Server`] running in this agent.
#[derive(Clone)]
pub struct LocalBackend {
    server: Server,
    identity: AgentSelf,
}

impl LocalBackend {
    /// Serves requests from `server`; `identity` is what `/v1/agent/self` reports.
    pub fn new(server: Server, identity: AgentSelf) -> Self {
        Self { server, identity }
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

    fn agent_self(&self) -> AgentSelf {
        self.identity.clone()
    }
}
