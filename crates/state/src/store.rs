//! [`Store`]: the shared handle the Raft state machine writes through, and
//! [`StateView`]: an immutable snapshot readers query.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use std::collections::BTreeMap;

use praetor_types::{
    AutopilotConfig, CheckServiceNode, HealthCheck, HealthStatus, KvEntry, Node, NodeServices,
    ServiceNode, Session,
};

use crate::catalog::CatalogTable;
use crate::command::{ApplyError, Command, CommandResponse};
use crate::kv::KvTable;
use crate::session::SessionTable;
use crate::snapshot::{self, SnapshotError};
use crate::watch::{Table, Touch, Watch, WatchRegistry};

/// Every table, as of one applied Raft index. Cloning is O(1) (persistent maps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tables {
    /// Raft index of the last applied command.
    pub(crate) applied_index: u64,
    /// The KV table with its tombstones.
    pub(crate) kv: KvTable,
    /// The catalog: nodes, services, checks.
    pub(crate) catalog: CatalogTable,
    /// The sessions table and lock-delays.
    pub(crate) sessions: SessionTable,
    /// Autopilot's configuration, once written (Consul's `autopilot-config` table).
    pub(crate) autopilot: Option<AutopilotConfig>,
}

/// The state store: a cheap-to-clone shared handle (Send + Sync).
///
/// One writer (the Raft state machine) calls [`Store::apply`] and [`Store::restore`];
/// any number of readers take [`StateView`]s and [`Watch`]es. A write works on a copy
/// of the current tables and publishes it whole, so readers never see half a write and
/// only wait for a pointer swap.
#[derive(Debug, Clone, Default)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The published tables; held only long enough to clone or swap the `Arc`.
    root: Mutex<Arc<Tables>>,
    /// Serialises writers (apply, restore) so none loses another's update.
    writer: Mutex<()>,
    watches: Arc<WatchRegistry>,
}

/// Locks `m`, ignoring poisoning: a panicking writer never published a half-applied
/// state (it works on a private copy), so the data behind every lock stays consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// An empty store (applied index 0).
    pub fn new() -> Store {
        Store::default()
    }

    /// Applies `cmd`, committed at Raft `index`, and wakes the watches of what it changed.
    ///
    /// `index` must be above every index applied before (Raft guarantees it). Writes set
    /// `CreateIndex`/`ModifyIndex` to it; the applied index becomes `index` whatever the
    /// command answers. A command that answers `Err` changes no table.
    pub fn apply(&self, index: u64, cmd: &Command) -> Result<CommandResponse, ApplyError> {
        let _writer = lock(&self.inner.writer);
        let mut tables = Tables::clone(&self.current());
        let mut touches = Vec::new();
        let result = tables.apply_command(index, 0, cmd, &mut touches);
        tables.applied_index = index;
        self.publish(tables);
        self.inner.watches.wake(touches);
        result
    }

    /// An immutable snapshot of the current state, in O(1). Later writes do not change it.
    pub fn view(&self) -> StateView {
        StateView {
            tables: self.current(),
        }
    }

    /// A watch that fires after any write to exactly `key`.
    pub fn watch_key(&self, key: &str) -> Watch {
        self.inner.watches.watch_key(key)
    }

    /// A watch that fires after any write to a key starting with `prefix` (byte-wise;
    /// `""` watches the whole KV table).
    pub fn watch_prefix(&self, prefix: &str) -> Watch {
        self.inner.watches.watch_prefix(prefix)
    }

    /// A watch that fires after any change to `table` (catalog and health reads).
    pub fn watch_table(&self, table: Table) -> Watch {
        self.inner.watches.watch_table(table)
    }

    /// The whole state (entries, tombstones, indexes) as msgpack, for a Raft snapshot.
    /// Serialises a view, so writes can continue meanwhile.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        snapshot::encode(&self.current())
    }

    /// Replaces the whole state with a [`Store::snapshot`] and wakes every watch.
    /// On error the state is unchanged.
    pub fn restore(&self, bytes: &[u8]) -> Result<(), SnapshotError> {
        let tables = snapshot::decode(bytes)?;
        let _writer = lock(&self.inner.writer);
        self.publish(tables);
        self.inner.watches.wake(vec![Touch::All]);
        Ok(())
    }

    /// Live table watch slots, for leak tests.
    #[cfg(test)]
    pub(crate) fn table_slot_count(&self) -> usize {
        self.inner.watches.table_slot_count()
    }

    /// Live watch slots (exact keys, prefixes), for leak tests.
    #[cfg(test)]
    pub(crate) fn watch_slot_counts(&self) -> (usize, usize) {
        self.inner.watches.slot_counts()
    }

    fn current(&self) -> Arc<Tables> {
        Arc::clone(&lock(&self.inner.root))
    }

    fn publish(&self, tables: Tables) {
        let old = std::mem::replace(&mut *lock(&self.inner.root), Arc::new(tables));
        // Dropped outside the lock: freeing replaced nodes is the writer's cost.
        drop(old);
    }
}

/// A read result with the index a blocking query compares against: the Raft index of
/// the last change to the tables the read depends on (0 while they were never written;
/// the HTTP layer reports 1 then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed<T> {
    /// max(table index) over the tables the read depends on.
    pub index: u64,
    /// The result.
    pub value: T,
}

/// A consistent, immutable view of the state at one applied index.
#[derive(Debug, Clone)]
pub struct StateView {
    tables: Arc<Tables>,
}

impl StateView {
    /// Raft index of the last command applied when the view was taken.
    pub fn applied_index(&self) -> u64 {
        self.tables.applied_index
    }

    /// The entry stored at exactly `key`.
    pub fn kv_get(&self, key: &str) -> Option<&KvEntry> {
        self.tables.kv.entries.get(key).map(|e| &**e)
    }

    /// Every entry whose key starts with `prefix` (byte-wise; `""` is all), sorted by key.
    pub fn kv_list(&self, prefix: &str) -> Vec<KvEntry> {
        self.tables
            .kv
            .under(prefix)
            .map(|e| KvEntry::clone(e))
            .collect()
    }

    /// Key names under `prefix`, sorted; with a `separator`, each key is rolled up after
    /// the first separator following the prefix (`web/subdir/a` → `web/subdir/`).
    pub fn kv_keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        self.tables.kv.keys(prefix, separator)
    }

    /// The KV table index: the Raft index of the last write that changed the table,
    /// deletes included (0 for a table never written).
    pub fn kv_table_index(&self) -> u64 {
        self.tables.kv.index
    }

    /// max(`ModifyIndex` of entries under `prefix`, index of tombstones under `prefix`);
    /// 0 when nothing is under it (callers then use [`Self::kv_table_index`]).
    pub fn kv_prefix_index(&self, prefix: &str) -> u64 {
        self.tables.kv.prefix_index(prefix)
    }

    /// Every catalog node, sorted by name; indexed by the nodes table.
    pub fn nodes(&self) -> Indexed<Vec<Node>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.nodes_index,
            value: c.nodes(),
        }
    }

    /// The node named `name`; indexed by the nodes table.
    pub fn node(&self, name: &str) -> Indexed<Option<Node>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.nodes_index,
            value: c.nodes.get(name).map(|n| Node::clone(n)),
        }
    }

    /// Service names with the sorted union of their instances' tags
    /// (`/catalog/services`); indexed by the services table.
    pub fn services(&self) -> Indexed<BTreeMap<String, Vec<String>>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.services_index,
            value: c.services(),
        }
    }

    /// Catalog rows of service `name`, only instances tagged `tag` (case-insensitive)
    /// when given, ordered by node then service ID; `[]` for an unknown service.
    /// Indexed by the nodes and services tables (rows carry node fields).
    pub fn service_nodes(&self, name: &str, tag: Option<&str>) -> Indexed<Vec<ServiceNode>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.nodes_index.max(c.services_index),
            value: c.service_nodes(name, tag),
        }
    }

    /// The node `node` and its services by ID (`/catalog/node/<node>`), `None` when
    /// unknown; indexed by the nodes and services tables.
    pub fn node_services(&self, node: &str) -> Indexed<Option<NodeServices>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.nodes_index.max(c.services_index),
            value: c.node_services(node),
        }
    }

    /// Every check on `node`, node-level and service checks, by check ID
    /// (`/health/node/<node>`); indexed by the checks table.
    pub fn node_checks(&self, node: &str) -> Indexed<Vec<HealthCheck>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.checks_index,
            value: c.node_checks(node),
        }
    }

    /// The checks of every instance of service `name` (`/health/checks/<name>`);
    /// indexed by the checks table.
    pub fn service_checks(&self, name: &str) -> Indexed<Vec<HealthCheck>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.checks_index,
            value: c.service_checks(name),
        }
    }

    /// Checks whose status is `state`, or every check for `None` (`any`)
    /// (`/health/state/<state>`); indexed by the checks table.
    pub fn checks_in_state(&self, state: Option<HealthStatus>) -> Indexed<Vec<HealthCheck>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.checks_index,
            value: c.checks_in_state(state),
        }
    }

    /// Instances of `name` (tagged `tag` when given) with their node and checks (the
    /// node's own, then the instance's) (`/health/service/<name>`); with
    /// `passing_only`, only instances all of whose checks pass. Indexed by the nodes,
    /// services and checks tables.
    pub fn check_service_nodes(
        &self,
        name: &str,
        tag: Option<&str>,
        passing_only: bool,
    ) -> Indexed<Vec<CheckServiceNode>> {
        let c = &self.tables.catalog;
        Indexed {
            index: c.nodes_index.max(c.services_index).max(c.checks_index),
            value: c.check_service_nodes(name, tag, passing_only),
        }
    }

    /// The index of one catalog table: the Raft index of its last change, deletes
    /// included (0 for a table never written).
    pub fn table_index(&self, table: Table) -> u64 {
        let c = &self.tables.catalog;
        match table {
            Table::Nodes => c.nodes_index,
            Table::Services => c.services_index,
            Table::Checks => c.checks_index,
            Table::Sessions => self.tables.sessions.index,
        }
    }

    /// The tables behind this view, for comparing whole states in tests.
    /// Session `id`, if live.
    pub fn session(&self, id: &str) -> Indexed<Option<Session>> {
        let t = &self.tables.sessions;
        Indexed {
            index: t.index,
            value: t.sessions.get(id).map(|s| Session::clone(s)),
        }
    }

    /// Every live session, by ID.
    pub fn sessions(&self) -> Indexed<Vec<Session>> {
        let t = &self.tables.sessions;
        Indexed {
            index: t.index,
            value: t.sessions.values().map(|s| Session::clone(s)).collect(),
        }
    }

    /// The live sessions of `node`.
    pub fn node_sessions(&self, node: &str) -> Indexed<Vec<Session>> {
        let t = &self.tables.sessions;
        Indexed {
            index: t.index,
            value: t
                .sessions
                .values()
                .filter(|s| s.node == node)
                .map(|s| Session::clone(s))
                .collect(),
        }
    }

    /// Autopilot's configuration as last written through Raft (`None`: never written).
    pub fn autopilot_config(&self) -> Option<&AutopilotConfig> {
        self.tables.autopilot.as_ref()
    }

    /// Runs a read-only transaction against this view (nothing is written).
    pub fn txn_read(&self, ops: &[praetor_types::TxnOp]) -> praetor_types::TxnOutcome {
        self.tables.read_txn(ops)
    }

    #[cfg(test)]
    pub(crate) fn tables(&self) -> &Tables {
        &self.tables
    }
}

#[cfg(test)]
mod tests;
