//! `RaftStatus`: what the rest of Praetor may know about Raft (leader, indexes, voters),
//! derived from openraft's metrics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::Instant as _;
use openraft::RaftMetrics;
use openraft::async_runtime::WatchReceiver;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::types::TypeConfig;

/// A point-in-time view of this server's Raft state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftStatus {
    /// This server's Raft id.
    pub node_id: u64,
    /// Whether this server leads.
    pub is_leader: bool,
    /// The known leader, if any.
    pub leader_id: Option<u64>,
    /// The known leader's advertised server address.
    pub leader_addr: Option<String>,
    /// The current term.
    pub term: u64,
    /// The last index in the local log.
    pub last_log_index: u64,
    /// The highest index known committed.
    pub commit_index: u64,
    /// The highest index applied to the state store.
    pub applied_index: u64,
    /// Time since the leader was last heard from (`None` when never), Consul's
    /// `X-Consul-LastContact`. On the leader `Some(0)`, or, when it lost its lease, the
    /// time since a quorum last acknowledged it.
    pub last_contact: Option<Duration>,
    /// This server leads several voters, but no quorum has acknowledged it within the
    /// leader lease (the maximum election timeout): it is cut off from the majority,
    /// which may have elected another leader. Consul's leader steps down then; openraft's
    /// keeps its state and refuses new proposals, so Praetor reports no known leader.
    pub lease_lost: bool,
    /// Voters as `(node id, server address)`, sorted by id.
    pub voters: Vec<(u64, String)>,
}

/// When this follower last heard from a leader (an AppendEntries, heartbeats included).
#[derive(Clone, Default)]
pub(crate) struct LastContact(Arc<Mutex<Option<Instant>>>);

impl LastContact {
    pub(crate) fn touch(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn elapsed(&self) -> Option<Duration> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed())
    }
}

/// Builds the status from metrics; `last_contact` and `lease_lost` are read at call time
/// (`lease` is the leader lease, openraft's maximum election timeout).
pub(crate) fn from_metrics(
    m: &RaftMetrics<TypeConfig>,
    contact: &LastContact,
    lease: Duration,
) -> RaftStatus {
    let membership = m.membership_config.membership();
    let addr_of = |id: u64| membership.get_node(&id).map(|n| n.addr.clone());
    let is_leader = m.current_leader == Some(m.id) && m.state.is_leader();
    let voters: Vec<(u64, String)> = membership
        .voter_ids()
        .map(|id| (id, addr_of(id).unwrap_or_default()))
        .collect();
    let mut voters = voters;
    voters.sort();
    // A lone voter is its own quorum and never loses its lease.
    let quorum_silence = m
        .last_quorum_acked
        .as_ref()
        .filter(|_| is_leader && voters.len() > 1)
        .map(|acked| acked.elapsed())
        .filter(|silence| *silence >= lease);
    RaftStatus {
        node_id: m.id,
        is_leader,
        leader_id: m.current_leader,
        leader_addr: m.current_leader.and_then(addr_of),
        term: m.current_term,
        last_log_index: m.last_log_index.unwrap_or(0),
        commit_index: m.local_committed.as_ref().map_or(0, |l| l.index),
        applied_index: m.last_applied.as_ref().map_or(0, |l| l.index),
        last_contact: if is_leader {
            Some(quorum_silence.unwrap_or(Duration::ZERO))
        } else {
            contact.elapsed()
        },
        lease_lost: quorum_silence.is_some(),
        voters,
    }
}

/// Republishes openraft's metrics as [`RaftStatus`] until `shutdown`.
pub(crate) async fn run(
    mut metrics: openraft::alias::WatchReceiverOf<TypeConfig, RaftMetrics<TypeConfig>>,
    contact: LastContact,
    lease: Duration,
    tx: watch::Sender<RaftStatus>,
    shutdown: CancellationToken,
) {
    loop {
        let status = from_metrics(&metrics.borrow_and_update(), &contact, lease);
        // `last_contact` and `lease_lost` change with time alone; publish only when
        // something else did, so subscribers wake on real changes.
        tx.send_if_modified(|cur| {
            let changed = RaftStatus {
                last_contact: cur.last_contact,
                lease_lost: cur.lease_lost,
                ..status.clone()
            } != *cur;
            if changed {
                *cur = status;
            }
            changed
        });
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            changed = metrics.changed() => if changed.is_err() { return },
        }
    }
}
