//! An in-memory [`Membership`] for other crates' tests (feature `testing`): members are
//! set by the test, calls are recorded, nothing touches the network.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::broadcast;

use crate::{
    CONSUL_PROTOCOL, Coordinate, Error, KeyringOp, KeyringResponse, Member, MemberEvent,
    MemberStatus, Membership, UserEvent,
};

/// A call made on a [`FakeMembership`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// `join(addrs)`.
    Join(Vec<String>),
    /// `leave()`.
    Leave,
    /// `force_leave(node, prune)`.
    ForceLeave(String, bool),
    /// `fire(name, payload)`.
    Fire(String, Bytes),
    /// `shutdown()`.
    Shutdown,
}

/// A pool whose member list the test controls.
pub struct FakeMembership {
    name: String,
    addr: SocketAddr,
    members: Mutex<Vec<Member>>,
    calls: Mutex<Vec<Call>>,
    member_tx: broadcast::Sender<MemberEvent>,
    user_tx: broadcast::Sender<UserEvent>,
}

impl FakeMembership {
    /// A pool with only this member, alive, with `tags`.
    pub fn new(name: &str, addr: SocketAddr, tags: BTreeMap<String, String>) -> Self {
        let me = Member {
            name: name.to_string(),
            addr: addr.ip(),
            port: addr.port(),
            tags,
            status: MemberStatus::Alive,
            protocol: CONSUL_PROTOCOL,
        };
        Self {
            name: name.to_string(),
            addr,
            members: Mutex::new(vec![me]),
            calls: Mutex::new(Vec::new()),
            member_tx: broadcast::channel(64).0,
            user_tx: broadcast::channel(64).0,
        }
    }

    /// Adds or replaces a member (by name).
    pub fn upsert(&self, m: Member) {
        let mut ms = self.members.lock().expect("lock");
        ms.retain(|x| x.name != m.name);
        ms.push(m);
        ms.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Sends a member event to subscribers.
    pub fn emit(&self, ev: MemberEvent) {
        let _ = self.member_tx.send(ev);
    }

    /// Every call made so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    fn record(&self, c: Call) {
        self.calls.lock().expect("lock").push(c);
    }
}

#[async_trait::async_trait]
impl Membership for FakeMembership {
    fn local_name(&self) -> &str {
        &self.name
    }
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    fn encryption_enabled(&self) -> bool {
        false
    }
    async fn members(&self) -> Vec<Member> {
        self.members.lock().expect("lock").clone()
    }
    async fn local_member(&self) -> Member {
        let ms = self.members.lock().expect("lock");
        ms.iter()
            .find(|m| m.name == self.name)
            .cloned()
            .expect("own member is kept")
    }
    /// Counts every address as joined, except those starting with `bad`.
    async fn join(&self, addrs: &[String]) -> Result<usize, Error> {
        self.record(Call::Join(addrs.to_vec()));
        let n = addrs.iter().filter(|a| !a.starts_with("bad")).count();
        if n == 0 {
            return Err(Error::Join("Failed to join any nodes.".into()));
        }
        Ok(n)
    }
    async fn leave(&self) -> Result<(), Error> {
        self.record(Call::Leave);
        Ok(())
    }
    /// Turns the member `left` (or removes it with `prune`), as the real pool does.
    async fn force_leave(&self, node: &str, prune: bool) -> Result<(), Error> {
        self.record(Call::ForceLeave(node.to_string(), prune));
        let mut ms = self.members.lock().expect("lock");
        let Some(i) = ms.iter().position(|m| m.name == node) else {
            return Err(Error::NoSuchNode(node.to_string()));
        };
        if prune {
            ms.remove(i);
        } else if ms[i].status == MemberStatus::Failed {
            ms[i].status = MemberStatus::Left;
        }
        Ok(())
    }
    async fn set_tags(&self, tags: BTreeMap<String, String>) -> Result<(), Error> {
        let mut ms = self.members.lock().expect("lock");
        if let Some(me) = ms.iter_mut().find(|m| m.name == self.name) {
            me.tags = tags;
        }
        Ok(())
    }
    /// Delivers the event to this member's subscribers only.
    async fn fire(&self, name: &str, payload: Bytes) -> Result<(), Error> {
        self.record(Call::Fire(name.to_string(), payload.clone()));
        let _ = self.user_tx.send(UserEvent {
            name: name.to_string(),
            payload,
            ltime: 0,
            coalesce: false,
        });
        Ok(())
    }
    fn member_events(&self) -> broadcast::Receiver<MemberEvent> {
        self.member_tx.subscribe()
    }
    fn user_events(&self) -> broadcast::Receiver<UserEvent> {
        self.user_tx.subscribe()
    }
    fn coordinate(&self) -> Option<Coordinate> {
        None
    }
    fn cached_coordinate(&self, _node: &str) -> Option<Coordinate> {
        None
    }
    async fn stats(&self) -> BTreeMap<String, String> {
        let n = self.members.lock().expect("lock").len();
        BTreeMap::from([("members".to_string(), n.to_string())])
    }
    async fn keyring(&self, _op: KeyringOp) -> Result<KeyringResponse, Error> {
        Ok(KeyringResponse::default())
    }
    async fn shutdown(&self) -> Result<(), Error> {
        self.record(Call::Shutdown);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_force_leave_follows_the_real_rules() {
        let f = FakeMembership::new(
            "a",
            "127.0.0.1:8301".parse().expect("addr"),
            BTreeMap::new(),
        );
        let mut b = f.local_member().await;
        b.name = "b".into();
        b.status = MemberStatus::Failed;
        f.upsert(b);
        f.force_leave("b", false).await.expect("force-leave");
        assert_eq!(f.members().await[1].status, MemberStatus::Left);
        f.force_leave("b", true).await.expect("prune");
        assert_eq!(f.members().await.len(), 1);
        assert!(matches!(
            f.force_leave("b", false).await,
            Err(Error::NoSuchNode(_))
        ));
        assert!(f.join(&["bad".into()]).await.is_err());
        assert_eq!(f.calls().len(), 4);
    }
}
