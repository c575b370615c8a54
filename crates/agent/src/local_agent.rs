//! The agent's local services and checks (Consul's `agent.AddService`/`AddCheck` and
//! `agent/local`): registrations from config files and the agent API, check runners
//! started and stopped as checks come and go, TTL updates, maintenance mode,
//! `deregister_critical_service_after`, alias checks, persistence under the data dir,
//! and config reload. Anti-entropy ([`crate::anti_entropy`]) pushes it to the catalog.

mod alias;
mod maintenance;
mod persist;
mod reload;
mod settings;
mod state;

pub use settings::LocalAgentConfig;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use praetor_checks::{CheckKind, CheckRunner, CheckUpdate};
use praetor_types::{HealthCheck, HealthStatus, NodeService};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::BackendError;
use crate::anti_entropy::CatalogApi;
use crate::config::RuntimeConfig;
use crate::definition::{
    CheckDefinition, CheckRegistration, CheckRun, ServiceDefinition, ServiceRegistration, Source,
};
use persist::{PersistedCheck, PersistedService, PersistedTtl};
use state::{LocalCheck, LocalService};
pub(crate) use state::{State, SyncPlan};

/// Node maintenance check ID.
pub const NODE_MAINTENANCE: &str = "_node_maintenance";
/// Prefix of service maintenance check IDs (`_service_maintenance:<id>`).
pub const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";

const NODE_MAINT_DEFAULT: &str = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
const SERVICE_MAINT_DEFAULT: &str = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";

/// Re-reads the agent configuration from its original sources (for reload).
pub type ConfigLoader = Box<dyn Fn() -> Result<RuntimeConfig, String> + Send + Sync>;

/// The agent's local state. Cheap to clone; every clone is the same agent.
#[derive(Clone)]
pub struct LocalAgent {
    shared: Arc<Shared>,
}

struct Shared {
    cfg: Mutex<LocalAgentConfig>,
    state: Mutex<State>,
    persist: persist::Store,
    updates: mpsc::Sender<CheckUpdate>,
    /// Wakes anti-entropy.
    changed: Notify,
    /// Bumped on every local change, for hash-based blocking reads.
    generation: watch::Sender<u64>,
    /// Parent of every check runner.
    shutdown: CancellationToken,
    loader: Mutex<Option<ConfigLoader>>,
    /// The configured watches, replaced on reload.
    watches: Mutex<Option<Arc<crate::watches::ConfigWatches>>>,
    /// For alias checks of other nodes.
    catalog: Mutex<Option<Arc<dyn CatalogApi>>>,
}

/// The task that records check results and reaps critical services; run it once.
pub struct LocalAgentTask {
    agent: LocalAgent,
    updates: mpsc::Receiver<CheckUpdate>,
}

impl LocalAgentTask {
    /// Runs until `shutdown` (given to [`LocalAgent::new`]) is cancelled.
    pub async fn run(mut self) {
        let shutdown = self.agent.shared.shutdown.clone();
        let period = self.agent.cfg().reap_interval;
        let mut reap = tokio::time::interval_at(Instant::now() + period, period);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                update = self.updates.recv() => match update {
                    Some(update) => self.agent.record(update),
                    None => break,
                },
                _ = reap.tick() => self.agent.reap(Instant::now()),
            }
        }
        // Stop every runner now rather than when the last clone goes.
        let mut state = self.agent.state();
        for c in state.checks.values_mut() {
            c.handle = None;
            c.watcher = None;
        }
    }
}

impl LocalAgent {
    /// An agent with no services or checks yet; its runners stop when `shutdown` is
    /// cancelled. Spawn the returned task.
    pub fn new(cfg: LocalAgentConfig, shutdown: CancellationToken) -> (Self, LocalAgentTask) {
        let (tx, rx) = mpsc::channel(256);
        let agent = LocalAgent {
            shared: Arc::new(Shared {
                persist: persist::Store::new(cfg.data_dir.as_deref()),
                cfg: Mutex::new(cfg),
                state: Mutex::new(State::default()),
                updates: tx,
                changed: Notify::new(),
                generation: watch::channel(0).0,
                shutdown,
                loader: Mutex::new(None),
                watches: Mutex::new(None),
                catalog: Mutex::new(None),
            }),
        };
        let task = LocalAgentTask {
            agent: agent.clone(),
            updates: rx,
        };
        (agent, task)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().expect("local state lock poisoned")
    }

    /// A copy of the current settings.
    pub fn cfg(&self) -> LocalAgentConfig {
        self.shared
            .cfg
            .lock()
            .expect("agent config lock poisoned")
            .clone()
    }

    /// Notified whenever something needs syncing.
    pub(crate) fn changed(&self) -> &Notify {
        &self.shared.changed
    }

    fn notify(&self) {
        self.shared.changed.notify_one();
        self.shared
            .generation
            .send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A counter that changes whenever local services or checks may have changed.
    pub fn generation(&self) -> u64 {
        *self.shared.generation.borrow()
    }

    /// Waits until [`Self::generation`] is no longer `since`, or `timeout` passes.
    pub async fn wait_for_change(&self, since: u64, timeout: Duration) {
        let mut rx = self.shared.generation.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|g| *g != since)).await;
    }

    /// Sets the catalog alias checks of other nodes follow (before registering any).
    pub fn set_catalog(&self, catalog: Arc<dyn CatalogApi>) {
        *self.shared.catalog.lock().expect("catalog lock poisoned") = Some(catalog);
    }

    /// Sets how [`Self::reload`] re-reads the configuration.
    pub fn set_config_loader(&self, loader: ConfigLoader) {
        *self.shared.loader.lock().expect("loader lock poisoned") = Some(loader);
    }

    /// The configured watches, which [`reload`](Self::reload) restarts from the new
    /// configuration.
    pub fn set_watches(&self, watches: Arc<crate::watches::ConfigWatches>) {
        *self.shared.watches.lock().expect("watches lock poisoned") = Some(watches);
    }

    /// The agent's services (not those being removed), by ID.
    pub fn services(&self) -> Vec<NodeService> {
        let dc = self.cfg().datacenter;
        self.state()
            .services
            .values()
            .filter(|s| !s.deleted)
            .map(|s| NodeService {
                datacenter: dc.clone(),
                ..s.service.clone()
            })
            .collect()
    }

    /// The agent's checks, by ID.
    pub fn checks(&self) -> Vec<HealthCheck> {
        self.state()
            .checks
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.check.clone())
            .collect()
    }

    /// `PUT /v1/agent/service/register`.
    pub fn register_service(
        &self,
        body: &Value,
        replace_existing_checks: bool,
    ) -> Result<(), BackendError> {
        let scripts = self.cfg().scripts;
        let reg = ServiceDefinition::decode(body)?.validate(Source::Remote, scripts)?;
        self.add_service(
            reg,
            Source::Remote,
            Some(body.clone()),
            replace_existing_checks,
        )
    }

    /// `PUT /v1/agent/service/deregister/<id>`.
    pub fn deregister_service(&self, id: &str) -> Result<(), BackendError> {
        if !self.remove_service(id) {
            return Err(BackendError::NotFound(format!(
                "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
            )));
        }
        Ok(())
    }

    /// `PUT /v1/agent/check/register`.
    pub fn register_check(&self, body: &Value) -> Result<(), BackendError> {
        let def = CheckDefinition::decode(body)?;
        if def.name.is_empty() {
            return Err(BackendError::BadRequest("Missing check name".to_owned()));
        }
        if !def.status.is_empty() && HealthStatus::parse(&def.status).is_none() {
            return Err(BackendError::BadRequest("Bad check status".to_owned()));
        }
        let scripts = self.cfg().scripts;
        let reg = def.into_registration(None, Source::Remote, scripts)?;
        let mut state = self.state();
        let reg = with_service(&state, reg)
            .map_err(|id| BackendError::NotFound(format!("ServiceID {id:?} does not exist")))?;
        self.add_check(&mut state, reg, Source::Remote, Some(body.clone()))?;
        drop(state);
        self.notify();
        Ok(())
    }

    /// `PUT /v1/agent/check/deregister/<id>`.
    pub fn deregister_check(&self, id: &str) -> Result<(), BackendError> {
        let mut state = self.state();
        if !self.remove_check(&mut state, id) {
            return Err(unknown_check(id));
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.notify();
        Ok(())
    }

    /// `PUT /v1/agent/check/pass|warn|fail|update/<id>`: sets a TTL check's status.
    pub fn update_ttl(
        &self,
        id: &str,
        status: HealthStatus,
        output: &str,
    ) -> Result<(), BackendError> {
        let state = self.state();
        let check = state
            .checks
            .get(id)
            .filter(|c| !c.deleted)
            .ok_or_else(|| unknown_check(id))?;
        let max = match check.reg.output_max_size {
            0 => self.cfg().check_output_max_size,
            own => own,
        }
        .max(1);
        let handle = check
            .handle
            .as_ref()
            .filter(|h| h.is_ttl())
            .ok_or_else(|| {
                BackendError::Internal(format!("CheckID {id:?} does not have associated TTL"))
            })?;
        handle
            .update(status, truncate(output, max))
            .map_err(|e| BackendError::Internal(e.to_string()))
    }

    fn add_service(
        &self,
        reg: ServiceRegistration,
        source: Source,
        definition: Option<Value>,
        replace_existing_checks: bool,
    ) -> Result<(), BackendError> {
        let id = reg.service.id.clone();
        let mut state = self.state();
        // Start the new runners before changing anything, so a failure changes nothing.
        let mut prepared = Vec::with_capacity(reg.checks.len());
        for check in reg.checks {
            prepared.push(self.prepare_check(&state, check, source)?);
        }
        let node_name = self.cfg().node_name;
        let in_sync = state
            .services
            .get(&id)
            .is_some_and(|s| !s.deleted && s.in_sync && s.service == reg.service);
        state.services.insert(
            id.clone(),
            LocalService {
                service: reg.service.clone(),
                source,
                in_sync,
                deleted: false,
            },
        );
        let new_ids: BTreeSet<String> = prepared.iter().map(|c| c.check.check_id.clone()).collect();
        if replace_existing_checks {
            let old: Vec<String> = state
                .checks
                .iter()
                .filter(|(cid, c)| {
                    !c.deleted
                        && c.check.service_id == id
                        && !new_ids.contains(*cid)
                        && !cid.starts_with(SERVICE_MAINTENANCE_PREFIX)
                })
                .map(|(cid, _)| cid.clone())
                .collect();
            for cid in old {
                self.remove_check(&mut state, &cid);
            }
        }
        // Checks follow the service's name and tags.
        for c in state.checks.values_mut() {
            if c.check.service_id == id {
                c.check.service_name.clone_from(&reg.service.service);
                c.check.service_tags.clone_from(&reg.service.tags);
            }
        }
        for mut check in prepared {
            check.check.node.clone_from(&node_name);
            self.insert_check(&mut state, check);
        }
        self.refresh_aliases(&mut state);
        drop(state);
        if source == Source::Remote
            && let Some(definition) = definition
        {
            self.shared.persist.save_service(&PersistedService {
                id,
                source,
                definition,
            });
        }
        self.notify();
        Ok(())
    }

    /// Removes a service and its checks; `false` when there was no such service.
    fn remove_service(&self, id: &str) -> bool {
        let mut state = self.state();
        let Some(svc) = state.services.get_mut(id).filter(|s| !s.deleted) else {
            return false;
        };
        svc.deleted = true;
        svc.in_sync = false;
        let checks: Vec<String> = state
            .checks
            .iter()
            .filter(|(_, c)| !c.deleted && c.check.service_id == id)
            .map(|(cid, _)| cid.clone())
            .collect();
        for cid in checks {
            self.remove_check(&mut state, &cid);
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.shared.persist.remove_service(id);
        self.notify();
        true
    }

    /// Validates and starts what `reg` needs, without registering it yet.
    fn prepare_check(
        &self,
        state: &State,
        reg: CheckRegistration,
        source: Source,
    ) -> Result<LocalCheck, BackendError> {
        let now = Instant::now();
        let id = reg.check.check_id.clone();
        let mut check = reg.check.clone();
        let existing = state.checks.get(&id).filter(|c| !c.deleted);
        if let Some(old) = existing.filter(|c| c.same_run(&reg)) {
            // Unchanged runner: keep its status and output (the handle moves over in
            // `insert_check`).
            check.status = old.check.status;
            check.output.clone_from(&old.check.output);
            let mut local = LocalCheck::new(check, reg, source, now);
            local.critical_since = old.critical_since;
            return Ok(local);
        }
        if let CheckRun::Spec(spec) = &reg.run {
            let mut spec = spec.clone();
            if matches!(spec.kind, CheckKind::Ttl { .. })
                && let Some(saved) = self.shared.persist.ttl(&id)
            {
                spec.initial_status = saved.status;
                check.status = saved.status;
                check.output = saved.output;
            }
            let handle = CheckRunner::spawn(
                spec,
                self.shared.updates.clone(),
                self.shared.shutdown.clone(),
            )
            .map_err(|e| BackendError::BadRequest(format!("Invalid check: {e}")))?;
            let mut local = LocalCheck::new(check, reg, source, now);
            local.handle = Some(handle);
            return Ok(local);
        }
        let mut local = LocalCheck::new(check, reg, source, now);
        if let CheckRun::Alias { node, service } = &local.reg.run
            && self.is_remote(node)
        {
            let catalog = self
                .shared
                .catalog
                .lock()
                .expect("catalog lock poisoned")
                .clone();
            if let Some(catalog) = catalog {
                let cancel = self.shared.shutdown.child_token();
                tokio::spawn(alias::watch_node(
                    catalog,
                    node.clone(),
                    service.clone(),
                    id,
                    self.shared.updates.clone(),
                    cancel.clone(),
                ));
                local.watcher = Some(cancel.drop_guard());
            }
        }
        Ok(local)
    }

    /// Whether `node` (of an alias check) is another node than this agent's.
    fn is_remote(&self, node: &str) -> bool {
        !node.is_empty() && node != self.cfg().node_name
    }

    /// Puts a prepared check in place of any old one with its ID.
    fn insert_check(&self, state: &mut State, mut check: LocalCheck) {
        let id = check.check.check_id.clone();
        if let Some(mut old) = state.checks.remove(&id) {
            if check.handle.is_none() && !old.deleted && old.same_run(&check.reg) {
                check.handle = old.handle.take();
                check.watcher = old.watcher.take();
                check.output_synced_at = old.output_synced_at;
            }
            check.in_sync = old.in_sync && !old.deleted && old.check == check.check;
        }
        state.checks.insert(id, check);
    }

    fn add_check(
        &self,
        state: &mut State,
        reg: CheckRegistration,
        source: Source,
        definition: Option<Value>,
    ) -> Result<(), BackendError> {
        let mut check = self.prepare_check(state, reg, source)?;
        check.check.node = self.cfg().node_name;
        check.definition.clone_from(&definition);
        let id = check.check.check_id.clone();
        self.insert_check(state, check);
        self.refresh_aliases(state);
        if source == Source::Remote
            && let Some(definition) = definition
        {
            self.shared.persist.save_check(&PersistedCheck {
                check_id: id,
                source,
                definition: Some(definition),
                maintenance: None,
            });
        }
        Ok(())
    }

    /// Stops and removes a check; `false` when there was none.
    fn remove_check(&self, state: &mut State, id: &str) -> bool {
        let Some(c) = state.checks.get_mut(id).filter(|c| !c.deleted) else {
            return false;
        };
        c.deleted = true;
        c.in_sync = false;
        c.handle = None;
        c.watcher = None;
        self.shared.persist.remove_check(id);
        true
    }

    /// Records a runner's result (the [`LocalAgentTask`] calls this).
    fn record(&self, update: CheckUpdate) {
        let cfg = self.cfg();
        let now = Instant::now();
        let mut state = self.state();
        let Some(check) = state
            .checks
            .get_mut(&update.check_id)
            .filter(|c| !c.deleted)
        else {
            return;
        };
        // A check's own `OutputMaxSize` wins over `check_output_max_size`.
        let max = match check.reg.output_max_size {
            0 => cfg.check_output_max_size,
            own => own,
        };
        let output = if cfg.discard_check_output {
            String::new()
        } else {
            truncate(&update.output, max.max(1))
        };
        let is_ttl =
            matches!(&check.reg.run, CheckRun::Spec(s) if matches!(s.kind, CheckKind::Ttl { .. }));
        check.set(update.status, output, cfg.check_update_interval, now);
        // Runners report changes only; Consul warns on every critical result.
        if update.status == HealthStatus::Critical {
            warn!(check = %update.check_id, "Check is now critical");
        }
        if is_ttl && let CheckRun::Spec(spec) = &check.reg.run {
            let ttl = match spec.kind {
                CheckKind::Ttl { ttl } => ttl,
                _ => Duration::ZERO,
            };
            self.shared.persist.save_ttl(&PersistedTtl {
                check_id: update.check_id.clone(),
                status: check.check.status,
                output: check.check.output.clone(),
                expires: persist::unix_now() + ttl.as_secs().max(1),
            });
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.notify();
    }

    /// Recomputes every alias check from the checks it mirrors.
    fn refresh_aliases(&self, state: &mut State) {
        let cfg_node = self.cfg().node_name;
        let update_interval = self.cfg().check_update_interval;
        let now = Instant::now();
        let aliases: Vec<(String, String, String)> = state
            .checks
            .iter()
            .filter(|(_, c)| !c.deleted)
            .filter_map(|(id, c)| match &c.reg.run {
                CheckRun::Alias { node, service } => {
                    Some((id.clone(), node.clone(), service.clone()))
                }
                _ => None,
            })
            .collect();
        for (id, node, service) in aliases {
            if !node.is_empty() && node != cfg_node {
                // Followed through the catalog by its watcher.
                continue;
            }
            let (status, output) = state.alias_status(&id, &service);
            if let Some(c) = state.checks.get_mut(&id)
                && c.set(status, output, update_interval, now)
                && status == HealthStatus::Critical
            {
                warn!(check = %id, "Check is now critical");
            }
        }
    }

    /// Deregisters services whose checks have been critical longer than their
    /// `deregister_critical_service_after` (at least `deregister_min`).
    pub(crate) fn reap(&self, now: Instant) {
        let min = self.cfg().deregister_min;
        let doomed: Vec<(String, String)> = self
            .state()
            .checks
            .values()
            .filter(|c| !c.deleted && !c.check.service_id.is_empty())
            .filter_map(|c| {
                let after = c.reg.deregister_after?.max(min);
                let since = c.critical_since?;
                (now.duration_since(since) > after)
                    .then(|| (c.check.service_id.clone(), c.check.check_id.clone()))
            })
            .collect();
        for (service, check) in doomed {
            if self.remove_service(&service) {
                info!(service = %service, check = %check, "Check for service has been critical for too long; deregistered service");
            }
        }
    }

    /// The plan of what to push, after promoting deferred output changes that are due;
    /// also returns when the next deferred change is due.
    pub(crate) fn plan(&self, now: Instant) -> (SyncPlan, Option<Instant>) {
        let interval = self.cfg().check_update_interval;
        let mut state = self.state();
        let next = state.promote_deferred(interval, now);
        (state.plan(), next)
    }
}

/// Fills a top-level check's service name and tags from the local service it names;
/// `Err(service_id)` when there is no such service.
fn with_service(state: &State, mut reg: CheckRegistration) -> Result<CheckRegistration, String> {
    let sid = reg.check.service_id.clone();
    if sid.is_empty() {
        return Ok(reg);
    }
    let svc = state.services.get(&sid).filter(|s| !s.deleted).ok_or(sid)?;
    reg.check.service_name.clone_from(&svc.service.service);
    reg.check.service_tags.clone_from(&svc.service.tags);
    Ok(reg)
}

fn unknown_check(id: &str) -> BackendError {
    BackendError::NotFound(format!(
        "Unknown check ID {id:?}. Ensure that the check ID is passed, not the check name."
    ))
}

/// Cuts `output` to `max` bytes on a character boundary, noting what was kept.
fn truncate(output: &str, max: usize) -> String {
    if output.len() <= max {
        return output.to_owned();
    }
    let mut cut = max;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} ... (captured {cut} of {} bytes)",
        &output[..cut],
        output.len()
    )
}

#[cfg(test)]
pub(crate) mod tests;
