//! The fake agent's cluster endpoints: members, join, leave, force-leave and the Raft
//! configuration and peer removal.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use praetor_types::member::MemberStatus;

use super::{Shared, begin};

type Pairs = Query<Vec<(String, String)>>;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/agent/members", get(members))
        .route("/v1/agent/join/{addr}", put(join))
        .route("/v1/agent/leave", put(leave))
        .route("/v1/agent/force-leave/{node}", put(force_leave))
        .route("/v1/operator/raft/configuration", get(raft_configuration))
        .route("/v1/operator/raft/peer", delete(remove_peer))
        .route(
            "/v1/operator/autopilot/configuration",
            get(autopilot_get).put(autopilot_put),
        )
}

fn has(query: &[(String, String)], name: &str) -> bool {
    query.iter().any(|(k, v)| k == name && !v.is_empty())
}

async fn members(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let wan = has(&q, "wan");
    match begin(&state, &headers, q) {
        Ok(state) if wan => axum::Json(&state.wan_members).into_response(),
        Ok(state) => axum::Json(&state.members).into_response(),
        Err(response) => *response,
    }
}

async fn join(
    State(state): State<Shared>,
    Path(addr): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let wan = has(&q, "wan");
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    state.cluster_calls.push(format!("join {addr} {wan}"));
    match state.join_errors.get(&addr) {
        Some(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.clone()).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

async fn leave(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    match begin(&state, &headers, q) {
        Ok(mut state) => {
            state.cluster_calls.push("leave".to_owned());
            StatusCode::OK.into_response()
        }
        Err(response) => *response,
    }
}

async fn force_leave(
    State(state): State<Shared>,
    Path(node): Path<String>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let prune = q.iter().any(|(k, _)| k == "prune");
    let wan = q.iter().any(|(k, _)| k == "wan");
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    state
        .cluster_calls
        .push(format!("force_leave {node} {prune} {wan}"));
    let pool = if wan {
        &mut state.wan_members
    } else {
        &mut state.members
    };
    let Some(at) = pool.iter().position(|m| m.name == node) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("agent: No node found with name '{node}'"),
        )
            .into_response();
    };
    if prune {
        pool.remove(at);
    } else if pool[at].status == MemberStatus::Failed {
        pool[at].status = MemberStatus::Left;
    }
    StatusCode::OK.into_response()
}

async fn raft_configuration(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    match &state.raft {
        Some(config) => axum::Json(config).into_response(),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "No cluster leader").into_response(),
    }
}

async fn remove_peer(State(state): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let id = q.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone());
    let address = q
        .iter()
        .find(|(k, _)| k == "address")
        .map(|(_, v)| v.clone());
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let (what, value) = match (id, address) {
        (Some(id), None) => ("id", id),
        (None, Some(address)) => ("address", address),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "Must specify either ?id or ?address",
            )
                .into_response();
        }
    };
    let Some(config) = state.raft.as_mut() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "No cluster leader").into_response();
    };
    let before = config.servers.len();
    config.servers.retain(|s| {
        let key = if what == "id" { &s.id } else { &s.address };
        *key != value
    });
    if config.servers.len() == before {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what} {value:?} was not found in the Raft configuration"),
        )
            .into_response();
    }
    StatusCode::OK.into_response()
}

async fn autopilot_get(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    match begin(&state, &headers, q) {
        Ok(state) => axum::Json(&state.autopilot).into_response(),
        Err(response) => *response,
    }
}

/// A PUT with `?cas` writes only over the current `ModifyIndex`.
async fn autopilot_put(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Pairs,
    body: axum::body::Bytes,
) -> Response {
    let cas = q
        .iter()
        .find(|(k, _)| k == "cas")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let mut state = match begin(&state, &headers, q) {
        Ok(state) => state,
        Err(response) => return *response,
    };
    let Ok(mut config) = serde_json::from_slice::<praetor_types::AutopilotConfig>(&body) else {
        return (StatusCode::BAD_REQUEST, "Error parsing autopilot config").into_response();
    };
    if cas.is_some_and(|cas| cas != state.autopilot.modify_index) {
        return axum::Json(false).into_response();
    }
    config.create_index = state.autopilot.create_index;
    config.modify_index = state.autopilot.modify_index + 1;
    state.autopilot = config;
    axum::Json(true).into_response()
}
