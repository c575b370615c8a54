//! `RaftConfig`: this crate's slice of the agent's runtime configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::SnapshotPolicy;

use crate::RaftError;

/// Entries between snapshots, as Consul's `raft_snapshot_threshold` default.
pub const DEFAULT_SNAPSHOT_THRESHOLD: u64 = 16384;
/// Leader heartbeat period.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
/// Lower bound of the randomised election timeout (the upper bound is twice this).
pub const DEFAULT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// Most entries kept in the log behind the newest snapshot, so slightly lagging followers
/// catch up from the log instead of a full snapshot.
const MAX_LOG_KEPT_BEHIND_SNAPSHOT: u64 = 2048;
/// The longest sending and installing one snapshot on a follower may take.
const INSTALL_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(60);

/// How this server takes part in Raft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfig {
    /// This server's Raft id.
    pub node_id: u64,
    /// The advertised server (RPC) address other servers reach us on.
    pub rpc_addr: String,
    /// The agent's data dir; Raft files go under `raft/`. `None`: in-memory log (`-dev`).
    pub data_dir: Option<PathBuf>,
    /// Form a single-voter cluster when the log is fresh (`-bootstrap`).
    pub bootstrap: bool,
    /// Entries applied since the last snapshot that trigger a new one.
    pub snapshot_threshold: u64,
    /// Leader heartbeat period.
    pub heartbeat_interval: Duration,
    /// Minimum election timeout; each election waits a random time in `[t, 2t)`.
    pub election_timeout: Duration,
}

impl RaftConfig {
    /// A config with fast default timings for `node_id` advertised at `rpc_addr`;
    /// in-memory, not bootstrapping.
    pub fn new(node_id: u64, rpc_addr: impl Into<String>) -> RaftConfig {
        RaftConfig {
            node_id,
            rpc_addr: rpc_addr.into(),
            data_dir: None,
            bootstrap: false,
            snapshot_threshold: DEFAULT_SNAPSHOT_THRESHOLD,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            election_timeout: DEFAULT_ELECTION_TIMEOUT,
        }
    }

    /// The openraft configuration these settings stand for.
    pub(crate) fn to_openraft(&self) -> Result<Arc<openraft::Config>, RaftError> {
        let heartbeat = millis(self.heartbeat_interval).max(1);
        let election_min = millis(self.election_timeout).max(heartbeat + 1);
        let keep = self
            .snapshot_threshold
            .clamp(1, MAX_LOG_KEPT_BEHIND_SNAPSHOT);
        let cfg = openraft::Config {
            cluster_name: "praetor".to_string(),
            heartbeat_interval: heartbeat,
            election_timeout_min: election_min,
            election_timeout_max: election_min * 2,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_threshold.max(1)),
            max_in_snapshot_log_to_keep: keep,
            // A follower further behind than this gets a snapshot instead of entries.
            replication_lag_threshold: self.snapshot_threshold.max(1).saturating_mul(2),
            // Pre-Vote: a flapping or partitioned server cannot depose a healthy leader.
            enable_pre_vote: Some(true),
            // A whole snapshot travels in one install call (streamed in chunks by the
            // transport); openraft's 200 ms default is too short for a large one.
            install_snapshot_timeout: millis(INSTALL_SNAPSHOT_TIMEOUT),
            ..Default::default()
        };
        let cfg = cfg
            .validate()
            .map_err(|e| RaftError::Fatal(format!("invalid raft config: {e}")))?;
        Ok(Arc::new(cfg))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_with_pre_vote() {
        let cfg = RaftConfig::new(1, "127.0.0.1:8300")
            .to_openraft()
            .expect("valid");
        assert_eq!(cfg.enable_pre_vote, Some(true));
        assert_eq!(cfg.heartbeat_interval, 100);
        assert_eq!(
            (cfg.election_timeout_min, cfg.election_timeout_max),
            (1000, 2000)
        );
        assert_eq!(
            cfg.max_in_snapshot_log_to_keep,
            MAX_LOG_KEPT_BEHIND_SNAPSHOT
        );
    }

    #[test]
    fn zero_timings_are_clamped_not_rejected() {
        let mut c = RaftConfig::new(1, "a");
        c.heartbeat_interval = Duration::ZERO;
        c.election_timeout = Duration::ZERO;
        c.snapshot_threshold = 0;
        let cfg = c.to_openraft().expect("clamped to valid values");
        assert!(cfg.election_timeout_min > cfg.heartbeat_interval);
    }
}
