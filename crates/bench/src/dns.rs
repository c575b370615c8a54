//! DNS: Knot serving `web.service.consul` from a zone, a hand-built A query to see that a
//! server answers, and `dnsperf` runs.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::procs::{Proc, free_port};

/// The name both servers answer.
pub const NAME: &str = "web.service.consul";

/// A DNS query for `name` type A, id 0x4242, recursion desired.
fn query(name: &str) -> Vec<u8> {
    let mut q = vec![0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        q.push(u8::try_from(label.len()).unwrap_or(63));
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// The number of answer records `server` gives for `name` A (None: no reply in 1 s).
pub fn answers(server: SocketAddr, name: &str) -> Option<u16> {
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    sock.send_to(&query(name), server).ok()?;
    let mut buf = [0u8; 1500];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    (n >= 12 && buf[..2] == [0x42, 0x42]).then(|| u16::from_be_bytes([buf[6], buf[7]]))
}

/// Polls until `server` answers `name` with at least one record.
pub fn wait_answer(server: SocketAddr, name: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while answers(server, name).unwrap_or(0) == 0 {
        if Instant::now() > deadline {
            bail!("{server} does not answer {name}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Knot serving the `consul.` zone with `web.service.consul. 0 A 127.0.0.1` (Praetor's
/// answer: one A record, TTL 0).
pub struct Knot {
    /// The process (killed on drop).
    _proc: Proc,
    /// Its UDP address.
    pub addr: SocketAddr,
}

impl Knot {
    /// Writes the config and zone under `dir` and starts `knotd`.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let port = free_port("127.0.0.1")?;
        let zone = "$ORIGIN consul.\n$TTL 0\n\
            @ SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0\n\
            @ NS ns.consul.\n\
            ns A 127.0.0.1\n\
            web.service A 127.0.0.1\n";
        std::fs::write(dir.join("consul.zone"), zone)?;
        let d = dir.display();
        let conf = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: {d}\n\
             database:\n    storage: {d}\n\
             log:\n  - target: stderr\n    any: warning\n\
             zone:\n  - domain: consul\n    storage: {d}\n    file: consul.zone\n"
        );
        let conf_path = dir.join("knot.conf");
        std::fs::write(&conf_path, conf)?;
        let mut cmd = Command::new(crate::machine::which("knotd").unwrap_or("knotd".into()));
        cmd.arg("-c").arg(&conf_path);
        let proc = Proc::spawn(cmd, dir.join("knot.log"))?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        wait_answer(addr, NAME, Duration::from_secs(20))
            .with_context(|| format!("knot log:\n{}", proc.log()))?;
        Ok(Self { _proc: proc, addr })
    }
}

/// One dnsperf run.
#[derive(Debug, Clone, Serialize)]
pub struct DnsStats {
    /// Queries per second.
    pub qps: f64,
    /// Average latency, µs.
    pub avg_latency_us: f64,
    /// Queries lost (no answer).
    pub lost: u64,
}

/// `dnsperf` against `server` for `secs` seconds, asking `NAME` A over and over.
pub fn dnsperf(server: SocketAddr, dir: &Path, secs: u64) -> anyhow::Result<DnsStats> {
    let queries = dir.join("queries.txt");
    std::fs::write(&queries, format!("{NAME} A\n"))?;
    let out = Command::new("dnsperf")
        .args([
            "-s",
            &server.ip().to_string(),
            "-p",
            &server.port().to_string(),
        ])
        .arg("-d")
        .arg(&queries)
        .args(["-l", &secs.to_string(), "-c", "4", "-q", "200", "-t", "2"])
        .output()
        .context("run dnsperf")?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).with_context(|| format!("dnsperf output:\n{text}"))
}

/// The statistics of dnsperf's report.
fn parse(text: &str) -> Option<DnsStats> {
    let number = |label: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.trim_start().starts_with(label))?;
        line.split(':')
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(DnsStats {
        qps: number("Queries per second")?,
        avg_latency_us: number("Average Latency (s)").unwrap_or(0.0) * 1e6,
        lost: number("Queries lost").unwrap_or(0.0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dnsperf_statistics() {
        let text = "Statistics:\n\n  Queries sent:         1000\n  \
            Queries completed:    998 (99.80%)\n  \
            Queries lost:         2 (0.20%)\n\n  Queries per second:   49979.123456\n\n  \
            Average Latency (s):  0.003606 (min 0.000020, max 0.020000)\n";
        let s = parse(text).unwrap();
        assert_eq!(s.lost, 2);
        assert!((s.qps - 49979.123456).abs() < 1e-6);
        assert!((s.avg_latency_us - 3606.0).abs() < 1e-6);
        assert!(parse("garbage").is_none());
    }

    #[test]
    fn query_encodes_labels() {
        let q = query("web.service.consul");
        assert_eq!(&q[12..16], b"\x03web");
        assert_eq!(&q[q.len() - 5..], &[0, 0, 1, 0, 1]);
    }
}
