//! The state store: Praetor's in-memory replicated state (Consul's `agent/consul/state`
//! over go-memdb).
//!
//! Owns the tables (KV with tombstones; the catalog's nodes, services and checks;
//! sessions with lock-delays), the per-table
//! and per-key indexes that blocking queries compare against, the fine-grained watches
//! that wake them, deterministic [`Command`] application, and snapshot/restore.
//! Must not do I/O or read clocks: time, when needed, is an argument.
//!
//! Entry types: [`Store`] (the single writer applies commands, any number of readers
//! take [`StateView`]s), [`Command`], [`Watch`].
//!
//! A blocking read follows one pattern, which is race-free:
//! 1. take a [`Watch`] on the data it depends on ([`Store::watch_key`],
//!    [`Store::watch_prefix`], [`Store::watch_table`]);
//! 2. take a [`StateView`] ([`Store::view`]) and run the query;
//! 3. if the result is not newer than the client's index, await [`Watch::changed`] and
//!    start again. Any write applied after step 1 wakes step 3.
#![warn(missing_docs)]

mod catalog;
mod command;
mod kv;
mod session;
mod snapshot;
mod store;
mod txn;
mod watch;

pub use command::{ApplyError, Command, CommandResponse};
pub use snapshot::SnapshotError;
pub use store::{Indexed, StateView, Store};
pub use watch::{Table, Watch};
