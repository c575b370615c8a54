//! The processes under test, started on loopback with their data under one temp dir, and
//! killed (SIGKILL, by PID) when dropped: Praetor agents, etcd members, Knot.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use hyper::Method;

use crate::load::Conn;

/// A child process whose stdout and stderr go to a log file.
pub struct Proc {
    child: Child,
    log: PathBuf,
    /// When it was spawned.
    pub started: Instant,
}

impl Proc {
    /// Spawns `cmd`, logging to `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> anyhow::Result<Self> {
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        let started = Instant::now();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("spawn {:?}", cmd.get_program()))?;
        Ok(Self {
            child,
            log,
            started,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `find` returns `Some` for a log line; fails if the process exits.
    pub fn wait_log(
        &mut self,
        timeout: Duration,
        find: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.log().lines().find_map(&find) {
                return Ok(v);
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("process exited ({status}):\n{}", self.log());
            }
            if Instant::now() > deadline {
                bail!("timed out; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// CPU time (user + system) `pid` has used so far, in ms (from `/proc/<pid>/stat`,
/// assuming the usual 100 ticks per second).
pub fn cpu_ms(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at field 3, `state`.
    let rest = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("short /proc stat")?.parse()?)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after `state`.
    Ok((ticks(11)? + ticks(12)?) * 10)
}

/// Polls `rss` until three readings 200 ms apart agree within 1%, at most `timeout`.
pub async fn settled_rss_kib(pid: u32, timeout: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    let mut last = rss_kib(pid)?;
    let mut stable = 0;
    while stable < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = rss_kib(pid)?;
        stable = if now.abs_diff(last) * 100 <= last {
            stable + 1
        } else {
            0
        };
        last = now;
    }
    Ok(last)
}

/// The value of `key=` in an hclog line.
pub fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    Some(
        line[start..]
            .split_whitespace()
            .next()?
            .trim_matches('"')
            .to_owned(),
    )
}

/// A free TCP port on `ip` (bound, then released: etcd cannot listen on port 0).
pub fn free_port(ip: &str) -> anyhow::Result<u16> {
    Ok(TcpListener::bind((ip, 0))?.local_addr()?.port())
}

/// A running Praetor agent.
pub struct Praetor {
    /// The process.
    pub proc: Proc,
    /// HTTP API address.
    pub http: SocketAddr,
    /// DNS (UDP) address.
    pub dns: SocketAddr,
    /// LAN gossip address.
    pub gossip: String,
}

impl Praetor {
    /// `praetor agent <args>` with every port ephemeral; waits for HTTP, DNS and gossip.
    pub fn start(bin: &Path, dir: &Path, name: &str, args: &[&str]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut cmd = Command::new(bin);
        cmd.arg("agent")
            .args(["-node", name])
            .args(args)
            .args(["-http-port", "0", "-server-port", "0", "-dns-port", "0"])
            .args(["-serf-lan-port", "0", "-serf-wan-port", "0"]);
        let mut proc = Proc::spawn(cmd, dir.join("agent.log"))?;
        let timeout = Duration::from_secs(30);
        let addr = |marker: &'static str, extra: &'static str| {
            move |l: &str| {
                (l.contains(marker) && l.contains(extra))
                    .then(|| field(l, "address"))
                    .flatten()
            }
        };
        let http = proc.wait_log(timeout, addr("Started HTTP server", ""))?;
        let dns = proc.wait_log(timeout, addr("Started DNS server", "network=udp"))?;
        let gossip = proc.wait_log(timeout, addr("Started gossip", "network=lan"))?;
        Ok(Self {
            proc,
            http: http.parse()?,
            dns: dns.parse()?,
            gossip,
        })
    }

    /// `praetor agent -dev`.
    pub fn dev(bin: &Path, dir: &Path) -> anyhow::Result<Self> {
        Self::start(bin, dir, "dev", &["-dev"])
    }

    /// A persistent server (`-server -bootstrap-expect=<expect> -data-dir`) on `ip`.
    pub fn server(
        bin: &Path,
        dir: &Path,
        name: &str,
        ip: &str,
        expect: usize,
        join: Option<&str>,
    ) -> anyhow::Result<Self> {
        let data = dir.join("data");
        let data = data.to_str().context("utf-8 temp path")?;
        let expect = format!("-bootstrap-expect={expect}");
        let mut args = vec!["-server", &expect, "-bind", ip, "-client", "127.0.0.1"];
        args.extend(["-data-dir", data]);
        let join = join.map(|j| format!("-join={j}"));
        if let Some(j) = &join {
            args.push(j);
        }
        Self::start(bin, dir, name, &args)
    }

    /// A client agent on `ip` joining `join`.
    pub fn client(bin: &Path, dir: &Path, ip: &str, join: &str) -> anyhow::Result<Self> {
        let data = dir.join("data");
        let data = data.to_str().context("utf-8 temp path")?;
        let join = format!("-join={join}");
        let args = [
            "-bind",
            ip,
            "-client",
            "127.0.0.1",
            "-data-dir",
            data,
            &join,
        ];
        Self::start(bin, dir, "client", &args)
    }

    /// Waits until `/v1/status/leader` names a leader.
    pub async fn wait_leader(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(mut conn) = Conn::open(self.http).await
                && let Ok((status, _, body)) = conn
                    .call(Method::GET, "/v1/status/leader", Bytes::new())
                    .await
                && status.is_success()
                && body.len() > 2
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("no leader; log:\n{}", self.proc.log());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Three Praetor servers on 127.0.0.1–3 (`-bootstrap-expect=3`), with a leader.
pub async fn praetor_cluster(bin: &Path, root: &Path) -> anyhow::Result<Vec<Praetor>> {
    let s1 = Praetor::server(bin, &root.join("p1"), "s1", "127.0.0.1", 3, None)?;
    let join = s1.gossip.clone();
    let s2 = Praetor::server(bin, &root.join("p2"), "s2", "127.0.0.2", 3, Some(&join))?;
    let s3 = Praetor::server(bin, &root.join("p3"), "s3", "127.0.0.3", 3, Some(&join))?;
    let servers = vec![s1, s2, s3];
    for s in &servers {
        s.wait_leader(Duration::from_secs(60)).await?;
    }
    Ok(servers)
}

/// A running etcd member.
pub struct Etcd {
    /// The process.
    pub proc: Proc,
    /// Client (HTTP/gRPC gateway) address.
    pub http: SocketAddr,
}

/// Starts etcd members on 127.0.0.1…n (one member: a single node) and waits until each
/// answers a linearizable range.
pub async fn etcd(root: &Path, members: usize) -> anyhow::Result<Vec<Etcd>> {
    let mut plan = Vec::new();
    for m in 1..=members {
        let ip = format!("127.0.0.{m}");
        plan.push((format!("e{m}"), free_port(&ip)?, free_port(&ip)?, ip));
    }
    let cluster = plan
        .iter()
        .map(|(name, _, peer, ip)| format!("{name}=http://{ip}:{peer}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = Vec::new();
    for (name, client, peer, ip) in &plan {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new("etcd");
        cmd.args(["--name", name])
            .arg(format!("--data-dir={}", dir.join("data").display()))
            .arg(format!("--listen-client-urls=http://{ip}:{client}"))
            .arg(format!("--advertise-client-urls=http://{ip}:{client}"))
            .arg(format!("--listen-peer-urls=http://{ip}:{peer}"))
            .arg(format!("--initial-advertise-peer-urls=http://{ip}:{peer}"))
            .arg(format!("--initial-cluster={cluster}"))
            .args(["--initial-cluster-state=new", "--log-level=warn"]);
        let proc = Proc::spawn(cmd, dir.join("etcd.log"))?;
        out.push(Etcd {
            proc,
            http: format!("{ip}:{client}").parse()?,
        });
    }
    for e in &out {
        e.wait_ready(Duration::from_secs(60)).await?;
    }
    Ok(out)
}

impl Etcd {
    /// Waits until a linearizable range succeeds (a leader exists and this member serves).
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let body = Bytes::from_static(br#"{"key":"cmVhZHk="}"#);
        loop {
            if let Ok(mut conn) = Conn::open(self.http).await
                && let Ok((status, _, _)) =
                    conn.call(Method::POST, "/v3/kv/range", body.clone()).await
                && status.is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("etcd not ready; log:\n{}", self.proc.log());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
