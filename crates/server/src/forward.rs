//! Request routing (Consul's `forward` / `ForwardRPC`): writes and default or consistent
//! reads go to the leader, stale reads and status requests are answered here.
//!
//! A follower passes the request to the leader over RPC and returns the leader's answer,
//! query meta included, unchanged. While no leader is known the request is held for up
//! to `rpc_hold_timeout` (Consul's 7 s) waiting for an election, then fails with
//! `No cluster leader`. A request another server already forwarded is never forwarded
//! again, so leadership moving cannot make requests loop.

use std::collections::BTreeMap;

use praetor_rpc::{RemoteError, Request, Response, RpcError};
use praetor_types::{
    CheckServiceNode, Consistency, DeregisterRequest, HealthCheck, KvQuery, KvRequest, KvResult,
    Node, NodeServices, QueryMeta, QueryOptions, RegisterRequest, ServiceNode, Session, TxnOp,
    TxnOutcome,
};
use tokio::time::Instant;
use tracing::debug;

use crate::{Answer, Server, ServerError};

/// Where a request that needs the leader goes.
enum Target {
    /// This server leads.
    Local,
    /// The leader's server RPC address.
    Remote(String),
}

/// Between retries while leadership moves, unless the Raft status changes first.
const RETRY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

impl Server {
    /// Applies a KV write through Raft: `Ok(false)` when its condition did not hold.
    pub async fn kv_apply(&self, req: KvRequest) -> Result<bool, ServerError> {
        expect_bool(self.route(Request::KvApply(req), 0).await?, "kv write")
    }

    /// A KV read. The index is, as in Consul: the entry's `ModifyIndex` for a present
    /// key; for a missing key the KV table index; for a listing the highest
    /// `ModifyIndex` or tombstone under the prefix, else the table index.
    pub async fn kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<Answer<KvResult>, ServerError> {
        match self.route(Request::KvRead { query, opts }, 0).await? {
            Response::Kv(meta, result) => Ok((meta, result)),
            _ => Err(ServerError::UnexpectedResponse("kv read")),
        }
    }

    /// Registers a node and optionally a service and checks, all or nothing. Validation
    /// failures come back as [`ServerError::Apply`] with Consul's texts.
    pub async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, ServerError> {
        let req = Request::CatalogRegister(Box::new(req));
        expect_bool(self.route(req, 0).await?, "catalog register")
    }

    /// Removes a check, a service with its checks, or a node with everything on it;
    /// removing what is not there succeeds (idempotent, as in Consul).
    pub async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, ServerError> {
        let req = Request::CatalogDeregister(req);
        expect_bool(self.route(req, 0).await?, "catalog deregister")
    }

    /// Every node, sorted by name (`/catalog/nodes`).
    pub async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<Node>>, ServerError> {
        match self.route(Request::CatalogNodes { opts }, 0).await? {
            Response::Nodes(meta, v) => Ok((meta, v)),
            _ => Err(ServerError::UnexpectedResponse("catalog nodes")),
        }
    }

    /// Service names with the sorted union of their tags (`/catalog/services`).
    pub async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<Answer<BTreeMap<String, Vec<String>>>, ServerError> {
        match self.route(Request::CatalogServices { opts }, 0).await? {
            Response::Services(meta, v) => Ok((meta, v)),
            _ => Err(ServerError::UnexpectedResponse("catalog services")),
        }
    }

    /// Catalog rows of service `name` whose instances carry every tag of `tags`
    /// (case-insensitively; none given: all instances) (`/catalog/service/<name>`).
    pub async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<Answer<Vec<ServiceNode>>, ServerError> {
        let req = Request::CatalogService {
            name: name.to_owned(),
            tags: tags.to_vec(),
            opts,
        };
        match self.route(req, 0).await? {
            Response::ServiceNodes(meta, v) => Ok((meta, v)),
            _ => Err(ServerError::UnexpectedResponse("catalog service")),
        }
    }

    /// The node `name` with its services by ID, `None` for an unknown node
    /// (`/catalog/node/<name>` and `/catalog/node-services/<name>`).
    pub async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Option<NodeServices>>, ServerError> {
        let req = Request::CatalogNode {
            name: name.to_owned(),
            opts,
        };
        match self.route(req, 0).await? {
            Response::NodeServices(meta, v) => Ok((meta, v)),
            _ => Err(ServerError::UnexpectedResponse("catalog node")),
        }
    }

    /// Every check on node `name`, `[]` for an unknown node (`/health/node/<name>`).
    pub async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        let req = Request::HealthNode {
            name: name.to_owned(),
            opts,
        };
        expect_checks(self.route(req, 0).await?)
    }

    /// The checks of every instance of service `service` (`/health/checks/<service>`).
    pub async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        let req = Request::HealthChecks {
            service: service.to_owned(),
            opts,
        };
        expect_checks(self.route(req, 0).await?)
    }

    /// Instances of `name` carrying every tag of `tags`, with their node and the checks
    /// bearing on them; with `passing`, only instances whose every check passes
    /// (`/health/service/<name>`).
    pub async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<CheckServiceNode>>, ServerError> {
        let req = Request::HealthService {
            name: name.to_owned(),
            tags: tags.to_vec(),
            passing,
            opts,
        };
        match self.route(req, 0).await? {
            Response::CheckServiceNodes(meta, v) => Ok((meta, v)),
            _ => Err(ServerError::UnexpectedResponse("health service")),
        }
    }

    /// Checks in `state` (`any`, `passing`, `warning`, `critical`)
    /// (`/health/state/<state>`). Any other word matches no check, as in Consul.
    pub async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        let req = Request::HealthState {
            state: state.to_owned(),
            opts,
        };
        expect_checks(self.route(req, 0).await?)
    }

    /// Answers `req` here or at the leader; `hops` is how many servers already forwarded
    /// it (0 for a request made on this server or sent by a client agent).
    /// Creates a session (at the leader); answers its ID.
    pub async fn session_create(&self, session: Session) -> Result<String, ServerError> {
        match self
            .route(Request::SessionCreate(Box::new(session)), 0)
            .await?
        {
            Response::SessionId(id) => Ok(id),
            _ => Err(ServerError::UnexpectedResponse("session create")),
        }
    }

    /// Destroys a session (at the leader).
    pub async fn session_destroy(&self, id: &str) -> Result<bool, ServerError> {
        expect_bool(
            self.route(Request::SessionDestroy(id.to_owned()), 0)
                .await?,
            "session destroy",
        )
    }

    /// Renews a session's TTL (at the leader); empty for an unknown session.
    pub async fn session_renew(&self, id: &str) -> Result<Vec<Session>, ServerError> {
        Ok(expect_sessions(self.route(Request::SessionRenew(id.to_owned()), 0).await?)?.1)
    }

    /// `GET /session/info/<id>`.
    pub async fn session_info(
        &self,
        id: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), ServerError> {
        let req = Request::SessionInfo {
            id: id.to_owned(),
            opts,
        };
        expect_sessions(self.route(req, 0).await?)
    }

    /// `GET /session/list`.
    pub async fn session_list(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), ServerError> {
        expect_sessions(self.route(Request::SessionList { opts }, 0).await?)
    }

    /// `GET /session/node/<node>`.
    pub async fn session_node(
        &self,
        node: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), ServerError> {
        let req = Request::SessionNode {
            node: node.to_owned(),
            opts,
        };
        expect_sessions(self.route(req, 0).await?)
    }

    /// `PUT /v1/txn`: the outcome, with query meta for a read-only transaction.
    pub async fn txn(
        &self,
        ops: Vec<TxnOp>,
        opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), ServerError> {
        match self.route(Request::Txn { ops, opts }, 0).await? {
            Response::Txn(meta, outcome) => Ok((meta, outcome)),
            _ => Err(ServerError::UnexpectedResponse("txn")),
        }
    }

    pub(crate) async fn route(&self, mut req: Request, hops: u8) -> Result<Response, ServerError> {
        self.apply_max_stale(&mut req);
        if !needs_leader(&req) {
            return self.execute(req).await;
        }
        // Only the server that first received the request holds it; a forwarded one
        // answers at once, and its sender decides whether to retry.
        let hold_until = Instant::now()
            + if hops == 0 {
                self.rpc_hold_timeout
            } else {
                std::time::Duration::ZERO
            };
        loop {
            let result = match self.leader_target(hold_until).await? {
                Target::Local => self.execute(req.clone()).await,
                Target::Remote(addr) => match &self.rpc {
                    Some(_) if hops == 0 && self.follower_reads && follower_readable(&req) => {
                        self.follower_read(&addr, req.clone()).await
                    }
                    Some(_) if hops == 0 => self.forward(&addr, req.clone(), hops + 1).await,
                    _ => Err(ServerError::NotLeader { leader_addr: addr }),
                },
            };
            match result {
                Err(e) if Instant::now() < hold_until && retryable(&e, req.is_write()) => {
                    debug!(error = %e, "retrying while leadership moves");
                    let mut status = self.raft.status_watch();
                    status.borrow_and_update();
                    let _ = tokio::time::timeout(RETRY_BACKOFF, status.changed()).await;
                }
                result => return result,
            }
        }
    }

    /// `?max_stale`: a stale read on a follower that has not heard from the leader within
    /// the bound (or never has) is answered by the leader instead, in default mode, as
    /// Consul re-runs it there.
    fn apply_max_stale(&self, req: &mut Request) {
        let Some(opts) = req.query_options_mut() else {
            return;
        };
        let Some(max) = opts
            .max_stale
            .filter(|_| opts.consistency == Consistency::Stale)
        else {
            return;
        };
        let status = self.raft.status();
        if !status.is_leader && status.last_contact.is_none_or(|c| c > max) {
            debug!(
                last_contact = ?status.last_contact,
                max_stale = ?max,
                "stale read beyond max_stale, asking the leader"
            );
            opts.consistency = Consistency::Default;
        }
    }

    /// A read-index follower read: the leader confirms its leadership with a quorum and
    /// names its commit index; once this server has applied that far, its own state is
    /// at least as fresh as the leader's was when the read arrived, so it answers itself.
    /// The meta reports the consistency asked for.
    async fn follower_read(&self, addr: &str, mut req: Request) -> Result<Response, ServerError> {
        let index = match self.forward(addr, Request::ReadIndex, 1).await? {
            Response::ReadIndex(index) => index,
            _ => return Err(ServerError::UnexpectedResponse("read index")),
        };
        self.raft.wait_applied(index, self.rpc_hold_timeout).await?;
        let mut asked = Consistency::Default;
        if let Some(opts) = req.query_options_mut() {
            asked = opts.consistency;
            opts.consistency = Consistency::Stale;
            opts.max_stale = None;
        }
        let mut resp = self.execute(req).await?;
        if let Some(meta) = resp.query_meta_mut() {
            meta.consistency = asked;
        }
        Ok(resp)
    }

    /// The leader, waiting until `hold_until` for one to be known.
    async fn leader_target(&self, hold_until: Instant) -> Result<Target, ServerError> {
        let mut status = self.raft.status_watch();
        loop {
            status.borrow_and_update();
            let now = self.raft.status();
            if now.is_leader {
                return Ok(Target::Local);
            }
            if let Some(addr) = now.leader_addr.filter(|a| !a.is_empty()) {
                return Ok(Target::Remote(addr));
            }
            match tokio::time::timeout_at(hold_until, status.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(ServerError::ShuttingDown),
                Err(_) => return Err(ServerError::NoLeader),
            }
        }
    }

    async fn forward(&self, addr: &str, req: Request, hops: u8) -> Result<Response, ServerError> {
        let rpc = self.rpc.as_ref().ok_or(ServerError::NotLeader {
            leader_addr: addr.to_owned(),
        })?;
        let timeout = req.deadline(rpc.config().call_timeout, self.max_query_time);
        debug!(leader = addr, "forwarding to the leader");
        Ok(rpc.forward(addr, req, hops, timeout).await?)
    }

    /// Answers `req` from this server's own state and Raft node.
    pub(crate) async fn execute(&self, req: Request) -> Result<Response, ServerError> {
        Ok(match req {
            Request::KvApply(req) => Response::Bool(self.local_kv_apply(req).await?),
            Request::KvRead { query, opts } => {
                let (meta, result) = self.local_kv_read(query, opts).await?;
                Response::Kv(meta, result)
            }
            Request::CatalogRegister(req) => {
                Response::Bool(self.local_catalog_register(*req).await?)
            }
            Request::CatalogDeregister(req) => {
                Response::Bool(self.local_catalog_deregister(req).await?)
            }
            Request::CatalogNodes { opts } => {
                let (meta, v) = self.local_catalog_nodes(opts).await?;
                Response::Nodes(meta, v)
            }
            Request::CatalogServices { opts } => {
                let (meta, v) = self.local_catalog_services(opts).await?;
                Response::Services(meta, v)
            }
            Request::CatalogService { name, tags, opts } => {
                let (meta, v) = self.local_catalog_service(&name, &tags, opts).await?;
                Response::ServiceNodes(meta, v)
            }
            Request::CatalogNode { name, opts } => {
                let (meta, v) = self.local_catalog_node(&name, opts).await?;
                Response::NodeServices(meta, v)
            }
            Request::HealthNode { name, opts } => {
                let (meta, v) = self.local_health_node(&name, opts).await?;
                Response::Checks(meta, v)
            }
            Request::HealthChecks { service, opts } => {
                let (meta, v) = self.local_health_checks(&service, opts).await?;
                Response::Checks(meta, v)
            }
            Request::HealthService {
                name,
                tags,
                passing,
                opts,
            } => {
                let (meta, v) = self
                    .local_health_service(&name, &tags, passing, opts)
                    .await?;
                Response::CheckServiceNodes(meta, v)
            }
            Request::HealthState { state, opts } => {
                let (meta, v) = self.local_health_state(&state, opts).await?;
                Response::Checks(meta, v)
            }
            Request::StatusLeader => Response::Leader(self.leader_addr()),
            Request::StatusPeers => Response::Peers(self.peers()),
            Request::SessionCreate(session) => {
                Response::SessionId(self.local_session_create(*session).await?)
            }
            Request::SessionDestroy(id) => Response::Bool(self.local_session_destroy(id).await?),
            Request::SessionRenew(id) => {
                let (meta, v) = self.local_session_renew(id).await?;
                Response::Sessions(meta, v)
            }
            Request::SessionInfo { id, opts } => {
                let (meta, v) = self
                    .local_session_read(|view| view.session(&id).value.into_iter().collect(), opts)
                    .await?;
                Response::Sessions(meta, v)
            }
            Request::SessionList { opts } => {
                let (meta, v) = self
                    .local_session_read(|view| view.sessions().value, opts)
                    .await?;
                Response::Sessions(meta, v)
            }
            Request::SessionNode { node, opts } => {
                let (meta, v) = self
                    .local_session_read(|view| view.node_sessions(&node).value, opts)
                    .await?;
                Response::Sessions(meta, v)
            }
            Request::Txn { ops, opts } => {
                let (meta, outcome) = self.local_txn(ops, opts).await?;
                Response::Txn(meta, outcome)
            }
            Request::AutopilotGetConfig { opts } => {
                Response::AutopilotConfig(Box::new(self.local_autopilot_get_config(opts).await?))
            }
            Request::AutopilotSetConfig { config, cas } => {
                Response::Bool(self.local_autopilot_set_config(*config, cas).await?)
            }
            Request::AutopilotHealth => Response::AutopilotHealth(self.local_autopilot_health()?),
            Request::ReadIndex => Response::ReadIndex(self.raft.read_index().await?),
            other => {
                return Err(ServerError::Remote(format!(
                    "unsupported request {other:?}"
                )));
            }
        })
    }
}

/// Writes, reads that are not `?stale`, autopilot health and read indexes must be
/// answered by the leader.
fn needs_leader(req: &Request) -> bool {
    req.is_write()
        || matches!(req, Request::AutopilotHealth | Request::ReadIndex)
        || req
            .query_options()
            .is_some_and(|o| o.consistency != Consistency::Stale)
}

/// Whether trying again (at the then-current leader) is safe and may help. A write is
/// retried only when it certainly was not applied: no leader, the server asked did not
/// lead (it refused before proposing), or no connection could be made. A read is also
/// retried when the connection broke; a timeout is never retried.
fn retryable(e: &ServerError, is_write: bool) -> bool {
    match e {
        ServerError::NoLeader
        | ServerError::NotLeader { .. }
        | ServerError::Rpc(RpcError::ConnectFailed { .. }) => true,
        ServerError::Rpc(RpcError::Unavailable { .. })
        | ServerError::Rpc(RpcError::Remote(RemoteError::ShuttingDown)) => !is_write,
        _ => false,
    }
}

/// A read a follower may serve after a read index (default and consistent reads).
fn follower_readable(req: &Request) -> bool {
    !req.is_write()
        && req
            .query_options()
            .is_some_and(|o| o.consistency != Consistency::Stale)
}

fn expect_sessions(resp: Response) -> Result<(QueryMeta, Vec<Session>), ServerError> {
    match resp {
        Response::Sessions(meta, v) => Ok((meta, v)),
        _ => Err(ServerError::UnexpectedResponse("sessions")),
    }
}

fn expect_bool(resp: Response, what: &'static str) -> Result<bool, ServerError> {
    match resp {
        Response::Bool(ok) => Ok(ok),
        _ => Err(ServerError::UnexpectedResponse(what)),
    }
}

fn expect_checks(resp: Response) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
    match resp {
        Response::Checks(meta, v) => Ok((meta, v)),
        _ => Err(ServerError::UnexpectedResponse("health checks")),
    }
}

#[cfg(test)]
mod tests {
    use praetor_state::ApplyError;

    use super::*;

    fn read(consistency: Consistency) -> Request {
        Request::CatalogNodes {
            opts: QueryOptions {
                consistency,
                ..QueryOptions::default()
            },
        }
    }

    #[test]
    fn writes_and_non_stale_reads_need_the_leader() {
        assert!(needs_leader(&Request::KvApply(KvRequest::set("k", "v"))));
        assert!(needs_leader(&read(Consistency::Default)));
        assert!(needs_leader(&read(Consistency::Consistent)));
        assert!(!needs_leader(&read(Consistency::Stale)));
        assert!(!needs_leader(&Request::StatusLeader));
    }

    #[test]
    fn writes_are_retried_only_when_certainly_not_applied() {
        let unavailable = || {
            ServerError::Rpc(RpcError::Unavailable {
                addr: "127.0.0.1:1".into(),
                message: "connection refused".into(),
            })
        };
        let timeout = || {
            ServerError::Rpc(RpcError::Timeout {
                addr: "127.0.0.1:1".into(),
                timeout: std::time::Duration::from_secs(1),
            })
        };
        for is_write in [true, false] {
            assert!(retryable(&ServerError::NoLeader, is_write));
            let not_leader = ServerError::NotLeader {
                leader_addr: String::new(),
            };
            assert!(retryable(&not_leader, is_write));
            assert!(!retryable(&timeout(), is_write));
            assert!(!retryable(
                &ServerError::Apply(ApplyError::MissingKey),
                is_write
            ));
        }
        assert!(!retryable(&unavailable(), true));
        assert!(retryable(&unavailable(), false));
        let refused = ServerError::Rpc(RpcError::ConnectFailed {
            addr: "127.0.0.1:1".into(),
            message: "connection refused".into(),
        });
        assert!(retryable(&refused, true));
    }

    #[test]
    fn the_leaders_errors_come_back_as_they_were() {
        let cases = [
            ServerError::NoLeader,
            ServerError::NotLeader {
                leader_addr: "a:1".into(),
            },
            ServerError::Apply(ApplyError::InvalidSession("s".into())),
        ];
        for e in cases {
            let text = e.to_string();
            let back = ServerError::from(RpcError::Remote(RemoteError::from(e)));
            assert_eq!(back.to_string(), text);
        }
        let back = ServerError::from(RpcError::Remote(RemoteError::from(
            ServerError::UnexpectedResponse("kv write"),
        )));
        assert!(
            matches!(back, ServerError::Remote(ref m) if m == "unexpected response to kv write")
        );
    }
}
