//! `consul operator autopilot state [-format=pretty|json]` (spec/cli.md §7): autopilot's
//! view of the servers, from `/v1/operator/autopilot/state`.

use clap::Parser;
use praetor_types::AutopilotState;
use praetor_types::duration::format_go_duration;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Display the current Autopilot state
#[derive(Debug, Parser)]
#[command(name = "state", disable_version_flag = true)]
struct StateArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Output format: pretty or json
    #[arg(long, value_name = "FORMAT", default_value = "pretty")]
    format: String,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: StateArgs = match crate::parse_args("consul operator autopilot state", args, console)
    {
        Ok(args) => args,
        Err(code) => return code,
    };
    if !matches!(args.format.as_str(), "pretty" | "json") {
        console.error(&format!(
            "Error: invalid format {:?}: must be pretty or json",
            args.format
        ));
        return 1;
    }
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let state = match client.operator_autopilot_state(args.http.stale).await {
        Ok(state) => state,
        Err(e) => {
            console.error(&format!(
                "Error querying the autopilot state: {}",
                describe(&e)
            ));
            return 1;
        }
    };
    if args.format == "json" {
        match serde_json::to_string_pretty(&state) {
            Ok(text) => console.info(&text),
            Err(e) => {
                console.error(&format!("Error encoding the state: {e}"));
                return 1;
            }
        }
    } else {
        console.info(&render(&state));
    }
    0
}

/// The pretty form: the summary, the voters, then each server's fields.
pub(super) fn render(state: &AutopilotState) -> String {
    let mut out = vec![
        format!("Healthy:                      {}", state.healthy),
        format!("Failure Tolerance:            {}", state.failure_tolerance),
        format!(
            "Optimistic Failure Tolerance: {}",
            state.optimistic_failure_tolerance
        ),
        format!("Leader:                       {}", state.leader),
        "Voters:".to_owned(),
    ];
    out.extend(state.voters.iter().map(|v| format!("   {v}")));
    out.push(String::new());
    out.push("Servers:".to_owned());
    for (id, s) in &state.servers {
        out.push(format!("   {id}"));
        for (label, value) in [
            ("Name", s.name.clone()),
            ("Address", s.address.clone()),
            ("Version", s.version.clone()),
            ("Status", s.status.clone()),
            ("Node Type", s.node_type.clone()),
            ("Node Status", s.node_status.clone()),
            ("Healthy", s.healthy.to_string()),
            ("Last Contact", format_go_duration(s.last_contact)),
            ("Last Term", s.last_term.to_string()),
            ("Last Index", s.last_index.to_string()),
            ("Stable Since", s.stable_since.clone()),
        ] {
            out.push(format!("      {:<16}{value}", format!("{label}:")));
        }
    }
    out.join("\n")
}
