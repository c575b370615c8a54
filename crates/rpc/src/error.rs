//! Why an RPC failed: on the way ([`RpcError`]) or at the server ([`RemoteError`]).

use std::io;
use std::time::Duration;

use praetor_state::ApplyError;
use serde::{Deserialize, Serialize};

/// The error a server answered a [`crate::Request`] with; it travels on the wire, so the
/// caller can rebuild the server's error and answer exactly as the server would have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// No leader is known (Consul's text, which clients match on).
    #[error("No cluster leader")]
    NoLeader,
    /// The server does not lead and will not forward (already forwarded once).
    #[error("not the leader; leader is {leader_addr}")]
    NotLeader {
        /// The leader's server address as that server knows it (may be empty).
        leader_addr: String,
    },
    /// The state store rejected the write.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// Anything else, with the server's message.
    #[error("{0}")]
    Failed(String),
}

/// Why [`crate::RpcClient`] got no answer (or got an error answer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The server answered with an error.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// No answer within the call's deadline.
    #[error("rpc to {addr} timed out after {timeout:?}")]
    Timeout {
        /// The server address.
        addr: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// No connection could be made: the request was certainly not delivered, so even a
    /// write may be retried.
    #[error("rpc to {addr} failed: {message}")]
    ConnectFailed {
        /// The server address.
        addr: String,
        /// What the connect said.
        message: String,
    },
    /// The server could not be reached or the connection broke; the request may or may
    /// not have been delivered.
    #[error("rpc to {addr} failed: {message}")]
    Unavailable {
        /// The server address.
        addr: String,
        /// What the transport said.
        message: String,
    },
    /// The address is not a valid `host:port`.
    #[error("invalid server address {addr:?}: {message}")]
    InvalidAddress {
        /// The address given.
        addr: String,
        /// Why it is invalid.
        message: String,
    },
    /// A frame could not be encoded or decoded, or the server rejected ours.
    #[error("rpc to {addr}: protocol error: {message}")]
    Protocol {
        /// The server address.
        addr: String,
        /// What went wrong.
        message: String,
    },
    /// The listener failed.
    #[error("rpc server")]
    Serve(#[source] tonic::transport::Error),
}

impl RpcError {
    /// Shapes a gRPC status from the call to `addr`.
    pub(crate) fn from_status(addr: &str, timeout: Duration, status: &tonic::Status) -> RpcError {
        let addr = addr.to_owned();
        match status.code() {
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
                RpcError::Timeout { addr, timeout }
            }
            tonic::Code::InvalidArgument
            | tonic::Code::Unimplemented
            | tonic::Code::ResourceExhausted
            | tonic::Code::Internal
            | tonic::Code::DataLoss => RpcError::Protocol {
                addr,
                message: status.message().to_owned(),
            },
            _ if connect_refused(status) => RpcError::ConnectFailed {
                addr,
                message: transport_message(status),
            },
            _ => RpcError::Unavailable {
                addr,
                message: transport_message(status),
            },
        }
    }

    /// The same failure as an `io::Error`, for the Raft transport: timeouts are
    /// `TimedOut` (openraft retries soon), the rest mark the peer unreachable.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            RpcError::Timeout { .. } => io::ErrorKind::TimedOut,
            RpcError::Unavailable { .. } | RpcError::ConnectFailed { .. } => {
                io::ErrorKind::ConnectionRefused
            }
            RpcError::InvalidAddress { .. } => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self.to_string())
    }
}

/// The most useful text of a transport failure: the innermost cause ("Connection
/// refused") rather than tonic's generic "transport error".
fn transport_message(status: &tonic::Status) -> String {
    let mut message = status.message().to_owned();
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    message
}

/// Whether the call failed because the TCP connect was refused (nothing was sent).
fn connect_refused(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        if s.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = s.source();
    }
    false
}
