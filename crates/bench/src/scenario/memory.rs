//! Resident memory of idle agents and of a server holding many keys, and the time from
//! starting `praetor agent -dev` to a leader.

use std::time::{Duration, Instant};

use crate::load::{self, Flavor, Target};
use crate::procs::{self, Praetor, settled_rss_kib};
use crate::report::{Table, median, mib, ratio};
use crate::scenario::Config;

const SETTLE: Duration = Duration::from_secs(20);

fn met(ok: bool) -> String {
    if ok { "yes" } else { "no" }.to_owned()
}

/// Idle client agent, idle server, server after `cfg.fill_keys` keys (etcd alongside).
pub async fn rss(cfg: &Config) -> anyhow::Result<Table> {
    eprintln!(
        "RSS: idle server, idle client agent, {} keys",
        cfg.fill_keys
    );
    let root = cfg.root.join("rss");
    let server = Praetor::server(
        &cfg.praetor,
        &root.join("server"),
        "s1",
        "127.0.0.1",
        1,
        None,
    )?;
    server.wait_leader(Duration::from_secs(60)).await?;
    let client = Praetor::client(
        &cfg.praetor,
        &root.join("client"),
        "127.0.0.2",
        &server.gossip,
    )?;
    client.wait_leader(Duration::from_secs(60)).await?;
    let etcd = if cfg.peers {
        Some(procs::etcd(&root.join("etcd"), 1).await?.remove(0))
    } else {
        None
    };
    let server_idle = settled_rss_kib(server.proc.pid(), SETTLE).await?;
    let client_idle = settled_rss_kib(client.proc.pid(), SETTLE).await?;
    let etcd_idle = match &etcd {
        Some(e) => Some(settled_rss_kib(e.proc.pid(), SETTLE).await?),
        None => None,
    };
    let target = Target {
        flavor: Flavor::Praetor,
        addr: server.http,
    };
    load::fill(target, cfg.fill_keys, 32).await?;
    let server_full = settled_rss_kib(server.proc.pid(), SETTLE).await?;
    let etcd_full = match &etcd {
        Some(e) => {
            let t = Target {
                flavor: Flavor::Etcd,
                addr: e.http,
            };
            load::fill(t, cfg.fill_keys, 32).await?;
            Some(settled_rss_kib(e.proc.pid(), SETTLE).await?)
        }
        None => None,
    };

    let mut t = Table::new(
        "Resident memory (VmRSS)",
        &["process", "Praetor", "etcd", "Praetor/etcd", "goal", "met"],
    );
    let peer = |v: Option<u64>| v.map_or("–".to_owned(), |k| mib(k as f64));
    let r = |a: u64, b: Option<u64>| b.map_or("n/a".to_owned(), |b| ratio(a as f64, b as f64));
    t.row(vec![
        "idle client agent".into(),
        mib(client_idle as f64),
        "–".into(),
        "n/a".into(),
        "≤ 10 MB".into(),
        met(client_idle * 1024 <= 10_000_000),
    ]);
    t.row(vec![
        "idle server (single, -data-dir)".into(),
        mib(server_idle as f64),
        peer(etcd_idle),
        r(server_idle, etcd_idle),
        "≤ 20 MB".into(),
        met(server_idle * 1024 <= 20_000_000),
    ]);
    t.row(vec![
        format!("server after {} keys of 256 bytes", cfg.fill_keys),
        mib(server_full as f64),
        peer(etcd_full),
        r(server_full, etcd_full),
        String::new(),
        String::new(),
    ]);
    t.notes.push(
        "Idle: three VmRSS readings 200 ms apart within 1% of each other. etcd has no \
         client-agent role."
            .into(),
    );
    Ok(t)
}

/// `praetor agent -dev` start → `/v1/status/leader` non-empty, `cfg.runs` times, with
/// etcd (fresh single member) start → a linearizable range answered, interleaved.
pub async fn leader(cfg: &Config) -> anyhow::Result<Table> {
    eprintln!("time to leader");
    let (mut p, mut e) = (Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        let dir = cfg.root.join(format!("leader-{run}"));
        let dev = Praetor::dev(&cfg.praetor, &dir.join("dev"))?;
        dev.wait_leader(Duration::from_secs(60)).await?;
        p.push(dev.proc.started.elapsed().as_secs_f64() * 1000.0);
        drop(dev);
        if cfg.peers {
            let start = Instant::now();
            let etcd = procs::etcd(&dir.join("etcd"), 1).await?;
            e.push(start.elapsed().as_secs_f64() * 1000.0);
            drop(etcd);
        }
    }
    let mut t = Table::new(
        "Time from start to a leader",
        &[
            "",
            "Praetor `agent -dev`",
            "etcd (single member)",
            "Praetor/etcd",
        ],
    );
    let (pm, em) = (median(&p), median(&e));
    t.row(vec![
        format!("median of {}", cfg.runs),
        format!("{pm:.0} ms"),
        if e.is_empty() {
            "–".into()
        } else {
            format!("{em:.0} ms")
        },
        ratio(pm, em),
    ]);
    t.notes.push(
        "Praetor: from spawn until `/v1/status/leader` names a leader; etcd: from spawn until \
         a linearizable range succeeds. Both polled every 5 ms."
            .into(),
    );
    Ok(t)
}
