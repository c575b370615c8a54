//! The KV table and its tombstones (Consul's `agent/consul/state/kvs.go` and
//! `graveyard.go`): write rules, prefix reads and their indexes.

use std::ops::Bound;
use std::sync::Arc;

use imbl::OrdMap;
use praetor_types::{KvEntry, KvOp, KvRequest};

use crate::command::ApplyError;
use crate::watch::Touch;

/// Keys are shared `Arc<str>` and entries `Arc<KvEntry>` so that the path copies a write
/// makes in the persistent maps clone pointers, not strings and values.
pub(crate) type Key = Arc<str>;

/// The `kvs` and `tombstones` tables and the KV table index.
///
/// # Invariants
/// - A key is never both in `entries` and in `tombstones`.
/// - `index` is at least every entry's `ModifyIndex` and every tombstone's index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KvTable {
    /// Live entries by key.
    pub(crate) entries: OrdMap<Key, Arc<KvEntry>>,
    /// Deleted keys and the Raft index of their deletion, kept until reaped so that
    /// prefix indexes advance on deletes.
    pub(crate) tombstones: OrdMap<Key, u64>,
    /// Raft index of the last write that changed the table (including deletes).
    pub(crate) index: u64,
}

/// `(prefix..)` as range bounds over `str`-borrowing keys.
fn from_prefix(prefix: &str) -> (Bound<&str>, Bound<&str>) {
    (Bound::Included(prefix), Bound::Unbounded)
}

impl KvTable {
    /// Applies one KV write at Raft `index`, with no session live (locks fail).
    #[cfg(test)]
    pub(crate) fn apply(
        &mut self,
        index: u64,
        req: &KvRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<bool, ApplyError> {
        self.apply_with(index, req, touches, &|_| false)
    }

    /// Applies one KV write at Raft `index`: `Ok(false)` when its condition did not hold.
    /// `session_exists` tells whether a lock's or unlock's session is live.
    pub(crate) fn apply_with(
        &mut self,
        index: u64,
        req: &KvRequest,
        touches: &mut Vec<Touch>,
        session_exists: &dyn Fn(&str) -> bool,
    ) -> Result<bool, ApplyError> {
        if req.key.is_empty() && req.op != KvOp::DeleteTree {
            return Err(ApplyError::MissingKey);
        }
        match req.op {
            KvOp::Set => {
                self.set(index, req, touches);
                Ok(true)
            }
            KvOp::Cas => {
                let current = self.entries.get(req.key.as_str()).map(|e| e.modify_index);
                // cas 0: create only; n: only if ModifyIndex == n (a missing key fails).
                let holds = match (req.cas_index, current) {
                    (0, current) => current.is_none(),
                    (n, Some(modify)) => modify == n,
                    (_, None) => false,
                };
                if holds {
                    self.set(index, req, touches);
                }
                Ok(holds)
            }
            KvOp::Lock => self.lock(index, req, touches, session_exists),
            KvOp::Unlock => self.unlock(index, req, touches),
            KvOp::Delete => {
                self.delete(index, &req.key, touches);
                Ok(true)
            }
            KvOp::DeleteCas => {
                // As in Consul's kvsDeleteCASTxn: a missing key answers true (nothing is
                // left to delete); a present key is deleted only when its ModifyIndex is
                // the given one, so cas 0 never deletes an existing key.
                match self.entries.get(req.key.as_str()) {
                    None => Ok(true),
                    Some(e) if e.modify_index == req.cas_index => {
                        self.delete(index, &req.key, touches);
                        Ok(true)
                    }
                    Some(_) => Ok(false),
                }
            }
            KvOp::DeleteTree => {
                self.delete_tree(index, &req.key, touches);
                Ok(true)
            }
        }
    }

    /// Writes value and flags; keeps `CreateIndex`, `Session` and `LockIndex` of an
    /// existing entry (a plain set on a locked key leaves the lock in place).
    fn set(&mut self, index: u64, req: &KvRequest, touches: &mut Vec<Touch>) {
        let existing = self.entries.get(req.key.as_str());
        let entry = KvEntry {
            lock_index: existing.map_or(0, |e| e.lock_index),
            key: req.key.clone(),
            flags: req.flags,
            value: req.value.clone(),
            session: existing.and_then(|e| e.session.clone()),
            create_index: existing.map_or(index, |e| e.create_index),
            modify_index: index,
        };
        self.put(index, entry, touches);
    }

    /// Stores `entry` (written at `index`), clearing any tombstone of its key.
    pub(crate) fn put(&mut self, index: u64, entry: KvEntry, touches: &mut Vec<Touch>) {
        let key: Key = Arc::from(entry.key.as_str());
        self.tombstones.remove(&*key);
        self.entries.insert(key.clone(), Arc::new(entry));
        self.index = self.index.max(index);
        touches.push(Touch::Key(key));
    }

    /// Deletes one key, leaving a tombstone; a missing key changes nothing.
    pub(crate) fn delete(&mut self, index: u64, key: &str, touches: &mut Vec<Touch>) {
        if let Some((key, _)) = self.entries.remove_with_key(key) {
            self.tombstones.insert(key.clone(), index);
            self.index = self.index.max(index);
            touches.push(Touch::Key(key));
        }
    }

    /// Deletes every key starting with `prefix` (byte-wise: `foo` also deletes `food`),
    /// leaving a tombstone for each. Nothing matched changes nothing.
    fn delete_tree(&mut self, index: u64, prefix: &str, touches: &mut Vec<Touch>) {
        let doomed: Vec<Key> = self
            .entries
            .range::<_, str>(from_prefix(prefix))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if doomed.is_empty() {
            return;
        }
        for key in doomed {
            self.entries.remove(&*key);
            self.tombstones.insert(key, index);
        }
        self.index = self.index.max(index);
        touches.push(Touch::Tree(Arc::from(prefix)));
    }

    /// Removes tombstones deleted at or below `upto_index`. The table index stays: only
    /// prefix indexes that relied on a reaped tombstone go back, as in Consul.
    pub(crate) fn reap_tombstones(&mut self, upto_index: u64, touches: &mut Vec<Touch>) {
        let reaped: Vec<Key> = self
            .tombstones
            .iter()
            .filter(|(_, deleted_at)| **deleted_at <= upto_index)
            .map(|(k, _)| k.clone())
            .collect();
        for key in reaped {
            self.tombstones.remove(&*key);
            touches.push(Touch::Key(key));
        }
    }

    /// `?acquire`: takes the lock for the request's session and writes the value.
    /// Lock-delay is decided by the caller, which knows the sessions table and `now`.
    fn lock(
        &mut self,
        index: u64,
        req: &KvRequest,
        touches: &mut Vec<Touch>,
        session_exists: &dyn Fn(&str) -> bool,
    ) -> Result<bool, ApplyError> {
        let session = req.session.as_deref().ok_or(ApplyError::MissingSession)?;
        if !session_exists(session) {
            return Err(ApplyError::InvalidSession(session.to_owned()));
        }
        let existing = self.entries.get(req.key.as_str());
        let held_by = existing.and_then(|e| e.session.as_deref());
        if held_by.is_some_and(|holder| holder != session) {
            return Ok(false);
        }
        // Re-acquiring a lock already held by the same session is not a new acquisition.
        let reacquire = held_by == Some(session);
        let entry = KvEntry {
            lock_index: existing.map_or(0, |e| e.lock_index) + u64::from(!reacquire),
            key: req.key.clone(),
            flags: req.flags,
            value: req.value.clone(),
            session: Some(session.to_owned()),
            create_index: existing.map_or(index, |e| e.create_index),
            modify_index: index,
        };
        self.put(index, entry, touches);
        Ok(true)
    }

    /// `?release`: releases the lock held by the request's session (keeping
    /// `LockIndex`) and writes the value. Answers `false` when that session does not
    /// hold it, including when the session no longer exists: as Consul's
    /// `kvsUnlockTxn`, an unlock never checks the sessions table, so releasing a lock lost
    /// with its session is not an error.
    fn unlock(
        &mut self,
        index: u64,
        req: &KvRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<bool, ApplyError> {
        let session = req.session.as_deref().ok_or(ApplyError::MissingSession)?;
        let Some(existing) = self.entries.get(req.key.as_str()) else {
            return Ok(false);
        };
        if existing.session.as_deref() != Some(session) {
            return Ok(false);
        }
        let entry = KvEntry {
            key: req.key.clone(),
            flags: req.flags,
            value: req.value.clone(),
            session: None,
            modify_index: index,
            ..(**existing).clone()
        };
        self.put(index, entry, touches);
        Ok(true)
    }

    /// Entries whose key starts with `prefix`, in key order.
    pub(crate) fn under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a Arc<KvEntry>> + 'a {
        self.entries
            .range::<_, str>(from_prefix(prefix))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, e)| e)
    }

    /// Key names under `prefix`, each rolled up after the first `separator` that follows
    /// the prefix (the rolled-up name keeps the separator); sorted, without duplicates.
    pub(crate) fn keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        let separator = separator.filter(|s| !s.is_empty());
        let mut out: Vec<String> = Vec::new();
        for entry in self.under(prefix) {
            let key = entry.key.as_str();
            let name = match separator.and_then(|s| key[prefix.len()..].find(s).map(|at| (s, at))) {
                Some((sep, at)) => &key[..prefix.len() + at + sep.len()],
                None => key,
            };
            // Keys are sorted, so every key rolling up to `name` comes in one run.
            if out.last().is_none_or(|last| last != name) {
                out.push(name.to_owned());
            }
        }
        out
    }

    /// max(`ModifyIndex` of entries under `prefix`, tombstone index under `prefix`);
    /// 0 when nothing is under it. A range scan over the prefix, never the whole table
    /// unless the prefix is empty.
    pub(crate) fn prefix_index(&self, prefix: &str) -> u64 {
        let live = self
            .under(prefix)
            .map(|e| e.modify_index)
            .max()
            .unwrap_or(0);
        let dead = self
            .tombstones
            .range::<_, str>(from_prefix(prefix))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, deleted_at)| *deleted_at)
            .max()
            .unwrap_or(0);
        live.max(dead)
    }
}

#[cfg(test)]
mod tests;
