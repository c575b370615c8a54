//! Server mode: the replicated state behind a server agent (Consul's `agent/consul`).
//!
//! Writes go through Raft ([`praetor_raft::RaftNode::propose`]) and are applied to the
//! state store on every server; reads honour the consistency mode and block as Consul's
//! blocking queries do. Must not serve HTTP or DNS: the agent wraps a [`Server`] in its
//! `Backend`.

mod blocking;
mod catalog;
mod error;
mod kv;
mod leader;
mod tombstone;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use catalog::Answer;
pub use error::ServerError;
pub use leader::{
    CONSUL_SERVICE_ID, DEFAULT_RECONCILE_INTERVAL, Member, SERF_CHECK_ALIVE_OUTPUT, SERF_CHECK_ID,
    SERF_CHECK_NAME,
};
use praetor_raft::{RaftConfig, RaftNode, RaftStatus};
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
    /// `serfHealth` check and `consul` service (`None`: nothing is registered).
    pub member: Option<Member>,
    /// How often the leader reconciles members into the catalog besides on election.
    pub reconcile_interval: Duration,
}

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
        }
    }
}

/// A running server: the state store and the Raft node that feeds it.
#[derive(Clone)]
pub struct Server {
    store: Store,
    raft: RaftNode,
    default_query_time: Duration,
    max_query_time: Duration,
    /// Stops the leader-duty tasks.
    stop: CancellationToken,
    /// Leader-duty tasks (tombstone reaper, member reconcile), awaited on shutdown.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Server {
    /// Opens the Raft log (recovering state from snapshot and log) and starts Raft.
    pub async fn start(cfg: ServerConfig) -> Result<Self, ServerError> {
        let store = Store::new();
        let raft = RaftNode::start(cfg.raft, store.clone()).await?;
        let server = Self {
            store,
            raft,
            default_query_time: cfg.default_query_time,
            max_query_time: cfg.max_query_time,
            stop: CancellationToken::new(),
            tasks: Arc::default(),
        };
        let mut tasks = vec![tokio::spawn(
            server
                .clone()
                .reap_tombstones(cfg.tombstone_ttl, server.stop.clone()),
        )];
        if let Some(member) = cfg.member {
            tasks.push(tokio::spawn(server.clone().reconcile_members(
                vec![member],
                cfg.reconcile_interval,
                server.stop.clone(),
            )));
        }
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

    /// The leader's server RPC address, or `""` when none is known (`/v1/status/leader`).
    pub fn leader_addr(&self) -> String {
        self.raft.status().leader_addr.unwrap_or_default()
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
