//! A client agent's way to the servers (Consul's `agent/router` and `agent/pool` use in
//! client mode): every catalog, health, KV and status request goes over server RPC to a
//! server learned from LAN gossip (tag `role=consul`, same datacenter), failing over to
//! another when one cannot be reached.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use praetor_gossip::{MemberStatus, Membership, ServerMeta};
use praetor_rpc::{Request, Response, RpcClient, RpcError};
use praetor_server::ServerError;
use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, KvQuery, KvRequest, KvResult, Node,
    NodeServices, QueryMeta, QueryOptions, RegisterRequest, ServiceNode, Session, TxnOp,
    TxnOutcome,
};

use crate::BackendError;

/// Consul's `structs.ErrNoServers`: no server is known to forward to.
pub const NO_KNOWN_SERVERS: &str = "No known Consul servers";

/// The servers a client agent forwards to.
#[derive(Clone)]
pub struct RemoteServers {
    rpc: RpcClient,
    lan: Arc<dyn Membership>,
    datacenter: String,
    /// The server that answered last; tried first.
    preferred: Arc<Mutex<Option<String>>>,
    call_timeout: Duration,
    max_query_time: Duration,
}

impl RemoteServers {
    /// Servers are the alive `role=consul` members of `lan` in `datacenter`.
    pub fn new(
        rpc: RpcClient,
        lan: Arc<dyn Membership>,
        datacenter: &str,
        max_query_time: Duration,
    ) -> Self {
        let call_timeout = rpc.config().call_timeout;
        Self {
            rpc,
            lan,
            datacenter: datacenter.to_owned(),
            preferred: Arc::default(),
            call_timeout,
            max_query_time,
        }
    }

    /// The known servers' RPC addresses, the last one that answered first, then the
    /// others in a random order (spreading clients over the servers).
    pub async fn servers(&self) -> Vec<String> {
        use rand::seq::SliceRandom as _;
        let mut servers: Vec<String> = self
            .lan
            .members()
            .await
            .iter()
            .filter(|m| m.status == MemberStatus::Alive)
            .filter_map(ServerMeta::from_member)
            .filter(|s| s.datacenter == self.datacenter)
            .map(|s| s.rpc_addr.to_string())
            .collect();
        servers.shuffle(&mut rand::rng());
        let preferred = self.preferred.lock().expect("preferred lock").clone();
        if let Some(p) = preferred
            && let Some(i) = servers.iter().position(|s| *s == p)
        {
            servers.swap(0, i);
        }
        servers
    }

    /// Sends `request` to a server, failing over to the next one when a server cannot be
    /// reached (for writes only when the request certainly was not delivered).
    pub async fn call(&self, request: Request) -> Result<Response, BackendError> {
        let servers = self.servers().await;
        if servers.is_empty() {
            return Err(BackendError::Internal(NO_KNOWN_SERVERS.to_owned()));
        }
        let timeout = request.deadline(self.call_timeout, self.max_query_time);
        let mut last = None;
        for addr in servers {
            match self.rpc.call(&addr, request.clone(), timeout).await {
                Ok(response) => {
                    *self.preferred.lock().expect("preferred lock") = Some(addr);
                    return Ok(response);
                }
                Err(e @ RpcError::ConnectFailed { .. }) => {
                    tracing::debug!(server = %addr, error = %e, "server unreachable, trying another");
                    self.rpc.forget(&addr);
                    last = Some(e);
                }
                Err(e @ RpcError::Unavailable { .. }) if !request.is_write() => {
                    tracing::debug!(server = %addr, error = %e, "server unavailable, trying another");
                    self.rpc.forget(&addr);
                    last = Some(e);
                }
                Err(e) => return Err(rpc_error(e)),
            }
        }
        Err(last.map_or_else(
            || BackendError::Internal(NO_KNOWN_SERVERS.to_owned()),
            rpc_error,
        ))
    }

    async fn bool(&self, request: Request) -> Result<bool, BackendError> {
        match self.call(request).await? {
            Response::Bool(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }

    /// `Session.Apply` create: the new session's ID.
    pub async fn session_create(&self, session: Session) -> Result<String, BackendError> {
        match self.call(Request::SessionCreate(Box::new(session))).await? {
            Response::SessionId(id) => Ok(id),
            other => Err(unexpected(&other)),
        }
    }

    /// `Session.Apply` destroy.
    pub async fn session_destroy(&self, id: &str) -> Result<bool, BackendError> {
        self.bool(Request::SessionDestroy(id.to_owned())).await
    }

    /// `Session.Renew`: the renewed session, empty when unknown.
    pub async fn session_renew(&self, id: &str) -> Result<Vec<Session>, BackendError> {
        match self.call(Request::SessionRenew(id.to_owned())).await? {
            Response::Sessions(_, sessions) => Ok(sessions),
            other => Err(unexpected(&other)),
        }
    }

    async fn sessions(&self, request: Request) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        match self.call(request).await? {
            Response::Sessions(meta, sessions) => Ok((meta, sessions)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Session.Get`.
    pub async fn session_info(
        &self,
        id: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        self.sessions(Request::SessionInfo {
            id: id.to_owned(),
            opts,
        })
        .await
    }

    /// `Session.List`.
    pub async fn session_list(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        self.sessions(Request::SessionList { opts }).await
    }

    /// `Session.NodeSessions`.
    pub async fn session_node(
        &self,
        node: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), BackendError> {
        self.sessions(Request::SessionNode {
            node: node.to_owned(),
            opts,
        })
        .await
    }

    /// `Txn.Apply` / `Txn.Read`.
    pub async fn txn(
        &self,
        ops: Vec<TxnOp>,
        opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), BackendError> {
        match self.call(Request::Txn { ops, opts }).await? {
            Response::Txn(meta, outcome) => Ok((meta, outcome)),
            other => Err(unexpected(&other)),
        }
    }

    /// `KVS.Get` / `KVS.List`.
    pub async fn kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, KvResult), BackendError> {
        match self.call(Request::KvRead { query, opts }).await? {
            Response::Kv(meta, result) => Ok((meta, result)),
            other => Err(unexpected(&other)),
        }
    }

    /// `KVS.Apply`.
    pub async fn kv_apply(&self, req: KvRequest) -> Result<bool, BackendError> {
        self.bool(Request::KvApply(req)).await
    }

    /// `Catalog.Register`.
    pub async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, BackendError> {
        self.bool(Request::CatalogRegister(Box::new(req))).await
    }

    /// `Catalog.Deregister`.
    pub async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, BackendError> {
        self.bool(Request::CatalogDeregister(req)).await
    }

    /// `Catalog.ListNodes`.
    pub async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Node>), BackendError> {
        match self.call(Request::CatalogNodes { opts }).await? {
            Response::Nodes(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Catalog.ListServices`.
    pub async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, BTreeMap<String, Vec<String>>), BackendError> {
        match self.call(Request::CatalogServices { opts }).await? {
            Response::Services(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Catalog.ServiceNodes`.
    pub async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<ServiceNode>), BackendError> {
        let req = Request::CatalogService {
            name: name.to_owned(),
            tags: tags.to_vec(),
            opts,
        };
        match self.call(req).await? {
            Response::ServiceNodes(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Catalog.NodeServices`.
    pub async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Option<NodeServices>), BackendError> {
        let req = Request::CatalogNode {
            name: name.to_owned(),
            opts,
        };
        match self.call(req).await? {
            Response::NodeServices(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    async fn checks(&self, req: Request) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        match self.call(req).await? {
            Response::Checks(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Health.NodeChecks`.
    pub async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.checks(Request::HealthNode {
            name: name.to_owned(),
            opts,
        })
        .await
    }

    /// `Health.ServiceChecks`.
    pub async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.checks(Request::HealthChecks {
            service: service.to_owned(),
            opts,
        })
        .await
    }

    /// `Health.ServiceNodes`.
    pub async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<CheckServiceNode>), BackendError> {
        let req = Request::HealthService {
            name: name.to_owned(),
            tags: tags.to_vec(),
            passing,
            opts,
        };
        match self.call(req).await? {
            Response::CheckServiceNodes(meta, v) => Ok((meta, v)),
            other => Err(unexpected(&other)),
        }
    }

    /// `Health.ChecksInState`.
    pub async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.checks(Request::HealthState {
            state: state.to_owned(),
            opts,
        })
        .await
    }

    /// `Status.Leader`.
    pub async fn status_leader(&self) -> Result<String, BackendError> {
        match self.call(Request::StatusLeader).await? {
            Response::Leader(addr) => Ok(addr),
            other => Err(unexpected(&other)),
        }
    }

    /// `Operator.AutopilotGetConfiguration`.
    pub async fn autopilot_config(
        &self,
        opts: QueryOptions,
    ) -> Result<praetor_types::AutopilotConfig, BackendError> {
        match self.call(Request::AutopilotGetConfig { opts }).await? {
            Response::AutopilotConfig(cfg) => Ok(*cfg),
            other => Err(unexpected(&other)),
        }
    }

    /// `Operator.AutopilotSetConfiguration`.
    pub async fn autopilot_set_config(
        &self,
        config: praetor_types::AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, BackendError> {
        let req = Request::AutopilotSetConfig {
            config: Box::new(config),
            cas,
        };
        match self.call(req).await? {
            Response::Bool(ok) => Ok(ok),
            other => Err(unexpected(&other)),
        }
    }

    /// `Operator.ServerHealth`.
    pub async fn autopilot_health(&self) -> Result<praetor_types::AutopilotHealth, BackendError> {
        match self.call(Request::AutopilotHealth).await? {
            Response::AutopilotHealth(h) => Ok(h),
            other => Err(unexpected(&other)),
        }
    }

    /// `Status.Peers`.
    pub async fn status_peers(&self) -> Result<Vec<String>, BackendError> {
        match self.call(Request::StatusPeers).await? {
            Response::Peers(peers) => Ok(peers),
            other => Err(unexpected(&other)),
        }
    }
}

/// An RPC failure as the server would have answered it (`No cluster leader` passes
/// through).
fn rpc_error(e: RpcError) -> BackendError {
    BackendError::from(ServerError::from(e))
}

fn unexpected(response: &Response) -> BackendError {
    BackendError::Internal(format!("unexpected rpc response: {response:?}"))
}

/// Anti-entropy of a client agent: its node, services and checks go to the servers.
#[async_trait::async_trait]
impl crate::CatalogApi for RemoteServers {
    async fn register(&self, req: RegisterRequest) -> Result<(), BackendError> {
        self.catalog_register(req).await.map(|_| ())
    }

    async fn deregister(&self, req: DeregisterRequest) -> Result<(), BackendError> {
        self.catalog_deregister(req).await.map(|_| ())
    }

    async fn node_services(&self, node: &str) -> Result<Option<NodeServices>, BackendError> {
        Ok(self.catalog_node(node, QueryOptions::default()).await?.1)
    }

    async fn node_checks(&self, node: &str) -> Result<Vec<HealthCheck>, BackendError> {
        Ok(self.health_node(node, QueryOptions::default()).await?.1)
    }

    async fn watch_node_checks(
        &self,
        node: &str,
        min_index: u64,
        wait: Duration,
    ) -> Result<(u64, Vec<HealthCheck>), BackendError> {
        let opts = QueryOptions {
            min_index,
            max_wait: Some(wait),
            ..QueryOptions::default()
        };
        let (meta, checks) = self.health_node(node, opts).await?;
        Ok((meta.index, checks))
    }
}
