//! Leader duties towards the catalog (Consul's `leader.go` reconcile): every agent known
//! to the cluster is a catalog node with a `serfHealth` check, and every server also
//! carries the `consul` service.
//!
//! The members come from gossip; until gossip exists the only member is this server
//! itself ([`ServerConfig::member`](crate::ServerConfig)). Reconciling reads the catalog
//! first and writes only what differs, so a quiet cluster makes no Raft entries.

use std::time::Duration;

use praetor_state::{Command, StateView};
use praetor_types::{HealthCheck, HealthStatus, NodeService, RegisterRequest, Weights};
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
        let service = self.consul_service();
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
        HealthCheck {
            node: self.name.clone(),
            check_id: SERF_CHECK_ID.to_owned(),
            name: SERF_CHECK_NAME.to_owned(),
            status: HealthStatus::Passing,
            output: SERF_CHECK_ALIVE_OUTPUT.to_owned(),
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
    /// While this server leads: reconciles the members into the catalog on gaining
    /// leadership and every `interval` (+ jitter) after.
    pub(crate) async fn reconcile_members(
        self,
        members: Vec<Member>,
        interval: Duration,
        stop: CancellationToken,
    ) {
        let mut status = self.raft.status_watch();
        let mut leading = false;
        let mut next = tokio::time::Instant::now() + interval;
        loop {
            let is_leader = status.borrow_and_update().is_leader;
            let due = tokio::time::Instant::now() >= next;
            if is_leader && (!leading || due) {
                // Retried at the next tick when it fails (a lost lease, a full disk).
                match self.reconcile(&members).await {
                    Ok(()) => {
                        leading = true;
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
                () = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// One pass: after a barrier (so the view holds every committed write), registers
    /// each member whose catalog entries differ from what they should be.
    async fn reconcile(&self, members: &[Member]) -> Result<(), crate::ServerError> {
        self.raft
            .ensure_linearizable(praetor_raft::ReadMode::ReadIndex)
            .await?;
        for member in members {
            let Some(req) = member.registration(&self.store.view()) else {
                debug!(member = %member.name, "member already in the catalog");
                continue;
            };
            self.raft
                .propose(crate::session::stamped(Command::CatalogRegister(Box::new(
                    req,
                ))))
                .await?
                .response?;
            info!(member = %member.name, "member joined, marking health alive");
        }
        Ok(())
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
