//! The agent's own services and checks with their sync flags (Consul's `agent/local`
//! `State`): pure bookkeeping, no I/O; time is an argument.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use praetor_checks::CheckHandle;
use praetor_types::{HealthCheck, HealthStatus, Node, NodeService};
use tokio::time::Instant;

use crate::definition::{CheckRegistration, CheckRun, Source};

/// The check the leader keeps on every node; anti-entropy never touches it.
pub(crate) const SERF_HEALTH: &str = "serfHealth";
/// The service servers register for themselves; anti-entropy never touches it.
pub(crate) const CONSUL_SERVICE: &str = "consul";

/// A service this agent owns.
#[derive(Debug)]
pub(crate) struct LocalService {
    pub(crate) service: NodeService,
    pub(crate) source: Source,
    pub(crate) in_sync: bool,
    /// Removed locally; kept until the catalog has forgotten it too.
    pub(crate) deleted: bool,
}

/// A check this agent owns.
#[derive(Debug)]
pub(crate) struct LocalCheck {
    pub(crate) check: HealthCheck,
    pub(crate) reg: CheckRegistration,
    pub(crate) source: Source,
    /// The definition of a top-level API check, kept for persistence.
    pub(crate) definition: Option<serde_json::Value>,
    /// The running check; `None` for alias and static checks.
    pub(crate) handle: Option<CheckHandle>,
    /// Stops the catalog watch of an alias check of another node when dropped.
    pub(crate) watcher: Option<tokio_util::sync::DropGuard>,
    pub(crate) in_sync: bool,
    pub(crate) deleted: bool,
    /// When the check last turned critical (for `deregister_critical_service_after`).
    pub(crate) critical_since: Option<Instant>,
    /// When the output last went to the catalog (output-only changes wait
    /// `check_update_interval` after it).
    pub(crate) output_synced_at: Option<Instant>,
    /// An output-only change waits for its turn.
    pub(crate) deferred: bool,
}

impl LocalCheck {
    pub(crate) fn new(
        check: HealthCheck,
        reg: CheckRegistration,
        source: Source,
        now: Instant,
    ) -> Self {
        let critical_since = (check.status == HealthStatus::Critical).then_some(now);
        LocalCheck {
            check,
            reg,
            source,
            definition: None,
            handle: None,
            watcher: None,
            in_sync: false,
            deleted: false,
            critical_since,
            output_synced_at: None,
            deferred: false,
        }
    }

    /// Records a new status and output; returns whether the status changed.
    pub(crate) fn set(
        &mut self,
        status: HealthStatus,
        output: String,
        update_interval: Duration,
        now: Instant,
    ) -> bool {
        if status != self.check.status {
            self.check.status = status;
            self.check.output = output;
            self.in_sync = false;
            self.deferred = false;
            self.critical_since = (status == HealthStatus::Critical).then_some(now);
            return true;
        }
        if output != self.check.output {
            self.check.output = output;
            let due = self
                .output_synced_at
                .is_none_or(|at| at + update_interval <= now);
            if due {
                self.in_sync = false;
            } else {
                self.deferred = true;
            }
        }
        false
    }

    /// Whether this check's runner would be the same for `reg` (status aside).
    pub(crate) fn same_run(&self, reg: &CheckRegistration) -> bool {
        match (&self.reg.run, &reg.run) {
            (CheckRun::Spec(a), CheckRun::Spec(b)) => {
                let mut b = b.clone();
                b.initial_status = a.initial_status;
                *a == b
            }
            (a, b) => a == b,
        }
    }
}

/// Everything the agent owns.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Whether the node itself (address, meta) matches the catalog.
    pub(crate) node_in_sync: bool,
    pub(crate) services: BTreeMap<String, LocalService>,
    pub(crate) checks: BTreeMap<String, LocalCheck>,
}

/// What anti-entropy has to push, taken under the lock and executed without it.
#[derive(Debug, Default)]
pub(crate) struct SyncPlan {
    pub(crate) node: bool,
    /// Services to register, each with its checks.
    pub(crate) services: Vec<(NodeService, Vec<HealthCheck>)>,
    pub(crate) deregister_services: Vec<String>,
    pub(crate) checks: Vec<HealthCheck>,
    pub(crate) deregister_checks: Vec<String>,
}

impl SyncPlan {
    pub(crate) fn is_empty(&self) -> bool {
        !self.node
            && self.services.is_empty()
            && self.deregister_services.is_empty()
            && self.checks.is_empty()
            && self.deregister_checks.is_empty()
    }
}

/// Service fields the catalog must agree on; tags are skipped with `EnableTagOverride`.
fn same_service(local: &NodeService, remote: &NodeService) -> bool {
    let strip = |s: &NodeService| NodeService {
        create_index: 0,
        modify_index: 0,
        datacenter: String::new(),
        tags: if local.enable_tag_override {
            Vec::new()
        } else {
            s.tags.clone()
        },
        ..s.clone()
    };
    strip(local) == strip(remote)
}

/// Check fields the catalog must agree on; output only when `with_output`.
fn same_check(local: &HealthCheck, remote: &HealthCheck, with_output: bool) -> bool {
    local.check_id == remote.check_id
        && local.name == remote.name
        && local.status == remote.status
        && local.notes == remote.notes
        && local.service_id == remote.service_id
        && local.r#type == remote.r#type
        && (!with_output || local.output == remote.output)
}

impl State {
    /// The aggregate of the checks an alias of `service` (and `node` checks) sees.
    pub(crate) fn alias_status(&self, alias_id: &str, service: &str) -> (HealthStatus, String) {
        if !service.is_empty() && self.services.get(service).is_none_or(|s| s.deleted) {
            return (HealthStatus::Critical, "Service not found".to_owned());
        }
        let mut status = HealthStatus::Passing;
        let mut output = "No checks found.".to_owned();
        for c in self.checks.values() {
            if c.deleted || c.check.check_id == alias_id {
                continue;
            }
            if !c.check.service_id.is_empty() && c.check.service_id != service {
                continue;
            }
            if matches!(c.reg.run, CheckRun::Alias { .. }) {
                continue;
            }
            match c.check.status {
                HealthStatus::Critical | HealthStatus::Warning => {
                    if status != HealthStatus::Critical {
                        status = c.check.status;
                        output = format!(
                            "Aliased check {:?} failing: {}",
                            c.check.name, c.check.output
                        );
                    }
                }
                HealthStatus::Passing => {
                    if status == HealthStatus::Passing {
                        output = "All checks passing.".to_owned();
                    }
                }
            }
        }
        (status, output)
    }

    /// What differs from the catalog, as far as the flags know.
    pub(crate) fn plan(&self) -> SyncPlan {
        let mut plan = SyncPlan {
            node: !self.node_in_sync,
            ..SyncPlan::default()
        };
        let mut covered = BTreeSet::new();
        for (id, svc) in &self.services {
            if svc.deleted {
                plan.deregister_services.push(id.clone());
            } else if !svc.in_sync {
                let checks: Vec<HealthCheck> = self
                    .checks
                    .values()
                    .filter(|c| !c.deleted && c.check.service_id == *id)
                    .map(|c| c.check.clone())
                    .collect();
                covered.extend(checks.iter().map(|c| c.check_id.clone()));
                plan.services.push((svc.service.clone(), checks));
            }
        }
        for (id, c) in &self.checks {
            if c.deleted {
                plan.deregister_checks.push(id.clone());
            } else if !c.in_sync && !covered.contains(id) {
                // A check of a service that is going away goes with it.
                let owner_gone = !c.check.service_id.is_empty()
                    && self
                        .services
                        .get(&c.check.service_id)
                        .is_none_or(|s| s.deleted);
                if !owner_gone {
                    plan.checks.push(c.check.clone());
                }
            }
        }
        plan
    }

    /// Marks `service` (and `checks`) synced if they still are what was sent.
    pub(crate) fn synced_service(
        &mut self,
        service: &NodeService,
        checks: &[HealthCheck],
        now: Instant,
    ) {
        if let Some(s) = self.services.get_mut(&service.id)
            && !s.deleted
            && s.service == *service
        {
            s.in_sync = true;
        }
        for c in checks {
            self.synced_check(c, now);
        }
    }

    /// Marks `check` synced if it still is what was sent.
    pub(crate) fn synced_check(&mut self, check: &HealthCheck, now: Instant) {
        if let Some(c) = self.checks.get_mut(&check.check_id)
            && !c.deleted
            && c.check == *check
        {
            c.in_sync = true;
            c.deferred = false;
            c.output_synced_at = Some(now);
        }
    }

    /// Forgets a deleted service once the catalog has.
    pub(crate) fn deregistered_service(&mut self, id: &str) {
        if self.services.get(id).is_some_and(|s| s.deleted) {
            self.services.remove(id);
        }
        self.checks
            .retain(|_, c| !(c.deleted && c.check.service_id == id));
    }

    /// Forgets a deleted check once the catalog has.
    pub(crate) fn deregistered_check(&mut self, id: &str) {
        if self.checks.get(id).is_some_and(|c| c.deleted) {
            self.checks.remove(id);
        }
    }

    /// Compares with the catalog's view of this node (full sync): sets the flags and
    /// returns the catalog services and checks this agent does not own, to deregister.
    pub(crate) fn reconcile(
        &mut self,
        node: Option<&Node>,
        expected_node: &Node,
        services: &BTreeMap<String, NodeService>,
        checks: &[HealthCheck],
        ignore_output: bool,
    ) -> (Vec<String>, Vec<String>) {
        self.node_in_sync = node.is_some_and(|n| {
            n.id == expected_node.id
                && n.address == expected_node.address
                && n.tagged_addresses == expected_node.tagged_addresses
                && n.meta == expected_node.meta
        });
        let mut extra_services = Vec::new();
        for (id, remote) in services {
            match self.services.get_mut(id) {
                Some(local) if !local.deleted => {
                    // With EnableTagOverride the catalog's tags win, as in Consul.
                    if local.service.enable_tag_override {
                        local.service.tags.clone_from(&remote.tags);
                    }
                    local.in_sync = same_service(&local.service, remote);
                }
                Some(_) => {}
                None if id == CONSUL_SERVICE => {}
                None => extra_services.push(id.clone()),
            }
        }
        for (id, local) in &mut self.services {
            if !services.contains_key(id) {
                local.in_sync = false;
            }
        }
        // A deleted service already gone from the catalog needs no call.
        let gone: Vec<String> = self
            .services
            .iter()
            .filter(|(id, s)| s.deleted && !services.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.deregistered_service(&id);
        }
        let mut extra_checks = Vec::new();
        let remote_checks: BTreeMap<&str, &HealthCheck> =
            checks.iter().map(|c| (c.check_id.as_str(), c)).collect();
        for (id, remote) in &remote_checks {
            match self.checks.get_mut(*id) {
                Some(local) if !local.deleted => {
                    local.in_sync = same_check(&local.check, remote, !ignore_output);
                }
                Some(_) => {}
                None if *id == SERF_HEALTH => {}
                // Checks of a service being deregistered go with it.
                None if extra_services.contains(&remote.service_id) => {}
                None => extra_checks.push((*id).to_owned()),
            }
        }
        for (id, local) in &mut self.checks {
            if !remote_checks.contains_key(id.as_str()) {
                local.in_sync = false;
            }
        }
        let gone: Vec<String> = self
            .checks
            .iter()
            .filter(|(id, c)| c.deleted && !remote_checks.contains_key(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.deregistered_check(&id);
        }
        (extra_services, extra_checks)
    }

    /// Marks deferred output changes whose wait is over out of sync; returns when the
    /// next one is due.
    pub(crate) fn promote_deferred(
        &mut self,
        update_interval: Duration,
        now: Instant,
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for c in self.checks.values_mut().filter(|c| c.deferred) {
            let due = c.output_synced_at.map_or(now, |at| at + update_interval);
            if due <= now {
                c.deferred = false;
                c.in_sync = false;
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        next
    }
}
