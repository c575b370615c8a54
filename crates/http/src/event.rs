//! `/v1/event/fire/<name>` and `/v1/event/list`, as Consul's `agent/event_endpoint.go`
//! answers them (spec/http-api.md §8).

use axum::body::Body;
use axum::response::Response;
use praetor_agent::BackendError;
use praetor_types::UserEvent;

use crate::app::{App, Call};
use crate::error::HttpError;
use crate::params::{check_datacenter, query_options};
use crate::response::{X_CONSUL_INDEX, json};

/// The most body read for a payload; gossip refuses anything past 512 bytes anyway, with
/// Consul's message.
const MAX_BODY: usize = 64 * 1024;
/// The one reserved name clients may fire: `consul exec`'s job announcement.
const REMOTE_EXEC_EVENT: &str = "_rexec";

/// `PUT /v1/event/fire/<name>?node=&service=&tag=`: the fired event as JSON.
pub(crate) async fn fire(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let name = call.arg.as_str();
    if name.is_empty() {
        return Err(BackendError::BadRequest("Missing name".into()).into());
    }
    // Names starting with `_` are reserved for Consul's internal events; `_rexec` stays
    // open because `consul exec` fires it through this endpoint.
    if name.starts_with('_') && name != REMOTE_EXEC_EVENT {
        return Err(BackendError::BadRequest(format!(
            "Event name {name:?} is reserved: names must not start with '_'"
        ))
        .into());
    }
    let payload = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(HttpError::BodyRead)?;
    let filter = |key: &str| call.params.non_empty(key).unwrap_or_default().to_owned();
    let event = UserEvent {
        name: name.to_owned(),
        payload: payload.to_vec(),
        node_filter: filter("node"),
        service_filter: filter("service"),
        tag_filter: filter("tag"),
        ..UserEvent::default()
    };
    let fired = app.backend.event_fire(event).await?;
    Ok(json(&fired, call.pretty))
}

/// `GET /v1/event/list?name=`: this agent's recorded events, oldest first, with the
/// agent-local `X-Consul-Index`; blocks with `?index`/`?wait` while the index holds.
pub(crate) async fn list(app: &App, call: &Call) -> Result<Response, HttpError> {
    let opts = query_options(&call.params)?;
    let name = call.params.non_empty("name").map(str::to_owned);
    let (index, events) = app.backend.event_list(name, opts).await?;
    let mut resp = json(&events, call.pretty);
    resp.headers_mut()
        .insert(X_CONSUL_INDEX, axum::http::HeaderValue::from(index.max(1)));
    Ok(resp)
}
