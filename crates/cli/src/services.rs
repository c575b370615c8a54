//! `consul services register|deregister` (spec/cli.md §4), Consul's `command/services`.

mod definition;

use clap::{ArgAction, Parser};
use praetor_client::AgentServiceRegistration;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe, parse_key_value};

/// `consul services` help: its subcommands.
const SERVICES_USAGE: &str = "Usage: consul services <subcommand> [options] [args]

  This command has subcommands for interacting with services. The subcommands
  default to working with services registered with the local agent. Please see
  the \"consul catalog\" command for interacting with the entire catalog.

  For more examples, ask for subcommand help or view the documentation.

Subcommands:
    deregister    Deregister services with the local agent
    register      Register services with the local agent";

/// Dispatches `consul services <subcommand> …`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut args = args.into_iter();
    let Some(sub) = args.next() else {
        console.error(SERVICES_USAGE);
        return 1;
    };
    let rest: Vec<String> = args.collect();
    match sub.as_str() {
        "register" => register(rest, console, env).await,
        "deregister" => deregister(rest, console, env).await,
        "-h" | "--help" | "-help" => {
            console.info(SERVICES_USAGE);
            0
        }
        _ => {
            console.error(SERVICES_USAGE);
            1
        }
    }
}

/// Registers a service with the local agent, from flags or from service definition files
/// (JSON or HCL, the agent's `service`/`services` config format)
#[derive(Debug, Parser)]
#[command(name = "register", disable_version_flag = true)]
struct RegisterArgs {
    /// Name of the service to register
    #[arg(long, value_name = "NAME", default_value = "")]
    name: String,
    /// ID of the service to register (defaults to the name)
    #[arg(long, value_name = "ID", default_value = "")]
    id: String,
    /// Address of the service (defaults to the node's)
    #[arg(long, value_name = "ADDR", default_value = "")]
    address: String,
    /// Port of the service
    #[arg(long, value_name = "PORT", default_value = "0")]
    port: u16,
    /// Path to the service's Unix socket
    #[arg(long, value_name = "PATH", default_value = "")]
    socket: String,
    /// Tag to add to the service; repeatable
    #[arg(long = "tag", value_name = "TAG", action = ArgAction::Append)]
    tags: Vec<String>,
    /// Metadata to set on the service, as key=value; repeatable
    #[arg(long, value_name = "KEY=VALUE", action = ArgAction::Append, value_parser = parse_key_value)]
    meta: Vec<(String, String)>,
    /// Service definition files
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// `consul services register`: one `Registered service: <name>` line per service.
async fn register(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: RegisterArgs = match crate::parse_args("consul services register", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.files.is_empty() && args.name.is_empty() {
        console.error("Service name must be specified via the -name flag");
        return 1;
    }
    if !args.files.is_empty() && !args.name.is_empty() {
        console.error("Service name must be specified via -name flag OR via a file, not both");
        return 1;
    }
    let services = if args.files.is_empty() {
        vec![AgentServiceRegistration {
            id: args.id.clone(),
            name: args.name.clone(),
            address: args.address.clone(),
            port: args.port,
            socket_path: args.socket.clone(),
            tags: args.tags.clone(),
            meta: args.meta.iter().cloned().collect(),
            ..AgentServiceRegistration::default()
        }]
    } else {
        match from_files(&args.files, console) {
            Ok(services) => services,
            Err(code) => return code,
        }
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    for service in services {
        if let Err(e) = client.agent_service_register(&service).await {
            console.error(&format!(
                "Error registering service {:?}: {}",
                service.name,
                describe(&e)
            ));
            return 1;
        }
        console.info(&format!("Registered service: {}", service.name));
    }
    0
}

/// Deregisters a service from the local agent, by ID or by the definitions in files
#[derive(Debug, Parser)]
#[command(name = "deregister", disable_version_flag = true)]
struct DeregisterArgs {
    /// ID of the service to deregister
    #[arg(long, value_name = "ID", default_value = "")]
    id: String,
    /// Service definition files naming the services to deregister
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// `consul services deregister`: one `Deregistered service: <id>` line per service.
async fn deregister(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: DeregisterArgs = match crate::parse_args("consul services deregister", args, console)
    {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.files.is_empty() && args.id.is_empty() {
        console.error("Service deregistration requires at least one argument or -id.");
        return 1;
    }
    if !args.files.is_empty() && !args.id.is_empty() {
        console.error("Service deregistration requires arguments or -id, not both.");
        return 1;
    }
    let ids: Vec<String> = if args.files.is_empty() {
        vec![args.id.clone()]
    } else {
        match from_files(&args.files, console) {
            // A definition without an ID is registered under its name.
            Ok(services) => services
                .into_iter()
                .map(|s| if s.id.is_empty() { s.name } else { s.id })
                .filter(|id| !id.is_empty())
                .collect(),
            Err(code) => return code,
        }
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    for id in ids {
        if let Err(e) = client.agent_service_deregister(&id).await {
            console.error(&format!(
                "Error deregistering service {id:?}: {}",
                describe(&e)
            ));
            return 1;
        }
        console.info(&format!("Deregistered service: {id}"));
    }
    0
}

/// The services defined in `files`, with the loader's warnings printed to stderr; on error
/// prints `Error: …` and yields exit code 1.
fn from_files(
    files: &[String],
    console: &mut Console<'_>,
) -> Result<Vec<AgentServiceRegistration>, i32> {
    match definition::from_files(files) {
        Ok((services, warnings)) => {
            for warning in warnings {
                console.error(&warning);
            }
            Ok(services)
        }
        Err(e) => {
            console.error(&format!("Error: {e}"));
            Err(1)
        }
    }
}

#[cfg(test)]
mod tests;
