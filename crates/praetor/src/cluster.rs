//! Cluster wiring of the agent: gossip pools with Consul's tags, the member list fed to
//! the leader's reconcile, `-bootstrap-expect`, and `-join` / `-retry-join`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use praetor_agent::config::{GossipTuning, RuntimeConfig};
use praetor_gossip::{
    AgentTags, Bootstrap, EncryptKey, Encryption, GossipConfig, MemberStatus, Membership, SerfPool,
    ServerMeta, Timing, wan_member_name,
};
use praetor_server::{Member, MemberState, Server, raft_id};
use praetor_types::member::Member as GossipMember;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// The `build` tag: the Consul version we answer as, then Praetor's.
fn build() -> String {
    format!(
        "{}:{}",
        praetor_types::CONSUL_COMPAT_VERSION,
        praetor_types::PRAETOR_VERSION
    )
}

/// The `-bootstrap` / `-bootstrap-expect` tag value.
pub fn bootstrap_mode(cfg: &RuntimeConfig) -> Bootstrap {
    if cfg.dev || cfg.bootstrap || cfg.bootstrap_expect == 1 {
        Bootstrap::Single
    } else if cfg.bootstrap_expect > 1 {
        Bootstrap::Expect(cfg.bootstrap_expect)
    } else {
        Bootstrap::None
    }
}

/// A timing profile: `-dev` (or a `probe_interval` under a second, as tests set) starts
/// from the fast profile, others from Consul's; `gossip_lan` / `gossip_wan` keys override.
fn timing(base: Timing, dev: bool, tuning: &GossipTuning) -> Timing {
    let fast = dev
        || tuning
            .probe_interval
            .is_some_and(|p| p < Duration::from_secs(1));
    let mut t = if fast { Timing::fast() } else { base };
    if let Some(v) = tuning.probe_interval {
        t.probe_interval = v;
    }
    if let Some(v) = tuning.probe_timeout {
        t.probe_timeout = v;
    }
    if let Some(v) = tuning.gossip_interval {
        t.gossip_interval = v;
    }
    if let Some(v) = tuning.suspicion_mult {
        t.suspicion_mult = v as usize;
    }
    if let Some(v) = tuning.retransmit_mult {
        t.retransmit_mult = v as usize;
    }
    if let Some(v) = tuning.gossip_nodes {
        t.gossip_nodes = v as usize;
    }
    t
}

/// Starts the LAN pool (and, on servers with a WAN port, the WAN pool).
pub async fn start_pools(
    cfg: &RuntimeConfig,
    rpc_port: Option<u16>,
) -> anyhow::Result<(Arc<dyn Membership>, Option<Arc<dyn Membership>>)> {
    let wan_port = u16::try_from(cfg.ports.serf_wan)
        .ok()
        .filter(|_| cfg.server);
    let tags = AgentTags {
        server: cfg.server,
        datacenter: cfg.datacenter.clone(),
        node_id: cfg.node_id.to_string(),
        build: build(),
        server_port: rpc_port,
        wan_join_port: wan_port,
        bootstrap: if cfg.server {
            bootstrap_mode(cfg)
        } else {
            Bootstrap::None
        },
    };
    let encryption = match &cfg.encrypt {
        Some(key) => Some(Encryption::new(
            EncryptKey::from_base64(key).context("invalid encrypt key")?,
        )),
        None => None,
    };
    if !cfg.dev
        && let Some(dir) = &cfg.data_dir
    {
        let serf = dir.join("serf");
        std::fs::create_dir_all(&serf).with_context(|| format!("creating {}", serf.display()))?;
    }
    let lan_port = u16::try_from(cfg.ports.serf_lan).unwrap_or(8301);
    let mut lan_cfg = GossipConfig::lan(
        cfg.node_name.clone(),
        SocketAddr::new(cfg.serf_bind_addr_lan, lan_port),
    );
    if cfg.advertise_addr != cfg.serf_bind_addr_lan && lan_port != 0 {
        lan_cfg.advertise = Some(SocketAddr::new(cfg.advertise_addr, lan_port));
    }
    lan_cfg.tags = tags.to_tags();
    lan_cfg.encryption = encryption.clone();
    lan_cfg.timing = timing(Timing::lan(), cfg.dev, &cfg.gossip_lan);
    lan_cfg.timing.reconnect_timeout = cfg.reconnect_timeout;
    lan_cfg.rejoin_after_leave = cfg.rejoin_after_leave;
    if !cfg.dev {
        lan_cfg.snapshot_path = cfg
            .data_dir
            .as_ref()
            .map(|d| d.join("serf").join("local.snapshot"));
    }
    let lan = SerfPool::start(lan_cfg).await.with_context(|| {
        format!(
            "Failed to start LAN gossip on {}:{lan_port}",
            cfg.serf_bind_addr_lan
        )
    })?;
    info!(address = %lan.local_addr(), network = "lan", "Started gossip");
    let lan: Arc<dyn Membership> = Arc::new(lan);

    let wan = match wan_port {
        Some(port) => {
            let mut wan_cfg = GossipConfig::wan(
                wan_member_name(&cfg.node_name, &cfg.datacenter),
                SocketAddr::new(cfg.serf_bind_addr_wan, port),
            );
            if cfg.advertise_addr_wan != cfg.serf_bind_addr_wan && port != 0 {
                wan_cfg.advertise = Some(SocketAddr::new(cfg.advertise_addr_wan, port));
            }
            wan_cfg.tags = tags.to_wan_tags();
            wan_cfg.encryption = encryption;
            wan_cfg.timing = timing(Timing::wan(), cfg.dev, &cfg.gossip_wan);
            wan_cfg.rejoin_after_leave = cfg.rejoin_after_leave;
            if !cfg.dev {
                wan_cfg.snapshot_path = cfg
                    .data_dir
                    .as_ref()
                    .map(|d| d.join("serf").join("remote.snapshot"));
            }
            let wan = SerfPool::start(wan_cfg).await.with_context(|| {
                format!(
                    "Failed to start WAN gossip on {}:{port}",
                    cfg.serf_bind_addr_wan
                )
            })?;
            info!(address = %wan.local_addr(), network = "wan", "Started gossip");
            Some(Arc::new(wan) as Arc<dyn Membership>)
        }
        None => None,
    };
    Ok((lan, wan))
}

/// A gossip member as the leader's reconcile sees it; `None` for another datacenter's
/// or a member without a node ID.
fn catalog_member(m: &GossipMember, datacenter: &str) -> Option<Member> {
    if m.tags.get("dc").map(String::as_str) != Some(datacenter) {
        return None;
    }
    let state = match m.status {
        MemberStatus::Alive | MemberStatus::Leaving => MemberState::Alive,
        MemberStatus::Failed => MemberState::Failed,
        MemberStatus::Left => MemberState::Left,
        MemberStatus::None => return None,
    };
    let meta = ServerMeta::from_member(m);
    Some(Member {
        name: m.name.clone(),
        id: m.tags.get("id").cloned().unwrap_or_default(),
        addr: m.addr.to_string(),
        server_port: meta.as_ref().map(|s| s.rpc_addr.port()),
        version: meta
            .map(|s| s.version)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| praetor_types::CONSUL_COMPAT_VERSION.to_owned()),
        state,
    })
}

/// Keeps the server's member list equal to the LAN pool's: once now, then on every
/// member event (the whole list again after a lag).
pub async fn feed_members(
    lan: Arc<dyn Membership>,
    server: Server,
    datacenter: String,
    stop: CancellationToken,
) {
    let mut events = lan.member_events();
    loop {
        let members = lan
            .members()
            .await
            .iter()
            .filter_map(|m| catalog_member(m, &datacenter))
            .collect();
        server.set_members(members);
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            ev = events.recv() => match ev {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// `-bootstrap-expect N` (Consul's `maybeBootstrap`): once N servers of this datacenter,
/// all expecting N, are alive in gossip, the lowest-named one initialises Raft with all of
/// them as voters; the others wait for it. A server whose Raft already holds a
/// configuration (restarted, or added by a leader) never bootstraps.
pub async fn bootstrap_expect(
    lan: Arc<dyn Membership>,
    server: Server,
    cfg: Arc<RuntimeConfig>,
    stop: CancellationToken,
) {
    let expect = cfg.bootstrap_expect;
    let mut events = lan.member_events();
    let mut waiting_logged = false;
    loop {
        match server.raft_initialized().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                error!(error = %e, "cannot read the raft state; not bootstrapping");
                return;
            }
        }
        let members = lan.members().await;
        let mut servers: Vec<ServerMeta> = members
            .iter()
            .filter(|m| m.status == MemberStatus::Alive)
            .filter_map(ServerMeta::from_member)
            .filter(|s| s.datacenter == cfg.datacenter)
            .collect();
        let conflicting = servers
            .iter()
            .find(|s| s.bootstrap != Bootstrap::Expect(expect));
        if let Some(c) = conflicting {
            error!(
                member = %c.name,
                "Member has a conflicting expect value. All nodes should expect the same number."
            );
        } else if servers.len() >= expect as usize {
            servers.sort_by(|a, b| a.name.cmp(&b.name));
            if servers[0].name == cfg.node_name {
                let voters: BTreeMap<u64, String> = servers
                    .iter()
                    .map(|s| (raft_id(&s.node_id), s.rpc_addr.to_string()))
                    .collect();
                let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
                match server.bootstrap_cluster(voters).await {
                    Ok(true) => {
                        info!(servers = ?names, "Found expected number of peers, attempting bootstrap");
                        return;
                    }
                    Ok(false) => return,
                    Err(e) => error!(error = %e, "failed to bootstrap cluster"),
                }
            } else if !waiting_logged {
                info!(bootstrapper = %servers[0].name, "Found expected number of peers; waiting for the lowest-named server to bootstrap");
                waiting_logged = true;
            }
        } else if !waiting_logged {
            info!(
                expect,
                seen = servers.len(),
                "Waiting for the expected number of servers before bootstrapping"
            );
        }
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            ev = events.recv() => if matches!(ev, Err(RecvError::Closed)) { return },
            // Raft may get its configuration from a leader without any gossip event.
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// `-join` (`start_join`): joins once at start; an error when none could be joined.
pub async fn start_join(lan: &Arc<dyn Membership>, addrs: &[String]) -> anyhow::Result<()> {
    if addrs.is_empty() {
        return Ok(());
    }
    info!(cluster = "LAN", "Joining cluster...");
    let n = lan
        .join(addrs)
        .await
        .with_context(|| format!("Failed to join {}", addrs.join(", ")))?;
    info!(
        cluster = "LAN",
        num_agents = n,
        "Join cluster completed. Synced with initial agents"
    );
    Ok(())
}

/// `-retry-join`: tries every `interval` until one address answers; after `max` failed
/// attempts (0: never) gives up with Consul's error, which stops the agent.
pub async fn retry_join(
    pool: Arc<dyn Membership>,
    cluster: &'static str,
    addrs: Vec<String>,
    interval: Duration,
    max: u32,
    stop: CancellationToken,
) -> Result<(), String> {
    info!(cluster, "Joining cluster...");
    let mut attempt = 0u32;
    loop {
        match pool.join(&addrs).await {
            Ok(n) => {
                info!(
                    cluster,
                    num_agents = n,
                    "Join cluster completed. Synced with initial agents"
                );
                return Ok(());
            }
            Err(e) => {
                attempt += 1;
                if max > 0 && attempt > max {
                    let variant = if cluster == "WAN" { "WAN " } else { "" };
                    return Err(format!("agent: max join {variant}retry exhausted, exiting"));
                }
                warn!(
                    cluster,
                    retry_interval = %humantime::format_duration(interval),
                    error = %e,
                    "Join cluster failed, will retry"
                );
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    }
}
