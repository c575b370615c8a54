//! `praetor-bench`: Praetor side by side with etcd (KV) and Knot (DNS) on this machine, in
//! the same run, reported as medians of interleaved runs and ratios. See
//! `docs/benchmarks.md` for the commands and the latest results.

mod dns;
mod load;
mod machine;
mod procs;
mod report;
mod scenario;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;

use scenario::{Config, Scenario};

/// Benchmarks Praetor against etcd and Knot DNS on loopback.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The praetor binary (build it with `cargo build --release -p praetor`).
    #[arg(long, default_value = "target/release/praetor")]
    praetor: PathBuf,
    /// Scenarios to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Interleaved runs per system and case (medians are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds measured per run.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Seconds of warm-up before each measured run.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Client counts for PUT.
    #[arg(long, value_delimiter = ',', default_value = "1,64,256")]
    clients: Vec<usize>,
    /// Clients for the GET cases.
    #[arg(long, default_value_t = 64)]
    get_clients: usize,
    /// Blocking watchers on one key.
    #[arg(long, default_value_t = 10_000)]
    watchers: usize,
    /// The watchers ask `?stale` (default: Consul's default consistency).
    #[arg(long)]
    watch_stale: bool,
    /// Keys written before the loaded-server RSS reading.
    #[arg(long, default_value_t = 100_000)]
    fill_keys: usize,
    /// Seconds per dnsperf run.
    #[arg(long, default_value_t = 10)]
    dns_secs: u64,
    /// Praetor only: no etcd, no Knot, no dnsperf (DNS is skipped).
    #[arg(long)]
    no_peers: bool,
    /// Do not apt-get install missing peers.
    #[arg(long)]
    no_install: bool,
    /// A tiny run (fractions of a second, few clients, no peers) that exercises the code.
    #[arg(long)]
    smoke: bool,
    /// Also write every table and series as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the throughput-vs-clients plot here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.no_peers = true;
        args.runs = 1;
        args.secs = 0.2;
        args.warmup = 0.05;
        args.clients = vec![1, 4];
        args.get_clients = 4;
        args.watchers = 50;
        args.fill_keys = 200;
    }
    let mut only = if args.only.is_empty() {
        vec![
            Scenario::Leader,
            Scenario::Rss,
            Scenario::Kv,
            Scenario::Dns,
            Scenario::Watch,
            Scenario::Cluster,
        ]
    } else {
        args.only.clone()
    };
    if args.no_peers {
        only.retain(|s| *s != Scenario::Dns);
    }
    if !args.praetor.is_file() {
        bail!(
            "{} not found: run `cargo build --release -p praetor` or pass --praetor",
            args.praetor.display()
        );
    }
    if !args.no_peers {
        ensure_peers(!args.no_install)?;
    }
    if only.contains(&Scenario::Watch) {
        let need = args.watchers as u64 + 1_000;
        if machine::open_files_limit() < need {
            machine::raise_open_files_limit();
        }
        let limit = machine::open_files_limit();
        if limit < need {
            eprintln!(
                "warning: open-files limit {limit} is below {} watchers + 1000; run `ulimit -n` higher",
                args.watchers
            );
        }
    }
    let root = tempfile::Builder::new().prefix("praetor-bench").tempdir()?;
    let cfg = Config {
        praetor: std::fs::canonicalize(&args.praetor)?,
        root: root.path().to_owned(),
        runs: args.runs.max(1),
        warmup: Duration::from_secs_f64(args.warmup),
        measure: Duration::from_secs_f64(args.secs),
        clients: args.clients.clone(),
        get_clients: args.get_clients,
        watchers: args.watchers,
        watch_stale: args.watch_stale,
        fill_keys: args.fill_keys,
        dns_secs: args.dns_secs,
        peers: !args.no_peers,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let out = rt.block_on(scenario::run(&cfg, &only))?;
    println!("{}", machine::describe());
    for t in &out.tables {
        println!("{}", t.markdown());
    }
    if let Some(path) = &args.svg {
        let svg = report::svg("KV PUT throughput against clients", &out.series);
        std::fs::write(path, svg).with_context(|| format!("write {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}

/// Finds `etcd`, `knotd` and `dnsperf`, installing Debian's packages if allowed.
fn ensure_peers(install: bool) -> anyhow::Result<()> {
    let missing = || {
        ["etcd", "knotd", "dnsperf"]
            .into_iter()
            .filter(|b| machine::which(b).is_none())
            .collect::<Vec<_>>()
    };
    if missing().is_empty() {
        return Ok(());
    }
    if !install {
        bail!(
            "missing {:?} (apt-get install etcd-server knot dnsperf)",
            missing()
        );
    }
    eprintln!("installing etcd-server knot dnsperf");
    let sudo = !machine::is_root();
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        anyhow::ensure!(status.success(), "apt-get {args:?} failed");
        Ok(())
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "etcd-server", "knot", "dnsperf"])?;
    anyhow::ensure!(missing().is_empty(), "still missing {:?}", missing());
    Ok(())
}
