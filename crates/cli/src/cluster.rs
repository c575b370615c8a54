//! `consul join`, `consul leave` and `consul force-leave` (spec/cli.md §3), Consul's
//! `command/join`, `command/leave` and `command/forceleave`.

use clap::{ArgAction, Parser};

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Tells a running Consul agent to join the cluster by specifying at least one existing
/// member
#[derive(Debug, Parser)]
#[command(name = "join", disable_version_flag = true)]
struct JoinArgs {
    /// Joins a server to another server in the WAN pool
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    wan: bool,
    #[command(flatten)]
    http: HttpFlags,
    /// Addresses of members to join
    addresses: Vec<String>,
}

/// `PUT /v1/agent/join/<addr>` per address; exit 1 when none succeeded.
pub(crate) async fn join(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: JoinArgs = match crate::parse_args("consul join", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.addresses.is_empty() {
        console.error("At least one address to join must be specified.");
        return 1;
    }
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let mut joined = 0;
    for addr in &args.addresses {
        match client.agent_join(addr, args.wan).await {
            Ok(()) => joined += 1,
            Err(e) => console.error(&format!("Error joining address '{addr}': {}", describe(&e))),
        }
    }
    if joined == 0 {
        console.error("Failed to join any nodes.");
        return 1;
    }
    console.info(&format!(
        "Successfully joined cluster by contacting {joined} nodes."
    ));
    0
}

/// Causes the agent to gracefully leave the Consul cluster and shutdown
#[derive(Debug, Parser)]
#[command(name = "leave", disable_version_flag = true)]
struct LeaveArgs {
    #[command(flatten)]
    http: HttpFlags,
}

/// `PUT /v1/agent/leave`; prints `Graceful leave complete`.
pub(crate) async fn leave(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: LeaveArgs = match crate::parse_args("consul leave", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.agent_leave().await {
        Ok(()) => {
            console.info("Graceful leave complete");
            0
        }
        Err(e) => {
            console.error(&format!("Error leaving: {}", describe(&e)));
            1
        }
    }
}

/// Forces a member of a Consul cluster to enter the "left" state
#[derive(Debug, Parser)]
#[command(name = "force-leave", disable_version_flag = true)]
struct ForceLeaveArgs {
    /// Remove the agent forcibly from the list of members
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    prune: bool,
    /// Exclusively leave the agent from the WAN serf pool
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    wan: bool,
    #[command(flatten)]
    http: HttpFlags,
    /// The node to force out
    nodes: Vec<String>,
}

/// `PUT /v1/agent/force-leave/<node>`; silent on success.
pub(crate) async fn force_leave(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ForceLeaveArgs = match crate::parse_args("consul force-leave", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let [node] = args.nodes.as_slice() else {
        console.error("A single node name must be specified to force leave.");
        return 1;
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.agent_force_leave(node, args.prune, args.wan).await {
        Ok(()) => 0,
        Err(e) => {
            console.error(&format!("Error force leaving: {}", describe(&e)));
            1
        }
    }
}
