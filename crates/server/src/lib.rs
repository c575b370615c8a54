//! Server mode: the replicated state behind a server agent (Consul's `agent/consul`).
//!
//! Writes go through Raft ([`praetor_raft::RaftNode::propose`]) and are applied to the
//! state store on every server; reads honour the consistency mode and block as Consul's
//! blocking queries do. Must not serve HTTP or DNS: the agent wraps a [`Server`] in its
//! `Backend`.

mod blocking;
mod error;
mod kv;

use std::time::Duration;

pub use error::ServerError;
use praetor_raft::{RaftConfig, RaftNode, RaftStatus};
use praetor_state::Store;
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
}

impl ServerConfig {
    /// Consul's query-time defaults around the given Raft configuration.
    pub fn new(raft: RaftConfig) -> Self {
        Self {
            raft,
            default_query_time: Duration::from_secs(300),
            max_query_time: Duration::from_secs(600),
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
}

impl Server {
    /// Opens the Raft log (recovering state from snapshot and log) and starts Raft.
    pub async fn start(cfg: ServerConfig) -> Result<Self, ServerError> {
        let store = Store::new();
        let raft = RaftNode::start(cfg.raft, store.clone()).await?;
        Ok(Self {
            store,
            raft,
            default_query_time: cfg.default_query_time,
            max_query_time: cfg.max_query_time,
        })
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
        Ok(self.raft.shutdown().await?)
    }
}
