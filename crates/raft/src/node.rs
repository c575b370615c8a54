//! `RaftNode`: one server's Raft participant, as the rest of Praetor sees it.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::errors::{ClientWriteError, ForwardToLeader, LinearizableReadError};
use openraft::{BasicNode, ChangeMembers, ReadPolicy};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::RaftConfig;
use crate::error::RaftError;
use crate::log_store::LogStore;
use crate::network::{self, Network, NoTransport, RaftTransport, RpcRequest, RpcResponse};
use crate::proposer::{self, Pending};
use crate::snapshot_store::SnapshotStore;
use crate::state::{ApplyError, Command, CommandResponse, Store};
use crate::state_machine::StateMachine;
use crate::status::{self, LastContact, RaftStatus};
use crate::types::{Raft, Snapshot, TypeConfig};

/// How long shutdown lets in-flight proposals finish before stopping Raft under them.
const PROPOSAL_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A committed write: its Raft index and what the state store answered.
#[derive(Debug)]
pub struct Applied {
    /// The log index the write was committed at (its `ModifyIndex`).
    pub index: u64,
    /// The state store's answer, e.g. `Bool(false)` for a losing CAS.
    pub response: Result<CommandResponse, ApplyError>,
}

/// How a linearizable read confirms leadership (Consul's consistency modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Consul's `default`: trust the leader lease, no round trip while it holds.
    Lease,
    /// Consul's `consistent`: a quorum confirms leadership after the read arrived.
    ReadIndex,
}

struct Inner {
    cfg: RaftConfig,
    raft: Raft,
    proposals: mpsc::Sender<Pending>,
    status: watch::Receiver<RaftStatus>,
    contact: LastContact,
    shutdown: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The log store, for the final flush; taken (and dropped) by `shutdown`, which
    /// releases the WAL's directory lock.
    log: Mutex<Option<LogStore>>,
    /// Serialises `shutdown` so a second call waits for the first to finish.
    shutdown_done: tokio::sync::Mutex<bool>,
}

/// One server's Raft participant: proposes writes, confirms reads, reports status.
/// Cheap to clone; all clones share the node.
#[derive(Clone)]
pub struct RaftNode {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RaftNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftNode")
            .field("node_id", &self.inner.cfg.node_id)
            .finish_non_exhaustive()
    }
}

impl RaftNode {
    /// Starts a server with no peers reachable (a single server, `-dev`).
    pub async fn start(cfg: RaftConfig, store: Store) -> Result<RaftNode, RaftError> {
        RaftNode::start_with_transport(cfg, store, Arc::new(NoTransport)).await
    }

    /// Starts a server whose Raft RPCs go through `transport`.
    ///
    /// Opens (or creates) `data_dir/raft/`, restores the newest snapshot into `store`,
    /// lets openraft replay the committed log after it, and bootstraps a single-voter
    /// cluster when asked and the log is fresh.
    pub async fn start_with_transport(
        cfg: RaftConfig,
        store: Store,
        transport: Arc<dyn RaftTransport>,
    ) -> Result<RaftNode, RaftError> {
        let raft_cfg = cfg.to_openraft()?;
        let (log, snapshots) = match &cfg.data_dir {
            Some(dir) => {
                let raft_dir = dir.join("raft");
                let log = LogStore::open_wal(&raft_dir.join("wal")).map_err(RaftError::Storage)?;
                let snapshots = SnapshotStore::open_dir(&raft_dir.join("snapshots"))
                    .map_err(RaftError::Storage)?;
                (log, snapshots)
            }
            None => (LogStore::memory(), SnapshotStore::memory()),
        };
        let sm = StateMachine::open(store, snapshots)
            .await
            .map_err(RaftError::Storage)?;
        let raft = Raft::new(
            cfg.node_id,
            raft_cfg,
            Network::new(transport),
            log.clone(),
            sm,
        )
        .await
        .map_err(|e| RaftError::Fatal(format!("raft start: {e}")))?;

        if cfg.bootstrap {
            let initialized = raft
                .is_initialized()
                .await
                .map_err(|e| RaftError::Fatal(e.to_string()))?;
            if !initialized {
                let members = BTreeMap::from([(cfg.node_id, BasicNode::new(cfg.rpc_addr.clone()))]);
                raft.initialize(members)
                    .await
                    .map_err(|e| RaftError::Fatal(format!("raft bootstrap: {e}")))?;
                tracing::info!(node_id = cfg.node_id, addr = %cfg.rpc_addr, "bootstrapped single-server raft cluster");
            }
        }

        let shutdown = CancellationToken::new();
        let contact = LastContact::default();
        let lease = Duration::from_millis(raft.config().election_timeout_max);
        let (status_tx, status_rx) = watch::channel(status::from_metrics(
            &raft.metrics().borrow_watched(),
            &contact,
            lease,
        ));
        let (proposals, queue) = mpsc::channel(proposer::QUEUE_DEPTH);
        let tasks = vec![
            tokio::spawn(proposer::run(raft.clone(), queue, shutdown.clone())),
            tokio::spawn(status::run(
                raft.metrics(),
                contact.clone(),
                lease,
                status_tx,
                shutdown.clone(),
            )),
        ];
        tracing::info!(node_id = cfg.node_id, addr = %cfg.rpc_addr, "raft started");
        Ok(RaftNode {
            inner: Arc::new(Inner {
                cfg,
                raft,
                proposals,
                status: status_rx,
                contact,
                shutdown,
                tasks: Mutex::new(tasks),
                log: Mutex::new(Some(log)),
                shutdown_done: tokio::sync::Mutex::new(false),
            }),
        })
    }

    /// Proposes `cmd` and waits until it is committed and applied. Concurrent proposals
    /// share log entries (see the proposer).
    pub async fn propose(&self, cmd: Command) -> Result<Applied, RaftError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RaftError::ShuttingDown);
        }
        let (reply, answer) = oneshot::channel();
        self.inner
            .proposals
            .send(Pending { cmd, reply })
            .await
            .map_err(|_| RaftError::ShuttingDown)?;
        answer.await.map_err(|_| RaftError::ShuttingDown)?
    }

    /// Returns once a read served from the local state store is linearizable: this server
    /// leads (per `mode`) and has applied everything committed before the call.
    pub async fn ensure_linearizable(&self, mode: ReadMode) -> Result<(), RaftError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RaftError::ShuttingDown);
        }
        let policy = match mode {
            ReadMode::Lease => ReadPolicy::LeaseRead,
            ReadMode::ReadIndex => ReadPolicy::ReadIndex,
        };
        match self.inner.raft.ensure_linearizable(policy).await {
            Ok(_) => Ok(()),
            Err(openraft::errors::RaftError::APIError(LinearizableReadError::ForwardToLeader(
                f,
            ))) => Err(forward_error(&f)),
            Err(openraft::errors::RaftError::APIError(LinearizableReadError::QuorumNotEnough(
                _,
            ))) => Err(RaftError::LeadershipLost),
            Err(openraft::errors::RaftError::Fatal(f)) => Err(fatal_error(&f)),
        }
    }

    /// The current status, with `last_contact` measured now.
    pub fn status(&self) -> RaftStatus {
        status::from_metrics(
            &self.inner.raft.metrics().borrow_watched(),
            &self.inner.contact,
            Duration::from_millis(self.inner.raft.config().election_timeout_max),
        )
    }

    /// Status updates: changes of leader, term, indexes or voters.
    pub fn status_watch(&self) -> watch::Receiver<RaftStatus> {
        self.inner.status.clone()
    }

    /// The last log index covered by a snapshot and the last index purged from the log
    /// (`None` when there is none yet). For tests and diagnostics.
    #[doc(hidden)]
    pub fn compaction(&self) -> (Option<u64>, Option<u64>) {
        let m = self.inner.raft.metrics().borrow_watched().clone();
        (m.snapshot.map(|l| l.index), m.purged.map(|l| l.index))
    }

    /// The openraft instance, for membership changes in `cluster`.
    pub(crate) fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    /// This server's Raft config.
    pub fn config(&self) -> &RaftConfig {
        &self.inner.cfg
    }

    /// Waits until a leader is known and, when it is this server, its first (blank) entry
    /// of the term is applied, so writes and reads can be served.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<(), RaftError> {
        let mut metrics = self.inner.raft.metrics();
        let ready = async {
            loop {
                let ready = {
                    let m = metrics.borrow_and_update();
                    if m.running_state.is_err() {
                        return Err(RaftError::ShuttingDown);
                    }
                    match m.current_leader {
                        None => false,
                        Some(leader) if leader != m.id => true,
                        // We lead: our term's first entry (the blank openraft appends on
                        // election) must be applied before the first write.
                        Some(_) => {
                            m.state.is_leader()
                                && m.last_applied
                                    .as_ref()
                                    .is_some_and(|a| a.leader_id.term == m.current_term)
                        }
                    }
                };
                if ready {
                    return Ok(());
                }
                if metrics.changed().await.is_err() {
                    return Err(RaftError::ShuttingDown);
                }
            }
        };
        tokio::select! {
            biased;
            () = self.inner.shutdown.cancelled() => Err(RaftError::ShuttingDown),
            r = tokio::time::timeout(timeout, ready) => r.map_err(|_| RaftError::NoLeader)?,
        }
    }

    /// Handles an RPC another server sent through its [`RaftTransport`]; the reply bytes go
    /// back to it. Errors mean the request could not be decoded or the node is stopping.
    pub async fn handle_rpc(&self, request: &[u8]) -> Result<Vec<u8>, RaftError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RaftError::ShuttingDown);
        }
        let request: RpcRequest = network::decode(request).map_err(RaftError::InvalidRpc)?;
        let raft = &self.inner.raft;
        let reply = match request {
            RpcRequest::AppendEntries(req) => {
                self.inner.contact.touch();
                RpcResponse::AppendEntries(
                    raft.append_entries(req).await.map_err(|e| e.to_string()),
                )
            }
            RpcRequest::Vote(req) => {
                RpcResponse::Vote(raft.vote(req).await.map_err(|e| e.to_string()))
            }
            RpcRequest::PreVote(req) => {
                RpcResponse::Vote(raft.pre_vote(req).await.map_err(|e| e.to_string()))
            }
            RpcRequest::InstallSnapshot { vote, meta, state } => {
                self.inner.contact.touch();
                let snapshot = Snapshot {
                    meta,
                    snapshot: io::Cursor::new(state.0),
                };
                RpcResponse::InstallSnapshot(
                    raft.install_full_snapshot(vote, snapshot)
                        .await
                        .map_err(|e| e.to_string()),
                )
            }
        };
        network::encode(&reply).map_err(RaftError::InvalidRpc)
    }

    /// Adds `node_id` at `addr` as a voter: first as a learner, which the leader brings up
    /// to date (waiting for it), then promoted. Leader only. Idempotent: a voter already
    /// at `addr` is left alone; a known node at another address is moved there first.
    ///
    /// Waits without bound while the learner catches up; callers put a deadline on it (a
    /// learner that never catches up stays a learner, which costs the quorum nothing).
    pub async fn add_voter(&self, node_id: u64, addr: &str) -> Result<(), RaftError> {
        let raft = &self.inner.raft;
        let known = {
            let m = raft.metrics().borrow_watched().clone();
            let membership = m.membership_config.membership();
            let is_voter = membership.voter_ids().any(|id| id == node_id);
            membership
                .get_node(&node_id)
                .map(|n| (n.addr.clone(), is_voter))
        };
        match known {
            Some((known_addr, true)) if known_addr == addr => return Ok(()),
            Some((known_addr, _)) if known_addr != addr => {
                let moved = BTreeMap::from([(node_id, BasicNode::new(addr))]);
                raft.change_membership(ChangeMembers::SetNodes(moved), true)
                    .await
                    .map_err(|e| map_write_error(&e))?;
            }
            _ => {}
        }
        let added = raft
            .add_learner(node_id, BasicNode::new(addr), false)
            .await
            .map_err(|e| map_write_error(&e))?;
        // openraft's own "caught up" (blocking add_learner) allows a lag of
        // `replication_lag_threshold` entries, which a young cluster's whole log is within:
        // an unreachable server would be promoted at once. Promote only once the learner
        // holds the entry that added it, i.e. everything before too.
        self.wait_for_match(node_id, added.log_id.index).await?;
        // Add to the voters of the current config (not a set computed from possibly stale
        // metrics), so concurrent joins cannot undo each other.
        raft.change_membership(
            ChangeMembers::AddVoterIds(std::collections::BTreeSet::from([node_id])),
            false,
        )
        .await
        .map_err(|e| map_write_error(&e))?;
        Ok(())
    }

    /// Waits until this leader has replicated up to `index` to `node_id`.
    async fn wait_for_match(&self, node_id: u64, index: u64) -> Result<(), RaftError> {
        let mut metrics = self.inner.raft.metrics();
        loop {
            {
                let m = metrics.borrow_and_update();
                let Some(replication) = m.replication.as_ref() else {
                    return Err(match (m.current_leader, &m.membership_config) {
                        (Some(leader), membership) => RaftError::NotLeader {
                            leader_id: leader,
                            leader_addr: membership
                                .membership()
                                .get_node(&leader)
                                .map(|n| n.addr.clone())
                                .unwrap_or_default(),
                        },
                        (None, _) => RaftError::NoLeader,
                    });
                };
                let matched = replication
                    .get(&node_id)
                    .and_then(|l| l.as_ref().map(|l| l.index));
                if matched.is_some_and(|m| m >= index) {
                    return Ok(());
                }
            }
            if metrics.changed().await.is_err() {
                return Err(RaftError::ShuttingDown);
            }
        }
    }

    /// Stops Raft: no new proposals, in-flight ones get a short grace period, the log is
    /// flushed and its files released. Idempotent; later calls wait for the first.
    pub async fn shutdown(&self) -> Result<(), RaftError> {
        let mut done = self.inner.shutdown_done.lock().await;
        if *done {
            return Ok(());
        }
        self.inner.shutdown.cancel();
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let mut tasks = tasks.into_iter();
        // The proposer first: it answers queued proposals and lets in-flight ones finish.
        let proposer = tasks.next();
        if let Some(mut proposer) = proposer
            && tokio::time::timeout(PROPOSAL_DRAIN_TIMEOUT, &mut proposer)
                .await
                .is_err()
        {
            tracing::warn!("raft proposals still in flight at shutdown");
            self.stop_raft().await;
            let _ = proposer.await;
        }
        self.stop_raft().await;
        for task in tasks {
            let _ = task.await;
        }
        let log = self
            .inner
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let result = match log {
            Some(log) => {
                let synced = log.sync().await;
                // Dropping the WAL joins its flush thread; keep that off the runtime.
                let _ = tokio::task::spawn_blocking(move || drop(log)).await;
                synced.map_err(RaftError::Storage)
            }
            None => Ok(()),
        };
        *done = true;
        tracing::info!(node_id = self.inner.cfg.node_id, "raft stopped");
        result
    }

    async fn stop_raft(&self) {
        if let Err(e) = self.inner.raft.shutdown().await {
            tracing::warn!(error = %e, "raft core ended abnormally");
        }
    }
}

pub(crate) fn forward_error(f: &ForwardToLeader<TypeConfig>) -> RaftError {
    match (f.leader_id, &f.leader_node) {
        (Some(leader_id), Some(node)) => RaftError::NotLeader {
            leader_id,
            leader_addr: node.addr.clone(),
        },
        (Some(leader_id), None) => RaftError::NotLeader {
            leader_id,
            leader_addr: String::new(),
        },
        _ => RaftError::NoLeader,
    }
}

pub(crate) fn fatal_error(f: &openraft::errors::Fatal<TypeConfig>) -> RaftError {
    match f {
        openraft::errors::Fatal::Stopped => RaftError::ShuttingDown,
        other => RaftError::Fatal(other.to_string()),
    }
}

/// Shapes openraft's write errors into ours (called once per waiting proposer).
pub(crate) fn map_write_error(
    e: &openraft::errors::RaftError<TypeConfig, ClientWriteError<TypeConfig>>,
) -> RaftError {
    match e {
        openraft::errors::RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
            forward_error(f)
        }
        openraft::errors::RaftError::APIError(ClientWriteError::LogEntryDiscarded(_)) => {
            RaftError::OutcomeUnknown
        }
        openraft::errors::RaftError::APIError(other) => RaftError::Fatal(other.to_string()),
        openraft::errors::RaftError::Fatal(f) => fatal_error(f),
    }
}
