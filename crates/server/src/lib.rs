//! Server mode: the replicated state behind a server agent (Consul's `agent/consul`).
//!
//! Writes go through Raft ([`praetor_raft::RaftNode::propose`]) and are applied to the
//! state store on every server; reads honour the consistency mode and block as Consul's
//! blocking queries do. Must not serve HTTP or DNS: the agent wraps a [`Server`] in its
//! `Backend`.
//!
//! # Clustering
//!
//! A server in a cluster is started with [`Server::start_with_rpc`]: its Raft traffic and
//! its forwarding to the leader go through a `praetor_rpc::RpcClient`, and it answers
//! other servers by serving itself (it implements `praetor_rpc::Handler`):
//!
//! ```ignore
//! let listener = tokio::net::TcpListener::bind(server_rpc_addr).await?;
//! let rpc = praetor_rpc::RpcClient::new(praetor_rpc::ClientConfig::default());
//! let server = Server::start_with_rpc(cfg, rpc).await?;
//! let serving = tokio::spawn(praetor_rpc::serve(listener, Arc::new(server.clone()), stop.clone()));
//! // on the leader, once gossip sees a new server:
//! server.add_server(node_id, &its_rpc_addr, join_timeout).await?;
//! // stop: cancel `stop`, await `serving`, then `server.shutdown()`.
//! ```
//!
//! Followers forward writes and default/consistent reads to the leader (see `forward`);
//! `?stale` reads are answered from the local replica.

mod autopilot;
mod blocking;
mod catalog;
mod error;
mod forward;
mod kv;
mod leader;
mod rpc;
mod session;
mod tombstone;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use autopilot::{DEFAULT_AUTOPILOT_INTERVAL, DEFAULT_DEAD_SERVER_GRACE};
pub use catalog::Answer;
pub use error::ServerError;
pub use leader::{
    CONSUL_SERVICE_ID, DEFAULT_RECONCILE_INTERVAL, Member, MemberState, SERF_CHECK_ALIVE_OUTPUT,
    SERF_CHECK_FAILED_OUTPUT, SERF_CHECK_ID, SERF_CHECK_NAME,
};
use praetor_raft::{
    NoTransport, RaftConfig, RaftError, RaftMembership, RaftNode, RaftStatus, RaftTransport,
};
use praetor_rpc::RpcClient;
use praetor_state::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
pub use tombstone::DEFAULT_TOMBSTONE_TTL;
use tracing::info;

/// How a server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Raft identity, storage and timing.
    pub raft: RaftConfig,
    /// Blocking wait when a query names `?index` but no `?wait` (Consul: 5 minutes).
    pub default_query_time: Duration,
    /// Upper bound of any blocking wait (Consul: 10 minutes).
    pub max_query_time: Duration,
    /// How long deleted keys' tombstones are kept before the leader reaps them.
    pub tombstone_ttl: Duration,
    /// This server's own agent, which the leader keeps in the catalog with its
    /// `serfHealth` check and `consul` service until gossip gives the member list
    /// ([`Server::set_members`]); `None`: nothing is registered until then.
    pub member: Option<Member>,
    /// How often the leader reconciles members into the catalog besides on election.
    pub reconcile_interval: Duration,
    /// How long a request that needs the leader waits for one to be elected (or for
    /// leadership to settle) before failing with `No cluster leader` (Consul's
    /// `rpc_hold_timeout`).
    pub rpc_hold_timeout: Duration,
    /// The agent's `autopilot { … }` settings: written into Raft by the first leader that
    /// finds none there; afterwards the operator API changes them.
    pub autopilot: praetor_types::AutopilotConfig,
    /// How often the leader runs autopilot (dead-server cleanup).
    pub autopilot_interval: Duration,
    /// How long gossip must report a server `failed` before autopilot removes it.
    pub dead_server_grace: Duration,
    /// Beyond Consul: a follower serves default and `?consistent` reads itself once it
    /// has applied the leader's read index (a quorum-confirmed ReadIndex), instead of
    /// forwarding the whole read (`read_index_follower_reads`).
    pub read_index_follower_reads: bool,
}

/// Consul's `rpc_hold_timeout` default.
pub const DEFAULT_RPC_HOLD_TIMEOUT: Duration = Duration::from_secs(7);

impl ServerConfig {
    /// Consul's query-time defaults around the given Raft configuration.
    pub fn new(raft: RaftConfig) -> Self {
        Self {
            raft,
            default_query_time: Duration::from_secs(300),
            max_query_time: Duration::from_secs(600),
            tombstone_ttl: DEFAULT_TOMBSTONE_TTL,
            member: None,
            reconcile_interval: DEFAULT_RECONCILE_INTERVAL,
            rpc_hold_timeout: DEFAULT_RPC_HOLD_TIMEOUT,
            autopilot: praetor_types::AutopilotConfig::default(),
            autopilot_interval: DEFAULT_AUTOPILOT_INTERVAL,
            dead_server_grace: DEFAULT_DEAD_SERVER_GRACE,
            read_index_follower_reads: false,
        }
    }
}

/// A Raft id from a node ID (a UUID): its first 8 bytes, never 0. Every server derives
/// the others' ids from their gossiped node IDs this way.
pub fn raft_id(node_id: &str) -> u64 {
    let hex: String = node_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(16)
        .collect();
    u64::from_str_radix(&hex, 16).unwrap_or(1).max(1)
}

/// A running server: the state store and the Raft node that feeds it.
#[derive(Clone)]
pub struct Server {
    store: Store,
    raft: RaftNode,
    default_query_time: Duration,
    max_query_time: Duration,
    /// Connections to the other servers, for forwarding to the leader (`None`: a lone
    /// server, which never forwards).
    rpc: Option<RpcClient>,
    rpc_hold_timeout: Duration,
    /// Stops the leader-duty tasks.
    stop: CancellationToken,
    /// Leader-duty tasks (tombstone reaper, member reconcile), awaited on shutdown.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The leader's session TTL deadlines.
    session_timers: session::SharedTimers,
    /// The members the leader reconciles into the catalog (`None`: none known yet).
    members: Arc<tokio::sync::watch::Sender<Option<Vec<Member>>>>,
    /// Servers being added to Raft right now (by Raft id).
    adding: Arc<Mutex<HashSet<u64>>>,
    /// Autopilot's settings and health bookkeeping.
    autopilot: Arc<autopilot::AutopilotState>,
    /// Serve default and consistent reads on a follower after a read index.
    follower_reads: bool,
}

impl Server {
    /// Opens the Raft log (recovering state from snapshot and log) and starts Raft, with
    /// no other servers reachable (`-dev`, or a lone `-bootstrap` server).
    pub async fn start(cfg: ServerConfig) -> Result<Self, ServerError> {
        Self::start_inner(cfg, Arc::new(NoTransport), None).await
    }

    /// Like [`Server::start`], for a server in a cluster: Raft traffic and forwarding to
    /// the leader go through `rpc`. Serve the other servers' RPCs with
    /// `praetor_rpc::serve(listener, Arc::new(server.clone()), stop)`.
    pub async fn start_with_rpc(cfg: ServerConfig, rpc: RpcClient) -> Result<Self, ServerError> {
        Self::start_inner(cfg, rpc.raft_transport(), Some(rpc)).await
    }

    async fn start_inner(
        cfg: ServerConfig,
        transport: Arc<dyn RaftTransport>,
        rpc: Option<RpcClient>,
    ) -> Result<Self, ServerError> {
        let store = Store::new();
        let raft = RaftNode::start_with_transport(cfg.raft, store.clone(), transport).await?;
        let server = Self {
            store,
            raft,
            default_query_time: cfg.default_query_time,
            max_query_time: cfg.max_query_time,
            rpc,
            rpc_hold_timeout: cfg.rpc_hold_timeout,
            stop: CancellationToken::new(),
            tasks: Arc::default(),
            session_timers: Arc::default(),
            members: Arc::new(tokio::sync::watch::channel(cfg.member.map(|m| vec![m])).0),
            adding: Arc::default(),
            autopilot: Arc::new(autopilot::AutopilotState {
                defaults: cfg.autopilot,
                dead_server_grace: cfg.dead_server_grace,
                ..Default::default()
            }),
            follower_reads: cfg.read_index_follower_reads,
        };
        let tasks = vec![
            tokio::spawn(
                server
                    .clone()
                    .reap_tombstones(cfg.tombstone_ttl, server.stop.clone()),
            ),
            tokio::spawn(server.clone().run_session_timers(server.stop.clone())),
            tokio::spawn(
                server
                    .clone()
                    .reconcile_members(cfg.reconcile_interval, server.stop.clone()),
            ),
            tokio::spawn(
                server
                    .clone()
                    .run_autopilot(cfg.autopilot_interval, server.stop.clone()),
            ),
        ];
        *server.tasks.lock().expect("tasks lock poisoned") = tasks;
        Ok(server)
    }

    /// Waits until a leader is known (and, if it is this server, ready for writes).
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<(), ServerError> {
        Ok(self.raft.wait_for_leader(timeout).await?)
    }

    /// Raft's view of the cluster.
    pub fn raft_status(&self) -> RaftStatus {
        self.raft.status()
    }

    /// Raft status updates (leader changes, commit progress).
    pub fn raft_status_watch(&self) -> tokio::sync::watch::Receiver<RaftStatus> {
        self.raft.status_watch()
    }

    /// The leader's server RPC address, or `""` when none is known (`/v1/status/leader`),
    /// as on a leader cut off from the majority (its lease lost: Consul's would have
    /// stepped down).
    pub fn leader_addr(&self) -> String {
        let status = self.raft.status();
        if status.lease_lost {
            return String::new();
        }
        status.leader_addr.unwrap_or_default()
    }

    /// The catalog's index in this server's own state: the highest of the nodes,
    /// services and checks tables. Reads nothing else and waits on nothing: what an
    /// answer cache over stale catalog reads is keyed on (any catalog write moves it).
    pub fn catalog_index(&self) -> u64 {
        let view = self.store.view();
        [
            praetor_state::Table::Nodes,
            praetor_state::Table::Services,
            praetor_state::Table::Checks,
        ]
        .into_iter()
        .map(|t| view.table_index(t))
        .max()
        .unwrap_or(0)
    }

    /// The voters' server RPC addresses (`/v1/status/peers`).
    pub fn peers(&self) -> Vec<String> {
        self.raft
            .status()
            .voters
            .into_iter()
            .map(|(_, addr)| addr)
            .collect()
    }

    /// Adds server `node_id`, reachable at `rpc_addr`, to the Raft cluster: as a learner
    /// first, promoted to voter once it has caught up (a snapshot if it is far behind).
    /// Leader only ([`ServerError::NotLeader`] elsewhere); adding a voter again is a
    /// no-op. Gives up after `timeout`, leaving a learner that never caught up a learner.
    pub async fn add_server(
        &self,
        node_id: u64,
        rpc_addr: &str,
        timeout: Duration,
    ) -> Result<(), ServerError> {
        info!(node_id, addr = rpc_addr, "adding raft server");
        match tokio::time::timeout(timeout, self.raft.add_voter(node_id, rpc_addr)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(ServerError::Raft(RaftError::Timeout(
                timeout,
                "the new server to catch up",
            ))),
        }
    }

    /// Initialises a fresh Raft log with `voters` (Raft id → server RPC address) as the
    /// first configuration (`-bootstrap-expect`); `false` when the log already had one.
    pub async fn bootstrap_cluster(
        &self,
        voters: BTreeMap<u64, String>,
    ) -> Result<bool, ServerError> {
        Ok(self.raft.bootstrap_cluster(voters).await?)
    }

    /// Whether Raft holds a configuration (bootstrapped, or added by a leader).
    pub async fn raft_initialized(&self) -> Result<bool, ServerError> {
        Ok(self.raft.is_initialized().await?)
    }

    /// Removes server `node_id` from the Raft configuration. Leader only.
    pub async fn remove_server(&self, node_id: u64) -> Result<(), ServerError> {
        info!(node_id, "removing raft server");
        Ok(self.raft.remove_server(node_id).await?)
    }

    /// The Raft configuration with each server's progress.
    pub fn raft_membership(&self) -> RaftMembership {
        self.raft.membership()
    }

    /// The Raft node under this server, for diagnostics and tests.
    #[doc(hidden)]
    pub fn raft_node(&self) -> &RaftNode {
        &self.raft
    }

    /// This server's Raft node id.
    pub fn node_id(&self) -> u64 {
        self.raft.config().node_id
    }

    /// The state store (read-only use: views and watches).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops Raft after flushing the log.
    pub async fn shutdown(&self) -> Result<(), ServerError> {
        info!("shutting down server");
        self.stop.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("tasks lock poisoned"));
        for task in tasks {
            let _ = task.await;
        }
        Ok(self.raft.shutdown().await?)
    }
}
