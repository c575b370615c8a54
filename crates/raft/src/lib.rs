//! praetor-raft: Raft for Praetor's servers, on openraft (Consul's `agent/consul` Raft
//! setup over hashicorp/raft, raft-wal and its FSM glue).
//!
//! Owns the Raft log (raft-log WAL under `data_dir/raft/wal`, or memory for `-dev`), the
//! state-machine adapter that applies `praetor_state::Command`s to the state store,
//! snapshot files (`data_dir/raft/snapshots`), write batching, linearizable-read checks
//! and the byte-level seam ([`RaftTransport`]) that Raft traffic between servers uses.
//! No openraft type appears in this crate's public API.
//!
//! Entry types: [`RaftNode`] (start, propose, read checks, status, shutdown) and
//! [`RaftConfig`].

mod cluster;
mod config;
mod error;
mod in_process;
mod log_store;
mod network;
mod node;
mod progress;
mod proposer;
mod snapshot_store;
mod state_machine;
mod status;
mod types;

use praetor_state as state;

pub use cluster::{RaftMember, RaftMembership};
pub use config::{
    DEFAULT_ELECTION_TIMEOUT, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_SNAPSHOT_THRESHOLD, RaftConfig,
};
pub use error::RaftError;
pub use in_process::InProcessNetwork;
pub use network::{NoTransport, RaftTransport};
pub use node::{Applied, RaftNode, ReadMode};
pub use progress::ServerProgress;
pub use status::RaftStatus;
