//! Snapshot and restore: the whole state as one msgpack document (Consul's FSM
//! snapshot), written with named fields so later versions can add fields.

use std::sync::Arc;

use imbl::OrdMap;
use praetor_types::{AutopilotConfig, HealthCheck, KvEntry, Node, NodeService, Session};
use serde::{Deserialize, Serialize};

use crate::catalog::CatalogTable;
use crate::kv::{Key, KvTable};
use crate::session::SessionTable;
use crate::store::Tables;

/// The snapshot format version this build writes: 2 added the catalog, 3 the sessions.
const FORMAT_VERSION: u32 = 3;
/// The format with the catalog but no sessions; still read (as no sessions).
const FORMAT_VERSION_CATALOG: u32 = 2;
/// The first format, KV only; still read (as an empty catalog).
const FORMAT_VERSION_KV_ONLY: u32 = 1;

/// Why a snapshot could not be written or restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Encoding the state failed.
    #[error("encoding state snapshot")]
    Encode(#[source] rmp_serde::encode::Error),
    /// The bytes are not a state snapshot.
    #[error("decoding state snapshot")]
    Decode(#[source] rmp_serde::decode::Error),
    /// The snapshot was written in a format this build does not know.
    #[error("unsupported state snapshot version {0}")]
    UnsupportedVersion(u32),
    /// The snapshot holds a key twice (as two entries, or as an entry and a tombstone).
    #[error("state snapshot holds key {0:?} twice")]
    DuplicateKey(String),
    /// The snapshot's catalog breaks an invariant (a row twice, or a service or check
    /// of a missing node or service).
    #[error("state snapshot catalog is inconsistent: {0}")]
    InconsistentCatalog(String),
}

/// The document written: borrowed from the tables, so encoding copies nothing first.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    version: u32,
    applied_index: u64,
    kv_index: u64,
    kvs: Vec<EntryOut<'a>>,
    tombstones: Vec<TombstoneOut<'a>>,
    catalog: CatalogOut<'a>,
    sessions_index: u64,
    sessions: Vec<&'a Session>,
    autopilot: Option<&'a AutopilotConfig>,
}

/// The catalog tables: rows in the types' own (named-field) encoding.
#[derive(Serialize)]
struct CatalogOut<'a> {
    nodes_index: u64,
    services_index: u64,
    checks_index: u64,
    nodes: Vec<&'a Node>,
    services: Vec<ServiceOut<'a>>,
    checks: Vec<&'a HealthCheck>,
}

/// A service instance and the node it runs on (which `NodeService` does not carry).
#[derive(Serialize)]
struct ServiceOut<'a> {
    node: &'a str,
    service: &'a NodeService,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    key: &'a str,
    #[serde(serialize_with = "praetor_types::kv::raw_bytes::serialize")]
    value: &'a [u8],
    flags: u64,
    session: Option<&'a str>,
    lock_index: u64,
    create_index: u64,
    modify_index: u64,
}

#[derive(Serialize)]
struct TombstoneOut<'a> {
    key: &'a str,
    index: u64,
}

/// The document read back.
#[derive(Deserialize)]
struct SnapshotIn {
    version: u32,
    applied_index: u64,
    kv_index: u64,
    kvs: Vec<EntryIn>,
    tombstones: Vec<TombstoneIn>,
    /// Absent from version 1 snapshots.
    #[serde(default)]
    catalog: CatalogIn,
    /// Absent before version 3.
    #[serde(default)]
    sessions_index: u64,
    /// Absent before version 3.
    #[serde(default)]
    sessions: Vec<Session>,
    /// Absent until an autopilot configuration was first written.
    #[serde(default)]
    autopilot: Option<AutopilotConfig>,
}

#[derive(Deserialize, Default)]
struct CatalogIn {
    nodes_index: u64,
    services_index: u64,
    checks_index: u64,
    nodes: Vec<Node>,
    services: Vec<ServiceIn>,
    checks: Vec<HealthCheck>,
}

#[derive(Deserialize)]
struct ServiceIn {
    node: String,
    service: NodeService,
}

#[derive(Deserialize)]
struct EntryIn {
    key: String,
    #[serde(deserialize_with = "praetor_types::kv::raw_bytes::deserialize")]
    value: Vec<u8>,
    flags: u64,
    session: Option<String>,
    lock_index: u64,
    create_index: u64,
    modify_index: u64,
}

#[derive(Deserialize)]
struct TombstoneIn {
    key: String,
    index: u64,
}

/// Encodes every table of `tables`.
pub(crate) fn encode(tables: &Tables) -> Result<Vec<u8>, SnapshotError> {
    let kv = &tables.kv;
    let doc = SnapshotOut {
        version: FORMAT_VERSION,
        applied_index: tables.applied_index,
        kv_index: kv.index,
        kvs: kv
            .entries
            .values()
            .map(|e| EntryOut {
                key: &e.key,
                value: &e.value,
                flags: e.flags,
                session: e.session.as_deref(),
                lock_index: e.lock_index,
                create_index: e.create_index,
                modify_index: e.modify_index,
            })
            .collect(),
        tombstones: kv
            .tombstones
            .iter()
            .map(|(key, index)| TombstoneOut { key, index: *index })
            .collect(),
        catalog: encode_catalog(&tables.catalog),
        sessions_index: tables.sessions.index,
        sessions: tables.sessions.sessions.values().map(|s| &**s).collect(),
        autopilot: tables.autopilot.as_ref(),
    };
    rmp_serde::to_vec_named(&doc).map_err(SnapshotError::Encode)
}

/// Decodes and checks a snapshot written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<Tables, SnapshotError> {
    let doc: SnapshotIn = rmp_serde::from_slice(bytes).map_err(SnapshotError::Decode)?;
    if ![
        FORMAT_VERSION,
        FORMAT_VERSION_CATALOG,
        FORMAT_VERSION_KV_ONLY,
    ]
    .contains(&doc.version)
    {
        return Err(SnapshotError::UnsupportedVersion(doc.version));
    }
    let mut entries: OrdMap<Key, Arc<KvEntry>> = OrdMap::new();
    for e in doc.kvs {
        if entries.contains_key(e.key.as_str()) {
            return Err(SnapshotError::DuplicateKey(e.key));
        }
        let key: Key = Arc::from(e.key.as_str());
        let entry = KvEntry {
            lock_index: e.lock_index,
            key: e.key,
            flags: e.flags,
            value: e.value,
            session: e.session,
            create_index: e.create_index,
            modify_index: e.modify_index,
        };
        entries.insert(key, Arc::new(entry));
    }
    let mut tombstones: OrdMap<Key, u64> = OrdMap::new();
    for t in doc.tombstones {
        if entries.contains_key(t.key.as_str()) || tombstones.contains_key(t.key.as_str()) {
            return Err(SnapshotError::DuplicateKey(t.key));
        }
        tombstones.insert(Arc::from(t.key.as_str()), t.index);
    }
    Ok(Tables {
        applied_index: doc.applied_index,
        kv: KvTable {
            entries,
            tombstones,
            index: doc.kv_index,
        },
        catalog: decode_catalog(doc.catalog)?,
        sessions: SessionTable {
            index: doc.sessions_index,
            sessions: doc
                .sessions
                .into_iter()
                .map(|s| (s.id.clone(), Arc::new(s)))
                .collect(),
            lock_delays: OrdMap::new(),
        },
        autopilot: doc.autopilot,
    })
}

fn encode_catalog(c: &CatalogTable) -> CatalogOut<'_> {
    CatalogOut {
        nodes_index: c.nodes_index,
        services_index: c.services_index,
        checks_index: c.checks_index,
        nodes: c.nodes.values().map(|n| &**n).collect(),
        services: c
            .services
            .iter()
            .map(|((node, _), service)| ServiceOut { node, service })
            .collect(),
        checks: c.checks.values().map(|c| &**c).collect(),
    }
}

/// Rebuilds the catalog tables, checking the invariants apply keeps.
fn decode_catalog(doc: CatalogIn) -> Result<CatalogTable, SnapshotError> {
    let bad = |what: String| Err(SnapshotError::InconsistentCatalog(what));
    let mut c = CatalogTable {
        nodes_index: doc.nodes_index,
        services_index: doc.services_index,
        checks_index: doc.checks_index,
        ..CatalogTable::default()
    };
    for node in doc.nodes {
        if c.nodes.contains_key(&node.node) {
            return bad(format!("node {:?} twice", node.node));
        }
        c.nodes.insert(node.node.clone(), Arc::new(node));
    }
    for ServiceIn { node, service } in doc.services {
        if !c.nodes.contains_key(&node) {
            return bad(format!("service {:?} on missing node {node:?}", service.id));
        }
        let key = (node, service.id.clone());
        if c.services.contains_key(&key) {
            return bad(format!("service {:?} twice on node {:?}", key.1, key.0));
        }
        c.services.insert(key, Arc::new(service));
    }
    for check in doc.checks {
        if !c.nodes.contains_key(&check.node) {
            return bad(format!(
                "check {:?} on missing node {:?}",
                check.check_id, check.node
            ));
        }
        if !check.service_id.is_empty()
            && !c
                .services
                .contains_key(&(check.node.clone(), check.service_id.clone()))
        {
            return bad(format!(
                "check {:?} of missing service {:?}",
                check.check_id, check.service_id
            ));
        }
        let key = (check.node.clone(), check.check_id.clone());
        if c.checks.contains_key(&key) {
            return bad(format!("check {:?} twice on node {:?}", key.1, key.0));
        }
        c.checks.insert(key, Arc::new(check));
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
