//! Servers of a test cluster: each with its own tonic listener on 127.0.0.1 port 0, its
//! own data dir and its own connection pool, all in this test process.

use std::sync::Arc;
use std::time::Duration;

use praetor_raft::{RaftConfig, RaftStatus};
use praetor_rpc::{ClientConfig, RpcClient, RpcError};
use praetor_server::{Server, ServerConfig};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Node {
    pub id: u64,
    pub addr: String,
    pub server: Server,
    pub rpc: RpcClient,
    stop: CancellationToken,
    serving: JoinHandle<Result<(), RpcError>>,
    _dir: TempDir,
}

/// How a test server starts.
#[derive(Clone, Copy)]
pub struct Opts {
    pub bootstrap: bool,
    pub snapshot_threshold: u64,
    pub rpc_hold_timeout: Duration,
    pub autopilot_interval: Duration,
    pub dead_server_grace: Duration,
    pub min_quorum: u64,
    pub follower_reads: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            bootstrap: false,
            snapshot_threshold: praetor_raft::DEFAULT_SNAPSHOT_THRESHOLD,
            rpc_hold_timeout: Duration::from_secs(5),
            autopilot_interval: Duration::from_secs(3600),
            dead_server_grace: Duration::ZERO,
            min_quorum: 0,
            follower_reads: false,
        }
    }
}

impl Node {
    pub async fn start(id: u64, opts: Opts) -> Node {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let dir = tempfile::tempdir().unwrap();
        let mut raft = RaftConfig::new(id, addr.clone());
        raft.data_dir = Some(dir.path().to_path_buf());
        raft.bootstrap = opts.bootstrap;
        raft.heartbeat_interval = Duration::from_millis(50);
        raft.election_timeout = Duration::from_millis(300);
        raft.snapshot_threshold = opts.snapshot_threshold;
        let mut cfg = ServerConfig::new(raft);
        cfg.rpc_hold_timeout = opts.rpc_hold_timeout;
        cfg.autopilot_interval = opts.autopilot_interval;
        cfg.dead_server_grace = opts.dead_server_grace;
        cfg.autopilot.min_quorum = opts.min_quorum;
        cfg.read_index_follower_reads = opts.follower_reads;
        let rpc = RpcClient::new(ClientConfig {
            connect_timeout: Duration::from_secs(1),
            call_timeout: Duration::from_secs(5),
            ..ClientConfig::default()
        });
        let server = Server::start_with_rpc(cfg, rpc.clone()).await.unwrap();
        let stop = CancellationToken::new();
        let serving = tokio::spawn(praetor_rpc::serve(
            listener,
            Arc::new(server.clone()),
            stop.clone(),
        ));
        Node {
            id,
            addr,
            server,
            rpc,
            stop,
            serving,
            _dir: dir,
        }
    }

    /// Stops serving RPCs, then Raft: to the others the server is gone.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(TIMEOUT, self.serving)
            .await
            .expect("rpc server stops in time")
            .unwrap()
            .unwrap();
        self.server.shutdown().await.unwrap();
    }

    pub fn status(&self) -> RaftStatus {
        self.server.raft_status()
    }

    /// Waits, without sleeping, until this server's Raft status satisfies `pred`.
    pub async fn wait_status(&self, what: &str, pred: impl Fn(&RaftStatus) -> bool) -> RaftStatus {
        let mut watch = self.server.raft_status_watch();
        let wait = async {
            loop {
                let status = self.server.raft_status();
                if pred(&status) {
                    return status;
                }
                watch.changed().await.expect("status watch open");
            }
        };
        tokio::time::timeout(TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| panic!("node {}: timed out waiting for {what}", self.id))
    }
}

/// Starts server 1 bootstrapped, then 2..=n, and has the leader add each of them.
pub async fn cluster(n: u64, opts: Opts) -> Vec<Node> {
    let first = Node::start(
        1,
        Opts {
            bootstrap: true,
            ..opts
        },
    )
    .await;
    first.server.wait_for_leader(TIMEOUT).await.unwrap();
    let mut nodes = vec![first];
    for id in 2..=n {
        let node = Node::start(id, opts).await;
        nodes[0]
            .server
            .add_server(id, &node.addr, TIMEOUT)
            .await
            .unwrap();
        nodes.push(node);
    }
    for node in &nodes {
        node.wait_status("every voter", |s| {
            s.voters.len() == n as usize && s.leader_id.is_some()
        })
        .await;
    }
    nodes
}
