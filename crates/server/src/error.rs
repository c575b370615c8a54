//! Why a server request failed.

use praetor_raft::RaftError;
use praetor_state::ApplyError;

/// Errors of server requests. `Display` texts are Consul's where clients see them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No leader is known.
    #[error("No cluster leader")]
    NoLeader,
    /// Another server leads; the request must go there.
    #[error("not the leader; leader is {leader_addr}")]
    NotLeader {
        /// The leader's server RPC address.
        leader_addr: String,
    },
    /// The state store rejected the command.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// Raft failed in a way a retry elsewhere will not fix.
    #[error("raft: {0}")]
    Raft(#[source] RaftError),
    /// Raft answered with a response of the wrong shape for the command.
    #[error("unexpected response to {0}")]
    UnexpectedResponse(&'static str),
}

impl From<RaftError> for ServerError {
    fn from(e: RaftError) -> Self {
        match e {
            RaftError::NoLeader => Self::NoLeader,
            RaftError::NotLeader { leader_addr, .. } => Self::NotLeader { leader_addr },
            RaftError::ShuttingDown => Self::ShuttingDown,
            other => Self::Raft(other),
        }
    }
}
