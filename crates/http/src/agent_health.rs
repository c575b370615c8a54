//! `/v1/agent/health/service/id/<id>` and `/name/<name>` (spec/http-api.md §7.4): the
//! aggregated local health of a service as a status code (200 passing, 429 warning,
//! 503 critical or maintenance, 404 unknown), a JSON or plain-text body, and
//! `X-Consul-Reason`.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praetor_types::{HealthCheck, HealthStatus, NodeService};
use serde_json::{Value, json};

use crate::agent_local::agent_service;
use crate::app::{App, Call};
use crate::error::HttpError;

const X_CONSUL_REASON: HeaderName = HeaderName::from_static("x-consul-reason");
const NODE_MAINTENANCE: &str = "_node_maintenance";
const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";

/// The status word and code of a set of checks, maintenance first (Consul's
/// `api.HealthChecks.AggregatedStatus`).
fn aggregate(checks: &[&HealthCheck]) -> (&'static str, StatusCode) {
    if checks.iter().any(|c| {
        c.check_id == NODE_MAINTENANCE || c.check_id.starts_with(SERVICE_MAINTENANCE_PREFIX)
    }) {
        return ("maintenance", StatusCode::SERVICE_UNAVAILABLE);
    }
    match HealthStatus::aggregate(checks.iter().map(|c| c.status)) {
        HealthStatus::Passing => ("passing", StatusCode::OK),
        HealthStatus::Warning => ("warning", StatusCode::TOO_MANY_REQUESTS),
        HealthStatus::Critical => ("critical", StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// A service's checks plus the node's own checks.
fn checks_of<'a>(svc: &NodeService, checks: &'a [HealthCheck]) -> Vec<&'a HealthCheck> {
    checks
        .iter()
        .filter(|c| c.service_id.is_empty() || c.service_id == svc.id)
        .collect()
}

fn info(svc: &NodeService, checks: &[&HealthCheck], status: &str) -> Value {
    json!({"AggregatedStatus": status, "Service": agent_service(svc), "Checks": checks})
}

/// Whether the caller wants plain text (`?format=text` or `Accept: text/plain`).
fn wants_text(call: &Call) -> bool {
    call.params.get("format") == Some("text")
        || call
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
}

fn respond(call: &Call, code: StatusCode, reason: &str, body: &Value) -> Response {
    let mut resp = if wants_text(call) {
        ([(header::CONTENT_TYPE, "text/plain")], reason.to_owned()).into_response()
    } else {
        crate::response::json(body, call.pretty)
    };
    *resp.status_mut() = code;
    if let Ok(v) = HeaderValue::from_str(reason) {
        resp.headers_mut().insert(X_CONSUL_REASON, v);
    }
    resp
}

/// `GET /v1/agent/health/service/id/<id>`.
pub(crate) async fn by_id(app: &App, call: &Call) -> Result<Response, HttpError> {
    if call.arg.is_empty() {
        return Err(HttpError::MissingHealthServiceId);
    }
    let services = app.backend.agent_services().await?;
    let checks = app.backend.agent_checks().await?;
    let Some(svc) = services.iter().find(|s| s.id == call.arg) else {
        let reason = format!("ServiceId {} not found", call.arg);
        let body = json!({"AggregatedStatus": "critical", "Service": null, "Checks": null});
        return Ok(respond(call, StatusCode::NOT_FOUND, &reason, &body));
    };
    let mine = checks_of(svc, &checks);
    let (status, code) = aggregate(&mine);
    Ok(respond(call, code, status, &info(svc, &mine, status)))
}

/// `GET /v1/agent/health/service/name/<name>`: every instance; the worst decides.
pub(crate) async fn by_name(app: &App, call: &Call) -> Result<Response, HttpError> {
    if call.arg.is_empty() {
        return Err(HttpError::MissingHealthServiceName);
    }
    let services = app.backend.agent_services().await?;
    let checks = app.backend.agent_checks().await?;
    let mut code = StatusCode::NOT_FOUND;
    let mut reason = format!("ServiceName {} Not Found", call.arg);
    let mut result = Vec::new();
    for svc in services.iter().filter(|s| s.service == call.arg) {
        let mine = checks_of(svc, &checks);
        let (status, scode) = aggregate(&mine);
        result.push(info(svc, &mine, status));
        if code == StatusCode::NOT_FOUND || code < scode {
            code = scode;
            status.clone_into(&mut reason);
        }
    }
    Ok(respond(call, code, &reason, &Value::Array(result)))
}
