//! Blocking queries and read consistency (Consul's `blockingQuery` and `consistentRead`).

use std::time::Duration;

use praetor_raft::ReadMode;
use praetor_state::{StateView, Watch};
use praetor_types::{Consistency, QueryMeta, QueryOptions};
use rand::RngExt as _;

/// What a blocking query waits on: one watch, or several (a read over several tables).
pub(crate) trait Changes: Send {
    /// Completes once anything watched has changed; cancel-safe, as [`Watch::changed`].
    fn changed(&mut self) -> impl Future<Output = ()> + Send;
}

impl Changes for Watch {
    fn changed(&mut self) -> impl Future<Output = ()> + Send {
        Watch::changed(self)
    }
}

impl Changes for Vec<Watch> {
    /// Completes when any of the watches does (each `changed` is cancel-safe, so the
    /// ones that lose the race lose nothing).
    async fn changed(&mut self) {
        let mut pending: Vec<_> = self.iter_mut().map(|w| Box::pin(w.changed())).collect();
        std::future::poll_fn(|cx| {
            for fut in &mut pending {
                if fut.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(());
                }
            }
            std::task::Poll::Pending
        })
        .await;
    }
}

use crate::{Server, ServerError};

impl Server {
    /// Runs `query` honouring `opts`: the consistency check first, then, when
    /// `opts.min_index` is set, re-runs it each time `watch()` fires until its index is
    /// above `min_index` or the wait (default, capped, plus up to 1/16 jitter) ends.
    ///
    /// `watch` is called before each run so a write between the run and the wait still
    /// wakes it. The answered index is never 0.
    pub(crate) async fn blocking_query<T, W: Changes>(
        &self,
        opts: QueryOptions,
        watch: impl Fn() -> W,
        query: impl Fn(&StateView) -> (u64, T),
    ) -> Result<(QueryMeta, T), ServerError> {
        let deadline = tokio::time::Instant::now() + self.blocking_wait(opts.max_wait);
        loop {
            self.check_consistency(opts.consistency).await?;
            // A read that will not block (no index to wait past) needs no watch.
            let mut watch = (opts.min_index != 0).then(&watch);
            let (index, result) = query(&self.store.view());
            let index = index.max(1);
            let Some(watch) = watch.as_mut().filter(|_| index <= opts.min_index) else {
                return Ok((self.query_meta(index, opts.consistency), result));
            };
            tokio::select! {
                () = watch.changed() => {}
                // Nothing the query read has changed since it ran, so its result is current.
                () = tokio::time::sleep_until(deadline) => {
                    return Ok((self.query_meta(index, opts.consistency), result));
                }
            }
        }
    }

    /// The wait of a blocking query: `requested` or the default, capped, plus jitter in
    /// `[0, wait/16)` so clients woken together do not return together.
    pub(crate) fn blocking_wait(&self, requested: Option<Duration>) -> Duration {
        let wait = requested
            .filter(|w| !w.is_zero())
            .unwrap_or(self.default_query_time)
            .min(self.max_query_time);
        let jitter_ns = (wait / 16).as_nanos() as u64;
        let jitter = if jitter_ns == 0 {
            0
        } else {
            rand::rng().random_range(0..jitter_ns)
        };
        wait + Duration::from_nanos(jitter)
    }

    /// Default reads need the leader's lease, consistent reads a quorum round; stale
    /// reads are served from the local replica as it is.
    pub(crate) async fn check_consistency(
        &self,
        consistency: Consistency,
    ) -> Result<(), ServerError> {
        let mode = match consistency {
            Consistency::Stale => return Ok(()),
            Consistency::Default => ReadMode::Lease,
            Consistency::Consistent => ReadMode::ReadIndex,
        };
        Ok(self.raft.ensure_linearizable(mode).await?)
    }

    fn query_meta(&self, index: u64, consistency: Consistency) -> QueryMeta {
        let status = self.raft.status();
        QueryMeta {
            index: index.max(1),
            known_leader: status.leader_id.is_some() && !status.lease_lost,
            last_contact: status.last_contact.unwrap_or_default(),
            consistency,
        }
    }
}
