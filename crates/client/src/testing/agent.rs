//! The fake agent's local endpoints: service register/deregister, maintenance, services,
//! checks and reload.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use praetor_types::NodeService;

use super::{FAKE_NODE_NAME, Shared, begin};
use crate::{
    AgentCheck, AgentServiceRegistration, NODE_MAINTENANCE_CHECK_ID,
    SERVICE_MAINTENANCE_CHECK_PREFIX,
};

type Pairs = Query<Vec<(String, String)>>;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/agent/reload", put(reload))
        .route("/v1/agent/maintenance", put(node_maintenance))
        .route(
            "/v1/agent/service/maintenance/{id}",
            put(service_maintenance),
        )
        .route("/v1/agent/services", get(services))
        .route("/v1/agent/checks", get(checks))
        .route("/v1/agent/service/register", put(register))
        .route("/v1/agent/service/deregister/{id}", put(deregister))
}

async fn reload(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    state.reloads += 1;
    StatusCode::OK.into_response()
}

async fn node_maintenance(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let mut state = match begin(&state, &headers, q.clone()) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let Some(enable) = flag(&q, "enable") else {
        return (StatusCode::BAD_REQUEST, "Missing value for enable").into_response();
    };
    if enable {
        let node = FAKE_NODE_NAME.to_owned();
        let notes = reason(&q).unwrap_or_else(|| {
            "Maintenance mode is enabled for this node, but no reason was provided. \
             This is a default message."
                .to_owned()
        });
        state.agent_checks.insert(
            NODE_MAINTENANCE_CHECK_ID.to_owned(),
            maintenance_check(node, NODE_MAINTENANCE_CHECK_ID, "Node", notes, ""),
        );
    } else {
        state.agent_checks.remove(NODE_MAINTENANCE_CHECK_ID);
    }
    StatusCode::OK.into_response()
}

async fn service_maintenance(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let mut state = match begin(&state, &headers, q.clone()) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let Some(enable) = flag(&q, "enable") else {
        return (StatusCode::BAD_REQUEST, "Missing value for enable").into_response();
    };
    if !state.agent_services.contains_key(&id) {
        return (StatusCode::NOT_FOUND, format!("Unknown service ID {id:?}")).into_response();
    }
    let check_id = format!("{SERVICE_MAINTENANCE_CHECK_PREFIX}{id}");
    if enable {
        let node = FAKE_NODE_NAME.to_owned();
        let notes = reason(&q).unwrap_or_else(|| {
            "Maintenance mode is enabled for this service, but no reason was provided. \
             This is a default message."
                .to_owned()
        });
        let check = maintenance_check(node, &check_id, "Service", notes, &id);
        state.agent_checks.insert(check_id, check);
    } else {
        state.agent_checks.remove(&check_id);
    }
    StatusCode::OK.into_response()
}

async fn services(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let services: BTreeMap<&String, NodeService> = state
        .agent_services
        .iter()
        .map(|(id, r)| {
            let service = NodeService {
                id: id.clone(),
                service: r.name.clone(),
                tags: r.tags.clone(),
                address: r.address.clone(),
                meta: r.meta.clone(),
                port: r.port,
                enable_tag_override: r.enable_tag_override,
                weights: r.weights.unwrap_or_default(),
                datacenter: "dc1".to_owned(),
                ..NodeService::default()
            };
            (id, service)
        })
        .collect();
    axum::Json(services).into_response()
}

async fn checks(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    match begin(&state, &headers, q) {
        Ok(state) => axum::Json(&state.agent_checks).into_response(),
        Err(response) => *response,
    }
}

async fn register(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Pairs,
    body: Bytes,
) -> Response {
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let service: AgentServiceRegistration = match serde_json::from_slice(&body) {
        Ok(service) => service,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("Request decode failed: {e}"),
            )
                .into_response();
        }
    };
    if service.name.is_empty() {
        return (StatusCode::BAD_REQUEST, "Missing service name").into_response();
    }
    let id = if service.id.is_empty() {
        service.name.clone()
    } else {
        service.id.clone()
    };
    state.agent_services.insert(id, service);
    StatusCode::OK.into_response()
}

async fn deregister(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    if state.agent_services.remove(&id).is_none() {
        return (
            StatusCode::NOT_FOUND,
            format!(
                "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
            ),
        )
            .into_response();
    }
    let maintenance = format!("{SERVICE_MAINTENANCE_CHECK_PREFIX}{id}");
    state
        .agent_checks
        .retain(|check_id, check| check.service_id != id && *check_id != maintenance);
    StatusCode::OK.into_response()
}

/// A boolean query parameter as Go's `strconv.ParseBool` reads it; `None` if absent or bad.
fn flag(query: &[(String, String)], name: &str) -> Option<bool> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| crate::parse_go_bool(v))
}

fn reason(query: &[(String, String)]) -> Option<String> {
    query
        .iter()
        .find(|(k, v)| k == "reason" && !v.is_empty())
        .map(|(_, v)| v.clone())
}

fn maintenance_check(
    node: String,
    check_id: &str,
    what: &str,
    notes: String,
    service_id: &str,
) -> AgentCheck {
    AgentCheck {
        node,
        check_id: check_id.to_owned(),
        name: format!("{what} Maintenance Mode"),
        status: "critical".to_owned(),
        notes,
        service_id: service_id.to_owned(),
        check_type: "maintenance".to_owned(),
        ..AgentCheck::default()
    }
}
