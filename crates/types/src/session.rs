//! Sessions (Consul's `structs.Session`) and the requests that change them.

use serde::{Deserialize, Serialize};

/// What happens to the keys a session holds when it is invalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SessionBehavior {
    /// The locks are released: `Session` is cleared, the keys stay.
    #[default]
    #[serde(rename = "release")]
    Release,
    /// The keys are deleted.
    #[serde(rename = "delete")]
    Delete,
}

/// A service check a session is bound to (`ServiceChecks` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceCheckRef {
    /// The check ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Enterprise namespace; always empty here.
    #[serde(default)]
    pub namespace: String,
}

/// A session, as `/v1/session/info/<id>` shows it.
///
/// JSON: `{"ID","Name","Node","LockDelay"(ns),"Behavior","TTL","NodeChecks","ServiceChecks",
/// "CreateIndex","ModifyIndex"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    /// The session's UUID.
    #[serde(rename = "ID")]
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// The node the session belongs to.
    pub node: String,
    /// Lock-delay in nanoseconds.
    pub lock_delay: u64,
    /// What invalidation does to held keys.
    pub behavior: SessionBehavior,
    /// The TTL as given (`""` for none).
    #[serde(rename = "TTL")]
    pub ttl: String,
    /// Node check IDs the session is bound to.
    pub node_checks: Option<Vec<String>>,
    /// Service checks the session is bound to.
    pub service_checks: Option<Vec<ServiceCheckRef>>,
    /// Raft index of creation.
    pub create_index: u64,
    /// Raft index of the last change.
    pub modify_index: u64,
}

impl Session {
    /// The TTL as a duration; `None` when the session has none.
    pub fn ttl_duration(&self) -> Option<std::time::Duration> {
        if self.ttl.is_empty() {
            return None;
        }
        crate::duration::parse_go_duration(&self.ttl)
            .ok()
            .filter(|d| !d.is_zero())
    }

    /// Every check ID the session is bound to, node checks then service checks.
    pub fn bound_checks(&self) -> impl Iterator<Item = &str> {
        self.node_checks
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(self.service_checks.iter().flatten().map(|c| c.id.as_str()))
    }
}
