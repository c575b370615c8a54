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
