//! Membership beyond a single server: bootstrapping with the `-bootstrap-expect` servers,
//! removing a server, and the configuration as `operator raft list-peers` shows it.

use std::collections::{BTreeMap, BTreeSet};

use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, ChangeMembers};

use crate::error::RaftError;
use crate::node::{RaftNode, map_write_error};

/// One server of the Raft configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftMember {
    /// Its Raft id.
    pub node_id: u64,
    /// Its server RPC address.
    pub addr: String,
    /// Whether it votes (false: a learner catching up).
    pub voter: bool,
    /// Whether it leads.
    pub leader: bool,
    /// The last log index it is known to hold (the leader's replication progress; this
    /// server's own last index for itself; 0 when unknown).
    pub last_index: u64,
}

/// The configuration and the log index it was committed at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaftMembership {
    /// Voters and learners, sorted by id.
    pub members: Vec<RaftMember>,
    /// The index of the log entry holding this configuration.
    pub index: u64,
}

impl RaftNode {
    /// Initialises a fresh log with `voters` (id → server address) as the first
    /// configuration (`-bootstrap-expect`). Returns `false`, doing nothing, when the log
    /// already holds a configuration (a restarted server never bootstraps again).
    pub async fn bootstrap_cluster(
        &self,
        voters: BTreeMap<u64, String>,
    ) -> Result<bool, RaftError> {
        let raft = self.raft();
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| RaftError::Fatal(e.to_string()))?;
        if initialized {
            return Ok(false);
        }
        let members: BTreeMap<u64, BasicNode> = voters
            .into_iter()
            .map(|(id, addr)| (id, BasicNode::new(addr)))
            .collect();
        match raft.initialize(members).await {
            Ok(()) => Ok(true),
            // Another server's vote or entries arrived first: someone bootstrapped.
            Err(openraft::errors::RaftError::APIError(
                openraft::errors::InitializeError::NotAllowed(_),
            )) => Ok(false),
            Err(e) => Err(RaftError::Fatal(format!("raft bootstrap: {e}"))),
        }
    }

    /// Whether the log holds a configuration (bootstrapped here or joined to a cluster).
    pub async fn is_initialized(&self) -> Result<bool, RaftError> {
        self.raft()
            .is_initialized()
            .await
            .map_err(|e| RaftError::Fatal(e.to_string()))
    }

    /// Removes `node_id` from the configuration, voter or learner. Leader only; removing
    /// an unknown id is a no-op.
    pub async fn remove_server(&self, node_id: u64) -> Result<(), RaftError> {
        let raft = self.raft();
        let (is_voter, is_learner) = {
            let m = raft.metrics().borrow_watched().clone();
            let membership = m.membership_config.membership();
            (
                membership.voter_ids().any(|id| id == node_id),
                membership.learner_ids().any(|id| id == node_id),
            )
        };
        let ids = BTreeSet::from([node_id]);
        if is_voter {
            raft.change_membership(ChangeMembers::RemoveVoters(ids.clone()), false)
                .await
                .map_err(|e| map_write_error(&e))?;
        }
        if is_voter || is_learner {
            raft.change_membership(ChangeMembers::RemoveNodes(ids), false)
                .await
                .map_err(|e| map_write_error(&e))?;
        }
        Ok(())
    }

    /// The current configuration with each server's progress.
    pub fn membership(&self) -> RaftMembership {
        let m = self.raft().metrics().borrow_watched().clone();
        let config = m.membership_config.membership();
        let voters: BTreeSet<u64> = config.voter_ids().collect();
        let leader = m.current_leader;
        let members = config
            .nodes()
            .map(|(id, node)| {
                let progress = m
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(id))
                    .and_then(|l| l.as_ref().map(|l| l.index));
                let last_index = if *id == m.id {
                    m.last_log_index.unwrap_or(0)
                } else {
                    progress.unwrap_or(0)
                };
                RaftMember {
                    node_id: *id,
                    addr: node.addr.clone(),
                    voter: voters.contains(id),
                    leader: leader == Some(*id),
                    last_index,
                }
            })
            .collect();
        RaftMembership {
            members,
            index: m.membership_config.log_id().as_ref().map_or(0, |l| l.index),
        }
    }
}
