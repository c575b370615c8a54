//! [`RuntimeConfig`]: the validated result of merging defaults, files and flags, and the pure
//! [`build`] step that produces it from merged sources.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::bind::detect_advertise;
use super::duration::parse_go_duration;
use super::error::Problem;
use super::node_id::parse_node_id;

/// Listener ports; `-1` disables a listener and `0` asks the OS for a free port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// HTTP API (8500).
    pub http: i32,
    /// HTTPS API (-1).
    pub https: i32,
    /// gRPC (-1; 8502 in dev).
    pub grpc: i32,
    /// gRPC with TLS (8503).
    pub grpc_tls: i32,
    /// DNS (8600).
    pub dns: i32,
    /// Server RPC (8300).
    pub server: i32,
    /// LAN gossip (8301).
    pub serf_lan: i32,
    /// WAN gossip (8302; -1 disables WAN).
    pub serf_wan: i32,
}

impl Ports {
    /// `Some(port)` when the listener is enabled.
    pub fn enabled(port: i32) -> Option<u16> {
        u16::try_from(port).ok()
    }
}

/// Where a client-facing listener binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// An IP address (with the listener's port).
    Ip(IpAddr),
    /// A Unix domain socket (`unix:///path`).
    Unix(PathBuf),
}

/// Per-listener addresses: `addresses.*`, defaulting to `client_addr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerAddrs {
    /// HTTP API.
    pub http: Vec<ListenAddr>,
    /// HTTPS API.
    pub https: Vec<ListenAddr>,
    /// gRPC.
    pub grpc: Vec<ListenAddr>,
    /// DNS (IP only).
    pub dns: Vec<IpAddr>,
}

/// Log verbosity (`-log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Per-request detail.
    Debug,
    /// Lifecycle events (the default).
    Info,
    /// Degraded but coping.
    Warn,
    /// An operator must act.
    Error,
}

impl LogLevel {
    /// Parses Consul's level names, case-insensitively (`warning` and `err` too).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "trace" => Some(Self::Trace),
            "debug" => Some(Self::Debug),
            "info" => Some(Self::Info),
            "warn" | "warning" => Some(Self::Warn),
            "err" | "error" => Some(Self::Error),
            _ => None,
        }
    }

    /// The lower-case name, as `tracing` filters spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// `gossip_lan { … }` / `gossip_wan { … }`: overrides of the pool's timing profile (each
/// `None` when not set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GossipTuning {
    /// `probe_interval`.
    pub probe_interval: Option<Duration>,
    /// `probe_timeout`.
    pub probe_timeout: Option<Duration>,
    /// `suspicion_mult`.
    pub suspicion_mult: Option<u32>,
    /// `retransmit_mult`.
    pub retransmit_mult: Option<u32>,
    /// `gossip_interval`.
    pub gossip_interval: Option<Duration>,
    /// `gossip_nodes`.
    pub gossip_nodes: Option<u32>,
}

/// `dns_config { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// Allow stale reads (true).
    pub allow_stale: bool,
    /// Staleness bound before retrying on the leader (87600h).
    pub max_stale: Duration,
    /// TTL of node records (0).
    pub node_ttl: Duration,
    /// Per-service TTLs; keys may end in `*`.
    pub service_ttl: BTreeMap<String, Duration>,
    /// Set TC when trimming UDP answers.
    pub enable_truncate: bool,
    /// Exclude warning instances too.
    pub only_passing: bool,
    /// Non-EDNS UDP answer cap (3).
    pub udp_answer_limit: u32,
    /// Cap on A/AAAA answers (0 = none).
    pub a_record_limit: u32,
    /// Timeout per recursor (2s).
    pub recursor_timeout: Duration,
    /// Pick recursors at random rather than in order.
    pub recursor_strategy_random: bool,
    /// Disable DNS name compression.
    pub disable_compression: bool,
    /// Node meta as TXT records in ADDITIONAL (true).
    pub enable_additional_node_meta_txt: bool,
    /// SOA refresh, retry, expire, min TTL in seconds (3600, 600, 86400, 0).
    pub soa: [u32; 4],
}

/// The agent's validated configuration. Built by [`load`](super::load).
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// `-dev` mode.
    pub dev: bool,
    /// Node name (default: the host name).
    pub node_name: String,
    /// Node ID: given, persisted in `<data_dir>/node-id`, or random in `-dev`.
    pub node_id: Uuid,
    /// Node metadata.
    pub node_meta: BTreeMap<String, String>,
    /// Datacenter, lower-cased.
    pub datacenter: String,
    /// The ACL-authoritative datacenter (default: `datacenter`).
    pub primary_datacenter: String,
    /// Server mode.
    pub server: bool,
    /// Self-bootstrap.
    pub bootstrap: bool,
    /// Servers to wait for before bootstrapping (0: off).
    pub bootstrap_expect: u32,
    /// Data directory; `None` only in `-dev` without `-data-dir`.
    pub data_dir: Option<PathBuf>,
    /// Where to write the PID.
    pub pid_file: Option<PathBuf>,
    /// Cluster bind address (may be unspecified: bind all).
    pub bind_addr: IpAddr,
    /// Address advertised to the LAN.
    pub advertise_addr: IpAddr,
    /// Address advertised to the WAN.
    pub advertise_addr_wan: IpAddr,
    /// LAN gossip bind address.
    pub serf_bind_addr_lan: IpAddr,
    /// WAN gossip bind address.
    pub serf_bind_addr_wan: IpAddr,
    /// Client listener addresses (`-client`).
    pub client_addrs: Vec<IpAddr>,
    /// Per-listener addresses.
    pub addresses: ListenerAddrs,
    /// Listener ports.
    pub ports: Ports,
    /// Log level.
    pub log_level: LogLevel,
    /// JSON logs.
    pub log_json: bool,
    /// Log file.
    pub log_file: Option<PathBuf>,
    /// Serve the web UI.
    pub ui_enabled: bool,
    /// Serve UI assets from this directory.
    pub ui_dir: Option<PathBuf>,
    /// Path the UI is served under (`/ui/`).
    pub ui_content_path: String,
    /// Allow script checks from any source.
    pub enable_script_checks: bool,
    /// Allow script checks from config files.
    pub enable_local_script_checks: bool,
    /// Addresses to join, retried.
    pub retry_join: Vec<String>,
    /// Addresses to join once at start (`-join`, legacy `start_join`).
    pub start_join: Vec<String>,
    /// Time between join attempts (30s).
    pub retry_interval: Duration,
    /// Maximum join attempts (0: unlimited).
    pub retry_max: u32,
    /// WAN addresses to join, retried.
    pub retry_join_wan: Vec<String>,
    /// WAN addresses to join once.
    pub start_join_wan: Vec<String>,
    /// Time between WAN join attempts (30s).
    pub retry_interval_wan: Duration,
    /// Maximum WAN join attempts.
    pub retry_max_wan: u32,
    /// Rejoin after a graceful leave.
    pub rejoin_after_leave: bool,
    /// Leave gracefully on SIGTERM (default: clients yes, servers no).
    pub leave_on_terminate: bool,
    /// Skip the graceful leave on SIGINT (default: servers yes, clients no).
    pub skip_leave_on_interrupt: bool,
    /// How long failed members are kept before reaping (72h).
    pub reconnect_timeout: Duration,
    /// `gossip_lan { … }` timing overrides.
    pub gossip_lan: GossipTuning,
    /// `gossip_wan { … }` timing overrides.
    pub gossip_wan: GossipTuning,
    /// Gossip encryption key (base64).
    pub encrypt: Option<String>,
    /// Do not persist the keyring.
    pub disable_keyring_file: bool,
    /// Largest KV value accepted, in bytes (`limits.kv_max_value_size`, 524288).
    pub kv_max_value_size: u64,
    /// Largest transaction request, in bytes (`limits.txn_max_req_len`, 524288).
    pub txn_max_req_len: u64,
    /// Skip KV key validation.
    pub disable_kv_key_validation: bool,
    /// Extra HTTP response headers (`http_config.response_headers`).
    pub http_response_headers: BTreeMap<String, String>,
    /// Blocking-query default wait (300s).
    pub default_query_time: Duration,
    /// Blocking-query longest wait (600s).
    pub max_query_time: Duration,
    /// Raft log entries between snapshots (16384).
    pub raft_snapshot_threshold: u64,
    /// How often to check for a snapshot (30s).
    pub raft_snapshot_interval: Duration,
    /// Raft entries kept after a snapshot (10240).
    pub raft_trailing_logs: u64,
    /// Raft timing multiplier (5; 1 in dev).
    pub raft_multiplier: u32,
    /// `autopilot { … }`: written into Raft when a leader finds none there.
    pub autopilot: praetor_types::AutopilotConfig,
    /// Beyond Consul: followers serve default and `?consistent` reads themselves after
    /// a read index from the leader (`read_index_follower_reads`, false).
    pub read_index_follower_reads: bool,
    /// Shortest session TTL (10s).
    pub session_ttl_min: Duration,
    /// DNS upstreams.
    pub recursors: Vec<String>,
    /// DNS domain, with a trailing dot (`consul.`).
    pub domain: String,
    /// Alternative DNS domain, with a trailing dot.
    pub alt_domain: Option<String>,
    /// `dns_config`.
    pub dns: DnsConfig,
    /// Largest check output kept (4096).
    pub check_output_max_size: usize,
    /// Output-only check changes sync at most this often (5m).
    pub check_update_interval: Duration,
    /// Do not store check output.
    pub discard_check_output: bool,
    /// Disable `consul exec` (true).
    pub disable_remote_exec: bool,
    /// ACLs enabled.
    pub acl_enabled: bool,
    /// ACL default policy (`allow`).
    pub acl_default_policy: String,
    /// Reload on config-file change.
    pub auto_reload_config: bool,
    /// Service definitions from config, unchecked (`service`/`services`).
    pub services: Vec<Value>,
    /// Check definitions from config, unchecked (`check`/`checks`).
    pub checks: Vec<Value>,
    /// Watch definitions.
    pub watches: Vec<Value>,
    pub(crate) sources: Vec<PathBuf>,
    pub(crate) warnings: Vec<String>,
}

impl RuntimeConfig {
    /// The config files that were loaded, in load order.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// Non-fatal problems found while loading (skipped files, odd `bootstrap_expect`…),
    /// for the binary to log once its subscriber is installed.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Facts about the host that loading needs; [`load`](super::load) reads the real ones,
/// tests pass their own to [`load_with`](super::load_with).
pub struct HostFacts<'a> {
    /// The host name, if it could be read.
    pub hostname: Option<String>,
    /// Lists the host's non-loopback addresses; only called when advertise detection needs it.
    pub interface_addrs: &'a dyn Fn() -> std::io::Result<Vec<IpAddr>>,
}

/// Where the node ID still has to come from after [`build`].
pub(crate) enum NodeIdFrom {
    /// Already set in the config.
    Resolved,
    /// Read or create `<data_dir>/node-id`.
    DataDir(PathBuf),
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Turns the merged config tree into a [`RuntimeConfig`], recording every problem.
pub(crate) fn build(
    dev: bool,
    merged: &Value,
    host: &HostFacts<'_>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> (RuntimeConfig, NodeIdFrom) {
    let mut r = Reader {
        root: merged,
        problems,
    };

    // identity and role
    let server = r.bool("server", false);
    let bootstrap = r.bool("bootstrap", false);
    let bootstrap_expect: u32 = r.int("bootstrap_expect", 0);
    let data_dir = r
        .str("data_dir")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let datacenter = r
        .str("datacenter")
        .unwrap_or_else(|| "dc1".to_owned())
        .to_ascii_lowercase();
    let primary_datacenter = r
        .str("primary_datacenter")
        .map(|d| d.to_ascii_lowercase())
        .unwrap_or_else(|| datacenter.clone());
    let node_name = r
        .str("node_name")
        .or_else(|| host.hostname.clone())
        .unwrap_or_default();
    let node_id_text = r.str("node_id").filter(|s| !s.is_empty());
    let node_meta = r.str_map("node_meta");

    let mut problems_out = Vec::new();
    if data_dir.is_none() && !dev {
        problems_out.push(Problem::DataDirRequired);
    }
    if bootstrap_expect > 0 && bootstrap {
        problems_out.push(Problem::BootstrapModesExclusive);
    }
    if bootstrap_expect > 0 && !server {
        problems_out.push(Problem::BootstrapExpectRequiresServer);
    }
    if bootstrap && !server {
        problems_out.push(Problem::BootstrapRequiresServer);
    }
    if bootstrap_expect > 0 && dev {
        problems_out.push(Problem::BootstrapExpectInDev);
    }
    if bootstrap_expect == 1 {
        warnings.push("bootstrap_expect = 1: this is the same as bootstrap = true".to_owned());
    } else if bootstrap_expect > 1 && bootstrap_expect.is_multiple_of(2) {
        warnings.push(format!(
            "bootstrap_expect = {bootstrap_expect}: an even number of servers adds no failure tolerance"
        ));
    }
    if datacenter.is_empty()
        || !datacenter
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        problems_out.push(Problem::InvalidDatacenter(datacenter.clone()));
    }
    if node_name.is_empty()
        || node_name
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'')
    {
        problems_out.push(Problem::InvalidNodeName(node_name.clone()));
    } else if !node_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        warnings.push(format!(
            "node name {node_name:?} will not be discoverable via DNS due to invalid characters; valid characters include all alpha-numerics and dashes"
        ));
    }
    validate_node_meta(&node_meta, &mut problems_out);

    let (node_id, node_id_from) = match &node_id_text {
        Some(text) => match parse_node_id(text) {
            Some(id) => (id, NodeIdFrom::Resolved),
            None => {
                problems_out.push(Problem::InvalidNodeId(text.clone()));
                (Uuid::nil(), NodeIdFrom::Resolved)
            }
        },
        None if dev => (Uuid::new_v4(), NodeIdFrom::Resolved),
        None => match &data_dir {
            Some(dir) => (Uuid::nil(), NodeIdFrom::DataDir(dir.clone())),
            None => (Uuid::nil(), NodeIdFrom::Resolved),
        },
    };

    // addresses
    let bind_default = if dev {
        LOCALHOST
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let bind_addr = r
        .single_ip("bind_addr", &mut problems_out)
        .unwrap_or(bind_default);
    let advertise_addr = match r.single_ip("advertise_addr", &mut problems_out) {
        Some(ip) if ip.is_unspecified() => {
            problems_out.push(Problem::InvalidAddress {
                key: "advertise_addr".to_owned(),
                message: "advertise address cannot be 0.0.0.0, :: or [::]".to_owned(),
            });
            ip
        }
        Some(ip) => ip,
        None if bind_addr.is_unspecified() => match (host.interface_addrs)() {
            Ok(addrs) => detect_advertise(bind_addr, &addrs).unwrap_or_else(|p| {
                problems_out.push(p);
                bind_addr
            }),
            Err(e) => {
                problems_out.push(Problem::Interfaces(e));
                bind_addr
            }
        },
        None => bind_addr,
    };
    let advertise_addr_wan = r
        .single_ip("advertise_addr_wan", &mut problems_out)
        .unwrap_or(advertise_addr);
    let serf_bind_addr_lan = r
        .single_ip("serf_lan", &mut problems_out)
        .unwrap_or(bind_addr);
    let serf_bind_addr_wan = r
        .single_ip("serf_wan", &mut problems_out)
        .unwrap_or(bind_addr);
    let client_addrs = match r.str("client_addr") {
        Some(text) => ip_list("client_addr", &text, &mut problems_out),
        None => vec![LOCALHOST],
    };
    let listen = |r: &mut Reader<'_>, key: &str, unix_ok: bool, problems: &mut Vec<Problem>| match r
        .str(&format!("addresses.{key}"))
    {
        Some(text) => listen_list(&format!("addresses.{key}"), &text, unix_ok, problems),
        None => client_addrs.iter().copied().map(ListenAddr::Ip).collect(),
    };
    let addresses = ListenerAddrs {
        http: listen(&mut r, "http", true, &mut problems_out),
        https: listen(&mut r, "https", true, &mut problems_out),
        grpc: listen(&mut r, "grpc", true, &mut problems_out),
        dns: match r.str("addresses.dns") {
            Some(text) => ip_list("addresses.dns", &text, &mut problems_out),
            None => client_addrs.clone(),
        },
    };
    let ports = Ports {
        http: r.port("ports.http", 8500),
        https: r.port("ports.https", -1),
        grpc: r.port("ports.grpc", -1),
        grpc_tls: r.port("ports.grpc_tls", 8503),
        dns: r.port("ports.dns", 8600),
        server: r.port("ports.server", 8300),
        serf_lan: r.port("ports.serf_lan", 8301),
        serf_wan: r.port("ports.serf_wan", 8302),
    };

    let log_level = match r.str("log_level") {
        Some(text) => LogLevel::parse(&text).unwrap_or_else(|| {
            r.invalid("log_level", &format!("unknown log level {text:?}"));
            LogLevel::Info
        }),
        None => LogLevel::Info,
    };

    let dns = DnsConfig {
        allow_stale: r.bool("dns_config.allow_stale", true),
        max_stale: r.duration("dns_config.max_stale", Duration::from_secs(87_600 * 3600)),
        node_ttl: r.duration("dns_config.node_ttl", Duration::ZERO),
        service_ttl: r
            .str_map("dns_config.service_ttl")
            .into_iter()
            .filter_map(|(k, v)| match parse_go_duration(&v) {
                Ok(d) => Some((k, d)),
                Err(message) => {
                    r.invalid(&format!("dns_config.service_ttl.{k}"), &message);
                    None
                }
            })
            .collect(),
        enable_truncate: r.bool("dns_config.enable_truncate", false),
        only_passing: r.bool("dns_config.only_passing", false),
        udp_answer_limit: r.int("dns_config.udp_answer_limit", 3),
        a_record_limit: r.int("dns_config.a_record_limit", 0),
        recursor_timeout: r.duration("dns_config.recursor_timeout", Duration::from_secs(2)),
        recursor_strategy_random: r
            .str("dns_config.recursor_strategy")
            .is_some_and(|s| s.eq_ignore_ascii_case("random")),
        disable_compression: r.bool("dns_config.disable_compression", false),
        enable_additional_node_meta_txt: r.bool("dns_config.enable_additional_node_meta_txt", true),
        soa: [
            r.int("dns_config.soa.refresh", 3600),
            r.int("dns_config.soa.retry", 600),
            r.int("dns_config.soa.expire", 86400),
            r.int("dns_config.soa.min_ttl", 0),
        ],
    };

    let config = RuntimeConfig {
        dev,
        node_name,
        node_id,
        node_meta,
        datacenter,
        primary_datacenter,
        server,
        bootstrap,
        bootstrap_expect,
        data_dir,
        pid_file: r.path("pid_file"),
        bind_addr,
        advertise_addr,
        advertise_addr_wan,
        serf_bind_addr_lan,
        serf_bind_addr_wan,
        client_addrs,
        addresses,
        ports,
        log_level,
        log_json: r.bool("log_json", false),
        log_file: r.path("log_file"),
        ui_enabled: r.bool("ui_config.enabled", false),
        ui_dir: r.path("ui_config.dir"),
        ui_content_path: r
            .str("ui_config.content_path")
            .unwrap_or_else(|| "/ui/".to_owned()),
        enable_script_checks: r.bool("enable_script_checks", false),
        enable_local_script_checks: r.bool("enable_local_script_checks", false),
        retry_join: r.str_list("retry_join"),
        start_join: r.str_list("start_join"),
        retry_interval: r.duration("retry_interval", Duration::from_secs(30)),
        retry_max: r.int("retry_max", 0),
        retry_join_wan: r.str_list("retry_join_wan"),
        start_join_wan: r.str_list("start_join_wan"),
        retry_interval_wan: r.duration("retry_interval_wan", Duration::from_secs(30)),
        retry_max_wan: r.int("retry_max_wan", 0),
        rejoin_after_leave: r.bool("rejoin_after_leave", false),
        leave_on_terminate: r.bool("leave_on_terminate", !server),
        skip_leave_on_interrupt: r.bool("skip_leave_on_interrupt", server),
        reconnect_timeout: r.duration("reconnect_timeout", Duration::from_secs(72 * 3600)),
        gossip_lan: r.gossip("gossip_lan"),
        gossip_wan: r.gossip("gossip_wan"),
        encrypt: r.str("encrypt").filter(|s| !s.is_empty()),
        disable_keyring_file: r.bool("disable_keyring_file", false),
        kv_max_value_size: r.int("limits.kv_max_value_size", 524_288),
        txn_max_req_len: r.int("limits.txn_max_req_len", 524_288),
        disable_kv_key_validation: r.bool("disable_kv_key_validation", false),
        http_response_headers: r.str_map("http_config.response_headers"),
        default_query_time: r.duration("default_query_time", Duration::from_secs(300)),
        max_query_time: r.duration("max_query_time", Duration::from_secs(600)),
        raft_snapshot_threshold: r.int("raft_snapshot_threshold", 16_384),
        raft_snapshot_interval: r.duration("raft_snapshot_interval", Duration::from_secs(30)),
        raft_trailing_logs: r.int("raft_trailing_logs", 10_240),
        raft_multiplier: r.int("performance.raft_multiplier", 5),
        autopilot: praetor_types::AutopilotConfig {
            cleanup_dead_servers: r.bool("autopilot.cleanup_dead_servers", true),
            last_contact_threshold: r.duration(
                "autopilot.last_contact_threshold",
                Duration::from_millis(200),
            ),
            max_trailing_logs: r.int("autopilot.max_trailing_logs", 250),
            min_quorum: r.int("autopilot.min_quorum", 0),
            server_stabilization_time: r.duration(
                "autopilot.server_stabilization_time",
                Duration::from_secs(10),
            ),
            redundancy_zone_tag: r.str("autopilot.redundancy_zone_tag").unwrap_or_default(),
            disable_upgrade_migration: r.bool("autopilot.disable_upgrade_migration", false),
            upgrade_version_tag: r.str("autopilot.upgrade_version_tag").unwrap_or_default(),
            ..praetor_types::AutopilotConfig::default()
        },
        read_index_follower_reads: r.bool("read_index_follower_reads", false),
        session_ttl_min: r.duration("session_ttl_min", Duration::from_secs(10)),
        recursors: r.str_list("recursors"),
        domain: fqdn(&r.str("domain").unwrap_or_else(|| "consul.".to_owned())),
        alt_domain: r
            .str("alt_domain")
            .filter(|d| !d.is_empty())
            .map(|d| fqdn(&d)),
        dns,
        check_output_max_size: r.int("check_output_max_size", 4096),
        check_update_interval: r.duration("check_update_interval", Duration::from_secs(300)),
        discard_check_output: r.bool("discard_check_output", false),
        disable_remote_exec: r.bool("disable_remote_exec", true),
        acl_enabled: r.bool("acl.enabled", false),
        acl_default_policy: r
            .str("acl.default_policy")
            .unwrap_or_else(|| "allow".to_owned()),
        auto_reload_config: r.bool("auto_reload_config", false),
        services: r.raw_list("services"),
        checks: r.raw_list("checks"),
        watches: r.raw_list("watches"),
        sources: Vec::new(),
        warnings: Vec::new(),
    };
    if config.max_query_time.is_zero() || config.default_query_time > config.max_query_time {
        problems_out.push(Problem::InvalidValue {
            origin: "configuration".to_owned(),
            key: "default_query_time".to_owned(),
            message: "must be at most max_query_time, which must be positive".to_owned(),
        });
    }
    if let Err(message) = crate::watches::parse(&config.watches) {
        problems_out.push(Problem::InvalidWatch(message));
    }
    problems.extend(problems_out);
    (config, node_id_from)
}

fn fqdn(domain: &str) -> String {
    if domain.ends_with('.') {
        domain.to_owned()
    } else {
        format!("{domain}.")
    }
}

fn validate_node_meta(meta: &BTreeMap<String, String>, problems: &mut Vec<Problem>) {
    if meta.len() > 64 {
        problems.push(Problem::InvalidNodeMeta(format!(
            "{} pairs is more than the limit of 64",
            meta.len()
        )));
    }
    for (key, value) in meta {
        if key.is_empty()
            || key.len() > 128
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            problems.push(Problem::InvalidNodeMeta(format!(
                "key {key:?} must be 1-128 characters of letters, digits, '_' and '-'"
            )));
        } else if key.starts_with("consul-") {
            problems.push(Problem::InvalidNodeMeta(format!(
                "key {key:?} uses the reserved \"consul-\" prefix"
            )));
        }
        if value.len() > 512 {
            problems.push(Problem::InvalidNodeMeta(format!(
                "value for key {key:?} is longer than 512 characters"
            )));
        }
    }
}

fn reject_template(key: &str, text: &str, problems: &mut Vec<Problem>) -> bool {
    if text.contains("{{") {
        problems.push(Problem::TemplateUnsupported {
            key: key.to_owned(),
            value: text.to_owned(),
        });
        return true;
    }
    false
}

fn parse_ip(key: &str, text: &str, problems: &mut Vec<Problem>) -> Option<IpAddr> {
    let trimmed = text.trim().trim_start_matches('[').trim_end_matches(']');
    match trimmed.parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            problems.push(Problem::InvalidAddress {
                key: key.to_owned(),
                message: format!("{text:?} is not an IP address"),
            });
            None
        }
    }
}

fn ip_list(key: &str, text: &str, problems: &mut Vec<Problem>) -> Vec<IpAddr> {
    if reject_template(key, text, problems) {
        return Vec::new();
    }
    let list: Vec<IpAddr> = text
        .split_whitespace()
        .filter_map(|part| parse_ip(key, part, problems))
        .collect();
    if list.is_empty() && text.trim().is_empty() {
        problems.push(Problem::InvalidAddress {
            key: key.to_owned(),
            message: "no address given".to_owned(),
        });
    }
    list
}

fn listen_list(
    key: &str,
    text: &str,
    unix_ok: bool,
    problems: &mut Vec<Problem>,
) -> Vec<ListenAddr> {
    if reject_template(key, text, problems) {
        return Vec::new();
    }
    text.split_whitespace()
        .filter_map(|part| match part.strip_prefix("unix://") {
            Some(path) if unix_ok && !path.is_empty() => {
                Some(ListenAddr::Unix(PathBuf::from(path)))
            }
            Some(_) => {
                problems.push(Problem::InvalidAddress {
                    key: key.to_owned(),
                    message: format!("{part:?} is not allowed here"),
                });
                None
            }
            None => parse_ip(key, part, problems).map(ListenAddr::Ip),
        })
        .collect()
}

/// Typed access to the merged tree. Values were type-checked per source, so conversion
/// failures here are range problems (a negative count, a port above 65535).
struct Reader<'a> {
    root: &'a Value,
    problems: &'a mut Vec<Problem>,
}

impl Reader<'_> {
    fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self.root, |v, key| v.get(key))
    }

    fn invalid(&mut self, key: &str, message: &str) {
        self.problems.push(Problem::InvalidValue {
            origin: "configuration".to_owned(),
            key: key.to_owned(),
            message: message.to_owned(),
        });
    }

    fn str(&self, path: &str) -> Option<String> {
        self.get(path).and_then(Value::as_str).map(str::to_owned)
    }

    fn path(&self, path: &str) -> Option<PathBuf> {
        self.str(path).filter(|s| !s.is_empty()).map(PathBuf::from)
    }

    fn bool(&self, path: &str, default: bool) -> bool {
        self.get(path).and_then(Value::as_bool).unwrap_or(default)
    }

    fn int<T: TryFrom<i64> + Copy>(&mut self, path: &str, default: T) -> T {
        let Some(i) = self.get(path).and_then(Value::as_i64) else {
            return default;
        };
        T::try_from(i).unwrap_or_else(|_| {
            self.invalid(path, &format!("{i} is out of range"));
            default
        })
    }

    fn port(&mut self, path: &str, default: i32) -> i32 {
        let port: i32 = self.int(path, default);
        if !(-1..=65535).contains(&port) {
            self.invalid(path, &format!("port {port} must be between -1 and 65535"));
            return default;
        }
        port
    }

    fn duration(&mut self, path: &str, default: Duration) -> Duration {
        match self.str(path) {
            Some(text) => parse_go_duration(&text).unwrap_or_else(|message| {
                self.invalid(path, &message);
                default
            }),
            None => default,
        }
    }

    fn opt_duration(&mut self, path: &str) -> Option<Duration> {
        self.get(path)?;
        Some(self.duration(path, Duration::ZERO))
    }

    fn opt_int(&mut self, path: &str) -> Option<u32> {
        self.get(path)?;
        Some(self.int(path, 0))
    }

    fn gossip(&mut self, prefix: &str) -> GossipTuning {
        GossipTuning {
            probe_interval: self.opt_duration(&format!("{prefix}.probe_interval")),
            probe_timeout: self.opt_duration(&format!("{prefix}.probe_timeout")),
            suspicion_mult: self.opt_int(&format!("{prefix}.suspicion_mult")),
            retransmit_mult: self.opt_int(&format!("{prefix}.retransmit_mult")),
            gossip_interval: self.opt_duration(&format!("{prefix}.gossip_interval")),
            gossip_nodes: self.opt_int(&format!("{prefix}.gossip_nodes")),
        }
    }

    fn str_list(&self, path: &str) -> Vec<String> {
        self.get(path)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn str_map(&self, path: &str) -> BTreeMap<String, String> {
        self.get(path)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn raw_list(&self, path: &str) -> Vec<Value> {
        self.get(path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// One IP address, or `None` when unset; templates and lists are problems.
    fn single_ip(&mut self, path: &str, problems: &mut Vec<Problem>) -> Option<IpAddr> {
        let text = self.str(path).filter(|s| !s.trim().is_empty())?;
        if reject_template(path, &text, problems) {
            return None;
        }
        if text.split_whitespace().count() > 1 {
            problems.push(Problem::InvalidAddress {
                key: path.to_owned(),
                message: format!("{text:?} must be a single IP address"),
            });
            return None;
        }
        parse_ip(path, &text, problems)
    }
}
