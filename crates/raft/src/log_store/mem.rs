//! The in-memory log for `-dev` agents: nothing survives a restart, by design.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::LogState;

use crate::types::{Entry, LogId, TypeConfig, Vote};

#[derive(Default)]
struct Inner {
    log: BTreeMap<u64, Entry>,
    vote: Option<Vote>,
    committed: Option<LogId>,
    purged: Option<LogId>,
}

#[derive(Clone, Default)]
pub(crate) struct MemLog(Arc<Mutex<Inner>>);

impl MemLog {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock means a panic mid-update elsewhere; the data is still a valid map.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn entries(&self, start: u64, end: u64) -> Vec<Entry> {
        if start >= end {
            return Vec::new();
        }
        self.lock()
            .log
            .range(start..end)
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub(crate) fn vote(&self) -> Option<Vote> {
        self.lock().vote
    }

    pub(crate) fn log_state(&self) -> LogState<TypeConfig> {
        let g = self.lock();
        let last = g.log.values().next_back().map(|e| e.log_id).or(g.purged);
        LogState {
            last_purged_log_id: g.purged,
            last_log_id: last,
        }
    }

    pub(crate) fn save_vote(&self, vote: &Vote) {
        self.lock().vote = Some(*vote);
    }

    pub(crate) fn save_committed(&self, committed: Option<LogId>) {
        self.lock().committed = committed;
    }

    pub(crate) fn committed(&self) -> Option<LogId> {
        self.lock().committed
    }

    pub(crate) fn append(&self, entries: impl IntoIterator<Item = Entry>) {
        let mut g = self.lock();
        for e in entries {
            g.log.insert(e.log_id.index, e);
        }
    }

    pub(crate) fn truncate_after(&self, last: Option<LogId>) {
        let from = last.map_or(0, |l| l.index + 1);
        let mut g = self.lock();
        g.log.split_off(&from);
    }

    pub(crate) fn purge(&self, upto: LogId) {
        let mut g = self.lock();
        let keep = g.log.split_off(&(upto.index + 1));
        g.log = keep;
        if g.purged.is_none_or(|p| p < upto) {
            g.purged = Some(upto);
        }
    }
}
