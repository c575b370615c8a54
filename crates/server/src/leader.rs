//! Leader duties towards the catalog (Consul's `leader.go` reconcile): every agent known
//! to the cluster is a catalog node with a `serfHealth` check, and every server also
//! carries the `consul` service.
//!
//! The members come from gossip ([`Server::set_members`]), or, for a lone server without
//! gossip, this server itself ([`ServerConfig::member`](crate::ServerConfig)). Alive ⇒ node
//! and `serfHealth` passing; failed ⇒ `serfHealth` critical, node kept; left ⇒ node
//! deregistered (and a left server removed from Raft); a catalog node with a `serfHealth`
//! check that no member names any more (reaped) ⇒ deregistered. Alive servers missing from
//! the Raft configuration are added. Reconciling reads the catalog first and writes only
//! what differs, so a quiet cluster makes no Raft entries.

use std::time::Duration;

use praetor_state::{Command, StateView};
use praetor_types::{
    DeregisterRequest, HealthCheck, HealthStatus, NodeService, RegisterRequest, Weights,
};
use rand::RngExt as _;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::Server;

/// The check through which the leader reports an agent's liveness.
pub const SERF_CHECK_ID: &str = "serfHealth";
/// `serfHealth`'s name.
pub const SERF_CHECK_NAME: &str = "Serf Health Status";
/// `serfHealth`'s output while the member is alive.
pub const SERF_CHECK_ALIVE_OUTPUT: &str = "Agent alive and reachable";
/// `serfHealth`'s output once the member failed.
pub const SERF_CHECK_FAILED_OUTPUT: &str = "Agent not live or unreachable";
/// How long the leader gives a new server to catch up before promoting it.
const ADD_SERVER_TIMEOUT: Duration = Duration::from_secs(60);

/// A member's gossip state, as far as the catalog cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemberState {
    /// Alive (or leaving: still answering).
    #[default]
    Alive,
    /// Stopped answering probes.
    Failed,
    /// Left gracefully or was force-left.
    Left,
}
/// The service every server registers for itself.
pub const CONSUL_SERVICE_ID: &str = "consul";
/// Consul's `reconcile_interval`: a full reconcile this often besides leadership changes.
pub const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::from_secs(60);

/// An agent the leader keeps in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Node name.
    pub name: String,
    /// Node ID (UUID).
    pub id: String,
    /// Advertised LAN address.
    pub addr: String,
    /// The server RPC port when the member is a server, `None` for a client agent.
    pub server_port: Option<u16>,
    /// The version the member runs (`Meta.version` of its `consul` service).
    pub version: String,
    /// Its gossip state.
    pub state: MemberState,
}

impl Member {
    /// What the catalog must hold for this member: `None` when it already does.
    fn registration(&self, view: &StateView) -> Option<RegisterRequest> {
        let node = view.node(&self.name).value;
        let node_ok = node
            .as_ref()
            .is_some_and(|n| n.address == self.addr && n.id == self.id);
        let check = self.serf_check();
        let check_ok = view.node_checks(&self.name).value.iter().any(|c| {
            c.check_id == SERF_CHECK_ID && c.status == check.status && c.output == check.output
        });
        let service = if self.state == MemberState::Failed {
            None
        } else {
            self.consul_service()
        };
        let service_ok = match &service {
            None => true,
            Some(want) => view.node_services(&self.name).value.is_some_and(|ns| {
                ns.services.get(CONSUL_SERVICE_ID).is_some_and(|have| {
                    have.service == want.service && have.port == want.port && have.meta == want.meta
                })
            }),
        };
        if node_ok && check_ok && service_ok {
            return None;
        }
        Some(RegisterRequest {
            id: self.id.clone(),
            node: self.name.clone(),
            address: self.addr.clone(),
            // The node's own agent owns its tagged addresses and meta (anti-entropy);
            // leave them alone unless the node is new or has moved.
            skip_node_update: node_ok,
            service: if service_ok { None } else { service },
            check: (!check_ok).then_some(check),
            ..RegisterRequest::default()
        })
    }

    fn serf_check(&self) -> HealthCheck {
        let (status, output) = match self.state {
            MemberState::Failed => (HealthStatus::Critical, SERF_CHECK_FAILED_OUTPUT),
            _ => (HealthStatus::Passing, SERF_CHECK_ALIVE_OUTPUT),
        };
        HealthCheck {
            node: self.name.clone(),
            check_id: SERF_CHECK_ID.to_owned(),
            name: SERF_CHECK_NAME.to_owned(),
            status,
            output: output.to_owned(),
            ..HealthCheck::default()
        }
    }

    fn consul_service(&self) -> Option<NodeService> {
        let port = self.server_port?;
        let meta: std::collections::BTreeMap<String, String> = [
            ("non_voter", "false"),
            ("raft_version", "3"),
            ("read_replica", "false"),
            ("serf_protocol_current", "2"),
            ("serf_protocol_max", "5"),
            ("serf_protocol_min", "1"),
            ("version", self.version.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Some(NodeService {
            id: CONSUL_SERVICE_ID.to_owned(),
            service: CONSUL_SERVICE_ID.to_owned(),
            port,
            meta,
            weights: Weights {
                passing: 1,
                warning: 1,
            },
            ..NodeService::default()
        })
    }
}

impl Server {
    /// Replaces the member list the leader reconciles into the catalog (the LAN pool's
    /// members, on every gossip event); a leader reconciles at once.
    pub fn set_members(&self, members: Vec<Member>) {
        self.members.send_replace(Some(members));
    }

    /// While this server leads: reconciles the members into the catalog on gaining
    /// leadership, whenever the member list changes, and every `interval` (+ jitter).
    pub(crate) async fn reconcile_members(self, interval: Duration, stop: CancellationToken) {
        let mut status = self.raft.status_watch();
        let mut members = self.members.subscribe();
        let mut leading = false;
        let mut dirty = true;
        let mut next = tokio::time::Instant::now() + interval;
        loop {
            let is_leader = status.borrow_and_update().is_leader;
            let current = members.borrow_and_update().clone();
            let due = tokio::time::Instant::now() >= next;
            if let Some(current) = current
                && is_leader
                && (!leading || due || dirty)
            {
                // Retried at the next tick when it fails (a lost lease, a full disk).
                match self.reconcile(&current).await {
                    Ok(()) => {
                        leading = true;
                        dirty = false;
                        next = tokio::time::Instant::now() + jittered(interval);
                    }
                    Err(e) => {
                        warn!(error = %e, "failed to reconcile members");
                        next = tokio::time::Instant::now() + Duration::from_secs(1);
                    }
                }
            }
            leading &= is_leader;
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                changed = status.changed() => if changed.is_err() { return },
                changed = members.changed() => {
                    if changed.is_err() { return }
                    dirty = true;
                }
                () = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// One pass: after a barrier (so the view holds every committed write), brings each
    /// member's catalog entries and the Raft configuration in line with gossip.
    async fn reconcile(&self, members: &[Member]) -> Result<(), crate::ServerError> {
        self.raft
            .ensure_linearizable(praetor_raft::ReadMode::ReadIndex)
            .await?;
        for member in members {
            match member.state {
                MemberState::Left => self.handle_left(member).await?,
                MemberState::Alive | MemberState::Failed => {
                    if let Some(req) = member.registration(&self.store.view()) {
                        self.raft
                            .propose(crate::session::stamped(Command::CatalogRegister(Box::new(
                                req,
                            ))))
                            .await?
                            .response?;
                        match member.state {
                            MemberState::Failed => {
                                info!(member = %member.name, "member failed, marking health critical");
                            }
                            _ => {
                                info!(member = %member.name, "member joined, marking health alive")
                            }
                        }
                    } else {
                        debug!(member = %member.name, "member already in the catalog");
                    }
                    if member.state == MemberState::Alive {
                        self.maybe_add_server(member);
                    }
                }
            }
        }
        // Reaped: catalog nodes the leader once tracked (they carry `serfHealth`) that no
        // member names any more.
        let view = self.store.view();
        for node in view.nodes().value {
            if members.iter().any(|m| m.name == node.node) {
                continue;
            }
            let tracked = view
                .node_checks(&node.node)
                .value
                .iter()
                .any(|c| c.check_id == SERF_CHECK_ID);
            if tracked {
                self.deregister_node(&node.node).await?;
                info!(member = %node.node, "member reaped, deregistering");
            }
        }
        Ok(())
    }

    /// A left member: its node leaves the catalog; a left server leaves Raft.
    async fn handle_left(&self, member: &Member) -> Result<(), crate::ServerError> {
        if member.server_port.is_some() {
            let id = crate::raft_id(&member.id);
            let in_config = self
                .raft
                .membership()
                .members
                .iter()
                .any(|m| m.node_id == id);
            if in_config && id != self.node_id() {
                info!(member = %member.name, "removing left server from raft");
                self.raft.remove_server(id).await?;
            }
        }
        if self.store.view().node(&member.name).value.is_some() {
            self.deregister_node(&member.name).await?;
            info!(member = %member.name, "member left, deregistering");
        }
        Ok(())
    }

    async fn deregister_node(&self, node: &str) -> Result<(), crate::ServerError> {
        let req = DeregisterRequest {
            node: node.to_owned(),
            ..DeregisterRequest::default()
        };
        self.raft
            .propose(crate::session::stamped(Command::CatalogDeregister(req)))
            .await?
            .response?;
        Ok(())
    }

    /// An alive server missing from the Raft configuration is added (in the background:
    /// it may take a while to catch up).
    fn maybe_add_server(&self, member: &Member) {
        let Some(port) = member.server_port else {
            return;
        };
        let id = crate::raft_id(&member.id);
        let addr = format!("{}:{port}", member.addr);
        let known = self
            .raft
            .membership()
            .members
            .iter()
            .any(|m| m.node_id == id && m.voter && m.addr == addr);
        if known {
            return;
        }
        let mut adding = self.adding.lock().expect("adding lock poisoned");
        if !adding.insert(id) {
            return;
        }
        let (server, name) = (self.clone(), member.name.clone());
        tokio::spawn(async move {
            if let Err(e) = server.add_server(id, &addr, ADD_SERVER_TIMEOUT).await {
                warn!(member = %name, error = %e, "failed to add raft server");
            }
            server
                .adding
                .lock()
                .expect("adding lock poisoned")
                .remove(&id);
        });
    }
}

/// `interval` plus up to a quarter more, so servers restarted together drift apart.
fn jittered(interval: Duration) -> Duration {
    let extra = (interval / 4).as_millis() as u64;
    if extra == 0 {
        return interval;
    }
    interval + Duration::from_millis(rand::rng().random_range(0..extra))
}
