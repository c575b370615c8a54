//! The crate's error type.

use std::io;

/// Why a Raft operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RaftError {
    /// No leader is known; Consul's text, which clients match on.
    #[error("No cluster leader")]
    NoLeader,
    /// Another server leads; retry there.
    #[error("not the leader: node {leader_id} at {leader_addr} leads")]
    NotLeader {
        /// The leader's node id.
        leader_id: u64,
        /// The leader's advertised server address.
        leader_addr: String,
    },
    /// The node is shutting down or has shut down.
    #[error("raft is shutting down")]
    ShuttingDown,
    /// The leader could not confirm it still holds a quorum (linearizable reads).
    #[error("leadership lost while confirming a quorum")]
    LeadershipLost,
    /// The operation did not finish in time.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(std::time::Duration, &'static str),
    /// A proposal's entry was dropped during a leader change; it may or may not commit.
    #[error("write outcome unknown after a leader change")]
    OutcomeUnknown,
    /// The Raft log or snapshot files could not be read or written.
    #[error("raft storage")]
    Storage(#[source] io::Error),
    /// Another server's Raft RPC could not be decoded, or our reply encoded.
    #[error("invalid raft rpc")]
    InvalidRpc(#[source] io::Error),
    /// An invariant broke; the node cannot continue.
    #[error("raft fatal error: {0}")]
    Fatal(String),
}

impl RaftError {
    /// True when the caller should retry on another server (leader unknown or elsewhere).
    pub fn is_retryable_elsewhere(&self) -> bool {
        matches!(self, RaftError::NoLeader | RaftError::NotLeader { .. })
    }
}
