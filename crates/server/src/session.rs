//! Sessions and transactions (Consul's `Session` and `Txn` endpoints), and the leader's
//! session TTL timers (Consul's `session_ttl.go`).
//!
//! Every write this server proposes that may arm or check a lock-delay is stamped with
//! the leader's clock ([`stamped`]), so replicas never read their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use praetor_state::{Command, CommandResponse, StateView, Table};
use praetor_types::{QueryMeta, QueryOptions, Session, TxnOp, TxnOutcome};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{Server, ServerError};

/// How often the leader looks for lapsed session TTLs.
const TTL_TICK: Duration = Duration::from_millis(200);

/// Consul's grace: a TTL session is invalidated after `TTL × 2` without a renew.
const TTL_MULTIPLIER: u32 = 2;

/// `cmd` stamped with this server's clock, in Unix milliseconds.
pub(crate) fn stamped(cmd: Command) -> Command {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Command::At {
        now,
        cmd: Box::new(cmd),
    }
}

/// The leader's TTL deadlines, by session ID. Only meaningful on the leader: a new
/// leader starts every TTL session afresh with a full `2 × TTL`, as Consul does.
#[derive(Debug, Default)]
pub(crate) struct SessionTimers {
    deadlines: Mutex<HashMap<String, Instant>>,
}

impl SessionTimers {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.deadlines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// (Re)starts `session`'s timer, if it has a TTL.
    fn reset(&self, session: &Session) {
        if let Some(ttl) = session.ttl_duration() {
            self.lock()
                .insert(session.id.clone(), Instant::now() + ttl * TTL_MULTIPLIER);
        }
    }
}

impl Server {
    /// Creates a session through Raft and starts its TTL timer; answers its ID.
    pub(crate) async fn local_session_create(
        &self,
        mut session: Session,
    ) -> Result<String, ServerError> {
        if session.id.is_empty() {
            session.id = uuid::Uuid::new_v4().to_string();
        }
        let cmd = stamped(Command::SessionCreate(Box::new(session.clone())));
        self.raft.propose(cmd).await?.response?;
        self.session_timers.reset(&session);
        Ok(session.id)
    }

    /// Destroys (invalidates) a session; an unknown one is not an error.
    pub(crate) async fn local_session_destroy(&self, id: String) -> Result<bool, ServerError> {
        self.session_timers.lock().remove(&id);
        let cmd = stamped(Command::SessionDestroy { id });
        self.raft.propose(cmd).await?.response?;
        Ok(true)
    }

    /// Resets a session's TTL timer (on the leader); empty for an unknown session.
    pub(crate) async fn local_session_renew(
        &self,
        id: String,
    ) -> Result<(QueryMeta, Vec<Session>), ServerError> {
        let (meta, found) = self
            .blocking_query(
                QueryOptions::default(),
                || self.store.watch_table(Table::Sessions),
                |view| {
                    let s = view.session(&id);
                    (s.index, s.value)
                },
            )
            .await?;
        if let Some(s) = &found {
            self.session_timers.reset(s);
        }
        Ok((meta, found.into_iter().collect()))
    }

    /// Session reads: one (`info`), a node's, or all; blocking on the sessions table.
    pub(crate) async fn local_session_read(
        &self,
        select: impl Fn(&StateView) -> Vec<Session>,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, Vec<Session>), ServerError> {
        self.blocking_query(
            opts,
            || self.store.watch_table(Table::Sessions),
            |view| (view.sessions().index, select(view)),
        )
        .await
    }

    /// A transaction: read-only ones are answered from this server's state (after the
    /// consistency check) without Raft; others go through Raft as one entry.
    pub(crate) async fn local_txn(
        &self,
        ops: Vec<TxnOp>,
        opts: QueryOptions,
    ) -> Result<(Option<QueryMeta>, TxnOutcome), ServerError> {
        if ops.iter().all(TxnOp::is_read) {
            let opts = QueryOptions {
                min_index: 0,
                ..opts
            };
            let (meta, outcome) = self
                .blocking_query(
                    opts,
                    || self.store.watch_table(Table::Sessions),
                    |view| (view.applied_index(), view.txn_read(&ops)),
                )
                .await?;
            return Ok((Some(meta), outcome));
        }
        let applied = self.raft.propose(stamped(Command::Txn(ops))).await?;
        match applied.response? {
            CommandResponse::Txn(outcome) => Ok((None, outcome)),
            _ => Err(ServerError::UnexpectedResponse("txn")),
        }
    }

    /// While this server leads, invalidates TTL sessions not renewed within `2 × TTL`.
    /// Gaining leadership restarts every TTL session's timer with a full `2 × TTL`.
    pub(crate) async fn run_session_timers(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(TTL_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leading = false;
        let mut seen_index = None;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if !self.raft.status().is_leader {
                leading = false;
                continue;
            }
            let view = self.store.view();
            let sessions = view.sessions();
            if !leading {
                info!(
                    count = sessions.value.len(),
                    "restarting session TTL timers"
                );
                self.session_timers.lock().clear();
                seen_index = None;
                leading = true;
            }
            if seen_index != Some(sessions.index) {
                // Sessions created elsewhere (a previous leader, a snapshot) get a timer;
                // destroyed ones lose theirs.
                let mut timers = self.session_timers.lock();
                timers.retain(|id, _| view.session(id).value.is_some());
                for s in &sessions.value {
                    if let Some(ttl) = s.ttl_duration() {
                        timers
                            .entry(s.id.clone())
                            .or_insert_with(|| Instant::now() + ttl * TTL_MULTIPLIER);
                    }
                }
                seen_index = Some(sessions.index);
            }
            let now = Instant::now();
            let expired: Vec<String> = self
                .session_timers
                .lock()
                .iter()
                .filter(|(_, deadline)| **deadline <= now)
                .map(|(id, _)| id.clone())
                .collect();
            for id in expired {
                debug!(session = %id, "session TTL lapsed");
                match self.local_session_destroy(id.clone()).await {
                    Ok(_) => info!(session = %id, "invalidated session after its TTL"),
                    Err(e) => warn!(session = %id, error = %e, "session invalidation failed"),
                }
            }
        }
    }
}

/// Shared handle to the timers, held by [`Server`].
pub(crate) type SharedTimers = Arc<SessionTimers>;
