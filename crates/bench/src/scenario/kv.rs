//! KV throughput and latency, Praetor against etcd, runs interleaved A B A B ….

use crate::load::{self, Consistency, Op, Stats, Target};
use crate::report::{Series, Summary, Table, ms, rate, ratio};
use crate::scenario::Config;

/// Results of one comparison: Praetor's and (with peers) etcd's medians.
pub struct Pair {
    /// Praetor's medians.
    pub praetor: Summary,
    /// etcd's medians, if it ran.
    pub peer: Option<Summary>,
}

/// `cfg.runs` interleaved runs of `op` at `clients`, Praetor first in each pair.
pub async fn compare(
    cfg: &Config,
    praetor: Target,
    peer: Option<Target>,
    op: Op,
    clients: usize,
) -> anyhow::Result<Pair> {
    let (mut a, mut b): (Vec<Stats>, Vec<Stats>) = (Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        eprintln!("  {op:?} × {clients} clients, run {}/{}", run + 1, cfg.runs);
        a.push(load::run(praetor, op, clients, cfg.warmup, cfg.measure).await?);
        if let Some(peer) = peer {
            b.push(load::run(peer, op, clients, cfg.warmup, cfg.measure).await?);
        }
    }
    Ok(Pair {
        praetor: Summary::of(&a),
        peer: peer.map(|_| Summary::of(&b)),
    })
}

fn latencies(s: &Summary) -> String {
    format!("{} / {} / {}", ms(s.p50_us), ms(s.p99_us), ms(s.p999_us))
}

/// A table row: case, both throughputs, their ratio, both latency triples, p99 ratio.
fn row(case: String, pair: &Pair) -> Vec<String> {
    let p = &pair.praetor;
    match &pair.peer {
        Some(e) => vec![
            case,
            rate(p.throughput),
            rate(e.throughput),
            ratio(p.throughput, e.throughput),
            latencies(p),
            latencies(e),
            ratio(p.p99_us, e.p99_us),
        ],
        None => vec![
            case,
            rate(p.throughput),
            "–".into(),
            "n/a".into(),
            latencies(p),
            "–".into(),
            "n/a".into(),
        ],
    }
}

const HEADER: [&str; 7] = [
    "case",
    "Praetor req/s",
    "etcd req/s",
    "Praetor/etcd",
    "Praetor p50 / p99 / p99.9 ms",
    "etcd p50 / p99 / p99.9 ms",
    "p99 Praetor/etcd",
];

/// PUT at every client count, then GET in the three consistency modes at
/// `cfg.get_clients`; `label` names the topology in titles ("single server"), `nodes` in
/// the plot's legend (1 or 3).
pub async fn run(
    cfg: &Config,
    label: &str,
    nodes: usize,
    praetor: Target,
    peer: Option<Target>,
) -> anyhow::Result<(Vec<Table>, Vec<Series>)> {
    eprintln!("KV PUT, {label}");
    let mut put = Table::new(
        &format!("KV PUT, {label} (256-byte values, 1,000 keys)"),
        &HEADER,
    );
    let (mut sp, mut se) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for &clients in &cfg.clients {
        let pair = compare(cfg, praetor, peer, Op::Put, clients).await?;
        errors += pair.praetor.errors + pair.peer.as_ref().map_or(0, |e| e.errors);
        sp.push((clients, pair.praetor.throughput));
        if let Some(e) = &pair.peer {
            se.push((clients, e.throughput));
        }
        put.row(row(format!("PUT, {clients} clients"), &pair));
    }
    put.notes.push(format!(
        "Medians of {} interleaved runs of {:?} each after {:?} warm-up; failed requests: {errors}.",
        cfg.runs, cfg.measure, cfg.warmup
    ));

    eprintln!("KV GET, {label}");
    load::preload(praetor, load::KEYS).await?;
    if let Some(peer) = peer {
        load::preload(peer, load::KEYS).await?;
    }
    let mut get = Table::new(
        &format!("KV GET, {label} ({} clients)", cfg.get_clients),
        &HEADER,
    );
    let modes = [
        (Consistency::Default, "default vs linearizable"),
        (Consistency::Consistent, "`?consistent` vs linearizable"),
        (Consistency::Stale, "`?stale` vs serializable"),
    ];
    for (c, name) in modes {
        let pair = compare(cfg, praetor, peer, Op::Get(c), cfg.get_clients).await?;
        errors += pair.praetor.errors + pair.peer.as_ref().map_or(0, |e| e.errors);
        get.row(row(format!("GET {name}"), &pair));
    }
    get.notes
        .push(format!("Failed requests over PUT and GET: {errors}."));
    let mut series = vec![Series {
        name: format!(
            "Praetor, {nodes} server{}",
            if nodes == 1 { "" } else { "s" }
        ),
        points: sp,
    }];
    if !se.is_empty() {
        series.push(Series {
            name: format!("etcd, {nodes} member{}", if nodes == 1 { "" } else { "s" }),
            points: se,
        });
    }
    Ok((vec![put, get], series))
}
