//! `consul catalog datacenters|nodes|services` (spec/cli.md §4), Consul's `command/catalog`.

mod nodes;
mod services;

use clap::Parser;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// `consul catalog` help: its subcommands.
const CATALOG_USAGE: &str = "Usage: consul catalog <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's catalog. The
  catalog should not be confused with the agent, although the APIs and
  responses may be similar.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  List all datacenters:

      $ consul catalog datacenters

  List all nodes:

      $ consul catalog nodes

  List all services:

      $ consul catalog services

  For more examples, ask for subcommand help or view the documentation.

Subcommands:
    datacenters    Lists all known datacenters
    nodes          Lists all nodes in the given datacenter
    services       Lists all registered services in a datacenter";

/// Dispatches `consul catalog <subcommand> …`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut args = args.into_iter();
    let Some(sub) = args.next() else {
        console.error(CATALOG_USAGE);
        return 1;
    };
    let rest: Vec<String> = args.collect();
    match sub.as_str() {
        "datacenters" => datacenters(rest, console, env).await,
        "nodes" => nodes::run(rest, console, env).await,
        "services" => services::run(rest, console, env).await,
        "-h" | "--help" | "-help" => {
            console.info(CATALOG_USAGE);
            0
        }
        _ => {
            console.error(CATALOG_USAGE);
            1
        }
    }
}

/// Lists all known datacenters, one per line
#[derive(Debug, Parser)]
#[command(name = "datacenters", disable_version_flag = true)]
struct DatacentersArgs {
    #[command(flatten)]
    http: HttpFlags,
}

/// `consul catalog datacenters`: one datacenter per line, in the API's order.
async fn datacenters(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: DatacentersArgs = match crate::parse_args("consul catalog datacenters", args, console)
    {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.catalog_datacenters().await {
        Ok(dcs) if dcs.is_empty() => {
            console.error("No datacenters found");
            1
        }
        Ok(dcs) => {
            for dc in dcs {
                console.info(&dc);
            }
            0
        }
        Err(e) => {
            console.error(&format!("Error listing datacenters: {}", describe(&e)));
            1
        }
    }
}

#[cfg(test)]
mod tests;
