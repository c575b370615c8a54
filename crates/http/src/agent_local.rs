//! The agent's own services and checks (spec/http-api.md §7.3–§7.5), as Consul's
//! `agent/agent_endpoint.go` answers them: the lists, register/deregister, TTL updates,
//! maintenance and reload. These are agent-local: `?dc` is ignored and nothing blocks.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use praetor_filter::Filter;
use praetor_types::{HealthCheck, HealthStatus, NodeService};
use serde::Deserialize;
use serde_json::Value;

use crate::app::{App, Call};
use crate::decode::{json_body, json_value};
use crate::error::HttpError;
use crate::params::{QueryParams, filter};
use crate::response::json;

/// Blocking wait of a hash-based read without `?wait`.
const DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_secs(300);
/// Longest blocking wait.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Largest definition body read (bounds memory only).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A service as the agent endpoints show it: no Raft indexes, `Weights.Passing` at
/// least 1, `Datacenter` set.
pub(crate) fn agent_service(svc: &NodeService) -> Value {
    let mut value = serde_json::to_value(svc).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("CreateIndex");
        map.remove("ModifyIndex");
        if svc.weights.passing == 0 {
            map.insert(
                "Weights".to_owned(),
                serde_json::json!({"Passing": 1, "Warning": svc.weights.warning}),
            );
        }
    }
    value
}

/// `filter` over agent-view values keyed by ID.
fn keyed<I: IntoIterator<Item = (String, Value)>>(
    filter: Option<&Filter>,
    items: I,
) -> Result<BTreeMap<String, Value>, HttpError> {
    let mut out = BTreeMap::new();
    for (id, value) in items {
        if let Some(f) = filter
            && !f.matches(&value)?
        {
            continue;
        }
        out.insert(id, value);
    }
    Ok(out)
}

/// `GET /v1/agent/services` (`?filter`): services by ID.
pub(crate) async fn services(app: &App, call: &Call) -> Result<Response, HttpError> {
    let filter = filter(&call.params)?;
    let services = app.backend.agent_services().await?;
    let items = services.iter().map(|s| (s.id.clone(), agent_service(s)));
    Ok(json(&keyed(filter.as_ref(), items)?, call.pretty))
}

/// `GET /v1/agent/service/<id>`: one service with its `ContentHash`. With `?hash` it
/// blocks (up to `?wait`, default 5 minutes, capped at 10) until the hash differs.
pub(crate) async fn service(app: &App, call: &Call) -> Result<Response, HttpError> {
    let wait = match call.params.non_empty("wait") {
        None => DEFAULT_WAIT,
        Some(w) => crate::duration::parse_go_duration(w)
            .map_err(|_| HttpError::InvalidWait)?
            .min(MAX_WAIT),
    };
    let known = call.params.non_empty("hash").map(str::to_owned);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let generation = app.backend.agent_local_generation().await;
        let services = app.backend.agent_services().await?;
        let Some(svc) = services.iter().find(|s| s.id == call.arg) else {
            return Err(praetor_agent::BackendError::NotFound(format!(
                "unknown service ID: {}",
                call.arg
            ))
            .into());
        };
        let mut value = agent_service(svc);
        let hash = content_hash(&value);
        let now = tokio::time::Instant::now();
        if known.as_deref() != Some(hash.as_str()) || now >= deadline {
            if let Value::Object(map) = &mut value {
                map.insert("ContentHash".to_owned(), Value::String(hash));
            }
            return Ok(json(&value, call.pretty));
        }
        app.backend
            .agent_local_wait(generation, deadline - now)
            .await;
    }
}

/// A stable hash of a service's JSON (FNV-1a, 64 bits, hex).
fn content_hash(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in value.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// `PUT /v1/agent/service/register` (`?replace-existing-checks`).
pub(crate) async fn register_service(
    app: &App,
    call: &Call,
    body: Body,
) -> Result<Response, HttpError> {
    let definition = json_value(&read_body(body).await?)?;
    let replace = flag(&call.params, "replace-existing-checks");
    app.backend
        .agent_service_register(definition, replace)
        .await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/service/deregister/<id>`.
pub(crate) async fn deregister_service(app: &App, call: &Call) -> Result<Response, HttpError> {
    app.backend.agent_service_deregister(&call.arg).await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/service/maintenance/<id>?enable=&reason=`.
pub(crate) async fn service_maintenance(app: &App, call: &Call) -> Result<Response, HttpError> {
    if call.arg.is_empty() {
        return Err(HttpError::MissingServiceId);
    }
    let enable = enable(&call.params)?;
    let reason = call.params.get("reason").unwrap_or_default();
    app.backend
        .agent_service_maintenance(&call.arg, enable, reason)
        .await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/maintenance?enable=&reason=`.
pub(crate) async fn node_maintenance(app: &App, call: &Call) -> Result<Response, HttpError> {
    let enable = enable(&call.params)?;
    let reason = call.params.get("reason").unwrap_or_default();
    app.backend.agent_node_maintenance(enable, reason).await?;
    Ok(().into_response())
}

/// `GET /v1/agent/checks` (`?filter`): checks by ID.
pub(crate) async fn checks(app: &App, call: &Call) -> Result<Response, HttpError> {
    let filter = filter(&call.params)?;
    let checks: Vec<HealthCheck> = app.backend.agent_checks().await?;
    let items = checks.into_iter().map(|c| {
        let id = c.check_id.clone();
        (id, serde_json::to_value(c).unwrap_or(Value::Null))
    });
    Ok(json(&keyed(filter.as_ref(), items)?, call.pretty))
}

/// `PUT /v1/agent/check/register`.
pub(crate) async fn register_check(app: &App, body: Body) -> Result<Response, HttpError> {
    let definition = json_value(&read_body(body).await?)?;
    app.backend.agent_check_register(definition).await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/check/deregister/<id>`.
pub(crate) async fn deregister_check(app: &App, call: &Call) -> Result<Response, HttpError> {
    app.backend.agent_check_deregister(&call.arg).await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/check/pass|warn|fail/<id>?note=`.
pub(crate) async fn ttl(
    app: &App,
    call: &Call,
    status: HealthStatus,
) -> Result<Response, HttpError> {
    let note = call.params.get("note").unwrap_or_default();
    app.backend
        .agent_check_update(&call.arg, status, note)
        .await?;
    Ok(().into_response())
}

/// The body of `PUT /v1/agent/check/update/<id>`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckUpdate {
    status: Option<String>,
    output: Option<String>,
}

/// `PUT /v1/agent/check/update/<id>` with `{"Status","Output"}`.
pub(crate) async fn update(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    let bytes = read_body(body).await?;
    let update: CheckUpdate = if bytes.iter().all(u8::is_ascii_whitespace) {
        CheckUpdate::default()
    } else {
        json_body(&bytes)?
    };
    let word = update.status.unwrap_or_default();
    let status =
        HealthStatus::parse(&word).ok_or_else(|| HttpError::InvalidCheckStatus(word.clone()))?;
    app.backend
        .agent_check_update(&call.arg, status, &update.output.unwrap_or_default())
        .await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/reload`.
pub(crate) async fn reload(app: &App) -> Result<Response, HttpError> {
    app.backend.agent_reload().await?;
    Ok(().into_response())
}

/// `?enable` as Go's `strconv.ParseBool` reads it; required.
fn enable(params: &QueryParams) -> Result<bool, HttpError> {
    let Some(text) = params.get("enable") else {
        return Err(HttpError::MissingEnable);
    };
    parse_go_bool(text).ok_or_else(|| HttpError::InvalidEnable(text.to_owned()))
}

/// A presence flag that a Go-false value (`false`, `0`) turns off.
fn flag(params: &QueryParams, key: &str) -> bool {
    match params.get(key) {
        None => false,
        Some("") => true,
        Some(v) => parse_go_bool(v).unwrap_or(true),
    }
}

fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, HttpError> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(HttpError::BodyRead)
}
