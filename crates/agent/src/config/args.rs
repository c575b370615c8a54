//! `consul agent` command-line flags. The binary rewrites Go-style `-flag` to `--flag`
//! before clap sees them. Flags are turned into one more config source, merged last.

use serde_json::{Map, Value, json};

/// Every flag of `consul agent`. Options left unset do not override config files;
/// list flags append to the lists from files.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AgentArgs {
    /// Start a development server: in-memory, self-bootstrapping, bound to 127.0.0.1.
    #[arg(long)]
    pub dev: bool,
    /// Run in server mode.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub server: Option<bool>,
    /// Bootstrap this server on its own (one server per datacenter).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub bootstrap: Option<bool>,
    /// Number of servers to wait for before bootstrapping.
    #[arg(long = "bootstrap-expect")]
    pub bootstrap_expect: Option<u32>,
    /// Directory for persistent state (required unless -dev).
    #[arg(long = "data-dir")]
    pub data_dir: Option<String>,
    /// Node name (default: the host name).
    #[arg(long = "node")]
    pub node: Option<String>,
    /// Node ID (a UUID; default: generated and kept in the data dir).
    #[arg(long = "node-id")]
    pub node_id: Option<String>,
    /// Node metadata as `key:value`; repeatable.
    #[arg(long = "node-meta")]
    pub node_meta: Vec<String>,
    /// Derive the node ID from the host when false.
    #[arg(long = "disable-host-node-id", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub disable_host_node_id: Option<bool>,
    /// Datacenter of this agent.
    #[arg(long)]
    pub datacenter: Option<String>,
    /// Address to bind cluster (gossip and server RPC) listeners to.
    #[arg(long)]
    pub bind: Option<String>,
    /// Address to advertise to the rest of the cluster.
    #[arg(long)]
    pub advertise: Option<String>,
    /// Address to advertise on the WAN.
    #[arg(long = "advertise-wan")]
    pub advertise_wan: Option<String>,
    /// Address to bind LAN gossip to (default: -bind).
    #[arg(long = "serf-lan-bind")]
    pub serf_lan_bind: Option<String>,
    /// Address to bind WAN gossip to (default: -bind).
    #[arg(long = "serf-wan-bind")]
    pub serf_wan_bind: Option<String>,
    /// Address(es), space-separated, for the HTTP, DNS and gRPC listeners.
    #[arg(long)]
    pub client: Option<String>,
    /// HTTP API port (-1 disables).
    #[arg(long = "http-port", allow_negative_numbers = true)]
    pub http_port: Option<i32>,
    /// HTTPS API port (-1 disables).
    #[arg(long = "https-port", allow_negative_numbers = true)]
    pub https_port: Option<i32>,
    /// gRPC port (-1 disables).
    #[arg(long = "grpc-port", allow_negative_numbers = true)]
    pub grpc_port: Option<i32>,
    /// gRPC TLS port (-1 disables).
    #[arg(long = "grpc-tls-port", allow_negative_numbers = true)]
    pub grpc_tls_port: Option<i32>,
    /// DNS port (-1 disables).
    #[arg(long = "dns-port", allow_negative_numbers = true)]
    pub dns_port: Option<i32>,
    /// LAN gossip port.
    #[arg(long = "serf-lan-port", allow_negative_numbers = true)]
    pub serf_lan_port: Option<i32>,
    /// WAN gossip port (-1 disables WAN).
    #[arg(long = "serf-wan-port", allow_negative_numbers = true)]
    pub serf_wan_port: Option<i32>,
    /// Server RPC port.
    #[arg(long = "server-port", allow_negative_numbers = true)]
    pub server_port: Option<i32>,
    /// A config file to load; repeatable.
    #[arg(long = "config-file")]
    pub config_file: Vec<String>,
    /// A directory of `*.json`/`*.hcl` config files to load; repeatable.
    #[arg(long = "config-dir")]
    pub config_dir: Vec<String>,
    /// Parse every config file as `json` or `hcl` regardless of extension.
    #[arg(long = "config-format")]
    pub config_format: Option<String>,
    /// An HCL config fragment, applied after all files; repeatable.
    #[arg(long = "hcl")]
    pub hcl: Vec<String>,
    /// Address to join at start, retried until it succeeds; repeatable.
    #[arg(long = "retry-join")]
    pub retry_join: Vec<String>,
    /// Address to join once at start; repeatable.
    #[arg(long = "join")]
    pub join: Vec<String>,
    /// Time between join attempts.
    #[arg(long = "retry-interval")]
    pub retry_interval: Option<String>,
    /// Maximum join attempts (0: unlimited).
    #[arg(long = "retry-max")]
    pub retry_max: Option<u32>,
    /// WAN address to join, retried; repeatable.
    #[arg(long = "retry-join-wan")]
    pub retry_join_wan: Vec<String>,
    /// WAN address to join once at start; repeatable.
    #[arg(long = "join-wan")]
    pub join_wan: Vec<String>,
    /// Time between WAN join attempts.
    #[arg(long = "retry-interval-wan")]
    pub retry_interval_wan: Option<String>,
    /// Maximum WAN join attempts (0: unlimited).
    #[arg(long = "retry-max-wan")]
    pub retry_max_wan: Option<u32>,
    /// Rejoin previous members even after a graceful leave.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub rejoin: Option<bool>,
    /// Gossip encryption key (base64).
    #[arg(long)]
    pub encrypt: Option<String>,
    /// Do not persist the gossip keyring.
    #[arg(long = "disable-keyring-file", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub disable_keyring_file: Option<bool>,
    /// Serve the web UI.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ui: Option<bool>,
    /// Serve the web UI from this directory.
    #[arg(long = "ui-dir")]
    pub ui_dir: Option<String>,
    /// URL path the web UI is served under.
    #[arg(long = "ui-content-path")]
    pub ui_content_path: Option<String>,
    /// Log level: trace, debug, info, warn or error.
    #[arg(long = "log-level")]
    pub log_level: Option<String>,
    /// Log in JSON.
    #[arg(long = "log-json", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub log_json: Option<bool>,
    /// Also log to this file.
    #[arg(long = "log-file")]
    pub log_file: Option<String>,
    /// Rotate the log file after this many bytes.
    #[arg(long = "log-rotate-bytes")]
    pub log_rotate_bytes: Option<u64>,
    /// Rotate the log file after this long.
    #[arg(long = "log-rotate-duration")]
    pub log_rotate_duration: Option<String>,
    /// Number of rotated log files to keep.
    #[arg(long = "log-rotate-max-files", allow_negative_numbers = true)]
    pub log_rotate_max_files: Option<i64>,
    /// Log to syslog.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub syslog: Option<bool>,
    /// Write the agent's PID to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<String>,
    /// Allow script checks from any source, the HTTP API included.
    #[arg(long = "enable-script-checks", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_script_checks: Option<bool>,
    /// Allow script checks from config files only.
    #[arg(long = "enable-local-script-checks", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_local_script_checks: Option<bool>,
    /// Upstream DNS server; repeatable.
    #[arg(long = "recursor")]
    pub recursor: Vec<String>,
    /// DNS domain served.
    #[arg(long)]
    pub domain: Option<String>,
    /// Alternative DNS domain served.
    #[arg(long = "alt-domain")]
    pub alt_domain: Option<String>,
    /// Default blocking-query wait.
    #[arg(long = "default-query-time")]
    pub default_query_time: Option<String>,
    /// Longest blocking-query wait.
    #[arg(long = "max-query-time")]
    pub max_query_time: Option<String>,
    /// Largest check output kept, in bytes.
    #[arg(long = "check_output_max_size")]
    pub check_output_max_size: Option<u32>,
    /// Gossip protocol version.
    #[arg(long)]
    pub protocol: Option<u32>,
    /// Raft protocol version.
    #[arg(long = "raft-protocol")]
    pub raft_protocol: Option<u32>,
    /// Network segment (Enterprise; accepted and ignored).
    #[arg(long)]
    pub segment: Option<String>,
    /// Run as a read replica (Enterprise; accepted and ignored).
    #[arg(long = "read-replica", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub read_replica: Option<bool>,
    /// Run as a non-voting server (Enterprise; accepted and ignored).
    #[arg(long = "non-voting-server", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub non_voting_server: Option<bool>,
    /// CIDRs allowed to join the LAN pool; repeatable.
    #[arg(long = "serf-lan-allowed-cidrs")]
    pub serf_lan_allowed_cidrs: Vec<String>,
    /// CIDRs allowed to join the WAN pool; repeatable.
    #[arg(long = "serf-wan-allowed-cidrs")]
    pub serf_wan_allowed_cidrs: Vec<String>,
    /// Mesh gateway in the primary datacenter; repeatable.
    #[arg(long = "primary-gateway")]
    pub primary_gateway: Vec<String>,
    /// Reload when config files change.
    #[arg(long = "auto-reload-config", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub auto_reload_config: Option<bool>,
}

impl AgentArgs {
    /// The flags as a config source, in config-file keys. Only flags that were given appear.
    pub(crate) fn to_source(&self) -> Value {
        let mut top = Map::new();
        let mut set = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                insert_path(&mut top, key, value);
            }
        };
        let s = |v: &Option<String>| v.as_ref().map(|v| json!(v));
        let b = |v: &Option<bool>| v.map(Value::Bool);
        let list = |v: &[String]| (!v.is_empty()).then(|| json!(v));

        set("server", b(&self.server));
        set("bootstrap", b(&self.bootstrap));
        set("bootstrap_expect", self.bootstrap_expect.map(Value::from));
        set("data_dir", s(&self.data_dir));
        set("node_name", s(&self.node));
        set("node_id", s(&self.node_id));
        if !self.node_meta.is_empty() {
            let meta: Map<String, Value> = self
                .node_meta
                .iter()
                .map(|pair| {
                    let (k, v) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
                    (k.to_owned(), json!(v))
                })
                .collect();
            set("node_meta", Some(Value::Object(meta)));
        }
        set("disable_host_node_id", b(&self.disable_host_node_id));
        set("datacenter", s(&self.datacenter));
        set("bind_addr", s(&self.bind));
        set("advertise_addr", s(&self.advertise));
        set("advertise_addr_wan", s(&self.advertise_wan));
        set("serf_lan", s(&self.serf_lan_bind));
        set("serf_wan", s(&self.serf_wan_bind));
        set("client_addr", s(&self.client));
        set("ports.http", self.http_port.map(Value::from));
        set("ports.https", self.https_port.map(Value::from));
        set("ports.grpc", self.grpc_port.map(Value::from));
        set("ports.grpc_tls", self.grpc_tls_port.map(Value::from));
        set("ports.dns", self.dns_port.map(Value::from));
        set("ports.serf_lan", self.serf_lan_port.map(Value::from));
        set("ports.serf_wan", self.serf_wan_port.map(Value::from));
        set("ports.server", self.server_port.map(Value::from));
        set("retry_join", list(&self.retry_join));
        set("start_join", list(&self.join));
        set("retry_interval", s(&self.retry_interval));
        set("retry_max", self.retry_max.map(Value::from));
        set("retry_join_wan", list(&self.retry_join_wan));
        set("start_join_wan", list(&self.join_wan));
        set("retry_interval_wan", s(&self.retry_interval_wan));
        set("retry_max_wan", self.retry_max_wan.map(Value::from));
        set("rejoin_after_leave", b(&self.rejoin));
        set("encrypt", s(&self.encrypt));
        set("disable_keyring_file", b(&self.disable_keyring_file));
        set("ui_config.enabled", b(&self.ui));
        set("ui_config.dir", s(&self.ui_dir));
        set("ui_config.content_path", s(&self.ui_content_path));
        set("log_level", s(&self.log_level));
        set("log_json", b(&self.log_json));
        set("log_file", s(&self.log_file));
        set("log_rotate_bytes", self.log_rotate_bytes.map(Value::from));
        set("log_rotate_duration", s(&self.log_rotate_duration));
        set(
            "log_rotate_max_files",
            self.log_rotate_max_files.map(Value::from),
        );
        set("enable_syslog", b(&self.syslog));
        set("pid_file", s(&self.pid_file));
        set("enable_script_checks", b(&self.enable_script_checks));
        set(
            "enable_local_script_checks",
            b(&self.enable_local_script_checks),
        );
        set("recursors", list(&self.recursor));
        set("domain", s(&self.domain));
        set("alt_domain", s(&self.alt_domain));
        set("default_query_time", s(&self.default_query_time));
        set("max_query_time", s(&self.max_query_time));
        set(
            "check_output_max_size",
            self.check_output_max_size.map(Value::from),
        );
        set("protocol", self.protocol.map(Value::from));
        set("raft_protocol", self.raft_protocol.map(Value::from));
        set("segment", s(&self.segment));
        set("read_replica", b(&self.read_replica));
        set("non_voting_server", b(&self.non_voting_server));
        set("serf_lan_allowed_cidrs", list(&self.serf_lan_allowed_cidrs));
        set("serf_wan_allowed_cidrs", list(&self.serf_wan_allowed_cidrs));
        set("primary_gateways", list(&self.primary_gateway));
        set("auto_reload_config", b(&self.auto_reload_config));
        Value::Object(top)
    }
}

/// Inserts `value` at a dotted path, creating intermediate objects.
fn insert_path(top: &mut Map<String, Value>, path: &str, value: Value) {
    let mut map = top;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        let slot = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(inner) = slot else {
            return;
        };
        map = inner;
    }
}
