//! The durable log on raft-log (the openraft author's chunked WAL), entries as msgpack.

use std::any::type_name;
use std::cmp::Ordering;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::storage::{IOFlushed, LogState};
use openraft::vote::RaftVote;
use raft_log::RaftLog;
use raft_log::api::raft_log_writer::RaftLogWriter;
use raft_log::codeq::{Decode, Encode, OffsetWriter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{RwLock, oneshot};

use crate::types::{Entry, LogId, TypeConfig, Vote};

/// Group-commit wait before an fsync: raft-log's 1 ms default triples write latency;
/// concurrent proposals already share entries through the proposer's batching.
const FLUSH_BATCH_WAIT: Duration = Duration::from_micros(50);

/// A value stored in the WAL as msgpack. msgpack is self-delimiting, so a record decodes
/// without reading past its end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Msgpack<T>(pub(crate) T);

impl<T: Serialize> Encode for Msgpack<T> {
    fn encode<W: io::Write>(&self, w: W) -> Result<usize, io::Error> {
        encode(&self.0, w)
    }
}

impl<T: DeserializeOwned> Decode for Msgpack<T> {
    fn decode<R: io::Read>(r: R) -> Result<Self, io::Error> {
        decode(r).map(Msgpack)
    }
}

/// The vote, ordered by openraft's own vote order (raft-log needs `PartialOrd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredVote(pub(crate) Vote);

impl PartialOrd for StoredVote {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        RaftVote::partial_cmp(&self.0, &other.0)
    }
}

impl Encode for StoredVote {
    fn encode<W: io::Write>(&self, w: W) -> Result<usize, io::Error> {
        encode(&self.0, w)
    }
}

impl Decode for StoredVote {
    fn decode<R: io::Read>(r: R) -> Result<Self, io::Error> {
        decode(r).map(StoredVote)
    }
}

fn encode<T: Serialize, W: io::Write>(value: &T, mut w: W) -> Result<usize, io::Error> {
    let mut out = OffsetWriter::new(&mut w);
    rmp_serde::encode::write_named(&mut out, value).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("encode {}: {e}", type_name::<T>()),
        )
    })?;
    Ok(out.offset())
}

fn decode<T: DeserializeOwned, R: io::Read>(r: R) -> Result<T, io::Error> {
    rmp_serde::decode::from_read(r).map_err(|e| {
        // raft-log tells a torn tail record from corruption by the io error kind, so keep it.
        let kind = match &e {
            rmp_serde::decode::Error::InvalidMarkerRead(io)
            | rmp_serde::decode::Error::InvalidDataRead(io) => io.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, format!("decode {}: {e}", type_name::<T>()))
    })
}

/// Where raft-log reports a finished flush.
pub(crate) enum FlushDone {
    /// An `append`: tell openraft the entries are durable.
    Append(IOFlushed<TypeConfig>),
    /// A caller awaiting durability (`save_vote`, `sync`).
    Waiter(oneshot::Sender<io::Result<()>>),
}

impl raft_log::Callback for FlushDone {
    fn send(self, res: io::Result<()>) {
        match self {
            FlushDone::Append(flushed) => flushed.io_completed(res),
            FlushDone::Waiter(tx) => {
                // The waiter may have been cancelled; nothing to tell it then.
                let _ = tx.send(res);
            }
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WalTypes;

impl raft_log::Types for WalTypes {
    type LogId = Msgpack<LogId>;
    type LogPayload = Msgpack<Entry>;
    type Vote = StoredVote;
    type Callback = FlushDone;
    type UserData = Msgpack<()>;

    fn log_index(log_id: &Self::LogId) -> u64 {
        log_id.0.index
    }

    fn payload_size(payload: &Self::LogPayload) -> u64 {
        // Only sizes the payload cache; a command's heap bytes dominate, estimate them by
        // encoding (the cache is bounded by this number).
        encode(&payload.0, io::sink()).map_or(256, |n| n as u64)
    }
}

/// raft-log behind an async lock shared by the store and its readers.
#[derive(Clone)]
pub(crate) struct WalLog {
    log: Arc<RwLock<RaftLog<WalTypes>>>,
}

impl WalLog {
    pub(crate) fn open(dir: &Path) -> io::Result<WalLog> {
        std::fs::create_dir_all(dir)?;
        let dir = dir.to_str().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "raft wal dir is not valid UTF-8",
            )
        })?;
        let mut cfg = raft_log::Config::new(dir);
        cfg.wal.flush_batch_wait = Some(FLUSH_BATCH_WAIT);
        let log = RaftLog::open(Arc::new(cfg))?;
        Ok(WalLog {
            log: Arc::new(RwLock::new(log)),
        })
    }

    pub(crate) async fn entries(&self, start: u64, end: u64) -> io::Result<Vec<Entry>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let log = self.log.read().await;
        log.read(start, end)
            .map(|r| r.map(|(_, payload)| payload.0))
            .collect()
    }

    pub(crate) async fn vote(&self) -> Option<Vote> {
        self.log.read().await.log_state().vote().map(|v| v.0)
    }

    pub(crate) async fn committed(&self) -> Option<LogId> {
        self.log.read().await.log_state().committed().map(|l| l.0)
    }

    pub(crate) async fn log_state(&self) -> LogState<TypeConfig> {
        let log = self.log.read().await;
        let state = log.log_state();
        // raft-log moves `last` up to `purged` when a purge empties the log.
        LogState {
            last_purged_log_id: state.purged().map(|l| l.0),
            last_log_id: state.last().map(|l| l.0),
        }
    }

    /// Flushes with fsync and waits for it.
    pub(crate) async fn sync(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.log
            .write()
            .await
            .flush(true, Some(FlushDone::Waiter(tx)))?;
        rx.await
            .map_err(|_| io::Error::other("raft wal flush worker stopped"))?
    }

    pub(crate) async fn save_vote(&self, vote: &Vote) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        {
            let mut log = self.log.write().await;
            log.save_vote(StoredVote(*vote))?;
            log.flush(true, Some(FlushDone::Waiter(tx)))?;
        }
        // A vote decides elections: durable before we answer, but without holding the lock.
        rx.await
            .map_err(|_| io::Error::other("raft wal flush worker stopped"))?
    }

    pub(crate) async fn save_committed(&self, committed: Option<LogId>) -> io::Result<()> {
        let Some(committed) = committed else {
            return Ok(());
        };
        // Not flushed on its own: the committed id only spares re-applying entries after a
        // crash, and it reaches disk with the next append's fsync.
        self.log.write().await.commit(Msgpack(committed))?;
        Ok(())
    }

    pub(crate) async fn append(
        &self,
        entries: impl IntoIterator<Item = Entry>,
        done: IOFlushed<TypeConfig>,
    ) -> io::Result<()> {
        let mut log = self.log.write().await;
        log.append(entries.into_iter().map(|e| (Msgpack(e.log_id), Msgpack(e))))?;
        // The WAL worker fsyncs, then calls `done`: openraft counts the entries as
        // persisted only then.
        log.flush(true, Some(FlushDone::Append(done)))?;
        Ok(())
    }

    pub(crate) async fn truncate_after(&self, last: Option<LogId>) -> io::Result<()> {
        let from = last.map_or(0, |l| l.index + 1);
        let mut log = self.log.write().await;
        let next = log.log_state().last().map_or(0, |l| l.0.index + 1);
        if from >= next {
            return Ok(());
        }
        // No fsync needed: if the record is lost in a crash, openraft truncates again.
        log.truncate(from)?;
        Ok(())
    }

    pub(crate) async fn purge(&self, upto: LogId) -> io::Result<()> {
        let mut log = self.log.write().await;
        if log
            .log_state()
            .purged()
            .is_some_and(|p| p.0.index >= upto.index)
        {
            return Ok(());
        }
        log.purge(Msgpack(upto))?;
        // raft-log removes purged chunk files only after a synced flush; queue one, don't wait.
        log.flush(true, None)?;
        Ok(())
    }
}
