//! The config keys Consul accepts, their kinds, and the per-source check that turns a parsed
//! file into a canonical JSON tree: keys lower-cased, values type-checked, repeated HCL blocks
//! folded, singular `service`/`check` turned into list elements, legacy keys renamed.
//!
//! Keys for features Praetor lacks are listed so they are accepted (and ignored later);
//! anything not listed is an `invalid config key` error naming the source and the key.

use serde_json::{Map, Value};

use super::duration::parse_go_duration;
use super::error::Problem;

/// What a config key holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Bool,
    Int,
    /// Any number (rates).
    Number,
    Str,
    /// A Go-syntax duration string.
    Duration,
    /// A list of strings; a single string counts as a one-element list.
    StrList,
    /// A map from free-form keys to strings.
    StrMap,
    /// A nested object with known keys.
    Object(&'static [Field]),
    /// Accepted as is (mesh, cloud and other features Praetor does not implement).
    Raw,
    /// A list of objects kept as is (service/check definitions, watches); a single object
    /// counts as a one-element list.
    RawList,
}

type Field = (&'static str, Kind);

use Kind::{Bool, Duration, Int, Number, Object, Raw, RawList, Str, StrList, StrMap};

const ADDRESSES: &[Field] = &[
    ("dns", Str),
    ("http", Str),
    ("https", Str),
    ("grpc", Str),
    ("grpc_tls", Str),
    ("rpc", Str),
];

const PORTS: &[Field] = &[
    ("dns", Int),
    ("http", Int),
    ("https", Int),
    ("grpc", Int),
    ("grpc_tls", Int),
    ("serf_lan", Int),
    ("serf_wan", Int),
    ("server", Int),
    ("sidecar_min_port", Int),
    ("sidecar_max_port", Int),
    ("expose_min_port", Int),
    ("expose_max_port", Int),
    ("rpc", Int),
];

const GOSSIP: &[Field] = &[
    ("gossip_interval", Duration),
    ("gossip_nodes", Int),
    ("probe_interval", Duration),
    ("probe_timeout", Duration),
    ("suspicion_mult", Int),
    ("retransmit_mult", Int),
];

const HTTP_CONFIG: &[Field] = &[
    ("block_endpoints", StrList),
    ("allow_write_http_from", StrList),
    ("response_headers", StrMap),
    ("use_cache", Bool),
    ("max_header_bytes", Int),
];

const REQUEST_LIMITS: &[Field] = &[("mode", Str), ("read_rate", Number), ("write_rate", Number)];

const LIMITS: &[Field] = &[
    ("http_max_conns_per_client", Int),
    ("https_handshake_timeout", Duration),
    ("rpc_handshake_timeout", Duration),
    ("rpc_client_timeout", Duration),
    ("rpc_rate", Number),
    ("rpc_max_burst", Int),
    ("rpc_max_conns_per_client", Int),
    ("kv_max_value_size", Int),
    ("txn_max_req_len", Int),
    ("request_limits", Object(REQUEST_LIMITS)),
];

const SOA: &[Field] = &[
    ("refresh", Int),
    ("retry", Int),
    ("expire", Int),
    ("min_ttl", Int),
];

const DNS_CONFIG: &[Field] = &[
    ("allow_stale", Bool),
    ("max_stale", Duration),
    ("node_ttl", Duration),
    ("service_ttl", StrMap),
    ("enable_truncate", Bool),
    ("only_passing", Bool),
    ("udp_answer_limit", Int),
    ("a_record_limit", Int),
    ("recursor_strategy", Str),
    ("recursor_timeout", Duration),
    ("disable_compression", Bool),
    ("enable_additional_node_meta_txt", Bool),
    ("soa", Object(SOA)),
    ("use_cache", Bool),
    ("cache_max_age", Duration),
    ("prefer_namespace", Bool),
];

const UI_CONFIG: &[Field] = &[
    ("enabled", Bool),
    ("dir", Str),
    ("content_path", Str),
    ("metrics_provider", Str),
    ("metrics_provider_files", StrList),
    ("metrics_provider_options_json", Str),
    ("metrics_proxy", Raw),
    ("dashboard_url_templates", StrMap),
];

const TELEMETRY: &[Field] = &[
    ("prometheus_retention_time", Duration),
    ("disable_hostname", Bool),
    ("metrics_prefix", Str),
    ("prefix_filter", StrList),
    ("filter_default", Bool),
    ("statsd_address", Str),
    ("statsite_address", Str),
    ("dogstatsd_addr", Str),
    ("dogstatsd_tags", StrList),
    ("enable_host_metrics", Bool),
    ("disable_compat_1.9", Bool),
    ("retry_failed_connection", Bool),
    ("circonus_api_app", Str),
    ("circonus_api_token", Str),
    ("circonus_api_url", Str),
    ("circonus_broker_id", Str),
    ("circonus_broker_select_tag", Str),
    ("circonus_check_display_name", Str),
    ("circonus_check_force_metric_activation", Str),
    ("circonus_check_id", Str),
    ("circonus_check_instance_id", Str),
    ("circonus_check_search_tag", Str),
    ("circonus_check_tags", Str),
    ("circonus_submission_interval", Str),
    ("circonus_submission_url", Str),
];

const ACL_TOKENS: &[Field] = &[
    ("initial_management", Str),
    ("master", Str),
    ("agent", Str),
    ("agent_recovery", Str),
    ("agent_master", Str),
    ("default", Str),
    ("replication", Str),
    ("dns", Str),
    ("config_file_service_registration", Str),
];

const ACL: &[Field] = &[
    ("enabled", Bool),
    ("default_policy", Str),
    ("down_policy", Str),
    ("policy_ttl", Duration),
    ("role_ttl", Duration),
    ("token_ttl", Duration),
    ("enable_token_persistence", Bool),
    ("enable_token_replication", Bool),
    ("enable_key_list_policy", Bool),
    ("tokens", Object(ACL_TOKENS)),
];

const RAFT_LOGSTORE: &[Field] = &[
    ("backend", Str),
    ("disable_log_cache", Bool),
    ("verification", Raw),
    ("boltdb", Raw),
    ("wal", Raw),
];

const PERFORMANCE: &[Field] = &[
    ("raft_multiplier", Int),
    ("leave_drain_time", Duration),
    ("rpc_hold_timeout", Duration),
];

const AUTOPILOT: &[Field] = &[
    ("cleanup_dead_servers", Bool),
    ("last_contact_threshold", Duration),
    ("max_trailing_logs", Int),
    ("min_quorum", Int),
    ("server_stabilization_time", Duration),
    ("redundancy_zone_tag", Str),
    ("disable_upgrade_migration", Bool),
    ("upgrade_version_tag", Str),
];

const TLS_LISTENER: &[Field] = &[
    ("ca_file", Str),
    ("ca_path", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("verify_incoming", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("tls_min_version", Str),
    ("tls_cipher_suites", Str),
    ("use_auto_cert", Bool),
];

const TLS: &[Field] = &[
    ("defaults", Object(TLS_LISTENER)),
    ("internal_rpc", Object(TLS_LISTENER)),
    ("https", Object(TLS_LISTENER)),
    ("grpc", Object(TLS_LISTENER)),
];

const AUTO_ENCRYPT: &[Field] = &[
    ("tls", Bool),
    ("allow_tls", Bool),
    ("dns_san", StrList),
    ("ip_san", StrList),
];

const UNIX_SOCKETS: &[Field] = &[("user", Str), ("group", Str), ("mode", Str)];

const CONFIG_ENTRIES: &[Field] = &[("bootstrap", RawList)];

/// Every top-level key of an agent config file.
pub(crate) const TOP_LEVEL: &[Field] = &[
    // identity and role
    ("node_name", Str),
    ("node_id", Str),
    ("node_meta", StrMap),
    ("datacenter", Str),
    ("primary_datacenter", Str),
    ("acl_datacenter", Str),
    ("server", Bool),
    ("bootstrap", Bool),
    ("bootstrap_expect", Int),
    ("data_dir", Str),
    ("pid_file", Str),
    ("disable_host_node_id", Bool),
    ("segment", Str),
    ("partition", Str),
    // networking
    ("bind_addr", Str),
    ("advertise_addr", Str),
    ("advertise_addr_ipv4", Str),
    ("advertise_addr_ipv6", Str),
    ("advertise_addr_wan", Str),
    ("advertise_addr_wan_ipv4", Str),
    ("advertise_addr_wan_ipv6", Str),
    ("serf_lan", Str),
    ("serf_wan", Str),
    ("client_addr", Str),
    ("addresses", Object(ADDRESSES)),
    ("ports", Object(PORTS)),
    ("translate_wan_addrs", Bool),
    ("tagged_addresses", StrMap),
    ("unix_sockets", Object(UNIX_SOCKETS)),
    ("serf_lan_allowed_cidrs", StrList),
    ("serf_wan_allowed_cidrs", StrList),
    // joining and gossip
    ("retry_join", StrList),
    ("retry_interval", Duration),
    ("retry_max", Int),
    ("retry_join_wan", StrList),
    ("retry_interval_wan", Duration),
    ("retry_max_wan", Int),
    ("start_join", StrList),
    ("start_join_wan", StrList),
    ("rejoin_after_leave", Bool),
    ("leave_on_terminate", Bool),
    ("skip_leave_on_interrupt", Bool),
    ("reconnect_timeout", Duration),
    ("reconnect_timeout_wan", Duration),
    ("advertise_reconnect_timeout", Duration),
    ("encrypt", Str),
    ("encrypt_verify_incoming", Bool),
    ("encrypt_verify_outgoing", Bool),
    ("disable_keyring_file", Bool),
    ("gossip_lan", Object(GOSSIP)),
    ("gossip_wan", Object(GOSSIP)),
    ("protocol", Int),
    ("primary_gateways", StrList),
    ("primary_gateways_interval", Duration),
    // HTTP API
    ("http_config", Object(HTTP_CONFIG)),
    ("default_query_time", Duration),
    ("max_query_time", Duration),
    ("discovery_max_stale", Duration),
    ("disable_http_unprintable_char_filter", Bool),
    ("disable_kv_key_validation", Bool),
    ("limits", Object(LIMITS)),
    // DNS
    ("domain", Str),
    ("alt_domain", Str),
    ("recursors", StrList),
    ("dns_config", Object(DNS_CONFIG)),
    // services, checks, watches
    ("service", RawList),
    ("services", RawList),
    ("check", RawList),
    ("checks", RawList),
    ("watches", RawList),
    ("enable_script_checks", Bool),
    ("enable_local_script_checks", Bool),
    ("check_output_max_size", Int),
    ("discard_check_output", Bool),
    ("check_update_interval", Duration),
    ("enable_agent_tls_for_checks", Bool),
    ("enable_central_service_config", Bool),
    ("disable_remote_exec", Bool),
    ("disable_coordinates", Bool),
    ("config_entries", Object(CONFIG_ENTRIES)),
    // UI
    ("ui_config", Object(UI_CONFIG)),
    ("ui", Bool),
    ("ui_dir", Str),
    ("ui_content_path", Str),
    // logging and telemetry
    ("log_level", Str),
    ("log_json", Bool),
    ("log_file", Str),
    ("log_rotate_bytes", Int),
    ("log_rotate_duration", Duration),
    ("log_rotate_max_files", Int),
    ("enable_syslog", Bool),
    ("syslog_facility", Str),
    ("enable_debug", Bool),
    ("telemetry", Object(TELEMETRY)),
    ("disable_update_check", Bool),
    ("disable_anonymous_signature", Bool),
    // ACL, with the legacy flat keys
    ("acl", Object(ACL)),
    ("acl_default_policy", Str),
    ("acl_down_policy", Str),
    ("acl_ttl", Duration),
    ("acl_token", Str),
    ("acl_agent_token", Str),
    ("acl_agent_master_token", Str),
    ("acl_master_token", Str),
    ("acl_replication_token", Str),
    ("acl_enforce_version_8", Bool),
    ("enable_acl_replication", Bool),
    // server and raft
    ("raft_protocol", Int),
    ("raft_snapshot_threshold", Int),
    ("raft_snapshot_interval", Duration),
    ("raft_trailing_logs", Int),
    ("raft_logstore", Object(RAFT_LOGSTORE)),
    ("performance", Object(PERFORMANCE)),
    ("autopilot", Object(AUTOPILOT)),
    ("read_index_follower_reads", Bool),
    ("session_ttl_min", Duration),
    ("non_voting_server", Bool),
    ("read_replica", Bool),
    ("server_name", Str),
    // TLS, with the legacy flat keys
    ("tls", Object(TLS)),
    ("auto_encrypt", Object(AUTO_ENCRYPT)),
    ("auto_config", Raw),
    ("ca_file", Str),
    ("ca_path", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("verify_incoming", Bool),
    ("verify_incoming_rpc", Bool),
    ("verify_incoming_https", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("tls_min_version", Str),
    ("tls_cipher_suites", Str),
    ("tls_prefer_server_cipher_suites", Bool),
    // mesh, cloud and the rest Praetor accepts but does not implement
    ("connect", Raw),
    ("peering", Raw),
    ("cloud", Raw),
    ("locality", Raw),
    ("experiments", StrList),
    ("auto_reload_config", Bool),
    ("use_streaming_backend", Bool),
    ("license_path", Str),
];

/// Checks one parsed source against the schema and returns its canonical form: an object
/// with lower-cased known keys, type-checked values, `service`/`check` folded into
/// `services`/`checks`, and legacy keys moved to their modern place.
pub(crate) fn normalize(origin: &str, value: Value, problems: &mut Vec<Problem>) -> Value {
    let mut checker = Checker { origin, problems };
    let Value::Object(map) = value else {
        checker.invalid("(top level)", "expected an object");
        return Value::Object(Map::new());
    };
    let mut top = checker.object(map, TOP_LEVEL, "");
    fold_singular(&mut top, "service", "services");
    fold_singular(&mut top, "check", "checks");
    rename_legacy(&mut top, "ui", &["ui_config", "enabled"]);
    rename_legacy(&mut top, "ui_dir", &["ui_config", "dir"]);
    rename_legacy(&mut top, "ui_content_path", &["ui_config", "content_path"]);
    rename_legacy(&mut top, "acl_datacenter", &["primary_datacenter"]);
    rename_legacy(&mut top, "acl_default_policy", &["acl", "default_policy"]);
    rename_legacy(&mut top, "acl_down_policy", &["acl", "down_policy"]);
    rename_legacy(&mut top, "acl_ttl", &["acl", "token_ttl"]);
    rename_legacy(&mut top, "acl_token", &["acl", "tokens", "default"]);
    rename_legacy(&mut top, "acl_agent_token", &["acl", "tokens", "agent"]);
    rename_legacy(
        &mut top,
        "acl_agent_master_token",
        &["acl", "tokens", "agent_recovery"],
    );
    rename_legacy(
        &mut top,
        "acl_master_token",
        &["acl", "tokens", "initial_management"],
    );
    rename_legacy(
        &mut top,
        "acl_replication_token",
        &["acl", "tokens", "replication"],
    );
    Value::Object(top)
}

/// Appends a singular key's elements after the plural list's, as Consul does for
/// `service`/`services` and `check`/`checks` within one source.
fn fold_singular(top: &mut Map<String, Value>, singular: &str, plural: &str) {
    let Some(Value::Array(single)) = top.remove(singular) else {
        return;
    };
    match top.get_mut(plural) {
        Some(Value::Array(list)) => list.extend(single),
        _ => {
            top.insert(plural.to_owned(), Value::Array(single));
        }
    }
}

/// Moves a legacy key to its modern path unless the modern key is also set (it wins).
fn rename_legacy(top: &mut Map<String, Value>, legacy: &str, path: &[&str]) {
    let Some(value) = top.remove(legacy) else {
        return;
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = &mut *top;
    for parent in parents {
        let slot = map
            .entry((*parent).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(inner) = slot else {
            // The modern key holds a non-object: it was already reported as invalid.
            return;
        };
        map = inner;
    }
    map.entry((*last).to_owned()).or_insert(value);
}

struct Checker<'a> {
    origin: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn invalid(&mut self, key: &str, message: &str) {
        self.problems.push(Problem::InvalidValue {
            origin: self.origin.to_owned(),
            key: key.to_owned(),
            message: message.to_owned(),
        });
    }

    fn object(
        &mut self,
        map: Map<String, Value>,
        fields: &[Field],
        prefix: &str,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            let path = if prefix.is_empty() {
                lower.clone()
            } else {
                format!("{prefix}.{lower}")
            };
            let Some((_, kind)) = fields.iter().find(|(name, _)| *name == lower) else {
                self.problems.push(Problem::UnknownKey {
                    origin: self.origin.to_owned(),
                    key: if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    },
                });
                continue;
            };
            if value.is_null() {
                continue;
            }
            if let Some(checked) = self.value(value, *kind, &path) {
                match out.get_mut(&lower) {
                    // The same key in two spellings (`Server` and `server`): merge them.
                    Some(existing) => super::merge::merge(existing, checked),
                    None => {
                        out.insert(lower, checked);
                    }
                }
            }
        }
        out
    }

    fn value(&mut self, value: Value, kind: Kind, path: &str) -> Option<Value> {
        match kind {
            Kind::Bool => match value {
                Value::Bool(_) => Some(value),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
                _ => self.fail(path, "expected a boolean", &value),
            },
            Kind::Int => {
                let parsed = match &value {
                    Value::Number(n) => n.as_i64().or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    }),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match parsed {
                    Some(i) => Some(Value::from(i)),
                    None => self.fail(path, "expected an integer", &value),
                }
            }
            Kind::Number => match &value {
                Value::Number(_) => Some(value),
                Value::String(s) => match s.trim().parse::<f64>() {
                    Ok(f) => Some(Value::from(f)),
                    Err(_) => self.fail(path, "expected a number", &value),
                },
                _ => self.fail(path, "expected a number", &value),
            },
            Kind::Str => self.string(value, path).map(Value::String),
            Kind::Duration => match value {
                Value::String(s) => match parse_go_duration(&s) {
                    Ok(_) => Some(Value::String(s)),
                    Err(message) => {
                        self.invalid(path, &message);
                        None
                    }
                },
                other => self.fail(path, "expected a duration string such as \"10s\"", &other),
            },
            Kind::StrList => match value {
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.into_iter().enumerate() {
                        if let Some(s) = self.string(item, &format!("{path}[{i}]")) {
                            out.push(Value::String(s));
                        }
                    }
                    Some(Value::Array(out))
                }
                Value::String(s) => Some(Value::Array(vec![Value::String(s)])),
                other => self.fail(path, "expected a list of strings", &other),
            },
            Kind::StrMap => {
                let map = self.object_or_blocks(value, path)?;
                let mut out = Map::new();
                for (key, item) in map {
                    if item.is_null() {
                        continue;
                    }
                    if let Some(s) = self.string(item, &format!("{path}.{key}")) {
                        out.insert(key, Value::String(s));
                    }
                }
                Some(Value::Object(out))
            }
            Kind::Object(fields) => {
                let map = self.object_or_blocks(value, path)?;
                Some(Value::Object(self.object(map, fields, path)))
            }
            Kind::Raw => Some(value),
            Kind::RawList => {
                let items = match value {
                    Value::Array(items) => items,
                    Value::Object(_) => vec![value],
                    other => {
                        return self.fail(path, "expected an object or a list of objects", &other);
                    }
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    if item.is_object() {
                        out.push(item);
                    } else {
                        self.fail::<()>(&format!("{path}[{i}]"), "expected an object", &item);
                    }
                }
                Some(Value::Array(out))
            }
        }
    }

    /// An object, or a list of objects (HCL repeats a block by making a list) merged in order.
    fn object_or_blocks(&mut self, value: Value, path: &str) -> Option<Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            Value::Array(items) if items.iter().all(Value::is_object) => {
                let mut merged = Value::Object(Map::new());
                for item in items {
                    super::merge::merge(&mut merged, item);
                }
                match merged {
                    Value::Object(map) => Some(map),
                    _ => None,
                }
            }
            other => self.fail(path, "expected an object", &other),
        }
    }

    fn string(&mut self, value: Value, path: &str) -> Option<String> {
        match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => self.fail(path, "expected a string", &other),
        }
    }

    fn fail<T>(&mut self, path: &str, expected: &str, got: &Value) -> Option<T> {
        self.invalid(path, &format!("{expected}, got {}", describe(got)));
        None
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
