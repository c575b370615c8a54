//! `/v1/health/*`: checks by node, by service and by state, and service instances with
//! their checks, as Consul's `agent/health_endpoint.go` answers them (spec/http-api.md §5).

use axum::response::Response;

use crate::app::{App, Call};
use crate::catalog::{answer, apply, read_options};
use crate::error::HttpError;
use crate::params::{meta_matches, node_meta, passing};

/// `GET /v1/health/node/<node>`: every check on the node, `[]` when unknown.
pub(crate) async fn node(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingNodeName);
    }
    let (meta, checks) = app.backend.health_node(&call.arg, opts).await?;
    answer(call, &meta, &apply(filter.as_ref(), checks)?)
}

/// `GET /v1/health/checks/<service>`: the checks of every instance of the service.
pub(crate) async fn checks(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingServiceName);
    }
    let (meta, checks) = app.backend.health_checks(&call.arg, opts).await?;
    answer(call, &meta, &apply(filter.as_ref(), checks)?)
}

/// `GET /v1/health/service/<service>` (`?passing`, `?tag` repeatable, `?node-meta`,
/// `?filter`; `?near` accepted and ignored).
pub(crate) async fn service(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingServiceName);
    }
    let passing = passing(&call.params)?;
    let tags = call.params.all("tag");
    let meta_wanted = node_meta(&call.params);
    let (meta, rows) = app
        .backend
        .health_service(&call.arg, &tags, passing, opts)
        .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| meta_matches(&r.node.meta, &meta_wanted))
        .collect();
    answer(call, &meta, &apply(filter.as_ref(), rows)?)
}

/// `GET /v1/health/state/<state>`: `any`, `passing`, `warning` or `critical`; any other
/// word matches nothing (`[]`), as the spec says.
pub(crate) async fn state(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingCheckState);
    }
    let (meta, checks) = app.backend.health_state(&call.arg, opts).await?;
    answer(call, &meta, &apply(filter.as_ref(), checks)?)
}
