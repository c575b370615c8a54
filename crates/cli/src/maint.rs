//! `consul maint [-enable|-disable] [-reason=<text>] [-service=<id>]` (spec/cli.md §6),
//! Consul's `command/maint`.

use clap::{ArgAction, Parser};
use praetor_client::{AgentCheck, NODE_MAINTENANCE_CHECK_ID, SERVICE_MAINTENANCE_CHECK_PREFIX};

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Places a node or service into maintenance mode, takes it out again, or (with neither
/// -enable nor -disable) lists what is in maintenance on the agent
#[derive(Debug, Parser)]
#[command(name = "maint", disable_version_flag = true)]
struct MaintArgs {
    /// Enable maintenance mode
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    enable: bool,
    /// Disable maintenance mode
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    disable: bool,
    /// Text describing the maintenance reason (with -enable)
    #[arg(long, value_name = "TEXT", default_value = "")]
    reason: String,
    /// Control maintenance mode for this service ID instead of the node
    #[arg(long, value_name = "ID", default_value = "")]
    service: String,
    #[command(flatten)]
    http: HttpFlags,
}

pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: MaintArgs = match crate::parse_args("consul maint", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.enable && args.disable {
        console.error("Only one of -enable or -disable may be provided");
        return 1;
    }
    if !args.enable && !args.reason.is_empty() {
        console.error("Reason may only be provided with -enable");
        return 1;
    }
    if !args.enable && !args.disable && !args.service.is_empty() {
        console.error("Service requires either -enable or -disable");
        return 1;
    }
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let node_name = match client.agent_node_name().await {
        Ok(name) => name,
        Err(e) => {
            console.error(&format!("Error querying Consul agent: {}", describe(&e)));
            return 1;
        }
    };

    if !args.enable && !args.disable {
        return match client.agent_checks().await {
            Ok(checks) => {
                let listing = list(&node_name, checks.values());
                if let Some(text) = listing.strip_suffix('\n') {
                    console.info(text);
                }
                0
            }
            Err(e) => {
                console.error(&format!("Error getting checks: {}", describe(&e)));
                1
            }
        };
    }

    let enable = args.enable;
    let verb = if enable { "enabling" } else { "disabling" };
    let result = if args.service.is_empty() {
        client.agent_node_maintenance(enable, &args.reason).await
    } else {
        client
            .agent_service_maintenance(&args.service, enable, &args.reason)
            .await
    };
    let what = if args.service.is_empty() {
        "node"
    } else {
        "service"
    };
    if let Err(e) = result {
        console.error(&format!(
            "Error {verb} {what} maintenance: {}",
            describe(&e)
        ));
        return 1;
    }
    let done = match (args.service.is_empty(), enable) {
        (true, true) => "Node entered maintenance mode".to_owned(),
        (true, false) => "Node left maintenance mode".to_owned(),
        (false, true) => format!("Service entered maintenance mode: {}", args.service),
        (false, false) => format!("Service left maintenance mode: {}", args.service),
    };
    console.info(&done);
    0
}

/// The list mode's blocks: the node first, then services by ID; each block ends with a
/// blank line, as Consul prints them.
fn list<'a>(node_name: &str, checks: impl Iterator<Item = &'a AgentCheck>) -> String {
    let mut node = None;
    let mut services = Vec::new();
    for check in checks {
        if check.check_id == NODE_MAINTENANCE_CHECK_ID {
            node = Some(check);
        } else if check.check_id.starts_with(SERVICE_MAINTENANCE_CHECK_PREFIX) {
            services.push(check);
        }
    }
    services.sort_by(|a, b| a.service_id.cmp(&b.service_id));
    let mut out = String::new();
    if let Some(check) = node {
        out.push_str(&format!(
            "Node:\n  Name:   {node_name}\n  Reason: {}\n\n",
            check.notes
        ));
    }
    for check in services {
        let id = if check.service_id.is_empty() {
            &check.check_id[SERVICE_MAINTENANCE_CHECK_PREFIX.len()..]
        } else {
            check.service_id.as_str()
        };
        out.push_str(&format!(
            "Service:\n  ID:     {id}\n  Reason: {}\n\n",
            check.notes
        ));
    }
    out
}
