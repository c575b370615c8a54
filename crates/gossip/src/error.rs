//! Errors of the gossip pool.

/// Why a gossip operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gossip encryption key is not valid base64 of 16, 24 or 32 bytes.
    #[error("{0}")]
    InvalidKey(String),
    /// The node name cannot be used as a gossip node id (empty or longer than 255 bytes).
    #[error("invalid node name {name:?}: {reason}")]
    InvalidNodeName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The pool could not start (bind failure, bad options).
    #[error("failed to start gossip pool: {0}")]
    Start(String),
    /// No address given to `join` could be contacted (Consul: `Failed to join any nodes.`).
    #[error("{0}")]
    Join(String),
    /// The graceful leave failed or timed out.
    #[error("{0}")]
    Leave(String),
    /// `force_leave` named a node that is not a member (Consul's exact text).
    #[error("agent: No node found with name '{0}'")]
    NoSuchNode(String),
    /// The force-leave broadcast failed.
    #[error("{0}")]
    ForceLeave(String),
    /// The tags do not fit in the gossip metadata (512 bytes encoded).
    #[error("{0}")]
    Tags(String),
    /// The user event was too large or could not be broadcast.
    #[error("{0}")]
    UserEvent(String),
    /// A keyring operation failed to run.
    #[error("{0}")]
    Keyring(String),
    /// Stopping the pool failed.
    #[error("failed to stop gossip pool: {0}")]
    Stop(String),
}
