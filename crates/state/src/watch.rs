//! Change notification for blocking queries (Consul's memdb watch sets): fine-grained
//! watches on one key or on a key prefix.
//!
//! Each watched key or prefix is a slot holding a version counter in a
//! `tokio::sync::watch` channel; every [`Watch`] on it is a receiver. A write bumps the
//! version of every slot it touches after the new state is published, so a watch taken
//! before a view always sees writes the view missed. Slots exist only while a `Watch`
//! uses them.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::kv::Key;

/// What a write changed, for waking watches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Touch {
    /// One key: wakes its exact watchers and every prefix watch the key starts with.
    Key(Key),
    /// Everything under a prefix: wakes key and prefix watches at or under it, and every
    /// prefix watch the prefix itself starts with.
    Tree(Key),
    /// Any change to one catalog table: wakes that table's watches.
    Table(Table),
    /// Everything (restore).
    All,
}

/// A table whose watches wake on any change to it (a coarse, per-table index, as
/// §1.5 of the HTTP spec allows for catalog and health reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Table {
    /// The catalog's nodes.
    Nodes,
    /// The catalog's service instances.
    Services,
    /// The health checks.
    Checks,
    /// The sessions table.
    Sessions,
}

impl Table {
    /// The table's name, naming its watch slot.
    fn name(self) -> &'static str {
        match self {
            Table::Nodes => "nodes",
            Table::Services => "services",
            Table::Checks => "checks",
            Table::Sessions => "sessions",
        }
    }
}

/// Whether a slot watches one exact key or everything under a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotKind {
    Key,
    Prefix,
    Table,
}

/// Watch slots by key and by prefix; each sender's value is a change counter.
#[derive(Debug, Default)]
struct Slots {
    keys: BTreeMap<Box<str>, watch::Sender<u64>>,
    prefixes: BTreeMap<Box<str>, watch::Sender<u64>>,
    tables: BTreeMap<Box<str>, watch::Sender<u64>>,
}

impl Slots {
    fn of(&mut self, kind: SlotKind) -> &mut BTreeMap<Box<str>, watch::Sender<u64>> {
        match kind {
            SlotKind::Key => &mut self.keys,
            SlotKind::Prefix => &mut self.prefixes,
            SlotKind::Table => &mut self.tables,
        }
    }
}

/// All live watch slots of a store.
#[derive(Debug, Default)]
pub(crate) struct WatchRegistry {
    slots: Mutex<Slots>,
}

/// A subscription to changes of one key, one key prefix or one table, from
/// [`Store::watch_key`](crate::Store::watch_key),
/// [`Store::watch_prefix`](crate::Store::watch_prefix) or
/// [`Store::watch_table`](crate::Store::watch_table).
///
/// Cheap while idle (a channel receiver and the slot's name); dropping it at any time is
/// fine, and the last `Watch` of a slot removes the slot.
#[derive(Debug)]
pub struct Watch {
    rx: watch::Receiver<u64>,
    registry: Arc<WatchRegistry>,
    kind: SlotKind,
    name: Box<str>,
}

impl Watch {
    /// Completes once a write that touched the watched key or prefix has been applied
    /// since the watch was created or since the previous `changed` completed.
    ///
    /// Cancel-safe: dropping the future loses nothing; a later call still sees the
    /// change. Spurious wake-ups are possible (e.g. a restore), never missed ones.
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            // Unreachable in practice: this watch keeps the registry, and with it the
            // sender, alive. If it ever happens, nothing can change any more.
            std::future::pending::<()>().await;
        }
    }
}

impl Watch {
    /// Whether a change is pending (would make [`Watch::changed`] complete at once).
    #[cfg(test)]
    pub(crate) fn has_changed(&self) -> bool {
        self.rx.has_changed().unwrap_or(false)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut slots = self.registry.lock();
        let map = slots.of(self.kind);
        // Under the lock no watch can subscribe concurrently; our own receiver is still
        // counted, so 1 means this is the slot's last watch.
        if map
            .get(&*self.name)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            map.remove(&*self.name);
        }
    }
}

/// Marks a slot changed, waking every task waiting on it.
fn bump(tx: &watch::Sender<u64>) {
    tx.send_modify(|version| *version = version.wrapping_add(1));
}

/// `(prefix..)` over `str`-borrowing keys.
fn from_prefix(prefix: &str) -> (Bound<&str>, Bound<&str>) {
    (Bound::Included(prefix), Bound::Unbounded)
}

/// Wakes the prefix slots that `key` starts with (including `""` and `key` itself).
fn wake_prefixes_of(prefixes: &BTreeMap<Box<str>, watch::Sender<u64>>, key: &str) {
    // Probe each prefix of the key, or scan the (sorted, all <= key) candidate slots,
    // whichever is fewer lookups.
    if prefixes.len() <= key.len() {
        let candidates = prefixes.range::<str, _>((Bound::Unbounded, Bound::Included(key)));
        for (prefix, tx) in candidates {
            if key.starts_with(&**prefix) {
                bump(tx);
            }
        }
    } else {
        for end in (0..=key.len()).filter(|&end| key.is_char_boundary(end)) {
            if let Some(tx) = prefixes.get(&key[..end]) {
                bump(tx);
            }
        }
    }
}

/// Wakes every slot whose name starts with `prefix`.
fn wake_under(map: &BTreeMap<Box<str>, watch::Sender<u64>>, prefix: &str) {
    map.range::<str, _>(from_prefix(prefix))
        .take_while(|(name, _)| name.starts_with(prefix))
        .for_each(|(_, tx)| bump(tx));
}

impl WatchRegistry {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        // Slots stay consistent even if a holder panicked: every section is one map op.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new watch on `name` of the given kind, creating its slot if needed.
    fn watch(self: &Arc<Self>, kind: SlotKind, name: &str) -> Watch {
        let mut slots = self.lock();
        let map = slots.of(kind);
        let rx = match map.get(name) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = watch::channel(0);
                map.insert(name.into(), tx);
                rx
            }
        };
        drop(slots);
        Watch {
            rx,
            registry: Arc::clone(self),
            kind,
            name: name.into(),
        }
    }

    /// A watch on exactly `key`.
    pub(crate) fn watch_key(self: &Arc<Self>, key: &str) -> Watch {
        self.watch(SlotKind::Key, key)
    }

    /// A watch on everything under `prefix` (byte-wise; `""` is the whole table).
    pub(crate) fn watch_prefix(self: &Arc<Self>, prefix: &str) -> Watch {
        self.watch(SlotKind::Prefix, prefix)
    }

    /// A watch on any change to `table`.
    pub(crate) fn watch_table(self: &Arc<Self>, table: Table) -> Watch {
        self.watch(SlotKind::Table, table.name())
    }

    /// Wakes the watches of everything in `touches`. Call after publishing the state
    /// the touches describe.
    pub(crate) fn wake(&self, mut touches: Vec<Touch>) {
        if touches.is_empty() {
            return;
        }
        touches.sort_unstable();
        touches.dedup();
        let slots = self.lock();
        if touches.contains(&Touch::All) {
            slots
                .keys
                .values()
                .chain(slots.prefixes.values())
                .chain(slots.tables.values())
                .for_each(bump);
            return;
        }
        for touch in &touches {
            match touch {
                Touch::Key(key) => {
                    if let Some(tx) = slots.keys.get(&**key) {
                        bump(tx);
                    }
                    wake_prefixes_of(&slots.prefixes, key);
                }
                Touch::Tree(prefix) => {
                    wake_under(&slots.keys, prefix);
                    wake_under(&slots.prefixes, prefix);
                    // Prefix slots equal to `prefix` were woken above; waking twice is
                    // harmless (the receiver sees one change).
                    wake_prefixes_of(&slots.prefixes, prefix);
                }
                Touch::Table(table) => {
                    if let Some(tx) = slots.tables.get(table.name()) {
                        bump(tx);
                    }
                }
                Touch::All => {}
            }
        }
    }

    /// Number of live slots (keys, prefixes): for leak tests.
    #[cfg(test)]
    pub(crate) fn slot_counts(&self) -> (usize, usize) {
        let slots = self.lock();
        (slots.keys.len(), slots.prefixes.len())
    }

    /// Number of live table slots: for leak tests.
    #[cfg(test)]
    pub(crate) fn table_slot_count(&self) -> usize {
        self.lock().tables.len()
    }
}

#[cfg(test)]
mod tests;
