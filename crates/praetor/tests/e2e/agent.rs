//! A real `praetor` agent process on loopback with ephemeral ports, for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_praetor"))
}

/// A running agent; killed (SIGKILL, by PID) on drop.
pub struct AgentProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub http: String,
    /// Everything the agent printed so far (stdout and stderr).
    pub output: Arc<Mutex<String>>,
}

impl AgentProcess {
    /// A `-dev` agent.
    pub fn dev() -> Self {
        Self::start(&["-dev"])
    }

    /// A persistent single server on `data_dir`.
    pub fn server(data_dir: &Path) -> Self {
        let dir = data_dir.to_str().expect("utf-8 temp path");
        Self::start(&[
            "-server",
            "-bootstrap-expect=1",
            "-bind",
            "127.0.0.1",
            "-client",
            "127.0.0.1",
            "-data-dir",
            dir,
        ])
    }

    /// `praetor agent <args>` with every port ephemeral; waits until HTTP listens.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(Command::new(bin()), args)
    }

    /// [`start`](Self::start) inside the network namespace `netns` (`ip netns exec`, which
    /// execs the agent in place, so [`pid`](Self::pid) is the agent's own).
    pub fn start_in_netns(netns: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns]).arg(bin());
        Self::spawn(cmd, args)
    }

    fn spawn(mut cmd: Command, args: &[&str]) -> Self {
        cmd.arg("agent")
            .args(args)
            .args(["-http-port", "0", "-server-port", "0"])
            .args(["-serf-lan-port", "0", "-serf-wan-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !args.contains(&"-dns-port") {
            cmd.args(["-dns-port", "0"]);
        }
        let mut child = cmd.spawn().expect("spawn praetor agent");
        let output = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let (output, addr_tx) = (output.clone(), addr_tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("Started HTTP server")
                        && let Some(addr) = field(&line, "address")
                    {
                        let _ = addr_tx.send(addr);
                    }
                    let mut out = output.lock().expect("output lock");
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        drop(addr_tx);
        let addr = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "agent did not start HTTP:\n{}",
                    output.lock().expect("output lock")
                );
            }
        };
        Self {
            child,
            http: format!("http://{addr}"),
            output,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (a `kill -<signal>` name such as `INT`) to the agent.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit and returns its exit code (None when killed).
    pub fn wait(mut self, timeout: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "agent did not exit:\n{}",
                self.output()
            );
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The value of `key=` on the first log line containing `marker` (e.g. the LAN
    /// gossip address from `Started gossip: address=… network=lan`), waiting for it.
    pub fn log_field(&self, marker: &str, key: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .output()
                .lines()
                .find(|l| l.contains(marker))
                .and_then(|l| field(l, key));
            if let Some(value) = found {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {marker:?} line:\n{}",
                self.output()
            );
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    /// A copy of the output so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("output lock").clone()
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=value` in an hclog line.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    Some(
        line[start..]
            .split_whitespace()
            .next()?
            .trim_matches('"')
            .to_owned(),
    )
}

/// Runs `praetor <args>` (as a CLI command) against `http`, returning (code, stdout, stderr).
pub fn cli(http: &str, args: &[&str]) -> (i32, String, String) {
    cli_with_stdin(http, args, None)
}

/// [`cli`] with `stdin` fed to the command.
pub fn cli_with_stdin(http: &str, args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    run_as(&bin(), http, args, stdin)
}

/// Runs the program at `program` (the binary or a symlink to it).
pub fn run_as(
    program: &Path,
    http: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .env("CONSUL_HTTP_ADDR", http)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cli");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    let out = child.wait_with_output().expect("cli output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until the dev agent has registered itself with `serfHealth`, which sessions are
/// bound to by default.
pub async fn wait_for_serf_health(api: &str) {
    let c = crate::http();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let checks: serde_json::Value = c
            .get(format!("{api}/v1/health/state/passing"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if checks
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["CheckID"] == "serfHealth"))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "agent never registered serfHealth"
        );
        let _ = c
            .get(format!("{api}/v1/health/state/passing?index=1&wait=1s"))
            .send()
            .await
            .unwrap();
    }
}
