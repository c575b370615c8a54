//! `consul operator raft list-peers [-stale]`, `consul operator raft remove-peer
//! -address=<ip:port> | -id=<id>` and `consul operator autopilot get-config|set-config|state`
//! (spec/cli.md §7), Consul's `command/operator/raft` and `command/operator/autopilot`.

mod state;

use std::time::Duration;

use clap::{ArgAction, Parser};
use praetor_types::duration::{format_go_duration, parse_go_duration};
use praetor_types::{AutopilotConfig, RaftPeer};

use crate::argv::parse_bool_flag;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};
use crate::table::columnize;

const OPERATOR_USAGE: &str = "Usage: consul operator <subcommand> [options] [args]\n\n\
    Subcommands:\n    autopilot      Provides tools for modifying Autopilot configuration\n    \
    raft           Provides cluster-level tools for Consul operators";
const AUTOPILOT_USAGE: &str = "Usage: consul operator autopilot <subcommand> [options]\n\n\
    Subcommands:\n    get-config     Display the current Autopilot configuration\n    \
    set-config     Modify the current Autopilot configuration\n    \
    state          Display the current Autopilot State";
const RAFT_USAGE: &str = "Usage: consul operator raft <subcommand> [options] [args]\n\n\
    Subcommands:\n    list-peers     Display the current Raft peer configuration\n    \
    remove-peer    Remove a Consul server from the Raft configuration";

/// `consul operator …`: `raft list-peers`, `raft remove-peer`, `autopilot get-config`
/// and `autopilot set-config` are served.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut rest = args.into_iter();
    match rest.next().as_deref() {
        Some("raft") => {}
        Some("autopilot") => return autopilot(rest.collect(), console, env).await,
        Some("-h" | "--help" | "-help") => {
            console.info(OPERATOR_USAGE);
            return 0;
        }
        Some(other) if !other.starts_with('-') => {
            console.error(&format!(
                "This command is not supported by Praetor yet: operator {other}"
            ));
            return 1;
        }
        _ => {
            console.error(OPERATOR_USAGE);
            return 1;
        }
    }
    match rest.next().as_deref() {
        Some("list-peers") => list_peers(rest.collect(), console, env).await,
        Some("remove-peer") => remove_peer(rest.collect(), console, env).await,
        Some("-h" | "--help" | "-help") => {
            console.info(RAFT_USAGE);
            0
        }
        Some(other) if !other.starts_with('-') => {
            console.error(&format!(
                "This command is not supported by Praetor yet: operator raft {other}"
            ));
            1
        }
        _ => {
            console.error(RAFT_USAGE);
            1
        }
    }
}

/// Displays the current Raft peer configuration
#[derive(Debug, Parser)]
#[command(name = "list-peers", disable_version_flag = true)]
struct ListPeersArgs {
    #[command(flatten)]
    http: HttpFlags,
}

async fn list_peers(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ListPeersArgs =
        match crate::parse_args("consul operator raft list-peers", args, console) {
            Ok(args) => args,
            Err(code) => return code,
        };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let config = match client.operator_raft_configuration(args.http.stale).await {
        Ok(config) => config,
        Err(e) => {
            console.error(&format!("Error getting peers: {}", describe(&e)));
            return 1;
        }
    };
    let leader_index = config
        .servers
        .iter()
        .find(|s| s.leader)
        .map_or(0, |s| s.last_index);
    let mut rows = vec![
        [
            "Node",
            "ID",
            "Address",
            "State",
            "Voter",
            "RaftProtocol",
            "Commit Index",
            "Trails Leader By",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for s in &config.servers {
        let behind = leader_index.saturating_sub(s.last_index);
        let trails = match (s.leader, behind) {
            (true, _) => "-".to_owned(),
            (false, 1) => "1 commit".to_owned(),
            (false, n) => format!("{n} commits"),
        };
        let protocol = if s.protocol_version.is_empty() {
            "<=1"
        } else {
            s.protocol_version.as_str()
        };
        rows.push(vec![
            s.node.clone(),
            s.id.clone(),
            s.address.clone(),
            if s.leader { "leader" } else { "follower" }.to_owned(),
            s.voter.to_string(),
            protocol.to_owned(),
            s.last_index.to_string(),
            trails,
        ]);
    }
    console.info(columnize(&rows).trim_end_matches('\n'));
    0
}

/// Removes a Consul server from the Raft configuration
#[derive(Debug, Parser)]
#[command(name = "remove-peer", disable_version_flag = true)]
struct RemovePeerArgs {
    /// The address to remove from the Raft configuration
    #[arg(long, value_name = "IP:PORT")]
    address: Option<String>,
    /// The ID to remove from the Raft configuration
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

async fn remove_peer(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: RemovePeerArgs =
        match crate::parse_args("consul operator raft remove-peer", args, console) {
            Ok(args) => args,
            Err(code) => return code,
        };
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let peer = match (set(&args.address), set(&args.id)) {
        (Some(address), None) => RaftPeer::Address(address),
        (None, Some(id)) => RaftPeer::Id(id),
        (None, None) => {
            console
                .error("Error removing peer: an address or id is required for the peer to remove");
            return 1;
        }
        (Some(_), Some(_)) => {
            console.error("Error removing peer: cannot give both an address and id");
            return 1;
        }
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.operator_raft_remove_peer(&peer).await {
        Ok(()) => {
            console.info(&match &peer {
                RaftPeer::Address(a) => format!("Removed peer with address {a:?}"),
                RaftPeer::Id(id) => format!("Removed peer with id {id:?}"),
            });
            0
        }
        Err(e) => {
            console.error(&format!("Error removing peer: {}", describe(&e)));
            1
        }
    }
}

/// `consul operator autopilot <get-config|set-config|state>`.
async fn autopilot(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut rest = args.into_iter();
    match rest.next().as_deref() {
        Some("get-config") => get_config(rest.collect(), console, env).await,
        Some("set-config") => set_config(rest.collect(), console, env).await,
        Some("state") => state::run(rest.collect(), console, env).await,
        Some("-h" | "--help" | "-help") => {
            console.info(AUTOPILOT_USAGE);
            0
        }
        Some(other) if !other.starts_with('-') => {
            console.error(&format!(
                "This command is not supported by Praetor yet: operator autopilot {other}"
            ));
            1
        }
        _ => {
            console.error(AUTOPILOT_USAGE);
            1
        }
    }
}

/// Display the current Autopilot configuration
#[derive(Debug, Parser)]
#[command(name = "get-config", disable_version_flag = true)]
struct GetConfigArgs {
    #[command(flatten)]
    http: HttpFlags,
}

async fn get_config(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: GetConfigArgs =
        match crate::parse_args("consul operator autopilot get-config", args, console) {
            Ok(args) => args,
            Err(code) => return code,
        };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client
        .operator_autopilot_get_configuration(args.http.stale)
        .await
    {
        Ok(config) => {
            console.info(&render_config(&config));
            0
        }
        Err(e) => {
            console.error(&format!(
                "Error querying Autopilot configuration: {}",
                describe(&e)
            ));
            1
        }
    }
}

/// The configuration as `get-config` prints it.
fn render_config(c: &AutopilotConfig) -> String {
    [
        format!("CleanupDeadServers = {}", c.cleanup_dead_servers),
        format!(
            "LastContactThreshold = {}",
            format_go_duration(c.last_contact_threshold)
        ),
        format!("MaxTrailingLogs = {}", c.max_trailing_logs),
        format!("MinQuorum = {}", c.min_quorum),
        format!(
            "ServerStabilizationTime = {}",
            format_go_duration(c.server_stabilization_time)
        ),
        format!("RedundancyZoneTag = {:?}", c.redundancy_zone_tag),
        format!("DisableUpgradeMigration = {}", c.disable_upgrade_migration),
        format!("UpgradeVersionTag = {:?}", c.upgrade_version_tag),
    ]
    .join("\n")
}

fn parse_duration_flag(value: &str) -> Result<Duration, String> {
    parse_go_duration(value).map_err(|e| e.to_string())
}

/// Modify the current Autopilot configuration
#[derive(Debug, Parser)]
#[command(name = "set-config", disable_version_flag = true)]
struct SetConfigArgs {
    /// Controls whether Consul will automatically remove dead servers when new ones are
    /// successfully added
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    cleanup_dead_servers: Option<bool>,
    /// Controls the maximum amount of time a server can go without contact from the
    /// leader before being considered unhealthy
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_flag)]
    last_contact_threshold: Option<Duration>,
    /// Controls the maximum number of log entries that a server can trail the leader by
    /// before being considered unhealthy
    #[arg(long, value_name = "N")]
    max_trailing_logs: Option<u64>,
    /// Sets the minimum number of servers required in a cluster before autopilot can
    /// prune dead servers
    #[arg(long, value_name = "N")]
    min_quorum: Option<u64>,
    /// Controls the minimum amount of time a server must be stable in the 'healthy'
    /// state before being added to the cluster
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_flag)]
    server_stabilization_time: Option<Duration>,
    /// (Enterprise-only) Controls the node_meta tag name used for separating servers
    /// into different redundancy zones
    #[arg(long, value_name = "TAG")]
    redundancy_zone_tag: Option<String>,
    /// (Enterprise-only) Controls whether Consul will avoid promoting new servers until
    /// it can perform a migration
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    disable_upgrade_migration: Option<bool>,
    /// (Enterprise-only) Controls the node_meta tag name used for version info when
    /// performing upgrade migrations
    #[arg(long, value_name = "TAG")]
    upgrade_version_tag: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

impl SetConfigArgs {
    /// Applies the flags given to `config`.
    fn apply(&self, config: &mut AutopilotConfig) {
        if let Some(v) = self.cleanup_dead_servers {
            config.cleanup_dead_servers = v;
        }
        if let Some(v) = self.last_contact_threshold {
            config.last_contact_threshold = v;
        }
        if let Some(v) = self.max_trailing_logs {
            config.max_trailing_logs = v;
        }
        if let Some(v) = self.min_quorum {
            config.min_quorum = v;
        }
        if let Some(v) = self.server_stabilization_time {
            config.server_stabilization_time = v;
        }
        if let Some(v) = &self.redundancy_zone_tag {
            config.redundancy_zone_tag.clone_from(v);
        }
        if let Some(v) = self.disable_upgrade_migration {
            config.disable_upgrade_migration = v;
        }
        if let Some(v) = &self.upgrade_version_tag {
            config.upgrade_version_tag.clone_from(v);
        }
    }
}

/// Read, modify, and write back with a CAS on the index read.
async fn set_config(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: SetConfigArgs =
        match crate::parse_args("consul operator autopilot set-config", args, console) {
            Ok(args) => args,
            Err(code) => return code,
        };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let mut config = match client.operator_autopilot_get_configuration(false).await {
        Ok(config) => config,
        Err(e) => {
            console.error(&format!(
                "Error querying Autopilot configuration: {}",
                describe(&e)
            ));
            return 1;
        }
    };
    args.apply(&mut config);
    let cas = config.modify_index;
    match client
        .operator_autopilot_set_configuration(&config, Some(cas))
        .await
    {
        Ok(true) => {
            console.info("Configuration updated!");
            0
        }
        Ok(false) => {
            console.error("Configuration could not be atomically updated, please try again");
            1
        }
        Err(e) => {
            console.error(&format!(
                "Error setting Autopilot configuration: {}",
                describe(&e)
            ));
            1
        }
    }
}
