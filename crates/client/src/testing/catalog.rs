//! The fake agent's catalog reads over [`FakeState::nodes`] and [`FakeState::instances`].

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use praetor_types::{Node, NodeService, NodeServices};

use super::{FakeState, Shared, begin, read_headers};

type Pairs = Query<Vec<(String, String)>>;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/catalog/datacenters", get(datacenters))
        .route("/v1/catalog/nodes", get(nodes))
        .route("/v1/catalog/services", get(services))
        .route("/v1/catalog/service/{name}", get(service))
        .route("/v1/catalog/node/{node}", get(node))
}

async fn datacenters(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let mut dcs = state.datacenters.clone();
    if dcs.is_empty() {
        dcs.push("dc1".to_owned());
    }
    axum::Json(dcs).into_response()
}

async fn nodes(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let mut nodes: Vec<&Node> = state
        .nodes
        .iter()
        .filter(|n| meta_matches(&state, n))
        .collect();
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    (read_headers(&state), axum::Json(nodes)).into_response()
}

async fn services(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let mut services: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for instance in &state.instances {
        let on_matching_node = state
            .nodes
            .iter()
            .any(|n| n.node == instance.node && meta_matches(&state, n));
        if on_matching_node {
            services
                .entry(&instance.service_name)
                .or_default()
                .extend(instance.service_tags.iter().map(String::as_str));
        }
    }
    (read_headers(&state), axum::Json(services)).into_response()
}

async fn service(
    State(state): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let instances: Vec<_> = state
        .instances
        .iter()
        .filter(|i| i.service_name == name)
        .collect();
    (read_headers(&state), axum::Json(instances)).into_response()
}

async fn node(
    State(state): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let Some(node) = state.nodes.iter().find(|n| n.node == name) else {
        return (read_headers(&state), axum::Json(serde_json::Value::Null)).into_response();
    };
    let services = state
        .instances
        .iter()
        .filter(|i| i.node == name)
        .map(|i| {
            let service = NodeService {
                id: i.service_id.clone(),
                service: i.service_name.clone(),
                tags: i.service_tags.clone(),
                address: i.service_address.clone(),
                meta: i.service_meta.clone(),
                port: i.service_port,
                ..NodeService::default()
            };
            (service.id.clone(), service)
        })
        .collect();
    let answer = NodeServices {
        node: node.clone(),
        services,
    };
    (read_headers(&state), axum::Json(answer)).into_response()
}

/// Whether `node` carries every `?node-meta=key:value` pair of the current request.
fn meta_matches(state: &FakeState, node: &Node) -> bool {
    state
        .last_query
        .iter()
        .filter(|(k, _)| k == "node-meta")
        .all(|(_, pair)| {
            let (key, value) = pair.split_once(':').unwrap_or((pair, ""));
            node.meta.get(key).map(String::as_str) == Some(value)
        })
}
