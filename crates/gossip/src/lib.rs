//! praetor-gossip: LAN and WAN gossip membership, as Consul's `serf_lan` / `serf_wan`.
//!
//! A pool ([`SerfPool`], used through the [`Membership`] trait) binds UDP and TCP on one
//! address, gossips this agent's name and tags, detects failures (SWIM with suspicion and
//! Lifeguard), and reports:
//!
//! * [`Membership::members`]: every member with Consul's numeric status (alive, leaving,
//!   left, failed), its address, port, tags and protocol fields, serializable as one entry of
//!   `GET /v1/agent/members`;
//! * [`Membership::member_events`]: join / leave / failed / update / reap, for the leader's
//!   catalog reconcile;
//! * [`Membership::user_events`]: user events fired with [`Membership::fire`], each delivered
//!   once to every member;
//! * [`Membership::coordinate`], [`Membership::stats`], [`Membership::keyring`]: Vivaldi
//!   coordinates, `serf_lan`/`serf_wan` stats and keyring operations.
//!
//! Failed members are reconnected to every `reconnect_interval` and reaped after
//! `reconnect_timeout` (72 h); left members stay listed for `tombstone_timeout` (24 h).
//! [`AgentTags`] builds the tags a Consul agent gossips and [`ServerMeta`] reads a server's
//! back. Timing comes in three profiles ([`Timing::lan`], [`Timing::wan`], [`Timing::fast`]
//! for `-dev` and tests).
//!
//! # Use from the agent
//!
//! ```no_run
//! use praetor_gossip::{AgentTags, Bootstrap, EncryptKey, Encryption, GossipConfig, Membership,
//!     MemberEventKind, SerfPool, Timing};
//! # async fn agent() -> Result<(), praetor_gossip::Error> {
//! let mut cfg = GossipConfig::lan("node1", "0.0.0.0:8301".parse().expect("addr"));
//! cfg.tags = AgentTags {
//!     server: true,
//!     datacenter: "dc1".into(),
//!     node_id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
//!     build: "0.1.0:a8e2b1c3".into(),
//!     server_port: Some(8300),
//!     wan_join_port: Some(8302),
//!     bootstrap: Bootstrap::Expect(3),
//! }
//! .to_tags();
//! cfg.encryption = Some(Encryption::new(EncryptKey::from_base64(
//!     "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
//! )?));
//! cfg.snapshot_path = Some("/var/lib/praetor/serf/local.snapshot".into());
//! cfg.timing = Timing::lan(); // `-dev`: Timing::fast()
//! let lan = SerfPool::start(cfg).await?;
//!
//! // The leader: subscribe first, then reconcile everything once, then follow events
//! // (and reconcile everything again after a `Lagged`).
//! let mut events = lan.member_events();
//! for m in lan.members().await { /* register / mark serfHealth */ let _ = m; }
//! tokio::spawn(async move {
//!     while let Ok(ev) = events.recv().await {
//!         match ev.kind {
//!             MemberEventKind::Join | MemberEventKind::Update => {} // serfHealth passing
//!             MemberEventKind::Failed => {}                         // serfHealth critical
//!             MemberEventKind::Leave | MemberEventKind::Reap => {}  // deregister the node
//!         }
//!     }
//! });
//!
//! let n = lan.join(&["10.0.0.11".to_string()]).await?; // "Successfully joined … n nodes"
//! # let _ = n;
//! // Shutting down: graceful leave (unless skip_leave_on_interrupt), then stop.
//! lan.leave().await?;
//! lan.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The engine is al8n's `serf` crate (a port of HashiCorp serf/memberlist); no serf type
//! crosses this crate's API. It is not wire-compatible with Go Consul. This crate knows
//! nothing of the catalog. Consul packages: `agent/consul/server_serf.go`, `agent/metadata`.

mod config;
mod coordinate;
mod error;
mod event;
mod key;
mod keyring;
mod member;
mod membership;
mod pool;
mod tags;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use config::{Encryption, GossipConfig, PoolKind, Timing};
pub use coordinate::Coordinate;
pub use error::Error;
pub use event::{MemberEvent, MemberEventKind, UserEvent};
pub use key::EncryptKey;
pub use keyring::{KeyringOp, KeyringResponse};
pub use member::{CONSUL_PROTOCOL, Member, MemberStatus, ProtocolVersions};
pub use membership::Membership;
pub use pool::SerfPool;
pub use tags::{AgentTags, Bootstrap, ROLE_CLIENT, ROLE_SERVER, ServerMeta, wan_member_name};
