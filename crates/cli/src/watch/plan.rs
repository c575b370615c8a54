//! What a watch queries: the watch types of Consul's `api/watch/funcs.go`, their parameter
//! checks (with Consul's messages), and one blocking fetch each, shaped as Consul's Go `api`
//! structs marshal it for handlers.

use std::collections::BTreeSet;

use praetor_client::{CatalogQuery, Client, ClientError, HealthServiceQuery, QueryOptions};
use praetor_types::KvEntry;
use serde::Serialize;
use serde_json::Value;

use super::WatchArgs;

/// The watch parameters given on the command line (Consul's `params` map).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub(crate) key: Option<String>,
    pub(crate) prefix: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) passing_only: Option<bool>,
    pub(crate) state: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) filter: Option<String>,
}

impl From<&WatchArgs> for Params {
    fn from(args: &WatchArgs) -> Self {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Self {
            key: set(&args.key),
            prefix: set(&args.prefix),
            service: set(&args.service),
            tags: args.tag.iter().filter(|t| !t.is_empty()).cloned().collect(),
            passing_only: args.passingonly,
            state: set(&args.state),
            name: set(&args.name),
            filter: set(&args.filter),
        }
    }
}

/// One watch and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WatchKind {
    /// One key: a `KVPair` or `null`.
    Key { key: String },
    /// Every key under a prefix: `[KVPair]` (`null` when none).
    KeyPrefix { prefix: String },
    /// Service names and their tags: `{"name": [tags]}`.
    Services { filter: Option<String> },
    /// The catalog's nodes: `[Node]`.
    Nodes { filter: Option<String> },
    /// One service's healthy view: `[{Node, Service, Checks}]`.
    Service {
        service: String,
        tags: Vec<String>,
        passing_only: bool,
        filter: Option<String>,
    },
    /// Checks of one service, or in one state (default `any`): `[HealthCheck]`.
    Checks {
        service: Option<String>,
        state: Option<String>,
        filter: Option<String>,
    },
    /// User events seen by the agent, optionally by name: `[UserEvent]`.
    Event { name: Option<String> },
}

impl WatchKind {
    /// Checks `params` for watch type `kind` as Consul's `watch.Parse` does: required
    /// parameters, conflicts, and no parameter the type does not use.
    pub(crate) fn parse(kind: &str, params: &Params) -> Result<Self, String> {
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
    pub(crate) fn name(&self) -> &'static str {
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
    pub(crate) async fn fetch(
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
pub(crate) struct Data {
    /// Compact JSON, for handlers' stdin; equal strings mean equal results.
    pub(crate) compact: String,
    /// JSON indented with 4 spaces, as the CLI prints it.
    pub(crate) pretty: String,
}

impl Data {
    pub(crate) fn of<T: Serialize>(data: &T) -> Self {
        // Serialising these plain structs, maps and JSON values cannot fail.
        let compact = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        let pretty = match data.serialize(&mut serializer) {
            Ok(()) => String::from_utf8(out).unwrap_or_else(|_| compact.clone()),
            Err(_) => compact.clone(),
        };
        Self { compact, pretty }
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
pub(crate) fn event_id_to_index(id: &str) -> Option<u64> {
    if id.len() != 36 || !id.is_char_boundary(19) {
        return None;
    }
    let lower: String = [&id[0..8], &id[9..13], &id[14..18]].concat();
    let upper: String = [&id[19..23], &id[24..36]].concat();
    let low = u64::from_str_radix(&lower, 16).ok()?;
    let high = u64::from_str_radix(&upper, 16).ok()?;
    Some(low ^ high)
}
