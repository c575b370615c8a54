//! `praetor agent`: start the components in order, stop them in reverse.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use praetor_agent::config::{AgentArgs, RuntimeConfig};
use praetor_agent::{
    AgentSelf, AntiEntropy, AntiEntropyConfig, Backend, CatalogApi, Cluster, ConfigWatches,
    LocalAgent, LocalAgentConfig, LocalBackend, RemoteServers, ServerCatalog, UserEvents,
    UserEventsConfig,
};
use praetor_http::HttpConfig;
use praetor_raft::RaftConfig;
use praetor_rpc::{ClientConfig, RpcClient};
use praetor_server::{Member, Server, ServerConfig, raft_id};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{banner, logging};

/// The minimum Raft election timeout (each election waits a random time up to twice
/// this): a lost leader is replaced in about a second and a half, while a loaded
/// machine's 100 ms heartbeats stay far inside it (Pre-Vote guards against the rest).
const ELECTION_TIMEOUT: Duration = Duration::from_millis(500);

/// How long each shutdown step may take before we move on.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Parser, Debug)]
#[command(
    name = "praetor agent",
    about = "Runs a Praetor agent",
    disable_version_flag = true
)]
struct AgentCommand {
    #[command(flatten)]
    args: AgentArgs,
}

/// Runs the agent until a signal stops it; returns the process exit code.
pub async fn agent(argv: Vec<String>) -> i32 {
    let argv = std::iter::once("praetor agent".to_owned()).chain(argv.into_iter().skip(2));
    let cmd = match AgentCommand::try_parse_from(argv) {
        Ok(cmd) => cmd,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let cfg = match praetor_agent::config::load(&cmd.args) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("==> {e}");
            return 1;
        }
    };
    if !cfg.log_json {
        print!("{}", banner::render(&cfg));
    }
    logging::init(cfg.log_level.as_str(), cfg.log_json);
    // Each blocking query holds a connection: allow as many as the hard limit lets us.
    let open_files = crate::limits::raise_open_files();
    tracing::debug!(limit = ?open_files, "open files limit");
    for warning in cfg.warnings() {
        warn!("{warning}");
    }
    // Signal handlers go in before anything starts: a signal arriving while the agent
    // starts (tests send one as soon as HTTP listens) waits for the loop instead of
    // killing the process with the default action.
    let (Ok(int), Ok(term), Ok(hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        eprintln!("==> Error starting agent: cannot install signal handlers");
        return 1;
    };
    let pid_file = cfg.pid_file.clone();
    let agent = match Agent::start(cfg, cmd.args).await {
        Ok(agent) => agent,
        Err(e) => {
            if let Some(path) = pid_file {
                let _ = std::fs::remove_file(path);
            }
            error!("{e:#}");
            eprintln!("==> Error starting agent: {e:#}");
            return 1;
        }
    };
    agent.run_until_signalled(int, term, hup).await
}

/// The running agent's components.
struct Agent {
    cfg: Arc<RuntimeConfig>,
    /// The server in this process (`None`: a client agent).
    server: Option<Server>,
    /// Gossip pools and Raft membership.
    cluster: Cluster,
    /// The agent's own services and checks.
    local: LocalAgent,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    /// Stops the server RPC listener (after everything else).
    rpc_stop: CancellationToken,
    rpc_task: Option<tokio::task::JoinHandle<()>>,
    /// Set when `-retry-join` gave up: the agent exits 1 with this error.
    fatal: tokio::sync::mpsc::Receiver<String>,
}

impl Agent {
    async fn start(cfg: RuntimeConfig, args: AgentArgs) -> anyhow::Result<Self> {
        let cfg = Arc::new(cfg);
        if let Some(path) = &cfg.pid_file {
            std::fs::write(path, format!("{}", std::process::id()))
                .with_context(|| format!("writing pid file {}", path.display()))?;
        }
        // Listeners first: a port in use fails the start before Raft opens its log.
        let mut listeners = Vec::new();
        if let Ok(port) = u16::try_from(cfg.ports.http) {
            for ip in &cfg.client_addrs {
                let addr = SocketAddr::new(*ip, port);
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("Failed to start HTTP listener on {addr}"))?;
                listeners.push(listener);
            }
        }
        let dns_listeners = crate::dns::bind(&cfg).await?;
        let rpc_listener = if cfg.server {
            let port = u16::try_from(cfg.ports.server).unwrap_or(8300);
            let addr = SocketAddr::new(cfg.bind_addr, port);
            Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("Failed to start RPC listener on {addr}"))?,
            )
        } else {
            None
        };
        let rpc_port = match &rpc_listener {
            Some(l) => Some(l.local_addr()?.port()),
            None => None,
        };
        let (lan, wan) = crate::cluster::start_pools(&cfg, rpc_port).await?;
        // Subscribed as soon as gossip runs, so no event is missed while the rest starts.
        let (events, events_task) = UserEvents::new(
            lan.clone(),
            UserEventsConfig {
                default_query_time: cfg.default_query_time,
                max_query_time: cfg.max_query_time,
            },
        );
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let rpc = RpcClient::new(ClientConfig::default());
        let rpc_stop = CancellationToken::new();
        let mut rpc_task = None;

        let server = match (rpc_listener, rpc_port) {
            (Some(listener), Some(port)) => {
                let server = Server::start_with_rpc(server_config(&cfg, port), rpc.clone())
                    .await
                    .context("starting server")?;
                info!(address = %listener.local_addr()?, "Started RPC server");
                let handler: Arc<dyn praetor_rpc::Handler> = Arc::new(server.clone());
                let stop = rpc_stop.clone();
                rpc_task = Some(tokio::spawn(async move {
                    if let Err(e) = praetor_rpc::serve(listener, handler, stop).await {
                        error!(error = %e, "RPC server failed");
                    }
                }));
                tasks.spawn(log_leader_changes(
                    server.clone(),
                    cfg.node_name.clone(),
                    shutdown.clone(),
                ));
                tasks.spawn(crate::cluster::feed_members(
                    lan.clone(),
                    server.clone(),
                    cfg.datacenter.clone(),
                    shutdown.clone(),
                ));
                if crate::cluster::bootstrap_mode(&cfg) != praetor_gossip::Bootstrap::Single
                    && cfg.bootstrap_expect > 1
                {
                    tasks.spawn(crate::cluster::bootstrap_expect(
                        lan.clone(),
                        server.clone(),
                        cfg.clone(),
                        shutdown.clone(),
                    ));
                }
                Some(server)
            }
            _ => None,
        };
        let cluster = Cluster::new(lan.clone(), wan.clone(), server.clone());

        // Local services and checks: the config files' (a bad one fails the start),
        // then persisted API registrations, then anti-entropy to the catalog.
        let (local, local_task) =
            LocalAgent::new(LocalAgentConfig::from_runtime(&cfg), shutdown.clone());
        tasks.spawn(local_task.run());
        let reload_args = args.clone();
        local.set_config_loader(Box::new(move || {
            praetor_agent::config::load(&reload_args).map_err(|e| e.to_string())
        }));
        let remote = RemoteServers::new(
            rpc.clone(),
            lan.clone(),
            &cfg.datacenter,
            cfg.max_query_time,
        );
        let catalog: Arc<dyn CatalogApi> = match &server {
            Some(server) => Arc::new(ServerCatalog(server.clone())),
            None => Arc::new(remote.clone()),
        };
        local.set_catalog(catalog.clone());
        let anti_entropy = AntiEntropy::new(local.clone(), catalog, AntiEntropyConfig::default());
        local
            .load_config(&cfg)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // After the config's services, so API checks and maintenance of them restore.
        local.restore();
        tasks.spawn(anti_entropy.run(shutdown.clone()));

        let backend = match &server {
            Some(server) => LocalBackend::new(server.clone(), agent_self(&cfg)),
            None => LocalBackend::remote(remote, agent_self(&cfg)),
        };
        let backend: Arc<dyn Backend> = Arc::new(
            backend
                .with_agent(local.clone())
                .with_cluster(cluster.clone())
                .with_events(events),
        );
        // `_rexec` jobs run only where `disable_remote_exec = false`; they read and
        // write their KV keys through this same backend.
        let remote_exec = (!cfg.disable_remote_exec).then(|| backend.clone());
        tasks.spawn(events_task.run(
            cfg.node_name.clone(),
            local.clone(),
            remote_exec,
            shutdown.clone(),
        ));
        crate::dns::serve(
            dns_listeners,
            backend.clone(),
            &cfg,
            &mut tasks,
            shutdown.clone(),
        );
        // Configured watches query this agent's own HTTP API (loopback when it listens on
        // every address).
        let watch_addr = match listeners.first() {
            Some(listener) => {
                let mut addr = listener.local_addr()?;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                Some(format!("http://{addr}"))
            }
            None => None,
        };
        for listener in listeners {
            info!(address = %listener.local_addr()?, network = "tcp", "Started HTTP server");
            let (backend, http_cfg, stop) = (backend.clone(), http_config(&cfg), shutdown.clone());
            tasks.spawn(async move {
                if let Err(e) = praetor_http::serve(listener, backend, http_cfg, stop).await {
                    error!(error = %e, "HTTP server failed");
                }
            });
        }

        let watches = Arc::new(ConfigWatches::new(watch_addr, shutdown.clone()));
        watches
            .apply(&cfg.watches)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        local.set_watches(watches);

        // Joining: `-join` once (failing the start), `-retry-join` in the background.
        crate::cluster::start_join(&lan, &cfg.start_join).await?;
        let (fatal_tx, fatal) = tokio::sync::mpsc::channel(2);
        let joins = [(
            lan.clone(),
            "LAN",
            cfg.retry_join.clone(),
            cfg.retry_interval,
            cfg.retry_max,
        )]
        .into_iter()
        .chain(wan.clone().map(|wan| {
            (
                wan,
                "WAN",
                [cfg.start_join_wan.clone(), cfg.retry_join_wan.clone()].concat(),
                cfg.retry_interval_wan,
                cfg.retry_max_wan,
            )
        }));
        for (pool, name, addrs, interval, max) in joins {
            if addrs.is_empty() {
                continue;
            }
            let (stop, fatal_tx) = (shutdown.clone(), fatal_tx.clone());
            tasks.spawn(async move {
                if let Err(e) =
                    crate::cluster::retry_join(pool, name, addrs, interval, max, stop).await
                {
                    let _ = fatal_tx.send(e).await;
                }
            });
        }
        info!("Consul agent running!");
        Ok(Self {
            cfg,
            server,
            cluster,
            local,
            shutdown,
            tasks,
            rpc_stop,
            rpc_task,
            fatal,
        })
    }

    /// Waits for SIGINT/SIGTERM (SIGHUP reloads the config's services and checks), a
    /// graceful leave through the API, or a failed `-retry-join`; then stops.
    async fn run_until_signalled(
        mut self,
        mut int: Signal,
        mut term: Signal,
        mut hup: Signal,
    ) -> i32 {
        let left = self.cluster.left();
        let (leave, code) = loop {
            tokio::select! {
                _ = int.recv() => {
                    info!(signal = "interrupt", "Caught");
                    let graceful = !self.cfg.skip_leave_on_interrupt;
                    break (graceful, i32::from(!graceful));
                }
                _ = term.recv() => {
                    info!(signal = "terminated", "Caught");
                    let graceful = self.cfg.leave_on_terminate;
                    break (graceful, i32::from(!graceful));
                }
                () = left.cancelled() => {
                    info!("Left the cluster; shutting down");
                    break (false, 0);
                }
                Some(e) = self.fatal.recv() => {
                    error!(error = %e, "Retry join failed");
                    break (false, 1);
                }
                _ = hup.recv() => {
                    info!("Caught signal: hangup");
                    // Reading config files blocks; a failure is logged by `reload` and
                    // the running configuration stays.
                    let local = self.local.clone();
                    let _ = tokio::task::spawn_blocking(move || local.reload()).await;
                }
            }
        };
        if leave {
            info!("Gracefully shutting down agent...");
            if let Err(e) = self.cluster.leave().await {
                error!(error = %e, "Error leaving cluster");
            }
        } else if code != 0 {
            info!("Graceful shutdown disabled. Exiting");
        }
        self.stop().await;
        code
    }

    /// Stops HTTP first, then gossip, then server RPC and Raft (flushing the log), then
    /// removes the pid file.
    async fn stop(mut self) {
        self.shutdown.cancel();
        let drained = tokio::time::timeout(STOP_TIMEOUT, async {
            while self.tasks.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            warn!("HTTP connections still open after the grace period; closing them");
            self.tasks.abort_all();
        }
        self.cluster.shutdown().await;
        if let Some(server) = &self.server {
            match tokio::time::timeout(STOP_TIMEOUT, server.shutdown()).await {
                Ok(Ok(())) => info!("server stopped"),
                Ok(Err(e)) => error!(error = %e, "server shutdown failed"),
                Err(_) => error!("server shutdown timed out"),
            }
        }
        self.rpc_stop.cancel();
        if let Some(task) = self.rpc_task.take() {
            let _ = tokio::time::timeout(STOP_TIMEOUT, task).await;
        }
        if let Some(path) = &self.cfg.pid_file {
            let _ = std::fs::remove_file(path);
        }
        info!("shutdown complete");
    }
}

/// Logs leader changes as Consul does (`New leader elected`).
async fn log_leader_changes(server: Server, node_name: String, stop: CancellationToken) {
    let mut status = server.raft_status_watch();
    let mut leader = None;
    loop {
        let current = status.borrow_and_update().clone();
        if current.leader_id != leader {
            leader = current.leader_id;
            if current.is_leader {
                info!(target: "praetor_raft", leader = %format!("Node at {} [Leader]", current.leader_addr.clone().unwrap_or_default()), "entering leader state");
                info!(target: "praetor_server", payload = %node_name, "New leader elected");
            } else if let Some(addr) = &current.leader_addr {
                info!(target: "praetor_server", payload = %addr, "New leader elected");
            }
        }
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            changed = status.changed() => if changed.is_err() { return },
        }
    }
}

fn server_config(cfg: &RuntimeConfig, rpc_port: u16) -> ServerConfig {
    let mut server = ServerConfig::new(raft_config(cfg, rpc_port));
    // Gossip feeds the member list (`Server::set_members`); until the first feed the
    // leader keeps this server itself.
    server.member = Some(Member {
        name: cfg.node_name.clone(),
        id: cfg.node_id.to_string(),
        addr: cfg.advertise_addr.to_string(),
        server_port: Some(rpc_port),
        version: praetor_types::CONSUL_COMPAT_VERSION.to_owned(),
        state: praetor_server::MemberState::Alive,
    });
    server.default_query_time = cfg.default_query_time;
    server.max_query_time = cfg.max_query_time;
    server.autopilot = cfg.autopilot.clone();
    server.read_index_follower_reads = cfg.read_index_follower_reads;
    server
}

fn raft_config(cfg: &RuntimeConfig, rpc_port: u16) -> RaftConfig {
    let rpc_addr = SocketAddr::new(cfg.advertise_addr, rpc_port);
    let mut raft = RaftConfig::new(raft_id(&cfg.node_id.to_string()), rpc_addr.to_string());
    raft.data_dir = if cfg.dev { None } else { cfg.data_dir.clone() };
    raft.bootstrap = cfg.dev || cfg.bootstrap || cfg.bootstrap_expect == 1;
    raft.snapshot_threshold = cfg.raft_snapshot_threshold;
    raft.election_timeout = ELECTION_TIMEOUT;
    raft
}

fn agent_self(cfg: &RuntimeConfig) -> AgentSelf {
    AgentSelf {
        datacenter: cfg.datacenter.clone(),
        node_name: cfg.node_name.clone(),
        node_id: cfg.node_id.to_string(),
        server: cfg.server,
        advertise_addr: cfg.advertise_addr.to_string(),
        bind_addr: cfg.bind_addr.to_string(),
        client_addr: cfg
            .client_addrs
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        server_port: u16::try_from(cfg.ports.server).unwrap_or(8300),
        serf_lan_port: u16::try_from(cfg.ports.serf_lan).unwrap_or(8301),
        http_port: cfg.ports.http,
        dns_port: cfg.ports.dns,
        dev: cfg.dev,
    }
}

fn http_config(cfg: &RuntimeConfig) -> HttpConfig {
    HttpConfig {
        datacenter: cfg.datacenter.clone(),
        pretty_default: cfg.dev,
        kv_max_value_size: cfg.kv_max_value_size,
        disable_kv_key_validation: cfg.disable_kv_key_validation,
        ui_enabled: cfg.ui_enabled,
        ui_content_path: cfg.ui_content_path.clone(),
        response_headers: cfg
            .http_response_headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_id_comes_from_the_node_id() {
        assert_eq!(
            raft_id("b5a63e6b-2f68-37ae-0f3c-0d0f18ef9a5a"),
            0xb5a6_3e6b_2f68_37ae
        );
        assert_eq!(raft_id("00000000-0000-0000-0000-000000000000"), 1);
    }
}
