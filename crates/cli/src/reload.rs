//! `consul reload` (spec/cli.md §3), Consul's `command/reload`.

use clap::Parser;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Causes the agent to reload its configuration files: services, checks and the settings
/// that can change without a restart
#[derive(Debug, Parser)]
#[command(name = "reload", disable_version_flag = true)]
struct ReloadArgs {
    #[command(flatten)]
    http: HttpFlags,
}

/// `PUT /v1/agent/reload`; prints `Configuration reload triggered`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ReloadArgs = match crate::parse_args("consul reload", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.agent_reload().await {
        Ok(()) => {
            console.info("Configuration reload triggered");
            0
        }
        Err(e) => {
            console.error(&format!("Error reloading: {}", describe(&e)));
            1
        }
    }
}
