//! [`FakeAgent`]: a small in-memory stand-in for an agent's HTTP API on `127.0.0.1:0`, for
//! testing clients (this crate, the CLI) without a cluster.
//!
//! It implements the KV endpoints with Consul's wire behaviour (one-element arrays, 404 with
//! an index, `?recurse`, `?keys`/`?separator`, `?cas`, `?flags`, simple `?acquire`/
//! `?release`), `/v1/status/*`, a minimal `/v1/agent/self`, the catalog reads over seeded
//! nodes and instances (`?node-meta` honoured; `?near` and `?filter` only recorded), and the
//! agent's service register/deregister, maintenance, services, checks and reload. It is not
//! a state store: no blocking, no sessions table, no tombstones, no health checking.

mod agent;
mod catalog;
mod cluster;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use praetor_types::member::Member;
use praetor_types::{AutopilotConfig, KvEntry, Node, RaftConfiguration, ServiceNode};

use crate::{AgentCheck, AgentServiceRegistration};

/// What the fake agent holds; inspect or seed it through [`FakeAgent::state`].
#[derive(Debug, Default)]
pub struct FakeState {
    /// The KV store.
    pub kv: BTreeMap<String, KvEntry>,
    /// The last Raft-like index handed out.
    pub index: u64,
    /// `X-Consul-Token` of the most recent request, if any.
    pub last_token: Option<String>,
    /// `?dc` of the most recent KV request, if any.
    pub last_dc: Option<String>,
    /// When set, the next request is answered with this status and plain-text body.
    pub fail_next: Option<(u16, String)>,
    /// `/v1/catalog/datacenters`; `["dc1"]` when empty.
    pub datacenters: Vec<String>,
    /// Catalog nodes (served sorted by name).
    pub nodes: Vec<Node>,
    /// Catalog service instances, each on one of [`FakeState::nodes`].
    pub instances: Vec<ServiceNode>,
    /// Services registered through the agent API, by ID, as received.
    pub agent_services: BTreeMap<String, AgentServiceRegistration>,
    /// The agent's checks by ID (maintenance checks land here).
    pub agent_checks: BTreeMap<String, AgentCheck>,
    /// How many times `/v1/agent/reload` was called.
    pub reloads: u32,
    /// The query pairs of the most recent catalog or agent request, in order.
    pub last_query: Vec<(String, String)>,
    /// The LAN gossip pool (`/v1/agent/members`), served in this order.
    pub members: Vec<Member>,
    /// The WAN gossip pool (`/v1/agent/members?wan=1`).
    pub wan_members: Vec<Member>,
    /// Join, leave and force-leave calls, as `method arg…` text.
    pub cluster_calls: Vec<String>,
    /// Join addresses that fail, with the error text answered (a 500).
    pub join_errors: BTreeMap<String, String>,
    /// The Raft configuration; `None` answers `500 No cluster leader`.
    pub raft: Option<RaftConfiguration>,
    /// Autopilot's configuration (`/v1/operator/autopilot/configuration`); a write
    /// bumps its `ModifyIndex`.
    pub autopilot: AutopilotConfig,
    /// `Stats` of `/v1/agent/self`, when set; a small server's otherwise.
    pub stats: Option<serde_json::Value>,
}

type Shared = Arc<Mutex<FakeState>>;

/// The node name the fake agent reports (`/v1/agent/self` `Config.NodeName`).
pub const FAKE_NODE_NAME: &str = "fake";

/// A running fake agent; the server task stops when this is dropped.
#[derive(Debug)]
pub struct FakeAgent {
    addr: SocketAddr,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl FakeAgent {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start() -> std::io::Result<Self> {
        let state = Shared::default();
        let app = Router::new()
            .route("/v1/kv/", any(kv_root))
            .route("/v1/kv/{*key}", any(kv))
            .route(
                "/v1/status/leader",
                get(|| async { axum::Json("127.0.0.1:8300") }),
            )
            .route(
                "/v1/status/peers",
                get(|| async { axum::Json(["127.0.0.1:8300"]) }),
            )
            .route("/v1/agent/self", get(agent_self))
            .merge(catalog::routes())
            .merge(agent::routes())
            .merge(cluster::routes())
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // A serve error ends the fake; requests then fail visibly in the test.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// The bound address (`127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn http_addr(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Locks and returns the state, to seed or inspect it.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .expect("fake agent state lock poisoned by a panicking test")
    }

    /// Stores `value` at `key` as a plain PUT would.
    pub fn insert(&self, key: &str, value: &[u8], flags: u64) {
        let mut state = self.state();
        state.index += 1;
        let index = state.index;
        let create_index = state.kv.get(key).map_or(index, |e| e.create_index);
        state.kv.insert(
            key.to_owned(),
            KvEntry {
                key: key.to_owned(),
                value: value.to_vec(),
                flags,
                create_index,
                modify_index: index,
                ..KvEntry::default()
            },
        );
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn agent_self(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = lock(&state);
    record_token(&mut state, &headers);
    if let Some(failure) = state.fail_next.take() {
        return fail(failure);
    }
    let stats = state
        .stats
        .clone()
        .unwrap_or_else(|| serde_json::json!({"consul": {"leader": "true", "server": "true"}}));
    axum::Json(serde_json::json!({
        "Config": {"Datacenter": "dc1", "NodeName": FAKE_NODE_NAME, "Version": praetor_types::CONSUL_COMPAT_VERSION},
        "Stats": stats
    }))
    .into_response()
}

async fn kv_root(
    state: State<Shared>,
    method: Method,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    kv(state, method, Path(String::new()), query, headers, body).await
}

async fn kv(
    State(state): State<Shared>,
    method: Method,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&state);
    record_token(&mut state, &headers);
    state.last_dc = query.get("dc").cloned();
    if let Some(failure) = state.fail_next.take() {
        return fail(failure);
    }
    match method {
        Method::GET => kv_get(&state, &key, &query),
        Method::PUT => kv_put(&mut state, key, &query, &body),
        Method::DELETE => kv_delete(&mut state, &key, &query),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} not allowed"),
        )
            .into_response(),
    }
}

fn kv_get(state: &FakeState, key: &str, query: &HashMap<String, String>) -> Response {
    let under = || {
        state
            .kv
            .range(key.to_owned()..)
            .take_while(|(k, _)| k.starts_with(key))
    };
    let headers = [
        ("X-Consul-Index", state.index.max(1).to_string()),
        ("X-Consul-KnownLeader", "true".to_owned()),
        ("X-Consul-LastContact", "0".to_owned()),
        (
            "X-Consul-Effective-Consistency",
            if query.contains_key("stale") {
                "stale"
            } else {
                "leader"
            }
            .to_owned(),
        ),
    ];
    if query.contains_key("keys") {
        let separator = query.get("separator").filter(|s| !s.is_empty());
        let mut keys: Vec<String> = Vec::new();
        for (k, _) in under() {
            let rolled = match separator {
                Some(sep) => match k[key.len()..].find(sep.as_str()) {
                    Some(at) => k[..key.len() + at + sep.len()].to_owned(),
                    None => k.clone(),
                },
                None => k.clone(),
            };
            if keys.last() != Some(&rolled) {
                keys.push(rolled);
            }
        }
        if keys.is_empty() && !key.is_empty() {
            return (StatusCode::NOT_FOUND, headers).into_response();
        }
        return (headers, axum::Json(keys)).into_response();
    }
    let entries: Vec<&KvEntry> = if query.contains_key("recurse") {
        under().map(|(_, e)| e).collect()
    } else if key.is_empty() {
        return (StatusCode::BAD_REQUEST, "Missing key name").into_response();
    } else {
        state.kv.get(key).into_iter().collect()
    };
    if entries.is_empty() {
        return (StatusCode::NOT_FOUND, headers).into_response();
    }
    (headers, axum::Json(entries)).into_response()
}

fn kv_put(
    state: &mut FakeState,
    key: String,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    if key.is_empty() {
        return (StatusCode::BAD_REQUEST, "Missing key name").into_response();
    }
    let flags = match query.get("flags").map(|f| f.parse::<u64>()) {
        None => 0,
        Some(Ok(flags)) => flags,
        Some(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let existing = state.kv.get(&key).cloned();
    if let Some(cas) = query.get("cas") {
        let Ok(cas) = cas.parse::<u64>() else {
            return (StatusCode::BAD_REQUEST, "Invalid cas").into_response();
        };
        let current = existing.as_ref().map_or(0, |e| e.modify_index);
        if current != cas {
            return axum::Json(false).into_response();
        }
    }
    let mut session = existing.as_ref().and_then(|e| e.session.clone());
    let mut lock_index = existing.as_ref().map_or(0, |e| e.lock_index);
    if let Some(acquirer) = query.get("acquire") {
        match &session {
            Some(holder) if holder != acquirer => return axum::Json(false).into_response(),
            Some(_) => {}
            None => lock_index += 1,
        }
        session = Some(acquirer.clone());
    }
    if let Some(releaser) = query.get("release") {
        if session.as_ref() != Some(releaser) {
            return axum::Json(false).into_response();
        }
        session = None;
    }
    state.index += 1;
    let index = state.index;
    let entry = KvEntry {
        lock_index,
        key: key.clone(),
        flags,
        value: body.to_vec(),
        session,
        create_index: existing.map_or(index, |e| e.create_index),
        modify_index: index,
    };
    state.kv.insert(key, entry);
    axum::Json(true).into_response()
}

fn kv_delete(state: &mut FakeState, key: &str, query: &HashMap<String, String>) -> Response {
    if query.contains_key("recurse") {
        state.kv.retain(|k, _| !k.starts_with(key));
    } else if key.is_empty() {
        return (StatusCode::BAD_REQUEST, "Missing key name").into_response();
    } else if let Some(cas) = query.get("cas") {
        let Ok(cas) = cas.parse::<u64>() else {
            return (StatusCode::BAD_REQUEST, "Invalid cas").into_response();
        };
        if cas == 0 || state.kv.get(key).map(|e| e.modify_index) != Some(cas) {
            return axum::Json(false).into_response();
        }
        state.kv.remove(key);
    } else {
        state.kv.remove(key);
    }
    state.index += 1;
    axum::Json(true).into_response()
}

fn lock(state: &Shared) -> MutexGuard<'_, FakeState> {
    state
        .lock()
        .expect("fake agent state lock poisoned by a panicking test")
}

fn record_token(state: &mut FakeState, headers: &HeaderMap) {
    state.last_token = headers
        .get("X-Consul-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
}

fn fail((status, body): (u16, String)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, body).into_response()
}

/// Common start of a catalog or agent request: records the token and query, and answers
/// with the injected failure if one is pending.
fn begin<'a>(
    state: &'a Shared,
    headers: &HeaderMap,
    query: Vec<(String, String)>,
) -> Result<MutexGuard<'a, FakeState>, Box<Response>> {
    let mut guard = lock(state);
    record_token(&mut guard, headers);
    guard.last_dc = query
        .iter()
        .find(|(k, _)| k == "dc")
        .map(|(_, v)| v.clone());
    guard.last_query = query;
    match guard.fail_next.take() {
        Some(failure) => Err(Box::new(fail(failure))),
        None => Ok(guard),
    }
}

/// The `X-Consul-*` headers of a read answer.
fn read_headers(state: &FakeState) -> [(&'static str, String); 3] {
    [
        ("X-Consul-Index", state.index.max(1).to_string()),
        ("X-Consul-KnownLeader", "true".to_owned()),
        ("X-Consul-LastContact", "0".to_owned()),
    ]
}
