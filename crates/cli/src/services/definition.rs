//! Service definitions from config files (`service`/`services` blocks, JSON or HCL) turned
//! into agent API registrations. Files are loaded by the agent's own config loader, as
//! Consul's `services register` does (dev defaults, so no `data_dir` is needed), so exactly
//! the definitions the agent accepts are accepted here.
//!
//! Keys match as Consul's config decoder matches them: case-insensitively and with or
//! without underscores (`enable_tag_override`, `EnableTagOverride`); `script_args` is
//! `args`, and an embedded check's `id` is its `CheckID`.

use praetor_agent::config::{self, AgentArgs};
use praetor_client::AgentServiceRegistration;
use serde_json::{Map, Value};

/// What goes into one key of the registration body.
#[derive(Clone, Copy)]
enum Slot {
    /// The API field of this name, value as is.
    Field(&'static str),
    /// An object field whose entries may arrive as repeated HCL blocks.
    Object(&'static str),
    /// `TaggedAddresses`: names to `{address, port}`.
    TaggedAddresses,
    /// `Weights`: `{passing, warning}`.
    Weights,
    /// Embedded checks (`check` or `checks`).
    Checks,
    /// Accepted and not sent (`token`, namespaces…).
    Ignored,
}

/// Service keys by their canonical spelling (lower case, no underscores).
fn service_slot(key: &str) -> Option<Slot> {
    Some(match key {
        "id" => Slot::Field("ID"),
        "name" => Slot::Field("Name"),
        "kind" => Slot::Field("Kind"),
        "tags" => Slot::Field("Tags"),
        "address" => Slot::Field("Address"),
        "port" => Slot::Field("Port"),
        "socketpath" => Slot::Field("SocketPath"),
        "enabletagoverride" => Slot::Field("EnableTagOverride"),
        "meta" => Slot::Object("Meta"),
        "taggedaddresses" => Slot::TaggedAddresses,
        "weights" => Slot::Weights,
        "check" | "checks" => Slot::Checks,
        "proxy" => Slot::Field("Proxy"),
        "connect" => Slot::Field("Connect"),
        "token" | "namespace" | "partition" | "locality" => Slot::Ignored,
        _ => return None,
    })
}

/// Embedded check keys by their canonical spelling.
fn check_field(key: &str) -> Option<Option<&'static str>> {
    Some(Some(match key {
        "id" | "checkid" => "CheckID",
        "name" => "Name",
        "notes" => "Notes",
        "status" => "Status",
        "args" | "scriptargs" => "Args",
        "script" => "Script",
        "dockercontainerid" => "DockerContainerID",
        "shell" => "Shell",
        "interval" => "Interval",
        "timeout" => "Timeout",
        "ttl" => "TTL",
        "http" => "HTTP",
        "header" => "Header",
        "method" => "Method",
        "body" => "Body",
        "disableredirects" => "DisableRedirects",
        "tcp" => "TCP",
        "tcpusetls" => "TCPUseTLS",
        "udp" => "UDP",
        "grpc" => "GRPC",
        "grpcusetls" => "GRPCUseTLS",
        "h2ping" => "H2PING",
        "h2pingusetls" => "H2PingUseTLS",
        "osservice" => "OSService",
        "aliasnode" => "AliasNode",
        "aliasservice" => "AliasService",
        "tlsservername" => "TLSServerName",
        "tlsskipverify" => "TLSSkipVerify",
        "deregistercriticalserviceafter" => "DeregisterCriticalServiceAfter",
        "successbeforepassing" => "SuccessBeforePassing",
        "failuresbeforewarning" => "FailuresBeforeWarning",
        "failuresbeforecritical" => "FailuresBeforeCritical",
        "outputmaxsize" => "OutputMaxSize",
        // The service is implied; tokens and namespaces are not sent.
        "serviceid" | "token" | "namespace" | "partition" => return Some(None),
        _ => return None,
    }))
}

/// Loads `files` with the agent's config loader and returns their service definitions as
/// registrations, in load order, plus the loader's warnings.
pub(super) fn from_files(
    files: &[String],
) -> Result<(Vec<AgentServiceRegistration>, Vec<String>), String> {
    let args = AgentArgs {
        dev: true,
        config_file: files.to_vec(),
        ..AgentArgs::default()
    };
    let runtime = config::load(&args).map_err(|e| e.to_string())?;
    let services = runtime
        .services
        .iter()
        .map(registration)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((services, runtime.warnings().to_vec()))
}

/// One config-file service definition as an agent API registration.
pub(super) fn registration(definition: &Value) -> Result<AgentServiceRegistration, String> {
    let Value::Object(fields) = definition else {
        return Err("service definition must be an object".to_owned());
    };
    let mut body = Map::new();
    let mut checks = Vec::new();
    for (key, value) in fields {
        let canonical = canonical(key);
        let Some(slot) = service_slot(&canonical) else {
            return Err(format!("invalid config key service.{key}"));
        };
        match slot {
            Slot::Field(name) => {
                body.insert(name.to_owned(), value.clone());
            }
            Slot::Object(name) => {
                body.insert(name.to_owned(), Value::Object(merged_blocks(value)));
            }
            Slot::TaggedAddresses => {
                let addresses = merged_blocks(value)
                    .into_iter()
                    .map(|(name, address)| (name, Value::Object(renamed(&address, address_field))))
                    .collect();
                body.insert("TaggedAddresses".to_owned(), Value::Object(addresses));
            }
            Slot::Weights => {
                // A missing weight is 1, as in Consul's config.
                let mut weights = renamed(value, weight_field);
                for name in ["Passing", "Warning"] {
                    weights.entry(name).or_insert(Value::from(1));
                }
                body.insert("Weights".to_owned(), Value::Object(weights));
            }
            Slot::Checks => {
                for check in blocks(value) {
                    checks.push(check_body(check)?);
                }
            }
            Slot::Ignored => {}
        }
    }
    match checks.len() {
        0 => {}
        1 => {
            body.insert("Check".to_owned(), checks.remove(0));
        }
        _ => {
            body.insert("Checks".to_owned(), Value::Array(checks));
        }
    }
    let name = body
        .get("Name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    serde_json::from_value(Value::Object(body))
        .map_err(|e| format!("invalid service definition {name:?}: {e}"))
}

fn check_body(check: &Value) -> Result<Value, String> {
    let Value::Object(fields) = check else {
        return Err("check definition must be an object".to_owned());
    };
    let mut body = Map::new();
    for (key, value) in fields {
        match check_field(&canonical(key)) {
            Some(Some("Header")) => {
                body.insert("Header".to_owned(), header(value));
            }
            Some(Some(name)) => {
                body.insert(name.to_owned(), value.clone());
            }
            Some(None) => {}
            None => return Err(format!("invalid config key service.check.{key}")),
        }
    }
    Ok(Value::Object(body))
}

/// `header` values are lists of strings; a single string is a one-element list.
fn header(value: &Value) -> Value {
    let headers = merged_blocks(value)
        .into_iter()
        .map(|(name, values)| {
            let values = match values {
                Value::Array(_) => values,
                other => Value::Array(vec![other]),
            };
            (name, values)
        })
        .collect();
    Value::Object(headers)
}

fn address_field(key: &str) -> Option<&'static str> {
    match key {
        "address" => Some("Address"),
        "port" => Some("Port"),
        _ => None,
    }
}

fn weight_field(key: &str) -> Option<&'static str> {
    match key {
        "passing" => Some("Passing"),
        "warning" => Some("Warning"),
        _ => None,
    }
}

/// An object with its keys renamed by `field` (unknown keys are kept, so serde reports them
/// as missing fields rather than silently dropping them).
fn renamed(value: &Value, field: fn(&str) -> Option<&'static str>) -> Map<String, Value> {
    merged_blocks(value)
        .into_iter()
        .map(|(key, v)| {
            let name = field(&canonical(&key)).map_or(key, str::to_owned);
            (name, v)
        })
        .collect()
}

/// A key as Consul's decoder compares it: lower case, underscores removed.
fn canonical(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An object, or the objects of a list (HCL repeats blocks as a list), as a list.
fn blocks(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// An object, or a list of objects (repeated HCL blocks) merged key by key in order.
fn merged_blocks(value: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for block in blocks(value) {
        if let Value::Object(map) = block {
            out.extend(map.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests;
