//! Registrations from config files (at start and on reload) and from the data dir (at
//! start).

use std::collections::BTreeSet;

use tracing::{info, warn};

use super::{LocalAgent, with_service};
use crate::BackendError;
use crate::config::RuntimeConfig;
use crate::definition::{
    CheckDefinition, CheckRegistration, ScriptPolicy, ServiceDefinition, ServiceRegistration,
    Source,
};

impl LocalAgent {
    /// Re-registers what was persisted under the data dir (API services and checks,
    /// maintenance, TTL states); entries that no longer validate are skipped with a
    /// warning.
    pub fn restore(&self) {
        let scripts = self.cfg().scripts;
        for p in self.shared.persist.services() {
            let reg = ServiceDefinition::decode(&p.definition)
                .and_then(|d| d.validate(p.source, scripts))
                .and_then(|reg| self.add_service(reg, p.source, Some(p.definition.clone()), false));
            if let Err(error) = reg {
                warn!(service = %p.id, %error, "failed to restore service");
            }
        }
        for p in self.shared.persist.checks() {
            let result = match (&p.maintenance, &p.definition) {
                (Some(m), _) if m.service_id.is_empty() => self.node_maintenance(true, &m.reason),
                (Some(m), _) => self.service_maintenance(&m.service_id, true, &m.reason),
                (None, Some(def)) => {
                    let mut state = self.state();
                    CheckDefinition::decode(def)
                        .and_then(|d| d.into_registration(None, p.source, scripts))
                        .and_then(|reg| {
                            with_service(&state, reg).map_err(|id| {
                                BackendError::NotFound(format!("ServiceID {id:?} does not exist"))
                            })
                        })
                        .and_then(|reg| {
                            self.add_check(&mut state, reg, p.source, Some(def.clone()))
                        })
                }
                (None, None) => Ok(()),
            };
            if let Err(error) = result {
                warn!(check = %p.check_id, %error, "failed to restore check");
            }
        }
        self.notify();
    }

    /// Registers the services and checks of `cfg` (config files), replacing those of
    /// an earlier call: added ones start, removed ones go, changed ones restart, and
    /// unchanged checks keep their status. Everything is validated first, so an error
    /// changes nothing.
    pub fn load_config(&self, cfg: &RuntimeConfig) -> Result<(), BackendError> {
        let scripts = ScriptPolicy {
            enable_script_checks: cfg.enable_script_checks,
            enable_local_script_checks: cfg.enable_local_script_checks,
        };
        let mut services = Vec::new();
        for raw in &cfg.services {
            let name = raw
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("name")))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or_default()
                .to_owned();
            let reg = ServiceDefinition::decode(raw)
                .and_then(|d| d.validate(Source::Local, scripts))
                .map_err(|e| {
                    BackendError::Internal(format!("Failed to register service {name:?}: {e}"))
                })?;
            services.push(reg);
        }
        let mut checks = Vec::new();
        for raw in &cfg.checks {
            let def = CheckDefinition::decode(raw)?;
            let name = def.name.clone();
            let fail = |e: BackendError| {
                BackendError::Internal(format!("Failed to register check '{name}': {e}"))
            };
            if def.given_id().is_empty() && def.name.is_empty() {
                return Err(fail(BackendError::BadRequest("CheckID missing".to_owned())));
            }
            let reg = def
                .into_registration(None, Source::Local, scripts)
                .map_err(fail)?;
            let sid = &reg.check.service_id;
            let known = sid.is_empty()
                || services.iter().any(|s| s.service.id == *sid)
                || self.state().services.get(sid).is_some_and(|s| !s.deleted);
            if !known {
                return Err(fail(BackendError::NotFound(format!(
                    "ServiceID {sid:?} does not exist"
                ))));
            }
            checks.push(reg);
        }
        let meta_changed = {
            // Never take the state lock while holding this one: state → cfg is the order.
            let mut c = self.shared.cfg.lock().expect("agent config lock poisoned");
            c.scripts = scripts;
            c.discard_check_output = cfg.discard_check_output;
            c.check_update_interval = cfg.check_update_interval;
            c.check_output_max_size = cfg.check_output_max_size;
            let changed = c.node_meta != cfg.node_meta;
            c.node_meta.clone_from(&cfg.node_meta);
            changed
        };
        if meta_changed {
            self.state().node_in_sync = false;
        }
        self.apply_config(services, checks)
    }

    fn apply_config(
        &self,
        services: Vec<ServiceRegistration>,
        checks: Vec<CheckRegistration>,
    ) -> Result<(), BackendError> {
        let service_ids: BTreeSet<String> = services.iter().map(|s| s.service.id.clone()).collect();
        let check_ids: BTreeSet<String> = services
            .iter()
            .flat_map(|s| s.checks.iter())
            .chain(&checks)
            .map(|c| c.check.check_id.clone())
            .collect();
        let stale: Vec<String> = self
            .state()
            .services
            .iter()
            .filter(|(id, s)| !s.deleted && s.source == Source::Local && !service_ids.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.remove_service(&id);
        }
        {
            let mut state = self.state();
            let stale: Vec<String> = state
                .checks
                .iter()
                .filter(|(id, c)| {
                    !c.deleted && c.source == Source::Local && !check_ids.contains(*id)
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in stale {
                self.remove_check(&mut state, &id);
            }
        }
        for reg in services {
            self.add_service(reg, Source::Local, None, false)?;
        }
        let mut state = self.state();
        for reg in checks {
            let reg = with_service(&state, reg)
                .map_err(|id| BackendError::NotFound(format!("ServiceID {id:?} does not exist")))?;
            self.add_check(&mut state, reg, Source::Local, None)?;
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.notify();
        Ok(())
    }

    /// Re-reads the configuration (SIGHUP, `/v1/agent/reload`) and applies its services
    /// and checks; a bad configuration changes nothing and is returned (and logged).
    pub fn reload(&self) -> Result<(), BackendError> {
        info!("Reloading configuration...");
        let loaded = {
            let loader = self.shared.loader.lock().expect("loader lock poisoned");
            match loader.as_ref() {
                Some(load) => load(),
                None => Err("no configuration sources to reload".to_owned()),
            }
        };
        let result = loaded
            .map_err(|e| BackendError::Internal(format!("Failed to reload configs: {e}")))
            .and_then(|cfg| {
                self.load_config(&cfg).map_err(|e| {
                    BackendError::Internal(format!("Failed reloading services: {e}"))
                })?;
                let watches = self
                    .shared
                    .watches
                    .lock()
                    .expect("watches lock poisoned")
                    .clone();
                match watches {
                    Some(watches) => watches.apply(&cfg.watches).map_err(|e| {
                        BackendError::Internal(format!("Failed reloading watches: {e}"))
                    }),
                    None => Ok(()),
                }
            });
        if let Err(e) = &result {
            tracing::error!("{e}");
        }
        result
    }
}
