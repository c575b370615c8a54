//! A `Backend` that records what it is asked and answers with canned results.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use praetor_agent::{AgentSelf, Backend, BackendError};
use praetor_http::{HttpConfig, router};
use std::collections::BTreeMap;

use praetor_types::{
    CheckServiceNode, Consistency, DeregisterRequest, HealthCheck, HealthStatus, KvEntry, KvQuery,
    KvRequest, KvResult, Node, NodeService, NodeServices, QueryMeta, QueryOptions,
    RaftConfiguration, RaftPeer, RegisterRequest, ServiceNode, UserEvent, member::Member,
};
use tokio::sync::Notify;
use tower::ServiceExt as _;

pub struct FakeBackend {
    pub reads: Mutex<Vec<(KvQuery, QueryOptions)>>,
    pub writes: Mutex<Vec<KvRequest>>,
    pub read_answer: Mutex<Result<(QueryMeta, KvResult), BackendError>>,
    pub write_answer: Mutex<Result<bool, BackendError>>,
    /// When set, `kv_read` never answers (a blocking query that nothing wakes).
    pub block_reads: bool,
    /// Notified whenever `kv_read` is entered.
    pub read_started: Notify,
    /// Catalog and health calls and canned answers.
    pub catalog: Mutex<CatalogFake>,
    /// Agent-local services/checks calls and canned answers.
    pub agent: Mutex<AgentFake>,
    /// Gossip and Raft calls and canned answers.
    pub cluster: Mutex<ClusterFake>,
    /// Events fired (each answered with ID `id-<n>`) and listed back, with the
    /// options of every list call.
    pub events: Mutex<EventsFake>,
    /// When set, KV reads and writes go to this store, and blocking reads of one key
    /// can park ([`Backend::kv_watch`]).
    pub store: Option<praetor_state::Store>,
    /// The last Raft-like index given to a store write.
    pub store_index: std::sync::atomic::AtomicU64,
}

/// Events fired and the `(name, options)` of every list call.
pub type EventsFake = (Vec<UserEvent>, Vec<(Option<String>, QueryOptions)>);

/// What the agent-local methods were asked and answer.
#[derive(Default)]
pub struct AgentFake {
    pub services: Vec<NodeService>,
    pub checks: Vec<HealthCheck>,
    /// Every call, as `method arg…` text.
    pub calls: Vec<String>,
    /// Bodies of service and check registrations.
    pub bodies: Vec<serde_json::Value>,
    /// When set, every write fails with it.
    pub error: Option<BackendError>,
}

/// What the catalog/health methods were asked and answer.
#[derive(Default)]
pub struct CatalogFake {
    pub registers: Vec<RegisterRequest>,
    pub deregisters: Vec<DeregisterRequest>,
    /// One per read: method, path argument, tags, passing, options.
    pub reads: Vec<CatalogRead>,
    /// Index every read answers with.
    pub index: u64,
    /// When set, every catalog call fails with it.
    pub error: Option<BackendError>,
    pub nodes: Vec<Node>,
    pub services: BTreeMap<String, Vec<String>>,
    pub service_nodes: Vec<ServiceNode>,
    pub node: Option<NodeServices>,
    pub checks: Vec<HealthCheck>,
    pub check_service_nodes: Vec<CheckServiceNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRead {
    pub method: &'static str,
    pub arg: String,
    pub tags: Vec<String>,
    pub passing: bool,
    pub opts: QueryOptions,
}

impl FakeBackend {
    pub fn agent(&self) -> std::sync::MutexGuard<'_, AgentFake> {
        self.agent.lock().expect("fake backend lock poisoned")
    }

    fn agent_call(&self, call: String) -> Result<(), BackendError> {
        let mut a = self.agent();
        a.calls.push(call);
        a.error.clone().map_or(Ok(()), Err)
    }

    pub fn cat(&self) -> std::sync::MutexGuard<'_, CatalogFake> {
        self.catalog.lock().expect("fake backend lock poisoned")
    }

    fn catalog_read<T>(
        &self,
        read: CatalogRead,
        answer: impl FnOnce(&CatalogFake) -> T,
    ) -> Result<(QueryMeta, T), BackendError> {
        let mut cat = self.cat();
        cat.reads.push(read);
        if let Some(e) = &cat.error {
            return Err(e.clone());
        }
        Ok((meta(cat.index), answer(&cat)))
    }
}

fn read(
    method: &'static str,
    arg: &str,
    tags: &[String],
    passing: bool,
    opts: QueryOptions,
) -> CatalogRead {
    CatalogRead {
        method,
        arg: arg.to_owned(),
        tags: tags.to_vec(),
        passing,
        opts,
    }
}

impl Default for FakeBackend {
    fn default() -> Self {
        Self {
            reads: Mutex::default(),
            writes: Mutex::default(),
            read_answer: Mutex::new(Ok((meta(0), KvResult::Entries(Vec::new())))),
            write_answer: Mutex::new(Ok(true)),
            block_reads: false,
            read_started: Notify::new(),
            catalog: Mutex::default(),
            agent: Mutex::default(),
            cluster: Mutex::default(),
            events: Mutex::default(),
            store: None,
            store_index: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

pub fn meta(index: u64) -> QueryMeta {
    QueryMeta {
        index,
        known_leader: true,
        last_contact: Duration::from_millis(7),
        consistency: Consistency::Default,
    }
}

pub fn entry(key: &str, value: &[u8], modify_index: u64) -> KvEntry {
    KvEntry {
        key: key.into(),
        value: value.to_vec(),
        create_index: modify_index,
        modify_index,
        ..KvEntry::default()
    }
}

impl FakeBackend {
    pub fn answering(result: KvResult, index: u64) -> Self {
        let fake = Self::default();
        *fake.read_answer.lock().expect("fake backend lock poisoned") = Ok((meta(index), result));
        fake
    }

    pub fn reads(&self) -> Vec<(KvQuery, QueryOptions)> {
        self.reads
            .lock()
            .expect("fake backend lock poisoned")
            .clone()
    }

    pub fn writes(&self) -> Vec<KvRequest> {
        self.writes
            .lock()
            .expect("fake backend lock poisoned")
            .clone()
    }
}

#[async_trait]
impl Backend for FakeBackend {
    async fn event_fire(&self, mut event: UserEvent) -> Result<UserEvent, BackendError> {
        let mut events = self.events.lock().expect("events lock");
        event.id = format!("id-{}", events.0.len());
        event.version = 1;
        events.0.push(event.clone());
        Ok(event)
    }

    async fn event_list(
        &self,
        name: Option<String>,
        opts: QueryOptions,
    ) -> Result<(u64, Vec<UserEvent>), BackendError> {
        let mut events = self.events.lock().expect("events lock");
        events.1.push((name.clone(), opts));
        let listed: Vec<UserEvent> = events
            .0
            .iter()
            .filter(|e| name.as_ref().is_none_or(|n| e.name == *n))
            .cloned()
            .collect();
        Ok((listed.len() as u64 * 10, listed))
    }

    async fn kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, KvResult), BackendError> {
        self.reads
            .lock()
            .expect("fake backend lock poisoned")
            .push((query.clone(), opts));
        self.read_started.notify_one();
        if let (Some(store), KvQuery::Get { key }) = (&self.store, &query) {
            let view = store.view();
            let (index, entries) = match view.kv_get(key) {
                Some(e) => (e.modify_index, vec![e.clone()]),
                None => (view.kv_table_index(), Vec::new()),
            };
            return Ok((meta(index.max(1)), KvResult::Entries(entries)));
        }
        if self.block_reads {
            std::future::pending::<()>().await;
        }
        self.read_answer
            .lock()
            .expect("fake backend lock poisoned")
            .clone()
    }

    fn kv_watch(&self, query: &KvQuery, opts: &QueryOptions) -> Option<praetor_agent::KvWatch> {
        let (Some(store), KvQuery::Get { key }) = (&self.store, query) else {
            return None;
        };
        if opts.min_index == 0 {
            return None;
        }
        let watch = store.watch_key(key);
        let view = store.view();
        let index = view
            .kv_get(key)
            .map_or_else(|| view.kv_table_index(), |e| e.modify_index);
        Some(praetor_agent::KvWatch {
            index: index.max(1),
            watch,
            wait: opts.max_wait.unwrap_or(Duration::from_secs(300)),
        })
    }

    fn kv_index(&self, query: &KvQuery) -> Option<u64> {
        let (Some(store), KvQuery::Get { key }) = (&self.store, query) else {
            return None;
        };
        let view = store.view();
        let index = view
            .kv_get(key)
            .map_or_else(|| view.kv_table_index(), |e| e.modify_index);
        Some(index.max(1))
    }

    async fn kv_write(&self, req: KvRequest) -> Result<bool, BackendError> {
        if let Some(store) = &self.store {
            let index = self
                .store_index
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1;
            let cmd = praetor_state::Command::Kv(req);
            return match store.apply(index, &cmd) {
                Ok(praetor_state::CommandResponse::Bool(ok)) => Ok(ok),
                other => Err(BackendError::Internal(format!("{other:?}"))),
            };
        }
        self.writes
            .lock()
            .expect("fake backend lock poisoned")
            .push(req);
        self.write_answer
            .lock()
            .expect("fake backend lock poisoned")
            .clone()
    }

    async fn catalog_register(&self, req: RegisterRequest) -> Result<bool, BackendError> {
        let mut cat = self.cat();
        cat.registers.push(req);
        cat.error.clone().map_or(Ok(true), Err)
    }

    async fn catalog_deregister(&self, req: DeregisterRequest) -> Result<bool, BackendError> {
        let mut cat = self.cat();
        cat.deregisters.push(req);
        cat.error.clone().map_or(Ok(true), Err)
    }

    async fn catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Node>), BackendError> {
        self.catalog_read(read("catalog_nodes", "", &[], false, opts), |c| {
            c.nodes.clone()
        })
    }

    async fn catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, BTreeMap<String, Vec<String>>), BackendError> {
        self.catalog_read(read("catalog_services", "", &[], false, opts), |c| {
            c.services.clone()
        })
    }

    async fn catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<ServiceNode>), BackendError> {
        self.catalog_read(read("catalog_service", name, tags, false, opts), |c| {
            c.service_nodes.clone()
        })
    }

    async fn catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Option<NodeServices>), BackendError> {
        self.catalog_read(read("catalog_node", name, &[], false, opts), |c| {
            c.node.clone()
        })
    }

    async fn health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.catalog_read(read("health_node", name, &[], false, opts), |c| {
            c.checks.clone()
        })
    }

    async fn health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.catalog_read(read("health_checks", service, &[], false, opts), |c| {
            c.checks.clone()
        })
    }

    async fn health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<CheckServiceNode>), BackendError> {
        self.catalog_read(read("health_service", name, tags, passing, opts), |c| {
            c.check_service_nodes.clone()
        })
    }

    async fn health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<HealthCheck>), BackendError> {
        self.catalog_read(read("health_state", state, &[], false, opts), |c| {
            c.checks.clone()
        })
    }

    async fn status_leader(&self) -> Result<String, BackendError> {
        Ok("127.0.0.1:8300".into())
    }

    async fn status_peers(&self) -> Result<Vec<String>, BackendError> {
        Ok(vec!["127.0.0.1:8300".into(), "127.0.0.2:8300".into()])
    }

    fn agent_self(&self) -> AgentSelf {
        AgentSelf {
            datacenter: "dc1".into(),
            node_name: "node1".into(),
            node_id: "9d754d17-0000-0000-0000-000000000001".into(),
            server: true,
            advertise_addr: "127.0.0.1".into(),
            server_port: 8300,
            serf_lan_port: 8301,
            http_port: 8500,
            dns_port: 8600,
            dev: true,
            ..AgentSelf::default()
        }
    }

    async fn agent_services(&self) -> Result<Vec<NodeService>, BackendError> {
        Ok(self.agent().services.clone())
    }

    async fn agent_checks(&self) -> Result<Vec<HealthCheck>, BackendError> {
        Ok(self.agent().checks.clone())
    }

    async fn agent_service_register(
        &self,
        definition: serde_json::Value,
        replace_existing_checks: bool,
    ) -> Result<(), BackendError> {
        self.agent().bodies.push(definition);
        self.agent_call(format!("service_register {replace_existing_checks}"))
    }

    async fn agent_service_deregister(&self, id: &str) -> Result<(), BackendError> {
        self.agent_call(format!("service_deregister {id}"))
    }

    async fn agent_service_maintenance(
        &self,
        id: &str,
        enable: bool,
        reason: &str,
    ) -> Result<(), BackendError> {
        self.agent_call(format!("service_maintenance {id} {enable} {reason}"))
    }

    async fn agent_node_maintenance(&self, enable: bool, reason: &str) -> Result<(), BackendError> {
        self.agent_call(format!("node_maintenance {enable} {reason}"))
    }

    async fn agent_check_register(
        &self,
        definition: serde_json::Value,
    ) -> Result<(), BackendError> {
        self.agent().bodies.push(definition);
        self.agent_call("check_register".to_owned())
    }

    async fn agent_check_deregister(&self, id: &str) -> Result<(), BackendError> {
        self.agent_call(format!("check_deregister {id}"))
    }

    async fn agent_check_update(
        &self,
        id: &str,
        status: HealthStatus,
        output: &str,
    ) -> Result<(), BackendError> {
        self.agent_call(format!("check_update {id} {status} {output}"))
    }

    async fn agent_reload(&self) -> Result<(), BackendError> {
        self.agent_call("reload".to_owned())
    }

    async fn agent_members(&self, wan: bool) -> Result<Vec<Member>, BackendError> {
        let c = self.cluster();
        if let Some(e) = &c.error {
            return Err(e.clone());
        }
        Ok(if wan { c.wan.clone() } else { c.lan.clone() })
    }

    async fn agent_join(&self, addr: &str, wan: bool) -> Result<usize, BackendError> {
        self.cluster_call(format!("join {addr} {wan}")).map(|()| 1)
    }

    async fn agent_leave(&self) -> Result<(), BackendError> {
        let answer = self.cluster_call("leave".to_owned());
        // As the agent does: the shutdown starts as the leave completes.
        let token = self.cluster().cancel_on_leave.clone();
        if let Some(token) = token {
            token.cancel();
            // Let the cancellation be seen before the leave returns.
            tokio::task::yield_now().await;
        }
        answer
    }

    async fn agent_force_leave(
        &self,
        node: &str,
        prune: bool,
        wan: bool,
    ) -> Result<(), BackendError> {
        self.cluster_call(format!("force_leave {node} {prune} {wan}"))
    }

    async fn operator_raft_configuration(
        &self,
        opts: QueryOptions,
    ) -> Result<RaftConfiguration, BackendError> {
        let mut c = self.cluster();
        c.calls
            .push(format!("raft_configuration {:?}", opts.consistency));
        match (&c.error, &c.raft) {
            (Some(e), _) => Err(e.clone()),
            (None, Some(raft)) => Ok(raft.clone()),
            (None, None) => Err(BackendError::Internal("no raft".into())),
        }
    }

    async fn operator_raft_remove_peer(&self, peer: RaftPeer) -> Result<(), BackendError> {
        self.cluster_call(format!("remove_peer {peer:?}"))
    }

    async fn operator_autopilot_configuration(
        &self,
        opts: QueryOptions,
    ) -> Result<praetor_types::AutopilotConfig, BackendError> {
        let mut c = self.cluster();
        c.calls
            .push(format!("autopilot_configuration {:?}", opts.consistency));
        Ok(c.autopilot.clone())
    }

    async fn operator_autopilot_set_configuration(
        &self,
        config: praetor_types::AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, BackendError> {
        let mut c = self.cluster();
        c.calls.push(format!(
            "autopilot_set {cas:?} {} {:?}",
            config.cleanup_dead_servers, config.last_contact_threshold
        ));
        if cas.is_some_and(|cas| cas != c.autopilot.modify_index) {
            return Ok(false);
        }
        c.autopilot = config;
        Ok(true)
    }

    async fn operator_autopilot_health(
        &self,
    ) -> Result<praetor_types::AutopilotHealth, BackendError> {
        Ok(self.cluster().health.clone())
    }
}

/// What the cluster methods were asked and answer.
#[derive(Default)]
pub struct ClusterFake {
    pub lan: Vec<Member>,
    pub wan: Vec<Member>,
    pub raft: Option<RaftConfiguration>,
    /// Every write call, as `method arg…` text.
    pub calls: Vec<String>,
    /// When set, every call fails with it.
    pub error: Option<BackendError>,
    /// The autopilot configuration answered and written.
    pub autopilot: praetor_types::AutopilotConfig,
    /// The autopilot health answered.
    pub health: praetor_types::AutopilotHealth,
    /// Cancelled by `agent_leave` before it returns, as the agent's shutdown would be.
    pub cancel_on_leave: Option<tokio_util::sync::CancellationToken>,
}

impl FakeBackend {
    pub fn cluster(&self) -> std::sync::MutexGuard<'_, ClusterFake> {
        self.cluster.lock().expect("fake backend lock poisoned")
    }

    fn cluster_call(&self, call: String) -> Result<(), BackendError> {
        let mut c = self.cluster();
        c.calls.push(call);
        c.error.clone().map_or(Ok(()), Err)
    }
}

/// A response with its body collected.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A router over `backend` with `cfg`.
pub fn app(backend: &Arc<FakeBackend>, cfg: HttpConfig) -> Router {
    router(backend.clone(), cfg)
}

pub async fn send(router: Router, req: Request<Body>) -> Reply {
    let resp = router.oneshot(req).await.expect("router is infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends `method uri` with an optional body to a fresh router over `backend`.
pub async fn call(backend: &Arc<FakeBackend>, method: &str, uri: &str, body: &[u8]) -> Reply {
    call_with(backend, HttpConfig::default(), method, uri, body).await
}

pub async fn call_with(
    backend: &Arc<FakeBackend>,
    cfg: HttpConfig,
    method: &str,
    uri: &str,
    body: &[u8],
) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body.to_vec()))
        .expect("valid request");
    send(app(backend, cfg), req).await
}
