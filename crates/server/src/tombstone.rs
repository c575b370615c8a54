//! Tombstone garbage collection (Consul's `TombstoneGC`): deleted KV keys leave
//! tombstones so list indexes never go backwards for a client that just saw a delete;
//! the leader reaps them once they are older than the tombstone TTL.

use std::time::Duration;

use praetor_state::Command;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::Server;

/// How long a tombstone is kept before it may be reaped (Consul: 15 minutes).
pub const DEFAULT_TOMBSTONE_TTL: Duration = Duration::from_secs(15 * 60);

impl Server {
    /// Every `ttl`, while this server leads, reaps the tombstones that were already
    /// present one `ttl` ago: each lives at least `ttl` and at most `2 × ttl`.
    pub(crate) async fn reap_tombstones(self, ttl: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(ttl);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate
        let mut mark = None;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let status = self.raft.status();
            if !status.is_leader {
                // A new leader starts its own marks; ours may predate its log.
                mark = None;
                continue;
            }
            if let Some(upto_index) = mark.filter(|&upto| upto > 0) {
                match self
                    .raft
                    .propose(Command::TombstoneReap { upto_index })
                    .await
                {
                    Ok(_) => debug!(index = upto_index, "reaped tombstones"),
                    Err(e) => warn!(error = %e, "tombstone reap failed"),
                }
            }
            mark = Some(self.store.view().applied_index());
        }
    }
}
