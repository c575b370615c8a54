//! [`SerfPool`]: a [`Membership`] over al8n's serf (memberlist over UDP + TCP).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use serf::MemberlistOptions;
use serf::Options;
use serf::delegate::CompositeDelegate;
use serf::event::{Event, EventProducer, EventSubscriber};
use serf::net::{NetTransportOptions, NodeId, TokioNetTransport};
use serf::tokio::{TokioSocketAddrResolver, TokioTcp, TokioTcpSerf};
use serf::types::{EncryptionAlgorithm, MaybeResolvedAddress, Tags};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    Coordinate, Error, GossipConfig, KeyringOp, KeyringResponse, Member, MemberEvent,
    MemberEventKind, Membership, PoolKind, UserEvent,
};

type Transport = TokioNetTransport<NodeId, TokioSocketAddrResolver, TokioTcp>;
type Delegate = CompositeDelegate<NodeId, SocketAddr>;
type Serf = TokioTcpSerf<NodeId, TokioSocketAddrResolver, Delegate>;
type Subscriber = EventSubscriber<Transport, Delegate>;

/// How many events a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_CAPACITY: usize = 1024;

/// A running gossip pool (Consul's `serf_lan` or `serf_wan`).
///
/// Start it with [`SerfPool::start`]; use it through [`Membership`]. Stop it with
/// [`Membership::shutdown`] (after [`Membership::leave`] for a graceful exit); dropping it
/// without doing so still stops serf, in a task of its own.
pub struct SerfPool {
    serf: Serf,
    kind: PoolKind,
    name: String,
    local_addr: SocketAddr,
    leave_timeout: Duration,
    member_tx: broadcast::Sender<MemberEvent>,
    user_tx: broadcast::Sender<UserEvent>,
    stop: CancellationToken,
    pump: Mutex<Option<JoinHandle<()>>>,
}

impl SerfPool {
    /// Binds UDP and TCP on `config.bind` and starts gossiping (alone until [`join`]).
    ///
    /// [`join`]: Membership::join
    pub async fn start(config: GossipConfig) -> Result<Self, Error> {
        let id = NodeId::new(config.node_name.as_str()).map_err(|e| Error::InvalidNodeName {
            name: config.node_name.clone(),
            reason: e.to_string(),
        })?;
        let t = &config.timing;
        let mut ml = MemberlistOptions::lan()
            .with_probe_interval(t.probe_interval)
            .with_probe_timeout(t.probe_timeout)
            .with_suspicion_mult(t.suspicion_mult)
            .with_retransmit_mult(t.retransmit_mult)
            .with_gossip_interval(t.gossip_interval)
            .with_gossip_nodes(t.gossip_nodes)
            .with_push_pull_interval(t.push_pull_interval)
            .with_timeout(t.tcp_timeout)
            .with_dead_node_reclaim_time(t.dead_node_reclaim_time);
        if let Some(enc) = &config.encryption {
            // serf's footgun: the key alone does not encrypt; the algorithm and the verify
            // flags must be set too, and `encryption_enabled` is checked after start.
            ml = ml
                .with_primary_key(enc.key.to_secret())
                .with_encryption_algo(EncryptionAlgorithm::NoPadding)
                .with_gossip_verify_outgoing(enc.verify_outgoing)
                .with_gossip_verify_incoming(enc.verify_incoming);
        }
        let opts = Options::new()
            .with_memberlist_options(ml)
            .with_tags(config.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .with_reap_interval(t.reap_interval)
            .with_reconnect_interval(t.reconnect_interval)
            .with_reconnect_timeout(t.reconnect_timeout)
            .with_tombstone_timeout(t.tombstone_timeout)
            .with_broadcast_timeout(t.broadcast_timeout)
            .with_leave_propagate_delay(t.leave_propagate_delay)
            .with_snapshot_path(config.snapshot_path.clone())
            .with_rejoin_after_leave(config.rejoin_after_leave);
        let mut net =
            NetTransportOptions::new(id).with_bind_addresses([config.bind].into_iter().collect());
        if let Some(adv) = config.advertise {
            net = net.with_advertise_address(adv);
        }
        let (producer, subscriber) = EventProducer::unbounded();
        let serf = Serf::with_event_producer(net, opts, producer)
            .await
            .map_err(|e| Error::Start(e.to_string()))?;

        if let Some(enc) = &config.encryption
            && enc.verify_outgoing
            && !serf.encryption_enabled()
        {
            let _ = serf.shutdown().await;
            return Err(Error::Start(
                "encryption key set but gossip is not encrypted".into(),
            ));
        }

        let local_addr = *serf.advertise_node().address();
        let (member_tx, _) = broadcast::channel(EVENT_CAPACITY);
        let (user_tx, _) = broadcast::channel(EVENT_CAPACITY);
        let stop = CancellationToken::new();
        let pump = tokio::spawn(pump_events(
            subscriber,
            member_tx.clone(),
            user_tx.clone(),
            stop.clone(),
        ));
        info!(node = %config.node_name, addr = %local_addr, pool = ?config.kind,
            encrypted = serf.encryption_enabled(), "gossip pool started");
        Ok(Self {
            serf,
            kind: config.kind,
            name: config.node_name,
            local_addr,
            leave_timeout: t.broadcast_timeout * 2 + t.leave_propagate_delay + t.tcp_timeout,
            member_tx,
            user_tx,
            stop,
            pump: Mutex::new(Some(pump)),
        })
    }

    /// Resolves one join address; a missing port is the pool's default.
    async fn resolve(&self, addr: &str) -> Result<Vec<SocketAddr>, String> {
        let found = match JoinTarget::parse(addr, self.kind.default_port()) {
            JoinTarget::Addr(sa) => return Ok(vec![sa]),
            JoinTarget::Host(host, port) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(Iterator::collect::<Vec<_>>),
        };
        match found {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) => Err(format!("Failed to resolve {addr}: no addresses")),
            Err(e) => Err(format!("Failed to resolve {addr}: {e}")),
        }
    }
}

/// A join address as given by the user: an IP (with or without port) or a host name.
#[derive(Debug, PartialEq, Eq)]
enum JoinTarget {
    Addr(SocketAddr),
    Host(String, u16),
}

impl JoinTarget {
    /// `1.2.3.4`, `1.2.3.4:8301`, `::1`, `[::1]`, `[::1]:8301`, `host`, `host:8301`.
    fn parse(addr: &str, default_port: u16) -> Self {
        if let Ok(sa) = addr.parse::<SocketAddr>() {
            return Self::Addr(sa);
        }
        let bare = addr.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Self::Addr(SocketAddr::new(ip, default_port));
        }
        match addr.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => match port.parse::<u16>() {
                Ok(p) => Self::Host(host.to_string(), p),
                Err(_) => Self::Host(addr.to_string(), default_port),
            },
            _ => Self::Host(addr.to_string(), default_port),
        }
    }
}

impl Drop for SerfPool {
    fn drop(&mut self) {
        self.stop.cancel();
        // A safety net for error paths: serf's tasks hold its sockets until it is shut
        // down, and shutting down is async. Nothing waits for this task; a pool that was
        // shut down already makes it a no-op.
        if !matches!(self.serf.state(), serf::SerfState::Shutdown)
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let serf = self.serf.clone();
            rt.spawn(async move {
                let _ = serf.shutdown().await;
            });
        }
    }
}

/// Forwards serf's events to our broadcast channels until `stop` or serf's channel closes.
async fn pump_events(
    sub: Subscriber,
    member_tx: broadcast::Sender<MemberEvent>,
    user_tx: broadcast::Sender<UserEvent>,
    stop: CancellationToken,
) {
    loop {
        let ev = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            ev = sub.recv() => match ev {
                Ok(ev) => ev,
                Err(_) => return,
            },
        };
        match ev {
            Event::Member(e) => {
                let kind = match e.ty() {
                    serf::event::MemberEventType::Join => MemberEventKind::Join,
                    serf::event::MemberEventType::Leave => MemberEventKind::Leave,
                    serf::event::MemberEventType::Failed => MemberEventKind::Failed,
                    serf::event::MemberEventType::Update => MemberEventKind::Update,
                    serf::event::MemberEventType::Reap => MemberEventKind::Reap,
                };
                let members: Vec<Member> = e
                    .members()
                    .iter()
                    .map(crate::member::member_from_serf)
                    .collect();
                for m in &members {
                    info!(node = %m.name, addr = %m.addr, event = %kind, "member event");
                }
                // No receiver is fine: nobody is interested yet.
                let _ = member_tx.send(MemberEvent { kind, members });
            }
            Event::User(u) => {
                debug!(name = %u.name(), ltime = u64::from(u.ltime()), "user event");
                let _ = user_tx.send(UserEvent {
                    name: u.name().to_string(),
                    payload: u.payload().clone(),
                    ltime: u.ltime().into(),
                    coalesce: u.cc(),
                });
            }
            Event::Query(_) => {}
        }
    }
}

#[async_trait::async_trait]
impl Membership for SerfPool {
    fn local_name(&self) -> &str {
        &self.name
    }

    fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    fn encryption_enabled(&self) -> bool {
        self.serf.encryption_enabled()
    }

    async fn members(&self) -> Vec<Member> {
        let mut v: Vec<Member> = self
            .serf
            .members()
            .await
            .iter()
            .map(crate::member::member_from_serf)
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    async fn local_member(&self) -> Member {
        crate::member::member_from_serf(&self.serf.local_member().await)
    }

    async fn join(&self, addrs: &[String]) -> Result<usize, Error> {
        let mut errors = Vec::new();
        let mut targets = Vec::new();
        for a in addrs {
            match self.resolve(a).await {
                Ok(v) => targets.extend(v),
                Err(e) => errors.push(e),
            }
        }
        // One address at a time: serf's `join_many` future is not `Send`.
        let mut joined = 0;
        for a in targets {
            match self
                .serf
                .join(MaybeResolvedAddress::Resolved(a), true)
                .await
            {
                Ok(_) => joined += 1,
                Err(e) => errors.push(format!("Failed to join {a}: {e}")),
            }
        }
        if joined == 0 {
            let detail = errors.join("; ");
            warn!(addrs = ?addrs, error = %detail, "join failed");
            return Err(Error::Join(if detail.is_empty() {
                "Failed to join any nodes.".into()
            } else {
                detail
            }));
        }
        info!(addrs = ?addrs, joined, "joined gossip pool");
        Ok(joined)
    }

    async fn leave(&self) -> Result<(), Error> {
        info!(node = %self.name, "leaving gossip pool");
        match tokio::time::timeout(self.leave_timeout, self.serf.leave()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Leave(e.to_string())),
            Err(_) => Err(Error::Leave(format!(
                "timed out after {:?} waiting for the leave to propagate",
                self.leave_timeout
            ))),
        }
    }

    async fn force_leave(&self, node: &str, prune: bool) -> Result<(), Error> {
        if !self
            .serf
            .members()
            .await
            .iter()
            .any(|m| m.node().id().as_str() == node)
        {
            return Err(Error::NoSuchNode(node.to_string()));
        }
        let id = NodeId::new(node).map_err(|_| Error::NoSuchNode(node.to_string()))?;
        info!(node, prune, "force leaving node");
        let r = if prune {
            self.serf.remove_failed_node_prune(id).await
        } else {
            self.serf.remove_failed_node(id).await
        };
        r.map_err(|e| Error::ForceLeave(e.to_string()))
    }

    async fn set_tags(&self, tags: BTreeMap<String, String>) -> Result<(), Error> {
        let tags: Tags = tags.into_iter().collect();
        self.serf
            .set_tags(tags)
            .await
            .map_err(|e| Error::Tags(e.to_string()))
    }

    async fn fire(&self, name: &str, payload: Bytes) -> Result<(), Error> {
        self.serf
            .user_event(name, payload, false)
            .await
            .map_err(|e| Error::UserEvent(e.to_string()))
    }

    fn member_events(&self) -> broadcast::Receiver<MemberEvent> {
        self.member_tx.subscribe()
    }

    fn user_events(&self) -> broadcast::Receiver<UserEvent> {
        self.user_tx.subscribe()
    }

    fn coordinate(&self) -> Option<Coordinate> {
        self.serf
            .cooridate()
            .ok()
            .map(|c| Coordinate::from_serf(&c))
    }

    fn cached_coordinate(&self, node: &str) -> Option<Coordinate> {
        let id = NodeId::new(node).ok()?;
        let c = self.serf.cached_coordinate(&id).ok()??;
        Some(Coordinate::from_serf(&c))
    }

    async fn stats(&self) -> BTreeMap<String, String> {
        let s = self.serf.stats().await;
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_string(), v);
        };
        put("members", s.get_members().to_string());
        put("failed", s.get_failed().to_string());
        put("left", s.get_left().to_string());
        put("health_score", s.get_health_score().to_string());
        put("member_time", s.get_member_time().to_string());
        put("event_time", s.get_event_time().to_string());
        put("query_time", s.get_query_time().to_string());
        put("intent_queue", s.get_intent_queue().to_string());
        put("event_queue", s.get_event_queue().to_string());
        put("query_queue", s.get_query_queue().to_string());
        put("encrypted", s.get_encrypted().to_string());
        put(
            "coordinate_resets",
            s.get_coordinate_resets().unwrap_or(0).to_string(),
        );
        m
    }

    async fn keyring(&self, op: KeyringOp) -> Result<KeyringResponse, Error> {
        let km = self.serf.key_manager();
        let r = match op {
            KeyringOp::List => km.list_keys().await,
            KeyringOp::Install(k) => km.install_key(k.to_secret(), None).await,
            KeyringOp::Use(k) => km.use_key(k.to_secret(), None).await,
            KeyringOp::Remove(k) => km.remove_key(k.to_secret(), None).await,
        }
        .map_err(|e| Error::Keyring(e.to_string()))?;
        let count = |h: &std::collections::HashMap<serf::types::SecretKey, usize>| {
            h.iter().map(|(k, n)| (k.to_base64(), *n)).collect()
        };
        Ok(KeyringResponse {
            keys: count(r.keys()),
            primary_keys: count(r.primary_keys()),
            num_nodes: r.num_nodes(),
            num_resp: r.num_resp(),
            num_err: r.num_err(),
            messages: r
                .messages()
                .iter()
                .map(|(id, msg)| (id.to_string(), msg.to_string()))
                .collect(),
        })
    }

    async fn shutdown(&self) -> Result<(), Error> {
        self.stop.cancel();
        let pump = self.pump.lock().map(|mut p| p.take()).unwrap_or(None);
        let r = self.serf.shutdown().await;
        if let Some(p) = pump {
            let _ = p.await;
        }
        info!(node = %self.name, "gossip pool stopped");
        r.map_err(|e| Error::Stop(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::JoinTarget;

    #[test]
    fn join_addresses_get_the_pool_port_when_they_have_none() {
        let t = |a: &str| JoinTarget::parse(a, 8302);
        let addr = |s: &str| JoinTarget::Addr(s.parse().expect("socket addr"));
        assert_eq!(t("10.0.0.1"), addr("10.0.0.1:8302"));
        assert_eq!(t("10.0.0.1:9000"), addr("10.0.0.1:9000"));
        assert_eq!(t("::1"), addr("[::1]:8302"));
        assert_eq!(t("[::1]"), addr("[::1]:8302"));
        assert_eq!(t("[::1]:9000"), addr("[::1]:9000"));
        assert_eq!(
            t("consul.example"),
            JoinTarget::Host("consul.example".into(), 8302)
        );
        assert_eq!(
            t("consul.example:9000"),
            JoinTarget::Host("consul.example".into(), 9000)
        );
    }
}
