//! `/v1/catalog/*`: register, deregister, datacenters, nodes, services, service and node
//! reads, as Consul's `agent/catalog_endpoint.go` answers them (spec/http-api.md §4).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::Response;
use praetor_filter::Filter;
use praetor_types::{
    DeregisterRequest, Node, NodeService, NodeServices, QueryMeta, QueryOptions, RegisterRequest,
    ServiceNode,
};
use serde::Serialize;

use crate::app::{App, Call};
use crate::decode::json_body;
use crate::error::HttpError;
use crate::params::{
    check_datacenter, filter, meta_matches, node_meta, query_options, reject_enterprise_meta,
};
use crate::response::{json, set_meta};

/// Largest register/deregister body read (Consul sets no limit of its own; this only
/// bounds memory).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// `PUT /v1/catalog/register`: `true` once applied.
pub(crate) async fn register(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let mut req: RegisterRequest = json_body(&read_body(body).await?)?;
    req.datacenter = datacenter(&app.cfg.datacenter, &req.datacenter)?;
    let done = app.backend.catalog_register(req).await?;
    Ok(json(&done, call.pretty))
}

/// `PUT /v1/catalog/deregister`: `true`, also when nothing was there.
pub(crate) async fn deregister(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let mut req: DeregisterRequest = json_body(&read_body(body).await?)?;
    req.datacenter = datacenter(&app.cfg.datacenter, &req.datacenter)?;
    let done = app.backend.catalog_deregister(req).await?;
    Ok(json(&done, call.pretty))
}

/// `GET /v1/catalog/datacenters`: only our own while WAN federation does not exist.
pub(crate) async fn datacenters(app: &App, call: &Call) -> Result<Response, HttpError> {
    Ok(json(&[&app.cfg.datacenter], call.pretty))
}

/// `GET /v1/catalog/nodes` (`?node-meta`, `?filter`; `?near` accepted, order kept).
pub(crate) async fn nodes(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    let meta_wanted = node_meta(&call.params);
    let (meta, nodes) = app.backend.catalog_nodes(opts).await?;
    let nodes: Vec<Node> = nodes
        .into_iter()
        .filter(|n| meta_matches(&n.meta, &meta_wanted))
        .collect();
    answer(call, &meta, &apply(filter.as_ref(), nodes)?)
}

/// `GET /v1/catalog/services`. `?filter` and `?node-meta` select service instances: the
/// summary is then rebuilt from the instances of each listed service, read without
/// blocking right after the (possibly blocking) summary, so the answer carries the
/// summary's index.
pub(crate) async fn services(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    let meta_wanted = node_meta(&call.params);
    let (meta, services) = app.backend.catalog_services(opts).await?;
    if filter.is_none() && meta_wanted.is_empty() {
        return answer(call, &meta, &services);
    }
    let now = QueryOptions {
        min_index: 0,
        max_wait: None,
        ..opts
    };
    let mut selected = BTreeMap::new();
    for name in services.keys() {
        let (_, rows) = app.backend.catalog_service(name, &[], now).await?;
        let rows: Vec<ServiceNode> = rows
            .into_iter()
            .filter(|r| meta_matches(&r.node_meta, &meta_wanted))
            .collect();
        let rows = apply(filter.as_ref(), rows)?;
        if rows.is_empty() {
            continue;
        }
        let mut tags: Vec<String> = rows.into_iter().flat_map(|r| r.service_tags).collect();
        tags.sort();
        tags.dedup();
        selected.insert(name.clone(), tags);
    }
    answer(call, &meta, &selected)
}

/// `GET /v1/catalog/service/<name>` (`?tag` repeatable, all must match; `?node-meta`;
/// `?filter`; `?near` accepted and ignored).
pub(crate) async fn service(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingServiceName);
    }
    let tags = call.params.all("tag");
    let meta_wanted = node_meta(&call.params);
    let (meta, rows) = app.backend.catalog_service(&call.arg, &tags, opts).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| meta_matches(&r.node_meta, &meta_wanted))
        .collect();
    answer(call, &meta, &apply(filter.as_ref(), rows)?)
}

/// `GET /v1/catalog/node/<node>`: `{"Node":…,"Services":{id: service}}`, `null` for an
/// unknown node; `?filter` applies to the services.
pub(crate) async fn node(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingNodeName);
    }
    let (meta, found) = app.backend.catalog_node(&call.arg, opts).await?;
    let found = match (found, filter) {
        (Some(mut ns), Some(f)) => {
            let mut kept = std::collections::BTreeMap::new();
            for (id, svc) in std::mem::take(&mut ns.services) {
                let value =
                    serde_json::to_value(&svc).map_err(praetor_filter::FilterError::Serialize)?;
                if f.matches(&value)? {
                    kept.insert(id, svc);
                }
            }
            ns.services = kept;
            Some(ns)
        }
        (found, _) => found,
    };
    answer(call, &meta, &found)
}

/// `/catalog/node-services/<node>`: the node and its services as a list; an unknown
/// node is `{"Node":null,"Services":null}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeServiceList {
    node: Option<Node>,
    services: Option<Vec<NodeService>>,
}

/// `GET /v1/catalog/node-services/<node>`; `?filter` applies to the services.
pub(crate) async fn node_services(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, filter) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingNodeName);
    }
    let (meta, found) = app.backend.catalog_node(&call.arg, opts).await?;
    let list = match found {
        Some(NodeServices { node, services }) => NodeServiceList {
            node: Some(node),
            services: Some(apply(filter.as_ref(), services.into_values().collect())?),
        },
        None => NodeServiceList {
            node: None,
            services: None,
        },
    };
    answer(call, &meta, &list)
}

/// The options every catalog and health read checks, in Consul's order: `?dc`,
/// consistency and blocking, Enterprise refusals, then `?filter` compiled.
pub(crate) fn read_options(
    app: &App,
    call: &Call,
) -> Result<(QueryOptions, Option<Filter>), HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let opts = query_options(&call.params)?;
    reject_enterprise_meta(&call.params, &call.headers)?;
    Ok((opts, filter(&call.params)?))
}

/// Keeps the elements `filter` matches (all of them without one).
pub(crate) fn apply<T: Serialize>(
    filter: Option<&Filter>,
    items: Vec<T>,
) -> Result<Vec<T>, HttpError> {
    match filter {
        Some(f) => Ok(f.apply(items)?),
        None => Ok(items),
    }
}

/// A `200` JSON read answer with the `X-Consul-*` headers.
pub(crate) fn answer<T: Serialize + ?Sized>(
    call: &Call,
    meta: &QueryMeta,
    value: &T,
) -> Result<Response, HttpError> {
    let mut resp = json(value, call.pretty);
    set_meta(resp.headers_mut(), meta);
    Ok(resp)
}

/// The write's datacenter: ours when the body names none, else it must be ours.
fn datacenter(ours: &str, named: &str) -> Result<String, HttpError> {
    if named.is_empty() || named == ours {
        Ok(ours.to_owned())
    } else {
        Err(HttpError::UnknownDatacenter)
    }
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, HttpError> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(HttpError::BodyRead)
}
