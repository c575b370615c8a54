//! The health endpoints (`/v1/health/*`), as Consul's Go `api.Health` calls them.

use praetor_types::{CheckServiceNode, HealthCheck, QueryMeta, QueryOptions};

use crate::catalog::encode_segment;
use crate::{Client, ClientError};

/// Selection options of `/v1/health/service/<name>`: `?tag` (repeatable, all must match),
/// `?passing`, `?filter`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthServiceQuery {
    /// Only instances carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only instances whose every check (node and service) is passing.
    pub passing_only: bool,
    /// A filter expression (`?filter=`).
    pub filter: Option<String>,
}

impl Client {
    /// `GET /v1/health/service/<name>`: the service's instances with their nodes and checks.
    pub async fn health_service(
        &self,
        name: &str,
        query: &HealthServiceQuery,
        options: &QueryOptions,
    ) -> Result<(Vec<CheckServiceNode>, QueryMeta), ClientError> {
        let mut params: Vec<(&'static str, String)> =
            query.tags.iter().map(|t| ("tag", t.clone())).collect();
        if query.passing_only {
            params.push(("passing", "1".to_owned()));
        }
        push_filter(&mut params, query.filter.as_deref());
        let path = format!("/v1/health/service/{}", encode_segment(name));
        self.health_read(&path, &params, options).await
    }

    /// `GET /v1/health/checks/<service>`: the checks of the service's instances.
    pub async fn health_checks(
        &self,
        service: &str,
        filter: Option<&str>,
        options: &QueryOptions,
    ) -> Result<(Vec<HealthCheck>, QueryMeta), ClientError> {
        let mut params = Vec::new();
        push_filter(&mut params, filter);
        let path = format!("/v1/health/checks/{}", encode_segment(service));
        self.health_read(&path, &params, options).await
    }

    /// `GET /v1/health/state/<state>`: every check in `state` (`any`, `passing`, `warning`,
    /// `critical`).
    pub async fn health_state(
        &self,
        state: &str,
        filter: Option<&str>,
        options: &QueryOptions,
    ) -> Result<(Vec<HealthCheck>, QueryMeta), ClientError> {
        let mut params = Vec::new();
        push_filter(&mut params, filter);
        let path = format!("/v1/health/state/{}", encode_segment(state));
        self.health_read(&path, &params, options).await
    }

    /// `GET /v1/health/node/<node>`: the node's checks and its services' checks.
    pub async fn health_node(
        &self,
        node: &str,
        options: &QueryOptions,
    ) -> Result<(Vec<HealthCheck>, QueryMeta), ClientError> {
        let path = format!("/v1/health/node/{}", encode_segment(node));
        self.health_read(&path, &[], options).await
    }

    async fn health_read<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        extra: &[(&'static str, String)],
        options: &QueryOptions,
    ) -> Result<(Vec<T>, QueryMeta), ClientError> {
        let (items, meta): (Option<Vec<T>>, QueryMeta) = self.read(path, extra, options).await?;
        Ok((items.unwrap_or_default(), meta))
    }
}

fn push_filter(params: &mut Vec<(&'static str, String)>, filter: Option<&str>) {
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        params.push(("filter", filter.to_owned()));
    }
}
