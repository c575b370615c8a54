//! The state machine adapter: applies committed entries to `praetor-state`'s [`Store`]
//! and builds, saves and installs snapshots.
//!
//! The store knows only plain indexes; the adapter keeps what openraft also needs (the
//! last applied log id and the membership), and snapshots carry both.

use std::io::{self, Cursor};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};

use crate::snapshot_store::SnapshotStore;
use crate::state::{CommandResponse, Store};
use crate::types::{LogId, Snapshot, SnapshotData, SnapshotMeta, StoredMembership, TypeConfig};

#[derive(Default, Clone)]
struct Applied {
    log_id: Option<LogId>,
    membership: StoredMembership,
}

struct Inner {
    store: Store,
    applied: Mutex<Applied>,
    snapshots: SnapshotStore,
}

/// Shared handle; openraft's state-machine worker owns one clone.
#[derive(Clone)]
pub(crate) struct StateMachine(Arc<Inner>);

impl StateMachine {
    /// Restores the newest snapshot (if any) into `store`; openraft then replays the
    /// committed log after it.
    pub(crate) async fn open(store: Store, snapshots: SnapshotStore) -> io::Result<StateMachine> {
        let snapshots = Arc::new(snapshots);
        let loaded = {
            let snapshots = Arc::clone(&snapshots);
            tokio::task::spawn_blocking(move || snapshots.load_latest())
                .await
                .map_err(io::Error::other)??
        };
        let mut applied = Applied::default();
        if let Some((meta, state)) = loaded {
            store
                .restore(&state)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            tracing::info!(
                index = meta.last_log_id.as_ref().map_or(0, |l| l.index),
                "restored raft snapshot"
            );
            applied = Applied {
                log_id: meta.last_log_id,
                membership: meta.last_membership,
            };
        }
        let snapshots = Arc::try_unwrap(snapshots)
            .map_err(|_| io::Error::other("snapshot store still shared"))?;
        Ok(StateMachine(Arc::new(Inner {
            store,
            applied: Mutex::new(applied),
            snapshots,
        })))
    }

    fn applied(&self) -> MutexGuard<'_, Applied> {
        self.0.applied.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Saves a snapshot off the async runtime.
    async fn save(&self, meta: SnapshotMeta, state: Arc<Vec<u8>>) -> io::Result<()> {
        let sm = self.clone();
        tokio::task::spawn_blocking(move || sm.0.snapshots.save(&meta, &state))
            .await
            .map_err(io::Error::other)?
    }
}

/// A snapshot captured in the state-machine worker (so it matches the applied log id
/// exactly); writing it to disk happens later, off the apply path.
pub(crate) struct SnapshotBuilder {
    sm: StateMachine,
    captured: Result<(SnapshotMeta, Arc<Vec<u8>>), String>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let (meta, state) = self.captured.clone().map_err(io::Error::other)?;
        self.sm.save(meta.clone(), Arc::clone(&state)).await?;
        tracing::info!(
            index = meta.last_log_id.as_ref().map_or(0, |l| l.index),
            "raft snapshot saved"
        );
        let state = Arc::try_unwrap(state).unwrap_or_else(|shared| shared.as_ref().clone());
        Ok(Snapshot {
            meta,
            snapshot: Cursor::new(state),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let a = self.applied();
        Ok((a.log_id, a.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some((entry, responder)) = entries.try_next().await? {
            let index = entry.log_id.index;
            let outcome = match entry.payload {
                EntryPayload::Normal(proposal) => self.0.store.apply(index, &proposal.0),
                EntryPayload::Blank => Ok(CommandResponse::None),
                EntryPayload::Membership(m) => {
                    self.applied().membership = StoredMembership::new(Some(entry.log_id), m);
                    Ok(CommandResponse::None)
                }
            };
            self.applied().log_id = Some(entry.log_id);
            if let Some(responder) = responder {
                responder.send(outcome);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        // Runs in the state-machine worker between applies: the store's bytes and the
        // applied log id belong together.
        let a = self.applied().clone();
        let captured = self
            .0
            .store
            .snapshot()
            .map(|bytes| {
                let meta = SnapshotMeta {
                    last_log_id: a.log_id,
                    last_membership: a.membership,
                };
                (meta, Arc::new(bytes))
            })
            .map_err(|e| format!("state store snapshot: {e}"));
        SnapshotBuilder {
            sm: self.clone(),
            captured,
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        let state = snapshot.into_inner();
        // Restore first: it validates the bytes before they replace our newest file.
        self.0
            .store
            .restore(&state)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        *self.applied() = Applied {
            log_id: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        self.save(meta.clone(), Arc::new(state)).await?;
        tracing::info!(
            index = meta.last_log_id.as_ref().map_or(0, |l| l.index),
            "installed raft snapshot"
        );
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let sm = self.clone();
        let latest = tokio::task::spawn_blocking(move || sm.0.snapshots.load_latest())
            .await
            .map_err(io::Error::other)??;
        Ok(latest.map(|(meta, state)| Snapshot {
            meta,
            snapshot: Cursor::new(state),
        }))
    }
}
