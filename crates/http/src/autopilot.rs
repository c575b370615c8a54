//! `/v1/operator/autopilot/configuration`, `/health` and `/state` (spec/http-api.md §10),
//! as Consul's `agent/operator_endpoint.go` answers them.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use praetor_types::{AutopilotConfig, AutopilotState};

use crate::app::{App, Call};
use crate::decode::json_body;
use crate::error::HttpError;
use crate::params::{check_datacenter, parse_uint, query_options};
use crate::response::json;

/// Largest autopilot configuration body read.
const MAX_BODY: usize = 64 * 1024;

/// `GET /v1/operator/autopilot/configuration` (`?stale`).
pub(crate) async fn get_configuration(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let opts = query_options(&call.params)?;
    let config = app.backend.operator_autopilot_configuration(opts).await?;
    Ok(json(&config, call.pretty))
}

/// `PUT /v1/operator/autopilot/configuration[?cas=<ModifyIndex>]`: `true`, or with
/// `?cas` whether the index still matched. Fields missing from the body take Consul's
/// defaults.
pub(crate) async fn set_configuration(
    app: &App,
    call: &Call,
    body: Body,
) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let cas = match call.params.get("cas") {
        Some(cas) => Some(parse_uint(cas).map_err(|e| {
            HttpError::Backend(praetor_agent::BackendError::BadRequest(format!(
                "Error parsing cas value: {e}"
            )))
        })?),
        None => None,
    };
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| HttpError::RequestDecode(e.to_string()))?;
    let config: AutopilotConfig = json_body(&bytes)?;
    let written = app
        .backend
        .operator_autopilot_set_configuration(config, cas)
        .await?;
    Ok(json(&(written || cas.is_none()), call.pretty))
}

/// `GET /v1/operator/autopilot/health`: 200 when every server is healthy, else 429,
/// with the same JSON body.
pub(crate) async fn health(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let health = app.backend.operator_autopilot_health().await?;
    let status = if health.healthy {
        StatusCode::OK
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    Ok((status, json(&health, call.pretty)).into_response())
}

/// `GET /v1/operator/autopilot/state`: the servers by ID with their role, the leader and
/// the voters; always 200.
pub(crate) async fn state(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let health = app.backend.operator_autopilot_health().await?;
    Ok(json(&AutopilotState::from(&health), call.pretty))
}
