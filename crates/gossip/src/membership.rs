//! The membership API the rest of Praetor uses; it never names serf types.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use tokio::sync::broadcast;

use crate::{Coordinate, Error, KeyringOp, KeyringResponse, Member, MemberEvent, UserEvent};

/// A gossip pool this agent is a member of (the LAN pool, or a server's WAN pool).
///
/// Implemented by [`crate::SerfPool`]; other crates can fake it in their tests.
#[async_trait::async_trait]
pub trait Membership: Send + Sync {
    /// This member's name.
    fn local_name(&self) -> &str;

    /// The address other members reach this one on (the bound port when started on port 0).
    fn local_addr(&self) -> SocketAddr;

    /// Whether gossip is encrypted (a key is set and outgoing traffic is encrypted).
    fn encryption_enabled(&self) -> bool;

    /// Every known member, this one included, sorted by name; failed and left members stay
    /// listed until reaped.
    async fn members(&self) -> Vec<Member>;

    /// This member as the pool sees it.
    async fn local_member(&self) -> Member;

    /// Joins the pool through the given addresses (`host`, `host:port`, `ip`, `[v6]:port`;
    /// default port 8301 LAN / 8302 WAN). Returns how many were contacted; an error only
    /// when none was. Events from before the join are not replayed (as `consul join`).
    async fn join(&self, addrs: &[String]) -> Result<usize, Error>;

    /// Leaves gracefully: broadcasts the intent and waits, for a bounded time, so that the
    /// others see `left` rather than `failed`. Call [`shutdown`](Self::shutdown) after.
    async fn leave(&self) -> Result<(), Error>;

    /// Turns a failed member into `left` (Consul's `force-leave`); `prune` also removes it
    /// from the member list. Unknown names are an error.
    async fn force_leave(&self, node: &str, prune: bool) -> Result<(), Error>;

    /// Replaces this member's tags and gossips them.
    async fn set_tags(&self, tags: BTreeMap<String, String>) -> Result<(), Error>;

    /// Fires a user event to every member (this one included). Name plus payload must fit in
    /// 512 bytes.
    async fn fire(&self, name: &str, payload: Bytes) -> Result<(), Error>;

    /// Member events from now on. A lagging receiver gets `RecvError::Lagged`; it should then
    /// reconcile against [`members`](Self::members), as it must when it starts.
    fn member_events(&self) -> broadcast::Receiver<MemberEvent>;

    /// User events from now on.
    fn user_events(&self) -> broadcast::Receiver<UserEvent>;

    /// This member's Vivaldi network coordinate.
    fn coordinate(&self) -> Option<Coordinate>;

    /// The last coordinate heard from `node`, if any.
    fn cached_coordinate(&self, node: &str) -> Option<Coordinate>;

    /// Counters for `/v1/agent/self` `Stats.serf_lan` / `serf_wan` (every value a string):
    /// `members`, `failed`, `left`, `health_score`, `member_time`, `event_time`,
    /// `query_time`, `intent_queue`, `event_queue`, `query_queue`, `encrypted`,
    /// `coordinate_resets`.
    async fn stats(&self) -> BTreeMap<String, String>;

    /// Runs a keyring operation on every member and gathers the answers.
    async fn keyring(&self, op: KeyringOp) -> Result<KeyringResponse, Error>;

    /// Stops all gossip at once, without leaving: the others will see this member `failed`.
    /// Safe to call more than once.
    async fn shutdown(&self) -> Result<(), Error>;
}
