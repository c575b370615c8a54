//! The Raft log store: raft-log's WAL on disk, or a `BTreeMap` for `-dev`.
//!
//! # Invariants
//! - `append` signals openraft's `IOFlushed` only once the entries are durable (after the
//!   WAL's fsync; at once for the in-memory log).
//! - `save_vote` returns only once the vote is durable.

mod mem;
mod wal;

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;

use openraft::storage::{IOFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};

use crate::types::{Entry, LogId, TypeConfig, Vote};

pub(crate) use mem::MemLog;
pub(crate) use wal::WalLog;

/// Either log store; one type so `Raft` has a single instantiation.
#[derive(Clone)]
pub(crate) enum LogStore {
    Wal(WalLog),
    Memory(MemLog),
}

impl LogStore {
    /// Opens the WAL in `dir` (created when missing).
    pub(crate) fn open_wal(dir: &Path) -> io::Result<LogStore> {
        Ok(LogStore::Wal(WalLog::open(dir)?))
    }

    pub(crate) fn memory() -> LogStore {
        LogStore::Memory(MemLog::default())
    }

    /// Makes everything written so far durable.
    pub(crate) async fn sync(&self) -> io::Result<()> {
        match self {
            LogStore::Wal(w) => w.sync().await,
            LogStore::Memory(_) => Ok(()),
        }
    }
}

/// `[start, end)` of a range of log indexes.
pub(crate) fn index_range<RB: RangeBounds<u64>>(range: &RB) -> (u64, u64) {
    let start = match range.start_bound() {
        Bound::Included(&n) => n,
        Bound::Excluded(&n) => n.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&n) => n.saturating_add(1),
        Bound::Excluded(&n) => n,
        Bound::Unbounded => u64::MAX,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let (start, end) = index_range(&range);
        match self {
            LogStore::Wal(w) => w.entries(start, end).await,
            LogStore::Memory(m) => Ok(m.entries(start, end)),
        }
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        match self {
            LogStore::Wal(w) => Ok(w.vote().await),
            LogStore::Memory(m) => Ok(m.vote()),
        }
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        match self {
            LogStore::Wal(w) => Ok(w.log_state().await),
            LogStore::Memory(m) => Ok(m.log_state()),
        }
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        match self {
            LogStore::Wal(w) => w.save_vote(vote).await,
            LogStore::Memory(m) => {
                m.save_vote(vote);
                Ok(())
            }
        }
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        match self {
            LogStore::Wal(w) => w.save_committed(committed).await,
            LogStore::Memory(m) => {
                m.save_committed(committed);
                Ok(())
            }
        }
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        match self {
            LogStore::Wal(w) => Ok(w.committed().await),
            LogStore::Memory(m) => Ok(m.committed()),
        }
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
    {
        match self {
            LogStore::Wal(w) => w.append(entries, callback).await,
            LogStore::Memory(m) => {
                m.append(entries);
                callback.io_completed(Ok(()));
                Ok(())
            }
        }
    }

    async fn truncate_after(&mut self, last: Option<LogId>) -> Result<(), io::Error> {
        match self {
            LogStore::Wal(w) => w.truncate_after(last).await,
            LogStore::Memory(m) => {
                m.truncate_after(last);
                Ok(())
            }
        }
    }

    async fn purge(&mut self, upto: LogId) -> Result<(), io::Error> {
        match self {
            LogStore::Wal(w) => w.purge(upto).await,
            LogStore::Memory(m) => {
                m.purge(upto);
                Ok(())
            }
        }
    }
}
