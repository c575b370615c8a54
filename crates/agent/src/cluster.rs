//! The agent's cluster membership: its gossip pools (LAN, and WAN on servers), joining,
//! leaving, and the Raft configuration as the operator endpoints show it (Consul's
//! `agent.go` `JoinLAN`, `Leave`, `ForceLeave`, `LANMembers` and `operator_raft_endpoint.go`).

use std::sync::Arc;
use std::time::Duration;

use praetor_gossip::Membership;
use praetor_server::{Server, raft_id};
use praetor_types::member::Member;
use praetor_types::{QueryOptions, RaftConfiguration, RaftPeer, RaftServer};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::BackendError;

/// How long a leaving follower waits for the leader to take it out of Raft.
const LEAVE_DRAIN_TIME: Duration = Duration::from_secs(5);

/// This agent's pools and, on a server, its Raft.
#[derive(Clone)]
pub struct Cluster {
    lan: Arc<dyn Membership>,
    wan: Option<Arc<dyn Membership>>,
    server: Option<Server>,
    /// Cancelled once a graceful leave (`PUT /v1/agent/leave`) finished: the agent stops.
    left: CancellationToken,
}

impl Cluster {
    /// A cluster view over the LAN pool, the WAN pool (servers) and the server (if any).
    pub fn new(
        lan: Arc<dyn Membership>,
        wan: Option<Arc<dyn Membership>>,
        server: Option<Server>,
    ) -> Self {
        Self {
            lan,
            wan,
            server,
            left: CancellationToken::new(),
        }
    }

    /// The LAN pool.
    pub fn lan(&self) -> &Arc<dyn Membership> {
        &self.lan
    }

    /// The WAN pool, on servers.
    pub fn wan(&self) -> Option<&Arc<dyn Membership>> {
        self.wan.as_ref()
    }

    /// Cancelled when a graceful leave asked through the API has finished.
    pub fn left(&self) -> CancellationToken {
        self.left.clone()
    }

    fn pool(&self, wan: bool) -> Result<&Arc<dyn Membership>, BackendError> {
        if wan {
            self.wan.as_ref().ok_or_else(|| {
                BackendError::Internal("WAN pool is only available on servers".to_owned())
            })
        } else {
            Ok(&self.lan)
        }
    }

    /// The members of the LAN (or WAN) pool.
    pub async fn members(&self, wan: bool) -> Result<Vec<Member>, BackendError> {
        Ok(self.pool(wan)?.members().await)
    }

    /// Joins the LAN (or WAN) pool through `addrs`; how many were contacted.
    pub async fn join(&self, addrs: &[String], wan: bool) -> Result<usize, BackendError> {
        let kind = if wan { "WAN" } else { "LAN" };
        info!(cluster = kind, addresses = ?addrs, "joining cluster");
        let n = self
            .pool(wan)?
            .join(addrs)
            .await
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        info!(cluster = kind, number_of_nodes = n, "joined");
        Ok(n)
    }

    /// Leaves gracefully: a leading server first hands its Raft seat over (removes
    /// itself), then the WAN and LAN pools are left; a follower waits (bounded) for the
    /// leader to take it out of Raft. The pools are shut down afterwards.
    pub async fn leave(&self) -> Result<(), BackendError> {
        info!("Requesting shutdown: leaving the cluster");
        let mut follower_waits = false;
        if let Some(server) = &self.server {
            let status = server.raft_status();
            let others = status.voters.iter().any(|(id, _)| *id != status.node_id);
            if status.is_leader && others {
                if let Err(e) = server.remove_server(status.node_id).await {
                    warn!(error = %e, "failed to remove ourself as raft peer");
                }
            } else if others {
                follower_waits = true;
            }
        }
        if let Some(wan) = &self.wan
            && let Err(e) = wan.leave().await
        {
            warn!(error = %e, "failed to leave WAN pool");
        }
        if let Err(e) = self.lan.leave().await {
            warn!(error = %e, "failed to leave LAN pool");
        }
        if follower_waits && let Some(server) = &self.server {
            let me = server.node_id();
            let deadline = tokio::time::Instant::now() + LEAVE_DRAIN_TIME;
            let mut status = server.raft_status_watch();
            loop {
                if !status
                    .borrow_and_update()
                    .voters
                    .iter()
                    .any(|(id, _)| *id == me)
                {
                    break;
                }
                if tokio::time::timeout_at(deadline, status.changed())
                    .await
                    .map_or(true, |r| r.is_err())
                {
                    warn!("timed out waiting for the leader to remove us from raft");
                    break;
                }
            }
        }
        self.left.cancel();
        Ok(())
    }

    /// Stops gossip without leaving (the others will see this agent failed).
    pub async fn shutdown(&self) {
        if let Some(wan) = &self.wan {
            let _ = wan.shutdown().await;
        }
        let _ = self.lan.shutdown().await;
    }

    /// Turns a failed member into `left` (`prune`: drops it from the list).
    pub async fn force_leave(
        &self,
        node: &str,
        prune: bool,
        wan: bool,
    ) -> Result<(), BackendError> {
        self.pool(wan)?
            .force_leave(node, prune)
            .await
            .map_err(|e| BackendError::Internal(e.to_string()))
    }

    fn server(&self) -> Result<&Server, BackendError> {
        self.server
            .as_ref()
            .ok_or_else(|| BackendError::Internal("No known Consul servers".to_owned()))
    }

    /// The Raft configuration, each server named after the LAN member with its node ID
    /// (`(unknown)` when none). Without `?stale`, only the leader answers.
    pub async fn raft_configuration(
        &self,
        opts: &QueryOptions,
    ) -> Result<RaftConfiguration, BackendError> {
        let server = self.server()?;
        let status = server.raft_status();
        if opts.consistency != praetor_types::Consistency::Stale && status.leader_id.is_none() {
            return Err(BackendError::NoLeader);
        }
        let members = self.lan.members().await;
        let membership = server.raft_membership();
        let servers = membership
            .members
            .iter()
            .map(|m| {
                let member = members.iter().find(|mem| {
                    mem.tags
                        .get("id")
                        .is_some_and(|id| raft_id(id) == m.node_id)
                });
                RaftServer {
                    id: member
                        .and_then(|mem| mem.tags.get("id").cloned())
                        .unwrap_or_else(|| m.addr.clone()),
                    node: member.map_or_else(|| "(unknown)".to_owned(), |mem| mem.name.clone()),
                    address: m.addr.clone(),
                    leader: m.leader,
                    protocol_version: "3".to_owned(),
                    voter: m.voter,
                    last_index: m.last_index,
                }
            })
            .collect();
        Ok(RaftConfiguration {
            servers,
            index: membership.index,
        })
    }

    /// Removes a Raft peer by node ID or by address. Must run on (or reach) the leader.
    pub async fn remove_peer(&self, peer: RaftPeer) -> Result<(), BackendError> {
        let server = self.server()?;
        let membership = server.raft_membership();
        let found = membership.members.iter().find(|m| match &peer {
            RaftPeer::Id(id) => raft_id(id) == m.node_id || m.addr == *id,
            RaftPeer::Address(addr) => m.addr == *addr,
        });
        let Some(found) = found else {
            let what = match &peer {
                RaftPeer::Id(id) => format!("id {id:?}"),
                RaftPeer::Address(addr) => format!("address {addr:?}"),
            };
            return Err(BackendError::Internal(format!(
                "{what} was not found in the Raft configuration"
            )));
        };
        server
            .remove_server(found.node_id)
            .await
            .map_err(BackendError::from)
    }
}
