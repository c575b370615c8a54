//! Why a server request failed.

use praetor_raft::RaftError;
use praetor_rpc::{RemoteError, RpcError};
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
    /// Forwarding to the leader failed on the way (unreachable, timed out, broken);
    /// Consul's wording.
    #[error("rpc error making call: {0}")]
    Rpc(#[source] RpcError),
    /// The leader failed the forwarded request for a reason with no variant here.
    #[error("{0}")]
    Remote(String),
}

impl From<RpcError> for ServerError {
    /// The leader's own errors come back as the errors it had, so a forwarded request
    /// fails exactly as it would have on the leader.
    fn from(e: RpcError) -> Self {
        match e {
            RpcError::Remote(RemoteError::NoLeader) => Self::NoLeader,
            RpcError::Remote(RemoteError::NotLeader { leader_addr }) => {
                Self::NotLeader { leader_addr }
            }
            RpcError::Remote(RemoteError::Apply(e)) => Self::Apply(e),
            RpcError::Remote(RemoteError::Failed(message)) => Self::Remote(message),
            other => Self::Rpc(other),
        }
    }
}

impl From<ServerError> for RemoteError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::NoLeader => Self::NoLeader,
            ServerError::NotLeader { leader_addr } => Self::NotLeader { leader_addr },
            ServerError::Apply(e) => Self::Apply(e),
            ServerError::ShuttingDown => Self::ShuttingDown,
            ServerError::Rpc(RpcError::Remote(remote)) => remote,
            other => Self::Failed(other.to_string()),
        }
    }
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
