//! Catalog and health reads and writes (Consul's `Catalog` and `Health` endpoints).
//!
//! Writes go through Raft as [`Command::CatalogRegister`] / [`Command::CatalogDeregister`].
//! Reads block on the catalog tables they depend on, with the store's coarse per-table
//! indexes (spec/http-api.md §1.5 allows spurious wake-ups, never missed ones).

use std::collections::BTreeMap;

use praetor_state::{Command, CommandResponse, Table, Watch};
use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, HealthStatus, Node, NodeServices, QueryMeta,
    QueryOptions, RegisterRequest, ServiceNode,
};

use crate::{Server, ServerError};

/// A read result with its query meta.
pub type Answer<T> = (QueryMeta, T);

impl Server {
    /// Registers a node and optionally a service and checks, all or nothing. Validation
    /// failures come back as [`ServerError::Apply`] with Consul's texts.
    pub(crate) async fn local_catalog_register(
        &self,
        req: RegisterRequest,
    ) -> Result<bool, ServerError> {
        let cmd = crate::session::stamped(Command::CatalogRegister(Box::new(req)));
        expect_bool(self.raft.propose(cmd).await?.response?, "catalog register")
    }

    /// Removes a check, a service with its checks, or a node with everything on it;
    /// removing what is not there succeeds (idempotent, as in Consul).
    pub(crate) async fn local_catalog_deregister(
        &self,
        req: DeregisterRequest,
    ) -> Result<bool, ServerError> {
        let cmd = crate::session::stamped(Command::CatalogDeregister(req));
        expect_bool(
            self.raft.propose(cmd).await?.response?,
            "catalog deregister",
        )
    }

    /// Every node, sorted by name (`/catalog/nodes`).
    pub(crate) async fn local_catalog_nodes(
        &self,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<Node>>, ServerError> {
        self.blocking_query(opts, self.watch(&[Table::Nodes]), |view| {
            let r = view.nodes();
            (r.index, r.value)
        })
        .await
    }

    /// Service names with the sorted union of their tags (`/catalog/services`).
    pub(crate) async fn local_catalog_services(
        &self,
        opts: QueryOptions,
    ) -> Result<Answer<BTreeMap<String, Vec<String>>>, ServerError> {
        self.blocking_query(opts, self.watch(&[Table::Services]), |view| {
            let r = view.services();
            (r.index, r.value)
        })
        .await
    }

    /// Catalog rows of service `name` whose instances carry every tag of `tags`
    /// (case-insensitively; none given: all instances) (`/catalog/service/<name>`).
    pub(crate) async fn local_catalog_service(
        &self,
        name: &str,
        tags: &[String],
        opts: QueryOptions,
    ) -> Result<Answer<Vec<ServiceNode>>, ServerError> {
        let watch = self.watch(&[Table::Nodes, Table::Services]);
        self.blocking_query(opts, watch, |view| {
            let r = view.service_nodes(name, tags.first().map(String::as_str));
            let rows = r
                .value
                .into_iter()
                .filter(|row| has_all_tags(&row.service_tags, tags))
                .collect();
            (r.index, rows)
        })
        .await
    }

    /// The node `name` with its services by ID, `None` for an unknown node
    /// (`/catalog/node/<name>` and `/catalog/node-services/<name>`).
    pub(crate) async fn local_catalog_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Option<NodeServices>>, ServerError> {
        let watch = self.watch(&[Table::Nodes, Table::Services]);
        self.blocking_query(opts, watch, |view| {
            let r = view.node_services(name);
            (r.index, r.value)
        })
        .await
    }

    /// Every check on node `name`, `[]` for an unknown node (`/health/node/<name>`).
    pub(crate) async fn local_health_node(
        &self,
        name: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        self.blocking_query(opts, self.watch(&[Table::Checks]), |view| {
            let r = view.node_checks(name);
            (r.index, r.value)
        })
        .await
    }

    /// The checks of every instance of service `service` (`/health/checks/<service>`).
    pub(crate) async fn local_health_checks(
        &self,
        service: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        self.blocking_query(opts, self.watch(&[Table::Checks]), |view| {
            let r = view.service_checks(service);
            (r.index, r.value)
        })
        .await
    }

    /// Instances of `name` carrying every tag of `tags`, with their node and the checks
    /// bearing on them; with `passing`, only instances whose every check passes
    /// (`/health/service/<name>`).
    pub(crate) async fn local_health_service(
        &self,
        name: &str,
        tags: &[String],
        passing: bool,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<CheckServiceNode>>, ServerError> {
        let watch = self.watch(&[Table::Nodes, Table::Services, Table::Checks]);
        self.blocking_query(opts, watch, |view| {
            let r = view.check_service_nodes(name, tags.first().map(String::as_str), passing);
            let rows = r
                .value
                .into_iter()
                .filter(|csn| has_all_tags(&csn.service.tags, tags))
                .collect();
            (r.index, rows)
        })
        .await
    }

    /// Checks in `state` (`any`, `passing`, `warning`, `critical`)
    /// (`/health/state/<state>`). Any other word matches no check, as in Consul: `[]`
    /// at the checks table's index, still blocking like any other read.
    pub(crate) async fn local_health_state(
        &self,
        state: &str,
        opts: QueryOptions,
    ) -> Result<Answer<Vec<HealthCheck>>, ServerError> {
        let wanted = match state {
            "any" => Some(None),
            word => HealthStatus::parse(word).map(Some),
        };
        self.blocking_query(opts, self.watch(&[Table::Checks]), |view| match wanted {
            Some(status) => {
                let r = view.checks_in_state(status);
                (r.index, r.value)
            }
            None => (view.table_index(Table::Checks), Vec::new()),
        })
        .await
    }

    /// A fresh set of watches on `tables`, made before each run of a blocking query.
    fn watch(&self, tables: &[Table]) -> impl Fn() -> Vec<Watch> + use<'_> {
        let tables = tables.to_vec();
        move || tables.iter().map(|t| self.store.watch_table(*t)).collect()
    }
}

fn expect_bool(resp: CommandResponse, what: &'static str) -> Result<bool, ServerError> {
    match resp {
        CommandResponse::Bool(ok) => Ok(ok),
        _ => Err(ServerError::UnexpectedResponse(what)),
    }
}

/// Whether `have` holds every tag of `want`, case-insensitively (repeated `?tag`).
fn has_all_tags(have: &[String], want: &[String]) -> bool {
    want.iter()
        .all(|w| have.iter().any(|h| h.eq_ignore_ascii_case(w)))
}

#[cfg(test)]
mod tests {
    use super::has_all_tags;

    #[test]
    fn every_wanted_tag_must_be_present_ignoring_case() {
        let have = vec!["v1".to_owned(), "Primary".to_owned()];
        assert!(has_all_tags(&have, &[]));
        assert!(has_all_tags(&have, &["primary".into(), "V1".into()]));
        assert!(!has_all_tags(&have, &["v1".into(), "canary".into()]));
        assert!(!has_all_tags(&[], &["v1".into()]));
    }
}
