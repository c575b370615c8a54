//! Maintenance mode (Consul's `EnableServiceMaintenance`/`EnableNodeMaintenance`): a
//! critical check the agent sets, persisted like an API check.

use praetor_types::{HealthCheck, HealthStatus};
use tokio::time::Instant;
use tracing::info;

use super::persist::{Maintenance, PersistedCheck};
use super::state::{LocalCheck, State};
use super::{
    LocalAgent, NODE_MAINT_DEFAULT, NODE_MAINTENANCE, SERVICE_MAINT_DEFAULT,
    SERVICE_MAINTENANCE_PREFIX,
};
use crate::BackendError;
use crate::definition::{CheckRegistration, CheckRun, Source};

impl LocalAgent {
    /// `PUT /v1/agent/service/maintenance/<id>`.
    pub fn service_maintenance(
        &self,
        id: &str,
        enable: bool,
        reason: &str,
    ) -> Result<(), BackendError> {
        let mut state = self.state();
        let Some(svc) = state.services.get(id).filter(|s| !s.deleted) else {
            return Err(BackendError::NotFound(format!("Unknown service ID {id:?}")));
        };
        let service = svc.service.clone();
        let check_id = format!("{SERVICE_MAINTENANCE_PREFIX}{id}");
        if enable {
            let notes = if reason.is_empty() {
                SERVICE_MAINT_DEFAULT
            } else {
                reason
            };
            let check = HealthCheck {
                check_id: check_id.clone(),
                name: "Service Maintenance Mode".to_owned(),
                notes: notes.to_owned(),
                service_id: service.id.clone(),
                service_name: service.service.clone(),
                service_tags: service.tags.clone(),
                r#type: "maintenance".to_owned(),
                ..HealthCheck::default()
            };
            self.add_static(&mut state, check)?;
            self.shared.persist.save_check(&PersistedCheck {
                check_id,
                source: Source::Remote,
                definition: None,
                maintenance: Some(Maintenance {
                    service_id: id.to_owned(),
                    reason: reason.to_owned(),
                }),
            });
            info!(service = %id, "Service entered maintenance mode");
        } else if self.remove_check(&mut state, &check_id) {
            info!(service = %id, "Service left maintenance mode");
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.notify();
        Ok(())
    }

    /// `PUT /v1/agent/maintenance`.
    pub fn node_maintenance(&self, enable: bool, reason: &str) -> Result<(), BackendError> {
        let mut state = self.state();
        if enable {
            let notes = if reason.is_empty() {
                NODE_MAINT_DEFAULT
            } else {
                reason
            };
            let check = HealthCheck {
                check_id: NODE_MAINTENANCE.to_owned(),
                name: "Node Maintenance Mode".to_owned(),
                notes: notes.to_owned(),
                r#type: "maintenance".to_owned(),
                ..HealthCheck::default()
            };
            self.add_static(&mut state, check)?;
            self.shared.persist.save_check(&PersistedCheck {
                check_id: NODE_MAINTENANCE.to_owned(),
                source: Source::Remote,
                definition: None,
                maintenance: Some(Maintenance {
                    service_id: String::new(),
                    reason: reason.to_owned(),
                }),
            });
            info!("Node entered maintenance mode");
        } else if self.remove_check(&mut state, NODE_MAINTENANCE) {
            info!("Node left maintenance mode");
        }
        self.refresh_aliases(&mut state);
        drop(state);
        self.notify();
        Ok(())
    }

    fn add_static(&self, state: &mut State, mut check: HealthCheck) -> Result<(), BackendError> {
        check.node = self.cfg().node_name;
        check.status = HealthStatus::Critical;
        let reg = CheckRegistration {
            check: check.clone(),
            run: CheckRun::Static,
            deregister_after: None,
            output_max_size: 0,
        };
        let local = LocalCheck::new(check, reg, Source::Remote, Instant::now());
        self.insert_check(state, local);
        Ok(())
    }
}
