//! Service and check definitions as the agent API and config files write them
//! (spec/http-api.md §7.4, §7.5; spec/agent-config.md §7), decoded case-insensitively
//! with unknown fields ignored, validated with Consul's texts, and turned into what the
//! agent registers and runs. Mirrors Consul's `structs.ServiceDefinition`,
//! `structs.CheckDefinition` and `structs.CheckType`.

mod check;
mod decode;
mod meta;

use std::collections::BTreeMap;

use praetor_types::{NodeService, ServiceAddress, Weights};
use serde::Deserialize;
use serde_json::Value;

pub use check::{CheckDefinition, CheckRegistration, CheckRun};

use crate::BackendError;

/// Where a registration comes from: script checks are allowed by different flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    /// A config file (`enable_local_script_checks` or `enable_script_checks`).
    Local,
    /// The agent HTTP API (`enable_script_checks` only).
    Remote,
}

/// Which script checks the agent allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptPolicy {
    /// `enable_script_checks`: from any source.
    pub enable_script_checks: bool,
    /// `enable_local_script_checks`: from config files.
    pub enable_local_script_checks: bool,
}

impl ScriptPolicy {
    /// `Err` with Consul's text when a script check from `source` is not allowed.
    pub fn allow(self, source: Source) -> Result<(), BackendError> {
        match source {
            Source::Local if !(self.enable_script_checks || self.enable_local_script_checks) => {
                Err(BackendError::Internal(
                    "Scripts are disabled on this agent; to enable, configure \
                     'enable_script_checks' or 'enable_local_script_checks' to true"
                        .to_owned(),
                ))
            }
            Source::Remote if !self.enable_script_checks => Err(BackendError::Internal(
                "Scripts are disabled on this agent from remote calls; to enable, configure \
                 'enable_script_checks' to true"
                    .to_owned(),
            )),
            _ => Ok(()),
        }
    }
}

/// `Weights` as written: both fields optional so a missing `Warning` can default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WeightsDefinition {
    passing: Option<i32>,
    warning: Option<i32>,
}

/// A service definition (`PUT /v1/agent/service/register` body, `service {}` block).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceDefinition {
    /// `""` for a typical service.
    pub kind: String,
    /// The instance ID; defaults to `Name`.
    #[serde(rename = "ID")]
    pub id: String,
    /// The service name (required).
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Address; empty means the node's.
    pub address: String,
    /// Addresses by role.
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// Service metadata.
    pub meta: BTreeMap<String, String>,
    /// Port.
    pub port: u16,
    /// A Unix socket path.
    pub socket_path: String,
    /// Whether anti-entropy leaves catalog tag changes alone.
    pub enable_tag_override: bool,
    weights: Option<WeightsDefinition>,
    /// One embedded check.
    pub check: Option<CheckDefinition>,
    /// More embedded checks.
    pub checks: Vec<CheckDefinition>,
    /// ACL token (kept, not enforced).
    pub token: String,
}

/// A validated service registration: the instance and its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRegistration {
    /// The instance as the agent and the catalog show it.
    pub service: NodeService,
    /// Its checks, IDs and names filled in.
    pub checks: Vec<CheckRegistration>,
}

impl ServiceDefinition {
    /// Decodes a definition from JSON (any key case, unknown keys ignored, `null` as
    /// absent); errors are `Request decode failed: …`.
    pub fn decode(value: &Value) -> Result<Self, BackendError> {
        // One HCL `checks {}` block parses as an object, not a list of one.
        if let Value::Object(map) = value
            && map
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("checks") && v.is_object())
        {
            let mut map = map.clone();
            for (k, v) in &mut map {
                if k.eq_ignore_ascii_case("checks") && v.is_object() {
                    *v = Value::Array(vec![v.take()]);
                }
            }
            return decode::decode(&Value::Object(map));
        }
        decode::decode(value)
    }

    /// Validates the definition and fills in defaults, in the order Consul's
    /// `AgentRegisterService` checks (every error a 400 but script refusals, a 500).
    pub fn validate(
        self,
        source: Source,
        scripts: ScriptPolicy,
    ) -> Result<ServiceRegistration, BackendError> {
        let bad = BackendError::BadRequest;
        if self.name.is_empty() {
            return Err(bad("Missing service name".to_owned()));
        }
        meta::validate(&self.meta).map_err(|e| bad(format!("Invalid Service Meta: {e}")))?;
        let weights = match self.weights {
            None => Weights::default(),
            Some(w) => {
                let weights = Weights {
                    passing: w.passing.unwrap_or(0),
                    warning: w.warning.unwrap_or(1),
                };
                if weights.passing < 1 {
                    return Err(bad(
                        "Invalid Weights: Passing must be greater than 0".to_owned()
                    ));
                }
                if weights.warning < 0 {
                    return Err(bad(
                        "Invalid Weights: Warning must be greater or equal than 0".to_owned(),
                    ));
                }
                weights
            }
        };
        if matches!(self.address.as_str(), "0.0.0.0" | "::" | "[::]") {
            return Err(bad("Invalid service address".to_owned()));
        }
        let id = if self.id.is_empty() {
            self.name.clone()
        } else {
            self.id.clone()
        };
        let service = NodeService {
            kind: self.kind,
            id,
            service: self.name,
            tags: self.tags,
            address: self.address,
            tagged_addresses: self.tagged_addresses,
            meta: self.meta,
            port: self.port,
            socket_path: self.socket_path,
            weights,
            enable_tag_override: self.enable_tag_override,
            ..NodeService::default()
        };
        let embedded: Vec<CheckDefinition> = self
            .check
            .filter(|c| !c.is_empty())
            .into_iter()
            .chain(self.checks)
            .collect();
        let total = embedded.len();
        let mut checks = Vec::with_capacity(total);
        for (i, def) in embedded.into_iter().enumerate() {
            let mut reg = def.into_registration(Some(&service), source, scripts)?;
            if reg.check.check_id.is_empty() {
                reg.check.check_id = if total > 1 {
                    format!("service:{}:{}", service.id, i + 1)
                } else {
                    format!("service:{}", service.id)
                };
            }
            if let CheckRun::Spec(spec) = &mut reg.run {
                spec.id.clone_from(&reg.check.check_id);
            }
            checks.push(reg);
        }
        Ok(ServiceRegistration { service, checks })
    }
}

#[cfg(test)]
mod tests;
