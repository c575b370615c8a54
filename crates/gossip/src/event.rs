//! Events a pool reports: member changes (for the leader's catalog reconcile) and user events.

use bytes::Bytes;

use crate::Member;

/// What happened to the members of a [`MemberEvent`] (serf's event types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberEventKind {
    /// Joined, or came back alive after failing.
    Join,
    /// Left gracefully, or was force-left.
    Leave,
    /// Stopped answering probes.
    Failed,
    /// Changed its tags or address.
    Update,
    /// Removed from the member list: failed past `reconnect_timeout`, left past the tombstone
    /// timeout, or force-left with prune.
    Reap,
}

impl MemberEventKind {
    /// Serf's name for the event: `member-join`, `member-leave` …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Join => "member-join",
            Self::Leave => "member-leave",
            Self::Failed => "member-failed",
            Self::Update => "member-update",
            Self::Reap => "member-reap",
        }
    }
}

impl std::fmt::Display for MemberEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One or more members that changed the same way, with their state after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEvent {
    /// What happened.
    pub kind: MemberEventKind,
    /// Who it happened to.
    pub members: Vec<Member>,
}

/// A user event received from the pool (including the ones this member fired), each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEvent {
    /// The event name.
    pub name: String,
    /// The opaque payload.
    pub payload: Bytes,
    /// The event's Lamport time in the pool.
    pub ltime: u64,
    /// Whether it may be coalesced with later events of the same name.
    pub coalesce: bool,
}
