//! The route table: every endpoint with its path and methods, from which dispatch derives
//! `OPTIONS`, `405` + `Allow`, the trailing-slash redirect and the 404s
//! (spec/http-api.md §0, §1.1). Adding an endpoint = one [`Route`] line + one
//! [`Endpoint`] variant + its handler arm in `app.rs`.

use axum::http::Method;

/// The HTTP methods a route can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Put,
    Post,
    Delete,
}

impl Verb {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    pub(crate) fn from_method(m: &Method) -> Option<Self> {
        match *m {
            Method::GET => Some(Self::Get),
            Method::PUT => Some(Self::Put),
            Method::POST => Some(Self::Post),
            Method::DELETE => Some(Self::Delete),
            _ => None,
        }
    }
}

/// What a request is for, once routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/v1/kv/<key>`
    Kv,
    /// `/v1/session/create`
    SessionCreate,
    /// `/v1/session/destroy/<id>`
    SessionDestroy,
    /// `/v1/session/renew/<id>`
    SessionRenew,
    /// `/v1/session/info/<id>`
    SessionInfo,
    /// `/v1/session/node/<node>`
    SessionNode,
    /// `/v1/session/list`
    SessionList,
    /// `/v1/txn`
    Txn,
    /// `/v1/event/fire/<name>`
    EventFire,
    /// `/v1/event/list`
    EventList,
    /// `/v1/status/leader`
    StatusLeader,
    /// `/v1/status/peers`
    StatusPeers,
    /// `/v1/agent/self`
    AgentSelf,
    /// `/v1/agent/services`
    AgentServices,
    /// `/v1/agent/service/<id>`
    AgentService,
    /// `/v1/agent/service/register`
    AgentServiceRegister,
    /// `/v1/agent/service/deregister/<id>`
    AgentServiceDeregister,
    /// `/v1/agent/service/maintenance/<id>`
    AgentServiceMaintenance,
    /// `/v1/agent/maintenance`
    AgentMaintenance,
    /// `/v1/agent/checks`
    AgentChecks,
    /// `/v1/agent/check/register`
    AgentCheckRegister,
    /// `/v1/agent/check/deregister/<id>`
    AgentCheckDeregister,
    /// `/v1/agent/check/pass/<id>`
    AgentCheckPass,
    /// `/v1/agent/check/warn/<id>`
    AgentCheckWarn,
    /// `/v1/agent/check/fail/<id>`
    AgentCheckFail,
    /// `/v1/agent/check/update/<id>`
    AgentCheckUpdate,
    /// `/v1/agent/health/service/id/<id>`
    AgentHealthServiceId,
    /// `/v1/agent/health/service/name/<name>`
    AgentHealthServiceName,
    /// `/v1/agent/reload`
    AgentReload,
    /// `/v1/agent/members`
    AgentMembers,
    /// `/v1/agent/join/<addr>`
    AgentJoin,
    /// `/v1/agent/leave`
    AgentLeave,
    /// `/v1/agent/force-leave/<node>`
    AgentForceLeave,
    /// `/v1/operator/raft/configuration`
    OperatorRaftConfiguration,
    /// `/v1/operator/raft/peer`
    OperatorRaftPeer,
    /// `/v1/operator/autopilot/configuration`
    OperatorAutopilotConfiguration,
    /// `/v1/operator/autopilot/health`
    OperatorAutopilotHealth,
    /// `/v1/operator/autopilot/state`
    OperatorAutopilotState,
    /// `/v1/catalog/register`
    CatalogRegister,
    /// `/v1/catalog/deregister`
    CatalogDeregister,
    /// `/v1/catalog/datacenters`
    CatalogDatacenters,
    /// `/v1/catalog/nodes`
    CatalogNodes,
    /// `/v1/catalog/services`
    CatalogServices,
    /// `/v1/catalog/service/<name>`
    CatalogService,
    /// `/v1/catalog/node/<node>`
    CatalogNode,
    /// `/v1/catalog/node-services/<node>`
    CatalogNodeServices,
    /// `/v1/health/node/<node>`
    HealthNode,
    /// `/v1/health/checks/<service>`
    HealthChecks,
    /// `/v1/health/service/<service>`
    HealthService,
    /// `/v1/health/state/<state>`
    HealthState,
}

/// How a route's path matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Only this exact path.
    Exact,
    /// This path (ending in `/`) and anything under it; the rest is the argument.
    Prefix,
}

/// One line of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) path: &'static str,
    pub(crate) kind: Match,
    pub(crate) methods: &'static [Verb],
    pub(crate) endpoint: Endpoint,
}

impl Route {
    const fn exact(path: &'static str, methods: &'static [Verb], endpoint: Endpoint) -> Self {
        Self {
            path,
            kind: Match::Exact,
            methods,
            endpoint,
        }
    }

    const fn prefix(path: &'static str, methods: &'static [Verb], endpoint: Endpoint) -> Self {
        Self {
            path,
            kind: Match::Prefix,
            methods,
            endpoint,
        }
    }

    /// The `Allow` header value: `OPTIONS` then the declared methods, comma-separated.
    pub(crate) fn allow(&self) -> String {
        std::iter::once("OPTIONS")
            .chain(self.methods.iter().map(|v| v.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub(crate) fn accepts(&self, method: &Method) -> bool {
        Verb::from_method(method).is_some_and(|v| self.methods.contains(&v))
    }
}

use Verb::{Delete, Get, Put};

/// Every `/v1` route this agent serves.
pub(crate) const ROUTES: &[Route] = &[
    Route::prefix("/v1/kv/", &[Get, Put, Delete], Endpoint::Kv),
    Route::exact("/v1/status/leader", &[Get], Endpoint::StatusLeader),
    Route::exact("/v1/status/peers", &[Get], Endpoint::StatusPeers),
    Route::exact("/v1/agent/self", &[Get], Endpoint::AgentSelf),
    Route::exact("/v1/agent/services", &[Get], Endpoint::AgentServices),
    Route::prefix("/v1/agent/service/", &[Get], Endpoint::AgentService),
    Route::exact(
        "/v1/agent/service/register",
        &[Put],
        Endpoint::AgentServiceRegister,
    ),
    Route::prefix(
        "/v1/agent/service/deregister/",
        &[Put],
        Endpoint::AgentServiceDeregister,
    ),
    Route::prefix(
        "/v1/agent/service/maintenance/",
        &[Put],
        Endpoint::AgentServiceMaintenance,
    ),
    Route::exact("/v1/agent/maintenance", &[Put], Endpoint::AgentMaintenance),
    Route::exact("/v1/agent/checks", &[Get], Endpoint::AgentChecks),
    Route::exact(
        "/v1/agent/check/register",
        &[Put],
        Endpoint::AgentCheckRegister,
    ),
    Route::prefix(
        "/v1/agent/check/deregister/",
        &[Put],
        Endpoint::AgentCheckDeregister,
    ),
    Route::prefix("/v1/agent/check/pass/", &[Put], Endpoint::AgentCheckPass),
    Route::prefix("/v1/agent/check/warn/", &[Put], Endpoint::AgentCheckWarn),
    Route::prefix("/v1/agent/check/fail/", &[Put], Endpoint::AgentCheckFail),
    Route::prefix(
        "/v1/agent/check/update/",
        &[Put],
        Endpoint::AgentCheckUpdate,
    ),
    Route::prefix(
        "/v1/agent/health/service/id/",
        &[Get],
        Endpoint::AgentHealthServiceId,
    ),
    Route::prefix(
        "/v1/agent/health/service/name/",
        &[Get],
        Endpoint::AgentHealthServiceName,
    ),
    Route::exact("/v1/agent/reload", &[Put], Endpoint::AgentReload),
    Route::exact("/v1/agent/members", &[Get], Endpoint::AgentMembers),
    Route::prefix("/v1/agent/join/", &[Put], Endpoint::AgentJoin),
    Route::exact("/v1/agent/leave", &[Put], Endpoint::AgentLeave),
    Route::prefix("/v1/agent/force-leave/", &[Put], Endpoint::AgentForceLeave),
    Route::exact(
        "/v1/operator/raft/configuration",
        &[Get],
        Endpoint::OperatorRaftConfiguration,
    ),
    Route::exact(
        "/v1/operator/raft/peer",
        &[Delete],
        Endpoint::OperatorRaftPeer,
    ),
    Route::exact(
        "/v1/operator/autopilot/configuration",
        &[Get, Put],
        Endpoint::OperatorAutopilotConfiguration,
    ),
    Route::exact(
        "/v1/operator/autopilot/health",
        &[Get],
        Endpoint::OperatorAutopilotHealth,
    ),
    Route::exact(
        "/v1/operator/autopilot/state",
        &[Get],
        Endpoint::OperatorAutopilotState,
    ),
    Route::exact("/v1/catalog/register", &[Put], Endpoint::CatalogRegister),
    Route::exact(
        "/v1/catalog/deregister",
        &[Put],
        Endpoint::CatalogDeregister,
    ),
    Route::exact(
        "/v1/catalog/datacenters",
        &[Get],
        Endpoint::CatalogDatacenters,
    ),
    Route::exact("/v1/catalog/nodes", &[Get], Endpoint::CatalogNodes),
    Route::exact("/v1/catalog/services", &[Get], Endpoint::CatalogServices),
    Route::prefix("/v1/catalog/service/", &[Get], Endpoint::CatalogService),
    Route::prefix("/v1/catalog/node/", &[Get], Endpoint::CatalogNode),
    Route::prefix(
        "/v1/catalog/node-services/",
        &[Get],
        Endpoint::CatalogNodeServices,
    ),
    Route::prefix("/v1/health/node/", &[Get], Endpoint::HealthNode),
    Route::prefix("/v1/health/checks/", &[Get], Endpoint::HealthChecks),
    Route::prefix("/v1/health/service/", &[Get], Endpoint::HealthService),
    Route::prefix("/v1/health/state/", &[Get], Endpoint::HealthState),
    Route::exact("/v1/session/create", &[Put], Endpoint::SessionCreate),
    Route::prefix("/v1/event/fire/", &[Put], Endpoint::EventFire),
    Route::exact("/v1/event/list", &[Get], Endpoint::EventList),
    Route::prefix("/v1/session/destroy/", &[Put], Endpoint::SessionDestroy),
    Route::prefix("/v1/session/renew/", &[Put], Endpoint::SessionRenew),
    Route::prefix("/v1/session/info/", &[Get], Endpoint::SessionInfo),
    Route::prefix("/v1/session/node/", &[Get], Endpoint::SessionNode),
    Route::exact("/v1/session/list", &[Get], Endpoint::SessionList),
    Route::exact("/v1/txn", &[Put], Endpoint::Txn),
];

/// Where a (clean, decoded) path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    /// A route, with the path remainder for prefix routes (`""` for exact ones).
    Found(&'static Route, &'a str),
    /// A prefix route asked for without its trailing slash: redirect there.
    AddSlash(&'static str),
    /// Nothing.
    NotFound,
}

/// Go `ServeMux` precedence: an exact route, else the longest matching prefix route,
/// else a redirect to a prefix route's slash form.
pub(crate) fn lookup(path: &str) -> Lookup<'_> {
    if let Some(r) = ROUTES
        .iter()
        .find(|r| r.kind == Match::Exact && r.path == path)
    {
        return Lookup::Found(r, "");
    }
    let best = ROUTES
        .iter()
        .filter(|r| r.kind == Match::Prefix && path.starts_with(r.path))
        .max_by_key(|r| r.path.len());
    if let Some(r) = best {
        return Lookup::Found(r, &path[r.path.len()..]);
    }
    match ROUTES
        .iter()
        .find(|r| r.kind == Match::Prefix && r.path.strip_suffix('/') == Some(path))
    {
        Some(r) => Lookup::AddSlash(r.path),
        None => Lookup::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_follows_servemux_rules() {
        assert!(
            matches!(lookup("/v1/kv/a/b"), Lookup::Found(r, "a/b") if r.endpoint == Endpoint::Kv)
        );
        assert!(matches!(lookup("/v1/kv/"), Lookup::Found(_, "")));
        assert_eq!(lookup("/v1/kv"), Lookup::AddSlash("/v1/kv/"));
        assert!(
            matches!(lookup("/v1/status/leader"), Lookup::Found(r, "") if r.endpoint == Endpoint::StatusLeader)
        );
        assert_eq!(lookup("/v1/status/leader/"), Lookup::NotFound);
        assert_eq!(lookup("/v1/nope"), Lookup::NotFound);
    }

    #[test]
    fn catalog_exact_routes_win_over_prefix_routes() {
        assert!(
            matches!(lookup("/v1/catalog/services"), Lookup::Found(r, "") if r.endpoint == Endpoint::CatalogServices)
        );
        assert!(
            matches!(lookup("/v1/catalog/service/web"), Lookup::Found(r, "web") if r.endpoint == Endpoint::CatalogService)
        );
        assert!(
            matches!(lookup("/v1/catalog/node-services/n1"), Lookup::Found(r, "n1") if r.endpoint == Endpoint::CatalogNodeServices)
        );
        assert!(
            matches!(lookup("/v1/catalog/node/n1"), Lookup::Found(r, "n1") if r.endpoint == Endpoint::CatalogNode)
        );
        assert_eq!(
            lookup("/v1/health/state"),
            Lookup::AddSlash("/v1/health/state/")
        );
    }

    #[test]
    fn allow_lists_options_first() {
        assert_eq!(ROUTES[0].allow(), "OPTIONS,GET,PUT,DELETE");
        assert_eq!(ROUTES[1].allow(), "OPTIONS,GET");
    }

    #[test]
    fn table_paths_are_well_formed() {
        for r in ROUTES {
            assert!(r.path.starts_with("/v1/"), "{}", r.path);
            assert_eq!(r.kind == Match::Prefix, r.path.ends_with('/'), "{}", r.path);
            assert!(!r.methods.is_empty(), "{}", r.path);
        }
    }
}
