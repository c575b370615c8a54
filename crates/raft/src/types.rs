//! The openraft type configuration. Everything here stays inside this crate: no openraft
//! type appears in the public API.

use std::fmt;
use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::state::{ApplyError, Command, CommandResponse};

/// The payload of a normal log entry: one state-store command (often a `Command::Batch`
/// packed by the proposer).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Proposal(pub(crate) Command);

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Entries are logged by openraft at debug level; the variant is enough there.
        match &self.0 {
            Command::Batch(cmds) => write!(f, "batch({})", cmds.len()),
            other => write!(f, "{other:?}"),
        }
    }
}

/// What applying one entry produced, handed back to the proposer.
pub(crate) type ApplyOutcome = Result<CommandResponse, ApplyError>;

openraft::declare_raft_types!(
    pub(crate) TypeConfig:
        D = Proposal,
        R = ApplyOutcome,
);

pub(crate) type Raft = openraft::Raft<TypeConfig, crate::state_machine::StateMachine>;
pub(crate) type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub(crate) type Vote = openraft::alias::VoteOf<TypeConfig>;
pub(crate) type Entry = openraft::alias::EntryOf<TypeConfig>;
pub(crate) type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub(crate) type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
/// Snapshots travel as whole in-memory buffers: the state store is in memory anyway.
pub(crate) type SnapshotData = Cursor<Vec<u8>>;
pub(crate) type Snapshot = openraft::alias::SnapshotOf<TypeConfig, SnapshotData>;
