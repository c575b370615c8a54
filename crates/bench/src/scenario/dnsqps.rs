//! DNS queries per second for `web.service.consul` A: Praetor's DNS interface against Knot
//! serving the same name from a zone, dnsperf runs interleaved.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;

use crate::dns::{self, DnsStats, Knot};
use crate::load::Conn;
use crate::procs::Praetor;
use crate::report::{Table, median, ratio};
use crate::scenario::Config;

/// Registers `web` on `server` and waits until its DNS answers it.
pub async fn register_web(server: &Praetor) -> anyhow::Result<()> {
    let mut c = Conn::open(server.http).await?;
    let body = Bytes::from_static(br#"{"Name":"web","Port":80}"#);
    let (status, _, text) = c
        .call(Method::PUT, "/v1/agent/service/register", body)
        .await?;
    anyhow::ensure!(status.is_success(), "register web: {status} {text:?}");
    let addr = server.dns;
    tokio::task::spawn_blocking(move || dns::wait_answer(addr, dns::NAME, Duration::from_secs(30)))
        .await?
}

/// Runs the scenario against `server` (which has `web` registered).
pub async fn run(cfg: &Config, server: &Praetor) -> anyhow::Result<Table> {
    eprintln!("DNS QPS");
    let dir = cfg.root.join("dns");
    let knot = if cfg.peers {
        Some(Knot::start(&dir.join("knot"))?)
    } else {
        None
    };
    let (mut p, mut k): (Vec<DnsStats>, Vec<DnsStats>) = (Vec::new(), Vec::new());
    for run in 0..cfg.runs {
        eprintln!("  dnsperf run {}/{}", run + 1, cfg.runs);
        let (secs, d) = (cfg.dns_secs, dir.clone());
        let addr = server.dns;
        p.push(tokio::task::spawn_blocking(move || dns::dnsperf(addr, &d, secs)).await??);
        if let Some(knot) = &knot {
            let (addr, d) = (knot.addr, dir.clone());
            k.push(tokio::task::spawn_blocking(move || dns::dnsperf(addr, &d, secs)).await??);
        }
    }
    let m = |v: &[DnsStats], f: fn(&DnsStats) -> f64| median(&v.iter().map(f).collect::<Vec<_>>());
    let (pq, kq) = (m(&p, |s| s.qps), m(&k, |s| s.qps));
    let mut t = Table::new(
        &format!("DNS `{}` A, UDP", dns::NAME),
        &["", "Praetor", "Knot", "Praetor/Knot", "goal", "met"],
    );
    let knot_cell = |v: f64, unit: &str| {
        if k.is_empty() {
            "–".to_owned()
        } else {
            format!("{v:.0}{unit}")
        }
    };
    t.row(vec![
        "queries/s".into(),
        format!("{pq:.0}"),
        knot_cell(kq, ""),
        ratio(pq, kq),
        "≥ 0.50×".into(),
        if k.is_empty() {
            "n/a".into()
        } else if pq >= kq * 0.5 {
            "yes".into()
        } else {
            "no".into()
        },
    ]);
    let (pl, kl) = (m(&p, |s| s.avg_latency_us), m(&k, |s| s.avg_latency_us));
    t.row(vec![
        "average latency".into(),
        format!("{pl:.0} µs"),
        knot_cell(kl, " µs"),
        ratio(pl, kl),
        String::new(),
        String::new(),
    ]);
    let lost: u64 = p.iter().chain(&k).map(|s| s.lost).sum();
    t.notes.push(format!(
        "Medians of {} interleaved dnsperf runs of {} s each (`-c 4 -q 200`, one query name); \
         queries lost over all runs: {lost}.",
        cfg.runs, cfg.dns_secs
    ));
    Ok(t)
}
