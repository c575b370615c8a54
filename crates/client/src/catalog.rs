//! The catalog read endpoints (`/v1/catalog/*`), as Consul's Go `api.Catalog` calls them.

use std::collections::BTreeMap;

use praetor_types::{Node, NodeServices, QueryMeta, QueryOptions, ServiceNode};
use reqwest::Method;

use crate::client::decode_json;
use crate::{Client, ClientError};

/// Selection options shared by the catalog list endpoints: `?near`, `?node-meta`, `?filter`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogQuery {
    /// Sort by estimated round-trip time from this node (`_agent`: the answering agent).
    pub near: Option<String>,
    /// Only nodes carrying every one of these metadata pairs (`?node-meta=key:value`).
    pub node_meta: Vec<(String, String)>,
    /// A filter expression (`?filter=`).
    pub filter: Option<String>,
}

impl CatalogQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(near) = self.near.as_ref().filter(|n| !n.is_empty()) {
            params.push(("near", near.clone()));
        }
        for (key, value) in &self.node_meta {
            params.push(("node-meta", format!("{key}:{value}")));
        }
        if let Some(filter) = self.filter.as_ref().filter(|f| !f.is_empty()) {
            params.push(("filter", filter.clone()));
        }
        params
    }
}

impl Client {
    /// `GET /v1/catalog/datacenters`: every known datacenter, nearest first.
    pub async fn catalog_datacenters(&self) -> Result<Vec<String>, ClientError> {
        let url = self.url("/v1/catalog/datacenters");
        let response = self.send(self.request(Method::GET, url.clone())).await?;
        decode_json(&url, response).await
    }

    /// `GET /v1/catalog/nodes`: the nodes, sorted by name (or by distance with `near`).
    pub async fn catalog_nodes(
        &self,
        query: &CatalogQuery,
        options: &QueryOptions,
    ) -> Result<(Vec<Node>, QueryMeta), ClientError> {
        let (nodes, meta) = self
            .read::<Option<Vec<Node>>>("/v1/catalog/nodes", &query.params(), options)
            .await?;
        Ok((nodes.unwrap_or_default(), meta))
    }

    /// `GET /v1/catalog/services`: service names with every tag used by their instances.
    pub async fn catalog_services(
        &self,
        query: &CatalogQuery,
        options: &QueryOptions,
    ) -> Result<(BTreeMap<String, Vec<String>>, QueryMeta), ClientError> {
        let (services, meta) = self
            .read::<Option<BTreeMap<String, Option<Vec<String>>>>>(
                "/v1/catalog/services",
                &query.params(),
                options,
            )
            .await?;
        let services = services
            .unwrap_or_default()
            .into_iter()
            .map(|(name, tags)| (name, tags.unwrap_or_default()))
            .collect();
        Ok((services, meta))
    }

    /// `GET /v1/catalog/service/<name>`: the instances of a service with their nodes.
    pub async fn catalog_service(
        &self,
        name: &str,
        query: &CatalogQuery,
        options: &QueryOptions,
    ) -> Result<(Vec<ServiceNode>, QueryMeta), ClientError> {
        let path = format!("/v1/catalog/service/{}", encode_segment(name));
        let (instances, meta) = self
            .read::<Option<Vec<ServiceNode>>>(&path, &query.params(), options)
            .await?;
        Ok((instances.unwrap_or_default(), meta))
    }

    /// `GET /v1/catalog/node/<node>`: the node and its services; `None` for an unknown node.
    pub async fn catalog_node(
        &self,
        node: &str,
        query: &CatalogQuery,
        options: &QueryOptions,
    ) -> Result<(Option<NodeServices>, QueryMeta), ClientError> {
        let path = format!("/v1/catalog/node/{}", encode_segment(node));
        self.read(&path, &query.params(), options).await
    }
}

/// Percent-encodes one path segment (a node, service or check name): everything but RFC
/// 3986 unreserved characters, so `/`, spaces and non-ASCII reach the agent intact.
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_query_params_encode_meta_as_key_colon_value() {
        let query = CatalogQuery {
            near: Some("_agent".into()),
            node_meta: vec![("env".into(), "prod".into()), ("rack".into(), "a:1".into())],
            filter: Some("Node == x".into()),
        };
        assert_eq!(
            query.params(),
            vec![
                ("near", "_agent".to_owned()),
                ("node-meta", "env:prod".to_owned()),
                ("node-meta", "rack:a:1".to_owned()),
                ("filter", "Node == x".to_owned()),
            ]
        );
        assert!(CatalogQuery::default().params().is_empty());
    }

    #[test]
    fn segments_are_fully_encoded() {
        assert_eq!(encode_segment("web-1.a_b~"), "web-1.a_b~");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
