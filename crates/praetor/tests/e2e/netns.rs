//! A private network for fault tests: one network namespace per node, each wired by a veth
//! pair to a bridge that lives in a namespace of its own, all created by the test and
//! removed when the [`Lab`] drops (even on panic). Nothing is added to the root namespace.
//!
//! Node `i` (from 1) has `10.254.0.i/24` on its `eth0` and its own loopback; the test
//! talks to an agent's HTTP on that loopback through an [`NsClient`], whose sockets are
//! created on a thread that moved into the node's namespace. Faults are nftables rules
//! in the node's namespace (`table inet praetor_fault`), dropping all traffic on `eth0`.

use std::future::Future;
use std::os::fd::AsFd as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of every namespace these tests create: `pfault-<test pid>-<n>-…`.
const PREFIX: &str = "pfault-";

/// The namespaces of one test: a bridge and `nodes` node namespaces.
pub struct Lab {
    bridge: String,
    nodes: Vec<String>,
}

impl Lab {
    /// Creates the bridge namespace and `nodes` node namespaces wired to it. Panics with a
    /// clear message when `ip netns` or `nft` cannot be used (these tests need root).
    pub fn new(nodes: usize) -> Lab {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        remove_stale();
        let base = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut lab = Lab {
            bridge: format!("{base}-br"),
            nodes: Vec::new(),
        };
        if let Err(e) = ip(&["netns", "add", &lab.bridge]) {
            panic!(
                "the fault tests need root with iproute2 (`ip netns`) and nftables (`nft`); \
                 `ip netns add` failed: {e}"
            );
        }
        let br = lab.bridge.clone();
        ip_ok(&["-n", &br, "link", "add", "br0", "type", "bridge"]);
        ip_ok(&["-n", &br, "link", "set", "br0", "up"]);
        for i in 1..=nodes {
            let ns = format!("{base}-n{i}");
            ip_ok(&["netns", "add", &ns]);
            lab.nodes.push(ns.clone());
            let port = format!("v{i}");
            ip_ok(&[
                "-n", &br, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            ip_ok(&["-n", &br, "link", "set", &port, "master", "br0"]);
            ip_ok(&["-n", &br, "link", "set", &port, "up"]);
            ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
            ip_ok(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.254.0.{i}/24"),
                "dev",
                "eth0",
            ]);
            ip_ok(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        // nft must work in there too, or a partition would silently not happen.
        lab.nft(1, "list ruleset").unwrap_or_else(|e| {
            panic!("the fault tests need nftables (`nft`, Debian package nftables): {e}")
        });
        lab
    }

    /// The namespace of node `i` (from 1).
    pub fn ns(&self, i: usize) -> &str {
        &self.nodes[i - 1]
    }

    /// The address of node `i` on the test bridge.
    pub fn addr(i: usize) -> String {
        format!("10.254.0.{i}")
    }

    /// Cuts node `i` off: every packet in or out of its `eth0` is dropped (its loopback,
    /// where the test talks to it, keeps working).
    pub fn isolate(&self, i: usize) {
        let rules = "table inet praetor_fault {\n\
            chain input { type filter hook input priority 0; policy accept; iifname \"eth0\" drop; }\n\
            chain output { type filter hook output priority 0; policy accept; oifname \"eth0\" drop; }\n\
            }\n";
        self.nft_stdin(i, rules)
            .unwrap_or_else(|e| panic!("nft isolate node {i}: {e}"));
    }

    /// Removes node `i`'s drop rules.
    pub fn heal(&self, i: usize) {
        self.nft(i, "delete table inet praetor_fault")
            .unwrap_or_else(|e| panic!("nft heal node {i}: {e}"));
    }

    fn nft(&self, i: usize, args: &str) -> Result<String, String> {
        let mut argv = vec!["netns", "exec", self.ns(i), "nft"];
        argv.extend(args.split_whitespace());
        ip(&argv)
    }

    fn nft_stdin(&self, i: usize, rules: &str) -> Result<String, String> {
        use std::io::Write as _;
        let mut child = Command::new("ip")
            .args(["netns", "exec", self.ns(i), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn ip netns exec nft: {e}"))?;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(rules.as_bytes())
            .map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.nodes.iter().chain([&self.bridge]) {
            delete_netns(ns);
        }
    }
}

/// Kills (SIGKILL, by PID) whatever still runs in `ns` (only processes this test started
/// live there) and deletes it.
fn delete_netns(ns: &str) {
    if let Ok(pids) = ip(&["netns", "pids", ns]) {
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
    let _ = ip(&["netns", "del", ns]);
}

/// Deletes the namespaces left by fault tests whose process is gone (a test killed
/// before its guard ran).
fn remove_stale() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next() else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            delete_netns(name);
        }
    }
}

fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip_ok(args: &[&str]) {
    if let Err(e) = ip(args) {
        panic!("{e}");
    }
}

/// An HTTP client whose sockets live in one network namespace: its requests run on a
/// thread that moved into the namespace, on that thread's own runtime.
pub struct NsClient {
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl NsClient {
    /// A client inside the namespace `ns` (a name under `/var/run/netns`).
    pub fn new(ns: &str) -> NsClient {
        let path = format!("/var/run/netns/{ns}");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let entered = std::fs::File::open(&path)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    rustix::thread::move_into_link_name_space(
                        f.as_fd(),
                        Some(rustix::thread::LinkNameSpaceType::Network),
                    )
                    .map_err(|e| e.to_string())
                });
            let rt = entered.and_then(|()| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
            });
            match rt {
                Ok(rt) => {
                    let _ = ready_tx.send(Ok(rt.handle().clone()));
                    rt.block_on(async {
                        let _ = stopped.await;
                    });
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("setns into {path}: {e}")));
                }
            }
        });
        let handle = ready_rx
            .recv()
            .expect("namespace thread")
            .unwrap_or_else(|e| panic!("{e}"));
        NsClient {
            handle,
            // One client (and connection pool) per namespace: 127.0.0.1:port means a
            // different agent in each.
            client: crate::http(),
            _stop: stop,
        }
    }

    /// Runs `f` with this namespace's client on the namespace's thread.
    pub async fn run<F, Fut, T>(&self, f: F) -> T
    where
        F: FnOnce(reqwest::Client) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.handle
            .spawn(f(self.client.clone()))
            .await
            .expect("namespace task")
    }
}
