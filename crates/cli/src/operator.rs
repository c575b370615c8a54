//! `consul operator raft list-peers [-stale]` and `consul operator raft remove-peer
//! -address=<ip:port> | -id=<id>` (spec/cli.md §7), Consul's `command/operator/raft`.

use clap::Parser;
use praetor_types::RaftPeer;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};
use crate::table::columnize;

const OPERATOR_USAGE: &str = "Usage: consul operator <subcommand> [options] [args]\n\n\
    Subcommands:\n    raft           Provides cluster-level tools for Consul operators";
const RAFT_USAGE: &str = "Usage: consul operator raft <subcommand> [options] [args]\n\n\
    Subcommands:\n    list-peers     Display the current Raft peer configuration\n    \
    remove-peer    Remove a Consul server from the Raft configuration";

/// `consul operator …`: only `raft list-peers` and `raft remove-peer` are served.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut rest = args.into_iter();
    match rest.next().as_deref() {
        Some("raft") => {}
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
