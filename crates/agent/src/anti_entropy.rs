//! Anti-entropy (spec/agent-config.md §11.3; Consul's `agent/ae` and `local.State`
//! sync): the agent registers its node and pushes its services and checks to the
//! catalog on every change (bursts coalesce), and every `full_sync_interval` (plus
//! jitter) compares with the catalog and repairs drift, deregistering what this agent
//! does not own on its node — except the leader's `serfHealth` check and `consul`
//! service. Failures (no leader yet) are retried with backoff, quietly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use praetor_server::Server;
use praetor_types::{DeregisterRequest, HealthCheck, NodeServices, QueryOptions, RegisterRequest};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::local_agent::SyncPlan;
use crate::{BackendError, LocalAgent};

/// The catalog as anti-entropy sees it: the in-process server ([`ServerCatalog`]) or,
/// on a client agent, the servers over RPC ([`crate::RemoteServers`]).
#[async_trait]
pub trait CatalogApi: Send + Sync + 'static {
    /// `Catalog.Register`.
    async fn register(&self, req: RegisterRequest) -> Result<(), BackendError>;
    /// `Catalog.Deregister`.
    async fn deregister(&self, req: DeregisterRequest) -> Result<(), BackendError>;
    /// The node with its services (`None`: not in the catalog).
    async fn node_services(&self, node: &str) -> Result<Option<NodeServices>, BackendError>;
    /// Every check on the node.
    async fn node_checks(&self, node: &str) -> Result<Vec<HealthCheck>, BackendError>;
    /// Every check on the node, as a blocking query: answers once the checks' index is
    /// above `min_index` or `wait` has passed; returns the index with the checks.
    async fn watch_node_checks(
        &self,
        node: &str,
        min_index: u64,
        wait: Duration,
    ) -> Result<(u64, Vec<HealthCheck>), BackendError>;
}

/// [`CatalogApi`] over the server running in this process.
#[derive(Clone)]
pub struct ServerCatalog(pub Server);

#[async_trait]
impl CatalogApi for ServerCatalog {
    async fn register(&self, req: RegisterRequest) -> Result<(), BackendError> {
        self.0.catalog_register(req).await?;
        Ok(())
    }

    async fn deregister(&self, req: DeregisterRequest) -> Result<(), BackendError> {
        self.0.catalog_deregister(req).await?;
        Ok(())
    }

    async fn node_services(&self, node: &str) -> Result<Option<NodeServices>, BackendError> {
        Ok(self.0.catalog_node(node, QueryOptions::default()).await?.1)
    }

    async fn node_checks(&self, node: &str) -> Result<Vec<HealthCheck>, BackendError> {
        Ok(self.0.health_node(node, QueryOptions::default()).await?.1)
    }

    async fn watch_node_checks(
        &self,
        node: &str,
        min_index: u64,
        wait: Duration,
    ) -> Result<(u64, Vec<HealthCheck>), BackendError> {
        let opts = QueryOptions {
            min_index,
            max_wait: Some(wait),
            ..QueryOptions::default()
        };
        let (meta, checks) = self.0.health_node(node, opts).await?;
        Ok((meta.index, checks))
    }
}

/// Anti-entropy timing.
#[derive(Debug, Clone)]
pub struct AntiEntropyConfig {
    /// Time between full syncs (Consul: 1 minute for small clusters), plus up to
    /// `full_sync_interval / 2` of random stagger.
    pub full_sync_interval: Duration,
    /// First retry delay after a failed sync; doubles up to `max_retry`.
    pub min_retry: Duration,
    /// Longest retry delay.
    pub max_retry: Duration,
    /// How long to wait after a change for more changes to sync together.
    pub coalesce: Duration,
}

impl Default for AntiEntropyConfig {
    fn default() -> Self {
        AntiEntropyConfig {
            full_sync_interval: Duration::from_secs(60),
            min_retry: Duration::from_millis(250),
            max_retry: Duration::from_secs(15),
            coalesce: Duration::from_millis(20),
        }
    }
}

/// The anti-entropy task.
pub struct AntiEntropy {
    agent: LocalAgent,
    catalog: Arc<dyn CatalogApi>,
    cfg: AntiEntropyConfig,
}

impl AntiEntropy {
    /// Syncs `agent` to `catalog`.
    pub fn new(agent: LocalAgent, catalog: Arc<dyn CatalogApi>, cfg: AntiEntropyConfig) -> Self {
        AntiEntropy {
            agent,
            catalog,
            cfg,
        }
    }

    /// Runs until `shutdown` is cancelled: a full sync first, then changes as they come
    /// and a full sync every interval.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut next_full = Instant::now();
        let mut retry = self.cfg.min_retry;
        let mut retry_at: Option<Instant>;
        let mut deferred_at: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let full_due = next_full <= now;
            let outcome = if full_due {
                self.sync_full().await
            } else {
                self.sync_changes().await
            };
            match outcome {
                Ok(next_deferred) => {
                    retry = self.cfg.min_retry;
                    retry_at = None;
                    deferred_at = next_deferred;
                    if full_due {
                        next_full = Instant::now() + self.full_interval();
                    }
                }
                Err(error) => {
                    debug!(%error, "anti-entropy sync failed; retrying");
                    retry_at = Some(Instant::now() + retry);
                    retry = (retry * 2).min(self.cfg.max_retry);
                }
            }
            // After a failure only the retry is due; otherwise the next full sync or
            // deferred output change, whichever comes first.
            let wake =
                retry_at.unwrap_or_else(|| deferred_at.map_or(next_full, |d| d.min(next_full)));
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                () = self.agent.changed().notified() => {
                    // Let a burst of changes land, then sync them together.
                    tokio::select! {
                        biased;
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(self.cfg.coalesce) => {}
                    }
                    if let Some(at) = retry_at && at > Instant::now() {
                        // Still backing off: wait for the retry unless shut down.
                        tokio::select! {
                            biased;
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep_until(at) => {}
                        }
                    }
                }
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn full_interval(&self) -> Duration {
        let base = self.cfg.full_sync_interval;
        let jitter_max = u64::try_from(base.as_millis() / 2).unwrap_or(0);
        let jitter = if jitter_max == 0 {
            0
        } else {
            rand::random_range(0..jitter_max)
        };
        base + Duration::from_millis(jitter)
    }

    /// Compares with the catalog, deregisters what is not ours, then pushes changes.
    pub async fn sync_full(&self) -> Result<Option<Instant>, BackendError> {
        let cfg = self.agent.cfg();
        let expected = cfg.node();
        let found = self.catalog.node_services(&cfg.node_name).await?;
        let checks = self.catalog.node_checks(&cfg.node_name).await?;
        let (node, services) = match &found {
            Some(ns) => (Some(&ns.node), ns.services.clone()),
            None => (None, BTreeMap::new()),
        };
        let (extra_services, extra_checks) = self.agent.state().reconcile(
            node,
            &expected,
            &services,
            &checks,
            !cfg.check_update_interval.is_zero(),
        );
        for id in extra_services {
            self.catalog
                .deregister(DeregisterRequest {
                    datacenter: cfg.datacenter.clone(),
                    node: cfg.node_name.clone(),
                    service_id: id.clone(),
                    ..DeregisterRequest::default()
                })
                .await?;
            info!(service = %id, "Deregistered service");
        }
        for id in extra_checks {
            self.catalog
                .deregister(DeregisterRequest {
                    datacenter: cfg.datacenter.clone(),
                    node: cfg.node_name.clone(),
                    check_id: id.clone(),
                    ..DeregisterRequest::default()
                })
                .await?;
            info!(check = %id, "Deregistered check");
        }
        self.sync_changes().await
    }

    /// Pushes what is out of sync; returns when a deferred output change is next due.
    pub async fn sync_changes(&self) -> Result<Option<Instant>, BackendError> {
        let cfg = self.agent.cfg();
        let (plan, next_deferred) = self.agent.plan(Instant::now());
        if plan.is_empty() {
            return Ok(next_deferred);
        }
        let node = cfg.node();
        let base = RegisterRequest {
            datacenter: cfg.datacenter.clone(),
            id: node.id.clone(),
            node: node.node.clone(),
            address: node.address.clone(),
            tagged_addresses: node.tagged_addresses.clone(),
            node_meta: node.meta.clone(),
            ..RegisterRequest::default()
        };
        let SyncPlan {
            node: node_changed,
            services,
            deregister_services,
            checks,
            deregister_checks,
        } = plan;
        let deregister = |service_id: String, check_id: String| DeregisterRequest {
            datacenter: cfg.datacenter.clone(),
            node: cfg.node_name.clone(),
            service_id,
            check_id,
        };
        for id in deregister_services {
            self.catalog
                .deregister(deregister(id.clone(), String::new()))
                .await?;
            self.agent.state().deregistered_service(&id);
            info!(service = %id, "Deregistered service");
        }
        for id in deregister_checks {
            self.catalog
                .deregister(deregister(String::new(), id.clone()))
                .await?;
            self.agent.state().deregistered_check(&id);
            info!(check = %id, "Deregistered check");
        }
        if node_changed {
            self.catalog.register(base.clone()).await?;
            self.agent.state().node_in_sync = true;
            info!("Synced node info");
        }
        for (service, service_checks) in services {
            let req = RegisterRequest {
                service: Some(service.clone()),
                checks: service_checks.clone(),
                ..base.clone()
            };
            self.catalog.register(req).await?;
            self.agent
                .state()
                .synced_service(&service, &service_checks, Instant::now());
            info!(service = %service.id, "Synced service");
            for c in &service_checks {
                debug!(check = %c.check_id, "Synced check");
            }
        }
        for check in checks {
            let req = RegisterRequest {
                checks: vec![check.clone()],
                skip_node_update: true,
                ..base.clone()
            };
            self.catalog.register(req).await?;
            self.agent.state().synced_check(&check, Instant::now());
            info!(check = %check.check_id, "Synced check");
        }
        Ok(next_deferred)
    }
}

#[cfg(test)]
mod tests;
