//! `/v1/status/leader` and `/v1/status/peers` (spec/http-api.md §8).

use axum::response::Response;

use crate::app::{App, Call};
use crate::error::HttpError;
use crate::params::check_datacenter;
use crate::response::json;

/// The leader's server RPC address as a JSON string, `""` when none is known.
pub(crate) async fn leader(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let leader = app.backend.status_leader().await?;
    Ok(json(&leader, call.pretty))
}

/// The Raft peers' server RPC addresses as a JSON array.
pub(crate) async fn peers(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let peers = app.backend.status_peers().await?;
    Ok(json(&peers, call.pretty))
}
