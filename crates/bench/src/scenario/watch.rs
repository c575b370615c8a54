//! N blocking queries on one key and one write: how long until every one has answered,
//! and the server's RSS per watcher. The watchers are [`raw::Watcher`]s (bytes over a
//! `TcpStream`), so the load generator's own CPU stays small next to the server's.

mod raw;

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use hyper::Method;

use crate::load::Conn;
use crate::procs::{Praetor, cpu_ms, settled_rss_kib};
use crate::report::{Table, median};
use crate::scenario::Config;

const KEY: &str = "/v1/kv/watched/key";

/// Opens `n` connections, `batch` at a time, each answering one non-blocking GET.
async fn open(
    addr: std::net::SocketAddr,
    n: usize,
    batch: usize,
) -> anyhow::Result<Vec<raw::Watcher>> {
    let mut conns = Vec::with_capacity(n);
    while conns.len() < n {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.min(n - conns.len()) {
            set.spawn(async move {
                let mut c = raw::Watcher::open(addr).await?;
                let answer = c.get(KEY).await?;
                anyhow::ensure!(answer.status == 200, "GET {KEY}: {}", answer.status);
                anyhow::Ok(c)
            });
        }
        while let Some(c) = set.join_next().await {
            conns.push(c??);
        }
    }
    Ok(conns)
}

/// Runs the scenario against `server` with `cfg.watchers` watchers.
pub async fn run(cfg: &Config, server: &Praetor) -> anyhow::Result<Table> {
    let n = cfg.watchers;
    eprintln!("{n} blocking watchers");
    let pid = server.proc.pid();
    let mut writer = Conn::open(server.http).await?;
    let (status, _, _) = writer
        .call(Method::PUT, KEY, Bytes::from_static(b"0"))
        .await?;
    anyhow::ensure!(status.is_success(), "PUT {KEY}: {status}");
    let (_, headers, _) = writer.call(Method::GET, KEY, Bytes::new()).await?;
    let index: u64 = headers
        .get("x-consul-index")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .context("no X-Consul-Index")?;

    let settle = Duration::from_secs(20);
    let rss_before = settled_rss_kib(pid, settle).await?;
    let conns = open(server.http, n, 500).await?;
    let rss_conns = settled_rss_kib(pid, settle).await?;

    let stale = if cfg.watch_stale { "&stale" } else { "" };
    let path = format!("{KEY}?index={index}&wait=5m{stale}");
    let mut tasks = tokio::task::JoinSet::new();
    for mut c in conns {
        let path = path.clone();
        tasks.spawn(async move {
            let r = c.get(&path).await;
            let at = Instant::now();
            // Honest answers only: a 200 with the entry in its body, at a newer index.
            let ok = r.is_ok_and(|a| {
                a.status == 200 && a.body_len > 0 && a.index.is_some_and(|i| i > index)
            });
            // The connection stays open until every watcher has answered, as a watcher's
            // would for its next query: closing is not part of answering.
            (ok, at, c)
        });
    }
    let rss_blocked = settled_rss_kib(pid, settle).await?;

    let me = std::process::id();
    let cpu_before = (cpu_ms(pid)?, cpu_ms(me)?);
    let sent = Instant::now();
    let (status, _, _) = writer
        .call(Method::PUT, KEY, Bytes::from_static(b"1"))
        .await?;
    let acked = Instant::now();
    anyhow::ensure!(status.is_success(), "PUT {KEY}: {status}");
    let mut after = Vec::with_capacity(n);
    let mut early = 0usize;
    let mut answered = Vec::with_capacity(n);
    let mut failed = 0usize;
    let deadline = Duration::from_secs(120);
    while let Some(joined) = tokio::time::timeout(deadline, tasks.join_next())
        .await
        .context("watchers still blocked 120 s after the write")?
    {
        let (ok, at, c) = joined?;
        answered.push(c);
        if !ok {
            failed += 1;
        } else if at < sent {
            early += 1;
        } else {
            after.push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
    }
    let cpu = (cpu_ms(pid)? - cpu_before.0, cpu_ms(me)? - cpu_before.1);
    drop(answered);
    if after.is_empty() {
        bail!("no watcher answered after the write");
    }
    after.sort_by(f64::total_cmp);
    let all = after.last().copied().unwrap_or(0.0);
    let p99 = after[(after.len() * 99 / 100).min(after.len() - 1)];
    let ack_ms = acked.duration_since(sent).as_secs_f64() * 1000.0;
    let per = |kib: u64| (kib as f64 * 1024.0) / n as f64;
    let total = per(rss_blocked.saturating_sub(rss_before));
    let mut t = Table::new(
        &format!(
            "{n} blocking watchers on one key, one write{}",
            if cfg.watch_stale {
                " (`?stale` watchers)"
            } else {
                ""
            }
        ),
        &["measure", "Praetor", "goal", "met"],
    );
    let met = |ok: bool| if ok { "yes" } else { "no" }.to_owned();
    t.row(vec![
        "write sent → all watchers answered".into(),
        format!("{all:.1} ms"),
        "≤ 100 ms".into(),
        met(all <= 100.0),
    ]);
    t.row(vec![
        "write sent → write acknowledged".into(),
        format!("{ack_ms:.1} ms"),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "write acknowledged → all answered".into(),
        format!("{:.1} ms", all - ack_ms),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "first watcher answered → all answered (the fan-out alone)".into(),
        format!("{:.1} ms", all - after[0]),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "answer after write, median / p99".into(),
        format!("{:.1} / {p99:.1} ms", median(&after)),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "CPU time used from the write until all answered: server / load generator".into(),
        format!("{} / {} ms", cpu.0, cpu.1),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "server RSS growth per watcher (connection + blocked query)".into(),
        format!("{:.0} B", total),
        "≤ 4 KiB".into(),
        met(total <= 4096.0),
    ]);
    t.row(vec![
        "… of which the idle keep-alive connection".into(),
        format!("{:.0} B", per(rss_conns.saturating_sub(rss_before))),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "… of which the blocked query".into(),
        format!("{:.0} B", per(rss_blocked.saturating_sub(rss_conns))),
        String::new(),
        String::new(),
    ]);
    t.notes.push(format!(
        "RSS {} KiB before, {} KiB with {n} open connections, {} KiB with {n} blocked queries. \
         Answered before the write: {early}; failed: {failed}. A negative \"acknowledged → all \
         answered\" means the watchers had their answers before the writer read its own. No peer: etcd's JSON gateway \
         has no blocking read to compare with.",
        rss_before, rss_conns, rss_blocked
    ));
    Ok(t)
}
