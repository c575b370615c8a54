//! The scenarios of issue 8 and the order they run in.

pub mod dnsqps;
pub mod kv;
pub mod memory;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde::Serialize;

use crate::load::{Conn, Flavor, Target};
use crate::procs::{self, Etcd, Praetor};
use crate::report::{Series, Table};

/// What to run and how long.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `praetor` binary.
    pub praetor: PathBuf,
    /// Temp dir for every data dir and log.
    pub root: PathBuf,
    /// Interleaved runs per system and case.
    pub runs: usize,
    /// Warm-up before each measured run.
    pub warmup: Duration,
    /// Length of each measured run.
    pub measure: Duration,
    /// Client counts for PUT.
    pub clients: Vec<usize>,
    /// Clients for the GET cases.
    pub get_clients: usize,
    /// Blocking watchers.
    pub watchers: usize,
    /// The watchers ask `?stale` (no consistency check when woken).
    pub watch_stale: bool,
    /// Keys written before the "after N keys" RSS reading.
    pub fill_keys: usize,
    /// Seconds per dnsperf run.
    pub dns_secs: u64,
    /// Run etcd and Knot alongside.
    pub peers: bool,
}

/// A scenario name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Scenario {
    /// Time from `agent -dev` to a leader.
    Leader,
    /// RSS of idle agents and of a server after many keys.
    Rss,
    /// PUT and GET against a single server.
    Kv,
    /// DNS QPS.
    Dns,
    /// Blocking watchers.
    Watch,
    /// PUT and GET against 3 servers.
    Cluster,
}

/// Every table and plot series produced.
#[derive(Debug, Default, Serialize)]
pub struct Output {
    /// One table per scenario (KV has two).
    pub tables: Vec<Table>,
    /// Throughput against clients.
    pub series: Vec<Series>,
}

/// Runs `which` in the order of issue 8's list, cheapest processes first.
pub async fn run(cfg: &Config, which: &[Scenario]) -> anyhow::Result<Output> {
    let mut out = Output::default();
    let on = |s| which.contains(&s);
    if on(Scenario::Leader) {
        out.tables.push(memory::leader(cfg).await?);
    }
    if on(Scenario::Rss) {
        out.tables.push(memory::rss(cfg).await?);
    }
    if on(Scenario::Kv) || on(Scenario::Dns) || on(Scenario::Watch) {
        let root = cfg.root.join("single");
        let server = Praetor::server(
            &cfg.praetor,
            &root.join("praetor"),
            "s1",
            "127.0.0.1",
            1,
            None,
        )?;
        server.wait_leader(Duration::from_secs(60)).await?;
        let etcd = if cfg.peers && on(Scenario::Kv) {
            Some(procs::etcd(&root.join("etcd"), 1).await?.remove(0))
        } else {
            None
        };
        if on(Scenario::Kv) {
            let p = Target {
                flavor: Flavor::Praetor,
                addr: server.http,
            };
            let e = etcd.as_ref().map(|e| Target {
                flavor: Flavor::Etcd,
                addr: e.http,
            });
            let (tables, series) = kv::run(cfg, "single server", 1, p, e).await?;
            out.tables.extend(tables);
            out.series.extend(series);
        }
        drop(etcd);
        if on(Scenario::Dns) {
            dnsqps::register_web(&server).await?;
            out.tables.push(dnsqps::run(cfg, &server).await?);
        }
        if on(Scenario::Watch) {
            out.tables.push(watch::run(cfg, &server).await?);
        }
    }
    if on(Scenario::Cluster) {
        let root = cfg.root.join("cluster");
        let servers = procs::praetor_cluster(&cfg.praetor, &root).await?;
        let leader = praetor_leader(&servers).await?;
        let p = Target {
            flavor: Flavor::Praetor,
            addr: servers[leader].http,
        };
        let members = if cfg.peers {
            procs::etcd(&root.join("etcd"), 3).await?
        } else {
            Vec::new()
        };
        let e = match members.is_empty() {
            true => None,
            false => Some(Target {
                flavor: Flavor::Etcd,
                addr: members[etcd_leader(&members).await?].http,
            }),
        };
        let (tables, series) = kv::run(cfg, "3 servers, requests to the leader", 3, p, e).await?;
        out.tables.extend(tables);
        out.series.extend(series);
    }
    Ok(out)
}

/// Index of the server whose RPC address `/v1/status/leader` names (servers differ by IP).
async fn praetor_leader(servers: &[Praetor]) -> anyhow::Result<usize> {
    let mut c = Conn::open(servers[0].http).await?;
    let (_, _, body) = c
        .call(Method::GET, "/v1/status/leader", Bytes::new())
        .await?;
    let leader: String = serde_json::from_slice(&body)?;
    let ip = leader
        .rsplit_once(':')
        .map_or(leader.as_str(), |(ip, _)| ip);
    servers
        .iter()
        .position(|s| s.gossip.starts_with(&format!("{ip}:")))
        .ok_or_else(|| anyhow::anyhow!("leader {leader} is none of the servers"))
}

/// Index of the etcd member whose `/v3/maintenance/status` says it is the leader.
async fn etcd_leader(members: &[Etcd]) -> anyhow::Result<usize> {
    for (i, m) in members.iter().enumerate() {
        let mut c = Conn::open(m.http).await?;
        let (_, _, body) = c
            .call(
                Method::POST,
                "/v3/maintenance/status",
                Bytes::from_static(b"{}"),
            )
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        if v["header"]["member_id"] == v["leader"] {
            return Ok(i);
        }
    }
    anyhow::bail!("no etcd member is the leader")
}
