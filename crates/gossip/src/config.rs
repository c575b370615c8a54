//! How to start a pool: address, name, tags, key, timing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::EncryptKey;

/// Which of Consul's two pools this is; decides the default join port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// The datacenter's pool of every agent (`serf_lan`, port 8301).
    Lan,
    /// The servers' global pool (`serf_wan`, port 8302); member names are `<node>.<dc>`.
    Wan,
}

impl PoolKind {
    /// Consul's default port, used for join addresses given without one.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Lan => 8301,
            Self::Wan => 8302,
        }
    }
}

/// Failure-detection and housekeeping timing (Consul's `gossip_lan` / `gossip_wan` keys plus
/// serf's reap and reconnect settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// How often a random member is probed (`probe_interval`).
    pub probe_interval: Duration,
    /// How long to wait for a probe's ack before indirect probes (`probe_timeout`).
    pub probe_timeout: Duration,
    /// Suspicion timeout multiplier (`suspicion_mult`).
    pub suspicion_mult: usize,
    /// Retransmissions of a broadcast, times log(N+1) (`retransmit_mult`).
    pub retransmit_mult: usize,
    /// How often gossip messages are sent (`gossip_interval`).
    pub gossip_interval: Duration,
    /// Members gossiped to per interval (`gossip_nodes`).
    pub gossip_nodes: usize,
    /// Full state sync with a random member over TCP.
    pub push_pull_interval: Duration,
    /// TCP timeout (join, push/pull, fallback probes).
    pub tcp_timeout: Duration,
    /// How long a dead member's name stays reserved for its old address.
    pub dead_node_reclaim_time: Duration,
    /// How often failed and left members are checked for reaping.
    pub reap_interval: Duration,
    /// How often a reconnect to a failed member is tried.
    pub reconnect_interval: Duration,
    /// How long a failed member is reconnected to before it is reaped (`reconnect_timeout`).
    pub reconnect_timeout: Duration,
    /// How long a left member stays listed as `left`.
    pub tombstone_timeout: Duration,
    /// How long `leave` waits for its intent to be broadcast.
    pub broadcast_timeout: Duration,
    /// How long `leave` keeps answering probes after broadcasting, so peers see `left`, not
    /// `failed`.
    pub leave_propagate_delay: Duration,
}

impl Timing {
    /// Consul's LAN defaults: probe 1 s / 500 ms, suspicion ×4, gossip 200 ms to 3 nodes,
    /// reconnect for 72 h, left members kept 24 h.
    pub fn lan() -> Self {
        Self {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            suspicion_mult: 4,
            retransmit_mult: 4,
            gossip_interval: Duration::from_millis(200),
            gossip_nodes: 3,
            push_pull_interval: Duration::from_secs(30),
            tcp_timeout: Duration::from_secs(10),
            dead_node_reclaim_time: Duration::from_secs(30),
            reap_interval: Duration::from_secs(15),
            reconnect_interval: Duration::from_secs(30),
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(24 * 3600),
            broadcast_timeout: Duration::from_secs(5),
            leave_propagate_delay: Duration::from_secs(1),
        }
    }

    /// Consul's WAN defaults: probe 5 s / 3 s, suspicion ×6, gossip 500 ms to 4 nodes.
    pub fn wan() -> Self {
        Self {
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(3),
            suspicion_mult: 6,
            gossip_interval: Duration::from_millis(500),
            gossip_nodes: 4,
            push_pull_interval: Duration::from_secs(60),
            tcp_timeout: Duration::from_secs(30),
            ..Self::lan()
        }
    }

    /// `-dev` and tests: Consul's dev-mode gossip (probe 100 ms / 100 ms, suspicion ×3,
    /// gossip every 100 ms) with fast housekeeping, so a stopped member is `failed` within
    /// about a second and leave takes a fraction of one.
    pub fn fast() -> Self {
        Self {
            probe_interval: Duration::from_millis(100),
            probe_timeout: Duration::from_millis(100),
            suspicion_mult: 3,
            retransmit_mult: 4,
            gossip_interval: Duration::from_millis(100),
            gossip_nodes: 3,
            push_pull_interval: Duration::from_secs(5),
            tcp_timeout: Duration::from_secs(2),
            dead_node_reclaim_time: Duration::from_secs(1),
            reap_interval: Duration::from_millis(500),
            reconnect_interval: Duration::from_secs(1),
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(24 * 3600),
            broadcast_timeout: Duration::from_secs(2),
            leave_propagate_delay: Duration::from_millis(200),
        }
    }
}

/// Gossip encryption (`encrypt`, `encrypt_verify_incoming`, `encrypt_verify_outgoing`).
#[derive(Debug, Clone)]
pub struct Encryption {
    /// The key all members share.
    pub key: EncryptKey,
    /// Reject unencrypted incoming messages (Consul's default: true).
    pub verify_incoming: bool,
    /// Encrypt outgoing messages (Consul's default: true).
    pub verify_outgoing: bool,
}

impl Encryption {
    /// Encryption with a key, both verify flags on (Consul's defaults).
    pub fn new(key: EncryptKey) -> Self {
        Self {
            key,
            verify_incoming: true,
            verify_outgoing: true,
        }
    }
}

/// Everything needed to start one pool.
#[derive(Debug, Clone)]
pub struct GossipConfig {
    /// LAN or WAN.
    pub kind: PoolKind,
    /// This member's name (WAN: `<node>.<dc>`, see [`crate::wan_member_name`]).
    pub node_name: String,
    /// Address to bind TCP and UDP on; port 0 picks a free port (read it back with
    /// [`crate::Membership::local_addr`]).
    pub bind: SocketAddr,
    /// Address to advertise instead of the bound one (`-advertise`); its port should match.
    pub advertise: Option<SocketAddr>,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
    /// Gossip encryption, if any.
    pub encryption: Option<Encryption>,
    /// Timing profile.
    pub timing: Timing,
    /// Serf snapshot file (`<data-dir>/serf/local.snapshot`) so a restart rejoins previous
    /// members; `None` for `-dev`.
    pub snapshot_path: Option<PathBuf>,
    /// Rejoin from the snapshot even after a graceful leave (`rejoin_after_leave`).
    pub rejoin_after_leave: bool,
}

impl GossipConfig {
    /// A LAN pool with Consul's default timing and no encryption.
    pub fn lan(node_name: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            kind: PoolKind::Lan,
            node_name: node_name.into(),
            bind,
            advertise: None,
            tags: BTreeMap::new(),
            encryption: None,
            timing: Timing::lan(),
            snapshot_path: None,
            rejoin_after_leave: false,
        }
    }

    /// A WAN pool with Consul's WAN timing; `node_name` should be `<node>.<dc>`.
    pub fn wan(node_name: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            kind: PoolKind::Wan,
            timing: Timing::wan(),
            ..Self::lan(node_name, bind)
        }
    }
}
