//! Autopilot (Consul's `autopilot` over raft-autopilot): its configuration kept in Raft,
//! the servers' health as the leader sees it, and dead-server cleanup.
//!
//! The leader writes the agent's `autopilot { … }` settings into Raft the first time it
//! leads a cluster without any (later changes go through the operator API). Every
//! `autopilot_interval` it removes from the Raft configuration the servers gossip has
//! reported `failed` for at least `dead_server_grace` (with `CleanupDeadServers`):
//! learners freely, voters only while fewer than half of the voters go in one pass and
//! never below `MinQuorum`, as raft-autopilot's `pruneDeadServers`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use praetor_state::{Command, CommandResponse};
use praetor_types::{AutopilotConfig, AutopilotHealth, QueryOptions, ServerHealth};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::leader::{Member, MemberState};
use crate::{Server, ServerError};

/// Consul's autopilot reconcile interval.
pub const DEFAULT_AUTOPILOT_INTERVAL: Duration = Duration::from_secs(10);
/// How long gossip must have reported a server failed before autopilot removes it.
pub const DEFAULT_DEAD_SERVER_GRACE: Duration = Duration::from_secs(10);

impl Server {
    /// Autopilot's configuration (`GET /v1/operator/autopilot/configuration`): the one
    /// in Raft, or the agent's settings (indexes 0) before the leader wrote them.
    pub async fn autopilot_config(
        &self,
        opts: QueryOptions,
    ) -> Result<AutopilotConfig, ServerError> {
        let req = praetor_rpc::Request::AutopilotGetConfig { opts };
        match self.route(req, 0).await? {
            praetor_rpc::Response::AutopilotConfig(cfg) => Ok(*cfg),
            _ => Err(ServerError::UnexpectedResponse("autopilot configuration")),
        }
    }

    /// `PUT /v1/operator/autopilot/configuration[?cas=]`: `false` when `cas` is not the
    /// stored `ModifyIndex`.
    pub async fn autopilot_set_config(
        &self,
        config: AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, ServerError> {
        let req = praetor_rpc::Request::AutopilotSetConfig {
            config: Box::new(config),
            cas,
        };
        match self.route(req, 0).await? {
            praetor_rpc::Response::Bool(ok) => Ok(ok),
            _ => Err(ServerError::UnexpectedResponse(
                "autopilot set configuration",
            )),
        }
    }

    /// `GET /v1/operator/autopilot/health`, computed by the leader.
    pub async fn autopilot_health(&self) -> Result<AutopilotHealth, ServerError> {
        match self.route(praetor_rpc::Request::AutopilotHealth, 0).await? {
            praetor_rpc::Response::AutopilotHealth(h) => Ok(h),
            _ => Err(ServerError::UnexpectedResponse("autopilot health")),
        }
    }

    /// The stored configuration, else the agent's.
    pub(crate) fn effective_autopilot_config(&self) -> AutopilotConfig {
        self.store
            .view()
            .autopilot_config()
            .cloned()
            .unwrap_or_else(|| self.autopilot.defaults.clone())
    }

    pub(crate) async fn local_autopilot_get_config(
        &self,
        opts: QueryOptions,
    ) -> Result<AutopilotConfig, ServerError> {
        self.check_consistency(opts.consistency).await?;
        Ok(self.effective_autopilot_config())
    }

    pub(crate) async fn local_autopilot_set_config(
        &self,
        config: AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, ServerError> {
        let cmd = Command::AutopilotSetConfig {
            config: Box::new(config),
            cas,
        };
        match self.raft.propose(cmd).await?.response? {
            CommandResponse::Bool(ok) => Ok(ok),
            _ => Err(ServerError::UnexpectedResponse(
                "autopilot set configuration",
            )),
        }
    }

    /// The leader's view of every server of the Raft configuration.
    pub(crate) fn local_autopilot_health(&self) -> Result<AutopilotHealth, ServerError> {
        let status = self.raft.status();
        if !status.is_leader {
            return Err(match status.leader_addr {
                Some(leader_addr) => ServerError::NotLeader { leader_addr },
                None => ServerError::NoLeader,
            });
        }
        let config = self.effective_autopilot_config();
        let membership = self.raft.membership();
        let progress = self.raft.progress();
        let members = self.members.borrow().clone().unwrap_or_default();
        let leader_index = status.last_log_index;
        let mut stable = self
            .autopilot
            .stable_since
            .lock()
            .expect("stable_since lock poisoned");
        let mut servers = Vec::new();
        for m in &membership.members {
            let member = members
                .iter()
                .find(|mem| crate::raft_id(&mem.id) == m.node_id);
            let serf_status = match member.map(|mem| mem.state) {
                Some(MemberState::Alive) => "alive",
                Some(MemberState::Failed) => "failed",
                Some(MemberState::Left) => "left",
                None if m.node_id == self.node_id() => "alive",
                None => "none",
            };
            let p = progress.get(&m.node_id);
            let last_contact = p.and_then(|p| p.last_contact);
            let last_index = p.map_or(m.last_index, |p| p.last_index);
            let healthy = serf_status == "alive"
                && last_contact.is_some_and(|c| c <= config.last_contact_threshold)
                && leader_index.saturating_sub(last_index) <= config.max_trailing_logs;
            let since = match stable.get(&m.node_id) {
                Some((was, since)) if *was == healthy => *since,
                _ => SystemTime::now(),
            };
            stable.insert(m.node_id, (healthy, since));
            servers.push(ServerHealth {
                id: member.map_or_else(|| m.addr.clone(), |mem| mem.id.clone()),
                name: member.map_or_else(String::new, |mem| mem.name.clone()),
                address: m.addr.clone(),
                serf_status: serf_status.to_owned(),
                version: member.map_or_else(String::new, |mem| mem.version.clone()),
                leader: m.leader,
                last_contact: last_contact.unwrap_or_default(),
                last_term: p.map_or(0, |p| p.last_term),
                last_index,
                healthy,
                voter: m.voter,
                stable_since: humantime::format_rfc3339_seconds(since).to_string(),
            });
        }
        let voters = servers.iter().filter(|s| s.voter).count() as u64;
        let healthy_voters = servers.iter().filter(|s| s.voter && s.healthy).count() as u64;
        let quorum = voters / 2 + 1;
        Ok(AutopilotHealth {
            healthy: servers.iter().all(|s| s.healthy),
            failure_tolerance: healthy_voters.saturating_sub(quorum),
            servers,
        })
    }

    /// While this server leads: writes the initial configuration, then prunes dead
    /// servers every `interval`.
    pub(crate) async fn run_autopilot(self, interval: Duration, stop: CancellationToken) {
        let mut failed_since: HashMap<u64, Instant> = HashMap::new();
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            if !self.raft.status().is_leader {
                failed_since.clear();
                continue;
            }
            if let Err(e) = self.autopilot_pass(&mut failed_since).await {
                warn!(error = %e, "autopilot pass failed");
            }
        }
    }

    async fn autopilot_pass(
        &self,
        failed_since: &mut HashMap<u64, Instant>,
    ) -> Result<(), ServerError> {
        if self.store.view().autopilot_config().is_none() {
            let defaults = self.autopilot.defaults.clone();
            self.local_autopilot_set_config(defaults, Some(0)).await?;
        }
        let config = self.effective_autopilot_config();
        let members = self.members.borrow().clone().unwrap_or_default();
        let membership = self.raft.membership();
        let me = self.node_id();
        // Servers gossip reports failed, by Raft id, that are still in the configuration.
        let failed: BTreeMap<u64, &Member> = members
            .iter()
            .filter(|m| m.server_port.is_some() && m.state == MemberState::Failed)
            .map(|m| (crate::raft_id(&m.id), m))
            .filter(|(id, _)| *id != me && membership.members.iter().any(|r| r.node_id == *id))
            .collect();
        let now = Instant::now();
        failed_since.retain(|id, _| failed.contains_key(id));
        for id in failed.keys() {
            failed_since.entry(*id).or_insert(now);
        }
        if !config.cleanup_dead_servers {
            return Ok(());
        }
        let grace = self.autopilot.dead_server_grace;
        let due: Vec<u64> = failed
            .keys()
            .copied()
            .filter(|id| {
                failed_since
                    .get(id)
                    .is_some_and(|t| now.duration_since(*t) >= grace)
            })
            .collect();
        let is_voter = |id: u64| {
            membership
                .members
                .iter()
                .any(|r| r.node_id == id && r.voter)
        };
        for id in due.iter().copied().filter(|id| !is_voter(*id)) {
            info!(member = %failed[&id].name, "autopilot: removing dead non-voter");
            self.raft.remove_server(id).await?;
        }
        let voters = membership.members.iter().filter(|r| r.voter).count() as u64;
        let due_voters: Vec<u64> = due.iter().copied().filter(|id| is_voter(*id)).collect();
        let removable = voter_removals(voters, config.min_quorum, due_voters.len());
        if removable < due_voters.len() {
            warn!(
                voters,
                dead = due_voters.len(),
                min_quorum = config.min_quorum,
                "autopilot: will not remove every dead server, removing a majority of servers (or going below min_quorum) is not safe"
            );
        }
        for id in due_voters.into_iter().take(removable) {
            info!(member = %failed[&id].name, "autopilot: removing dead server");
            self.raft.remove_server(id).await?;
            failed_since.remove(&id);
        }
        Ok(())
    }
}

/// How many of `dead` failed voters one pass may remove from `voters`: fewer than half
/// of them (at most `(voters - 1) / 2`), and never leaving fewer than `min_quorum`.
fn voter_removals(voters: u64, min_quorum: u64, dead: usize) -> usize {
    let majority_guard = voters.saturating_sub(1) / 2;
    let quorum_guard = voters.saturating_sub(min_quorum);
    usize::try_from(majority_guard.min(quorum_guard))
        .unwrap_or(usize::MAX)
        .min(dead)
}

/// Autopilot's per-server state.
#[derive(Debug, Default)]
pub(crate) struct AutopilotState {
    /// The agent's `autopilot { … }` settings, written to Raft once.
    pub(crate) defaults: AutopilotConfig,
    /// How long a server must be reported failed before it is removed.
    pub(crate) dead_server_grace: Duration,
    /// Per Raft id: whether the server was healthy at the last health check, and since.
    pub(crate) stable_since: std::sync::Mutex<HashMap<u64, (bool, SystemTime)>>,
}

#[cfg(test)]
mod tests {
    use super::voter_removals;

    #[test]
    fn dead_voters_go_only_while_a_majority_stays() {
        // (voters, min_quorum, dead) → removed
        let cases = [
            ((3, 0, 1), 1),
            ((3, 0, 2), 1),
            ((2, 0, 1), 0),
            ((1, 0, 1), 0),
            ((5, 0, 2), 2),
            ((5, 0, 3), 2),
            ((5, 4, 2), 1),
            ((3, 3, 1), 0),
            ((3, 5, 1), 0),
            ((0, 0, 0), 0),
        ];
        for ((voters, min_quorum, dead), want) in cases {
            assert_eq!(
                voter_removals(voters, min_quorum, dead),
                want,
                "voters {voters}, min_quorum {min_quorum}, dead {dead}"
            );
        }
    }
}
