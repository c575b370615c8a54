//! The state store: Praetor's in-memory replicated state (Consul's `agent/consul/state`
//! over go-memdb).
//!
//! Owns the tables (KV with tombstones today; catalog, sessions … later), the per-table
//! and per-key indexes that blocking queries compare against, the fine-grained watches
//! that wake them, deterministic [`Command`] application, and snapshot/restore.
//! Must not do I/O or read clocks: time, when needed, is an argument.
//!
//! Entry types: [`Store`] (the single writer applies commands, any number of readers
//! take [`StateView`]s), [`Command`], [`Watch`].
#![warn(missing_docs)]

// API CONTRACT (implemented in the modules below; signatures are fixed, other crates
// code against them):
//
// impl Store {
//     pub fn new() -> Store;                                   // Store: Clone (shared handle)
//     pub fn apply(&self, index: u64, cmd: &Command) -> Result<CommandResponse, ApplyError>;
//     pub fn view(&self) -> StateView;                          // O(1) immutable snapshot
//     pub fn watch_key(&self, key: &str) -> Watch;              // exact key
//     pub fn watch_prefix(&self, prefix: &str) -> Watch;        // key and prefix watches
//     pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError>; // whole state, msgpack
//     pub fn restore(&self, bytes: &[u8]) -> Result<(), SnapshotError>; // wakes all watches
// }
// impl StateView {
//     pub fn applied_index(&self) -> u64;
//     pub fn kv_get(&self, key: &str) -> Option<&KvEntry>;
//     pub fn kv_list(&self, prefix: &str) -> Vec<KvEntry>;           // sorted by key
//     pub fn kv_keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String>;
//     pub fn kv_table_index(&self) -> u64;                           // max of entries and tombstones
//     pub fn kv_prefix_index(&self, prefix: &str) -> u64;            // 0 when nothing under prefix
// }
// impl Watch { pub async fn changed(&mut self); }                   // cancel-safe
