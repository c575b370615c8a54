//! Watch plans, as Consul's Go `api/watch` package: what a watch queries (the watch types of
//! `api/watch/funcs.go`, their parameter checks with Consul's messages, one blocking fetch
//! each, shaped as Consul's Go `api` structs marshal it for handlers), the [`Plan`] loop that
//! hands over only changed results, and the agent configuration's watch [`Definition`]s.
//! `praetor watch` and the agent's configured watches both run on this.

use std::collections::BTreeSet;

use praetor_types::KvEntry;
use praetor_types::gojson::go_html_escape;
use serde::Serialize;
use serde_json::Value;

use crate::{CatalogQuery, Client, ClientError, HealthServiceQuery, QueryOptions};

mod definition;
mod plan;

pub use definition::{Definition, Handler, HttpHandler};
pub use plan::{Plan, PlanError, backoff};

/// A watch's parameters (Consul's `params` map), from command-line flags or a config entry.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// `key` (type key).
    pub key: Option<String>,
    /// `prefix` (type keyprefix).
    pub prefix: Option<String>,
    /// `service` (types service and checks).
    pub service: Option<String>,
    /// `tag`s, all of which must match (type service).
    pub tags: Vec<String>,
    /// `passingonly` (type service).
    pub passing_only: Option<bool>,
    /// `state` (type checks).
    pub state: Option<String>,
    /// `name` (type event).
    pub name: Option<String>,
    /// `filter` (types services, nodes, service, checks).
    pub filter: Option<String>,
}

/// One watch and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchKind {
    /// One key: a `KVPair` or `null`.
    Key {
        /// The key.
        key: String,
    },
    /// Every key under a prefix: `[KVPair]` (`null` when none).
    KeyPrefix {
        /// The prefix.
        prefix: String,
    },
    /// Service names and their tags: `{"name": [tags]}`.
    Services {
        /// A filter expression.
        filter: Option<String>,
    },
    /// The catalog's nodes: `[Node]`.
    Nodes {
        /// A filter expression.
        filter: Option<String>,
    },
    /// One service's healthy view: `[{Node, Service, Checks}]`.
    Service {
        /// The service name.
        service: String,
        /// Tags every instance must have.
        tags: Vec<String>,
        /// Only instances whose checks all pass.
        passing_only: bool,
        /// A filter expression.
        filter: Option<String>,
    },
    /// Checks of one service, or in one state (default `any`): `[HealthCheck]`.
    Checks {
        /// The service whose checks are watched.
        service: Option<String>,
        /// The state watched (`any` when neither this nor `service` is given).
        state: Option<String>,
        /// A filter expression.
        filter: Option<String>,
    },
    /// User events seen by the agent, optionally by name: `[UserEvent]`.
    Event {
        /// Only events of this name.
        name: Option<String>,
    },
}

impl WatchKind {
    /// Checks `params` for watch type `kind` as Consul's `watch.Parse` does: required
    /// parameters, conflicts, and no parameter the type does not use.
    pub fn parse(kind: &str, params: &Params) -> Result<Self, String> {
        let mut used: BTreeSet<&str> = BTreeSet::new();
        let watch = match kind {
            "key" => {
                used.insert("key");
                let key = params
                    .key
                    .clone()
                    .ok_or("Must specify a single key to watch")?;
                Self::Key { key }
            }
            "keyprefix" => {
                used.insert("prefix");
                let prefix = params
                    .prefix
                    .clone()
                    .ok_or("Must specify a single prefix to watch")?;
                Self::KeyPrefix { prefix }
            }
            "services" => {
                used.insert("filter");
                Self::Services {
                    filter: params.filter.clone(),
                }
            }
            "nodes" => {
                used.insert("filter");
                Self::Nodes {
                    filter: params.filter.clone(),
                }
            }
            "service" => {
                used.extend(["service", "tag", "passingonly", "filter"]);
                let service = params
                    .service
                    .clone()
                    .ok_or("Must specify a single service to watch")?;
                Self::Service {
                    service,
                    tags: params.tags.clone(),
                    passing_only: params.passing_only.unwrap_or(false),
                    filter: params.filter.clone(),
                }
            }
            "checks" => {
                used.extend(["service", "state", "filter"]);
                if params.service.is_some() && params.state.is_some() {
                    return Err("Cannot specify service and state".to_owned());
                }
                Self::Checks {
                    service: params.service.clone(),
                    state: params.state.clone(),
                    filter: params.filter.clone(),
                }
            }
            "event" => {
                used.insert("name");
                Self::Event {
                    name: params.name.clone(),
                }
            }
            other => return Err(format!("Unsupported watch type: {other}")),
        };
        let given = [
            ("filter", params.filter.is_some()),
            ("key", params.key.is_some()),
            ("name", params.name.is_some()),
            ("passingonly", params.passing_only.is_some()),
            ("prefix", params.prefix.is_some()),
            ("service", params.service.is_some()),
            ("state", params.state.is_some()),
            ("tag", !params.tags.is_empty()),
        ];
        let unused: Vec<&str> = given
            .iter()
            .filter(|(name, set)| *set && !used.contains(name))
            .map(|(name, _)| *name)
            .collect();
        if !unused.is_empty() {
            return Err(format!("Invalid parameters: [{}]", unused.join(" ")));
        }
        Ok(watch)
    }

    /// The watch type's name (`keyprefix`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Key { .. } => "key",
            Self::KeyPrefix { .. } => "keyprefix",
            Self::Services { .. } => "services",
            Self::Nodes { .. } => "nodes",
            Self::Service { .. } => "service",
            Self::Checks { .. } => "checks",
            Self::Event { .. } => "event",
        }
    }

    /// One (blocking, when `options.min_index > 0`) query: the result's index and its data
    /// as handlers see it. `last_index` is the index of the previous result, which the
    /// event watch uses to hand over only the events that are new since then.
    pub async fn fetch(
        &self,
        client: &Client,
        options: &QueryOptions,
        last_index: Option<u64>,
    ) -> Result<(u64, Data), ClientError> {
        let (index, data) = match self {
            Self::Key { key } => {
                let (entry, meta) = client.kv_get(key, options).await?;
                (meta.index, Data::of(&entry.map(KvPair::from)))
            }
            Self::KeyPrefix { prefix } => {
                let (entries, meta) = client.kv_list(prefix, options).await?;
                let pairs: Option<Vec<KvPair>> =
                    (!entries.is_empty()).then(|| entries.into_iter().map(KvPair::from).collect());
                (meta.index, Data::of(&pairs))
            }
            Self::Services { filter } => {
                let query = CatalogQuery {
                    filter: filter.clone(),
                    ..CatalogQuery::default()
                };
                let (services, meta) = client.catalog_services(&query, options).await?;
                (meta.index, Data::of(&services))
            }
            Self::Nodes { filter } => {
                let query = CatalogQuery {
                    filter: filter.clone(),
                    ..CatalogQuery::default()
                };
                let (nodes, meta) = client.catalog_nodes(&query, options).await?;
                (meta.index, Data::of(&nodes))
            }
            Self::Service {
                service,
                tags,
                passing_only,
                filter,
            } => {
                let query = HealthServiceQuery {
                    tags: tags.clone(),
                    passing_only: *passing_only,
                    filter: filter.clone(),
                };
                let (entries, meta) = client.health_service(service, &query, options).await?;
                (meta.index, Data::of(&entries))
            }
            Self::Checks {
                service,
                state,
                filter,
            } => {
                let (checks, meta) = match service {
                    Some(service) => {
                        client
                            .health_checks(service, filter.as_deref(), options)
                            .await?
                    }
                    None => {
                        let state = state.as_deref().unwrap_or("any");
                        client
                            .health_state(state, filter.as_deref(), options)
                            .await?
                    }
                };
                (meta.index, Data::of(&checks))
            }
            Self::Event { name } => {
                let params: Vec<(&str, String)> =
                    name.iter().map(|n| ("name", n.clone())).collect();
                let (events, meta) = client.get_json("/v1/event/list", &params, options).await?;
                (meta.index, Data::of(&new_events(events, last_index)))
            }
        };
        Ok((index, data))
    }
}

/// A KV entry as Consul's Go `api.KVPair` marshals it (handlers parse this shape).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KvPair {
    key: String,
    create_index: u64,
    modify_index: u64,
    lock_index: u64,
    flags: u64,
    value: Option<String>,
    session: String,
}

impl From<KvEntry> for KvPair {
    fn from(entry: KvEntry) -> Self {
        use base64::Engine as _;
        Self {
            key: entry.key,
            create_index: entry.create_index,
            modify_index: entry.modify_index,
            lock_index: entry.lock_index,
            flags: entry.flags,
            value: (!entry.value.is_empty())
                .then(|| base64::engine::general_purpose::STANDARD.encode(&entry.value)),
            session: entry.session.unwrap_or_default(),
        }
    }
}

/// One result, serialised once in the field order of Consul's Go structs (a
/// `serde_json::Value` would sort the keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// Compact JSON, for handlers' stdin; equal strings mean equal results.
    pub compact: String,
    /// JSON indented with 4 spaces, as the CLI prints it.
    pub pretty: String,
}

impl Data {
    /// Serialises `data` both ways.
    pub fn of<T: Serialize>(data: &T) -> Self {
        // Serialising these plain structs, maps and JSON values cannot fail.
        let compact = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        let pretty = match data.serialize(&mut serializer) {
            Ok(()) => String::from_utf8(out).unwrap_or_else(|_| compact.clone()),
            Err(_) => compact.clone(),
        };
        // Handlers and scripts comparing output see Consul's bytes.
        Self {
            compact: go_html_escape(&compact),
            pretty: go_html_escape(&pretty),
        }
    }
}

/// The events after the one whose ID maps to `last_index` (all of them when it is not in
/// the list), as Consul's event watch hands them over.
fn new_events(events: Value, last_index: Option<u64>) -> Value {
    let Value::Array(mut events) = events else {
        return Value::Array(Vec::new());
    };
    if let Some(last) = last_index {
        let seen = events.iter().position(|e| {
            e.get("ID")
                .and_then(Value::as_str)
                .and_then(event_id_to_index)
                == Some(last)
        });
        if let Some(seen) = seen {
            events.drain(..=seen);
        }
    }
    Value::Array(events)
}

/// An event ID's blocking index, as Consul's `api.Event.IDToIndex`: the XOR of the UUID's
/// first and last 64 bits. `None` for a malformed ID.
pub fn event_id_to_index(id: &str) -> Option<u64> {
    if id.len() != 36 || !id.is_char_boundary(19) {
        return None;
    }
    let lower: String = [&id[0..8], &id[9..13], &id[14..18]].concat();
    let upper: String = [&id[19..23], &id[24..36]].concat();
    let low = u64::from_str_radix(&lower, 16).ok()?;
    let high = u64::from_str_radix(&upper, 16).ok()?;
    Some(low ^ high)
}

#[cfg(test)]
mod tests;
