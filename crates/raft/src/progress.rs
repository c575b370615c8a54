//! What the leader knows of each server's progress (autopilot's server health), and the
//! read-index primitives behind follower reads.

use std::collections::BTreeMap;
use std::time::Duration;

use openraft::Instant as _;
use openraft::ReadPolicy;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::LinearizableReadError;

use crate::error::RaftError;
use crate::node::RaftNode;

/// One server as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerProgress {
    /// Time since the leader last had an acknowledgement from it (zero for the leader;
    /// `None` when it never answered).
    pub last_contact: Option<Duration>,
    /// The last log index it is known to hold.
    pub last_index: u64,
    /// The term of that entry.
    pub last_term: u64,
}

impl RaftNode {
    /// The leader's view of every server's progress, by Raft id; empty on a non-leader.
    pub fn progress(&self) -> BTreeMap<u64, ServerProgress> {
        let m = self.raft().metrics().borrow_watched().clone();
        let Some(replication) = m.replication.as_ref() else {
            return BTreeMap::new();
        };
        let heartbeat = m.heartbeat.as_ref();
        let mut out: BTreeMap<u64, ServerProgress> = replication
            .iter()
            .map(|(id, matched)| {
                let last_contact = heartbeat
                    .and_then(|h| h.get(id))
                    .and_then(|t| t.as_ref())
                    .map(|t| t.elapsed());
                let (last_index, last_term) = matched
                    .as_ref()
                    .map_or((0, 0), |l| (l.index, l.leader_id.term));
                (
                    *id,
                    ServerProgress {
                        last_contact,
                        last_index,
                        last_term,
                    },
                )
            })
            .collect();
        out.insert(
            m.id,
            ServerProgress {
                last_contact: Some(Duration::ZERO),
                last_index: m.last_log_index.unwrap_or(0),
                last_term: m.current_term,
            },
        );
        out
    }

    /// Leader only: confirms leadership with a quorum round (ReadIndex) and answers the
    /// log index a read must see applied to be linearizable. A follower that applied up to
    /// it ([`RaftNode::wait_applied`]) may then serve the read from its own state.
    pub async fn read_index(&self) -> Result<u64, RaftError> {
        match self.raft().get_read_linearizer(ReadPolicy::ReadIndex).await {
            Ok(linearizer) => Ok(linearizer.read_log_id().index()),
            Err(openraft::errors::RaftError::APIError(LinearizableReadError::ForwardToLeader(
                f,
            ))) => Err(crate::node::forward_error(&f)),
            Err(openraft::errors::RaftError::APIError(LinearizableReadError::QuorumNotEnough(
                _,
            ))) => Err(RaftError::LeadershipLost),
            Err(openraft::errors::RaftError::Fatal(f)) => Err(crate::node::fatal_error(&f)),
        }
    }

    /// Waits until this server's state machine has applied `index`, for up to `timeout`.
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> Result<(), RaftError> {
        let mut metrics = self.raft().metrics();
        let wait = async {
            loop {
                {
                    let m = metrics.borrow_watched();
                    if m.running_state.is_err() {
                        return Err(RaftError::ShuttingDown);
                    }
                    if m.last_applied.as_ref().is_some_and(|l| l.index >= index) {
                        return Ok(());
                    }
                }
                if metrics.changed().await.is_err() {
                    return Err(RaftError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| RaftError::Timeout(timeout, "the read index to be applied"))?
    }
}
