//! Request dispatch: path cleaning and decoding, the route table lookup with its derived
//! `OPTIONS` / `405` / redirect / `404` answers, then the endpoint handler; every answer
//! gets the agent-wide headers (spec/http-api.md §1.1, §1.4).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praetor_agent::{Backend, BackendError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::HttpConfig;
use crate::error::HttpError;
use crate::params::QueryParams;
use crate::path;
use crate::route::{Endpoint, Lookup, lookup};
use crate::{
    agent, agent_health, agent_local, autopilot, catalog, cluster, event, health, kv, session,
    status, txn, ui,
};
use praetor_types::HealthStatus;

/// What every handler shares.
pub(crate) struct App {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) cfg: HttpConfig,
    /// `X-Consul-Default-ACL-Policy` plus the operator's `response_headers`.
    pub(crate) common_headers: HeaderMap,
    /// Cancelled when the server stops; in-flight blocking reads then end at once.
    pub(crate) shutdown: CancellationToken,
}

/// One routed request, as handlers see it (the body travels separately: it is `Send`
/// but not `Sync`, and handlers hold `&Call` across awaits).
pub(crate) struct Call {
    pub(crate) method: Method,
    /// The decoded path remainder after a prefix route (`""` for exact routes).
    pub(crate) arg: String,
    pub(crate) params: QueryParams,
    pub(crate) headers: HeaderMap,
    /// `?pretty` or `-dev`.
    pub(crate) pretty: bool,
}

const UI_DISABLED: &str = "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.";

/// The single axum handler: everything goes through here.
pub(crate) async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let span =
        tracing::debug_span!("http_request", method = %req.method(), path = req.uri().path());
    let mut resp = route(&app, req)
        .instrument(span)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    for (name, value) in &app.common_headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

async fn route(app: &App, req: Request) -> Result<Response, HttpError> {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path();
    let raw_query = parts.uri.query();
    tracing::debug!("http request");

    let cleaned = path::clean(raw_path);
    if cleaned != raw_path {
        return Ok(redirect(&parts.method, &cleaned, raw_query));
    }
    let decoded = path::decode(raw_path)?;
    path::check_printable(&decoded)?;
    if decoded == "/" {
        return Ok(index(&app.cfg));
    }
    if let Some(answer) = ui::serve(&app.cfg, &parts.method, &parts.headers, &decoded) {
        return answer;
    }
    let (route, arg) = match lookup(&decoded) {
        Lookup::Found(route, arg) => (route, arg),
        Lookup::AddSlash(to) => return Ok(redirect(&parts.method, to, raw_query)),
        Lookup::NotFound => {
            return Err(HttpError::UnknownPath {
                api: decoded.contains("/v1/"),
            });
        }
    };
    if parts.method == Method::OPTIONS {
        return Ok(allow(StatusCode::OK, &route.allow()));
    }
    if !route.accepts(&parts.method) {
        return Err(HttpError::MethodNotAllowed {
            method: parts.method.to_string(),
            allow: route.allow(),
        });
    }
    let params = QueryParams::parse(raw_query);
    let call = Call {
        method: parts.method,
        arg: arg.to_owned(),
        pretty: app.cfg.pretty_default || params.has("pretty"),
        params,
        headers: parts.headers,
    };
    if route.endpoint == Endpoint::AgentLeave {
        // The leave ends in the agent's shutdown: answer it rather than race it.
        return handle(app, route.endpoint, &call, body).await;
    }
    tokio::select! {
        biased;
        () = app.shutdown.cancelled() => Err(BackendError::ShuttingDown.into()),
        resp = handle(app, route.endpoint, &call, body) => resp,
    }
}

async fn handle(
    app: &App,
    endpoint: Endpoint,
    call: &Call,
    body: Body,
) -> Result<Response, HttpError> {
    match endpoint {
        Endpoint::Kv => kv::handle(app, call, body).await,
        Endpoint::SessionCreate => session::create(app, call, body).await,
        Endpoint::SessionDestroy => session::destroy(app, call).await,
        Endpoint::SessionRenew => session::renew(app, call).await,
        Endpoint::SessionInfo => session::info(app, call).await,
        Endpoint::SessionNode => session::node(app, call).await,
        Endpoint::SessionList => session::list(app, call).await,
        Endpoint::Txn => txn::handle(app, call, body).await,
        Endpoint::EventFire => event::fire(app, call, body).await,
        Endpoint::EventList => event::list(app, call).await,
        Endpoint::StatusLeader => status::leader(app, call).await,
        Endpoint::StatusPeers => status::peers(app, call).await,
        Endpoint::AgentSelf => agent::agent_self(app, call).await,
        Endpoint::AgentServices => agent_local::services(app, call).await,
        Endpoint::AgentService => agent_local::service(app, call).await,
        Endpoint::AgentServiceRegister => agent_local::register_service(app, call, body).await,
        Endpoint::AgentServiceDeregister => agent_local::deregister_service(app, call).await,
        Endpoint::AgentServiceMaintenance => agent_local::service_maintenance(app, call).await,
        Endpoint::AgentMaintenance => agent_local::node_maintenance(app, call).await,
        Endpoint::AgentChecks => agent_local::checks(app, call).await,
        Endpoint::AgentCheckRegister => agent_local::register_check(app, body).await,
        Endpoint::AgentCheckDeregister => agent_local::deregister_check(app, call).await,
        Endpoint::AgentCheckPass => agent_local::ttl(app, call, HealthStatus::Passing).await,
        Endpoint::AgentCheckWarn => agent_local::ttl(app, call, HealthStatus::Warning).await,
        Endpoint::AgentCheckFail => agent_local::ttl(app, call, HealthStatus::Critical).await,
        Endpoint::AgentCheckUpdate => agent_local::update(app, call, body).await,
        Endpoint::AgentHealthServiceId => agent_health::by_id(app, call).await,
        Endpoint::AgentHealthServiceName => agent_health::by_name(app, call).await,
        Endpoint::AgentReload => agent_local::reload(app).await,
        Endpoint::AgentMembers => cluster::members(app, call).await,
        Endpoint::AgentJoin => cluster::join(app, call).await,
        Endpoint::AgentLeave => cluster::leave(app).await,
        Endpoint::AgentForceLeave => cluster::force_leave(app, call).await,
        Endpoint::OperatorRaftConfiguration => cluster::raft_configuration(app, call).await,
        Endpoint::OperatorRaftPeer => cluster::raft_remove_peer(app, call).await,
        Endpoint::OperatorAutopilotConfiguration if call.method == Method::PUT => {
            autopilot::set_configuration(app, call, body).await
        }
        Endpoint::OperatorAutopilotConfiguration => autopilot::get_configuration(app, call).await,
        Endpoint::OperatorAutopilotHealth => autopilot::health(app, call).await,
        Endpoint::OperatorAutopilotState => autopilot::state(app, call).await,
        Endpoint::CatalogRegister => catalog::register(app, call, body).await,
        Endpoint::CatalogDeregister => catalog::deregister(app, call, body).await,
        Endpoint::CatalogDatacenters => catalog::datacenters(app, call).await,
        Endpoint::CatalogNodes => catalog::nodes(app, call).await,
        Endpoint::CatalogServices => catalog::services(app, call).await,
        Endpoint::CatalogService => catalog::service(app, call).await,
        Endpoint::CatalogNode => catalog::node(app, call).await,
        Endpoint::CatalogNodeServices => catalog::node_services(app, call).await,
        Endpoint::HealthNode => health::node(app, call).await,
        Endpoint::HealthChecks => health::checks(app, call).await,
        Endpoint::HealthService => health::service(app, call).await,
        Endpoint::HealthState => health::state(app, call).await,
    }
}

/// `GET /`: the UI when enabled, else a short note on how to enable it.
fn index(cfg: &HttpConfig) -> Response {
    if cfg.ui_enabled {
        redirect(&Method::GET, &ui::content_path(cfg), None)
    } else {
        UI_DISABLED.into_response()
    }
}

/// A `301` as Go's `ServeMux` sends it (the query string kept).
fn redirect(method: &Method, to: &str, query: Option<&str>) -> Response {
    let location = match query {
        Some(q) => format!("{to}?{q}"),
        None => to.to_owned(),
    };
    let Ok(value) = HeaderValue::from_str(&location) else {
        // Built from an already valid request URI, so this does not happen.
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut resp = if *method == Method::GET || *method == Method::HEAD {
        let body = format!("<a href=\"{}\">Moved Permanently</a>.\n\n", html_escape(to));
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        ().into_response()
    };
    *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
    resp.headers_mut().insert(header::LOCATION, value);
    resp
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
}

fn allow(status: StatusCode, allow: &str) -> Response {
    let mut resp = status.into_response();
    if let Ok(v) = HeaderValue::from_str(allow) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}
