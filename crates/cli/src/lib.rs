//! praetor-cli: every `consul` subcommand except `agent` (Consul's `command/` packages),
//! one module per command family, each a thin client of the agent's HTTP API through
//! `praetor-client`. The only library crate that prints. `validate` and the file forms of
//! `services register|deregister` read config files with `praetor-agent`'s loader, so they
//! accept and reject exactly what the agent does.
//!
//! The binary calls [`argv::normalize`] on `std::env::args()` and then [`run`] for anything
//! but `agent`. Output and exit codes follow spec/cli.md: results on stdout, errors on
//! stderr, 0 on success, 1 on any error, 127 for a missing or unknown subcommand. Usage
//! text names the program `consul` whatever `argv[0]` is, as Consul's does.

pub mod argv;
mod catalog;
mod cluster;
mod console;
mod event;
mod exec;
mod http_flags;
mod info;
mod kv;
mod lock;
mod maint;
mod members;
mod operator;
mod reload;
mod services;
mod subprocess;
mod table;
mod validate;
mod version;
mod watch;

use crate::console::{Console, Env};

/// Commands listed in the usage block: (name, synopsis), alphabetical.
const COMMANDS: &[(&str, &str)] = &[
    ("acl", "Interact with Consul's ACLs"),
    ("agent", "Runs a Consul agent"),
    ("catalog", "Interact with the catalog"),
    (
        "config",
        "Interact with Consul's Centralized Configurations",
    ),
    ("connect", "Interact with Consul Connect"),
    ("debug", "Records a debugging archive for operators"),
    ("event", "Fire a new event"),
    ("exec", "Executes a command on Consul nodes"),
    (
        "force-leave",
        "Forces a member of the cluster to enter the \"left\" state",
    ),
    ("info", "Provides debugging information for operators."),
    ("intention", "Interact with Connect service intentions"),
    ("join", "Tell Consul agent to join cluster"),
    ("keygen", "Generates a new encryption key"),
    ("keyring", "Manages gossip layer encryption keys"),
    ("kv", "Interact with the key-value store"),
    (
        "leave",
        "Gracefully leaves the Consul cluster and shuts down",
    ),
    ("lock", "Execute a command holding a lock"),
    ("login", "Login to Consul using an auth method"),
    ("logout", "Destroy a Consul token created with login"),
    ("maint", "Controls node or service maintenance mode"),
    ("members", "Lists the members of a Consul cluster"),
    ("monitor", "Stream logs from a Consul agent"),
    (
        "operator",
        "Provides cluster-level tools for Consul operators",
    ),
    ("reload", "Triggers the agent to reload configuration files"),
    ("rtt", "Estimates network round trip time between nodes"),
    ("services", "Interact with services"),
    (
        "snapshot",
        "Saves, restores and inspects snapshots of Consul server state",
    ),
    ("tls", "Builtin helpers for creating CAs and certificates"),
    ("validate", "Validate config files/directories"),
    ("version", "Prints the Consul version"),
    ("watch", "Watch for changes in Consul"),
];

/// Exit status for a missing or unknown subcommand, as Consul's.
const EXIT_UNKNOWN_COMMAND: i32 = 127;

/// Runs one CLI invocation (`args[0]` is the program name, flags already normalised) against
/// the process's stdin, stdout, stderr and environment; returns the exit status.
pub async fn run(args: Vec<String>) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let mut input = std::io::stdin();
    let mut console = Console {
        out: &mut out,
        err: &mut err,
        input: &mut input,
    };
    let env = |name: &str| std::env::var(name).ok();
    run_with(args, &mut console, &env).await
}

/// [`run`] with explicit streams and environment.
pub(crate) async fn run_with(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut rest = args.into_iter().skip(1);
    let Some(command) = rest.next() else {
        console.error(&usage());
        console.flush();
        return EXIT_UNKNOWN_COMMAND;
    };
    let rest: Vec<String> = rest.collect();
    let code = match command.as_str() {
        "-h" | "--help" | "-help" => {
            console.info(&usage());
            0
        }
        "-v" | "--version" | "-version" => version::run(Vec::new(), console),
        "version" => version::run(rest, console),
        "kv" => kv::run(rest, console, env).await,
        "catalog" => catalog::run(rest, console, env).await,
        "services" => services::run(rest, console, env).await,
        "maint" => maint::run(rest, console, env).await,
        "reload" => reload::run(rest, console, env).await,
        "members" => members::run(rest, console, env).await,
        "join" => cluster::join(rest, console, env).await,
        "leave" => cluster::leave(rest, console, env).await,
        "force-leave" => cluster::force_leave(rest, console, env).await,
        "info" => info::run(rest, console, env).await,
        "operator" => operator::run(rest, console, env).await,
        "validate" => validate::run(rest, console),
        "watch" => watch::run(rest, console, env).await,
        "lock" => lock::run(rest, console, env).await,
        "event" => event::run(rest, console, env).await,
        "exec" => exec::run(rest, console, env).await,
        "agent" => {
            console.error("The agent command is run by the praetor binary itself");
            1
        }
        name if COMMANDS.iter().any(|(n, _)| *n == name) => {
            console.error(&format!(
                "This command is not supported by Praetor yet: {name}"
            ));
            1
        }
        _ => {
            console.error(&usage());
            EXIT_UNKNOWN_COMMAND
        }
    };
    console.flush();
    code
}

/// The top-level usage block (spec/cli.md §1.1), without a trailing newline.
pub(crate) fn usage() -> String {
    let mut text = String::from(
        "Usage: consul [--version] [--help] <command> [<args>]\n\nAvailable commands are:",
    );
    for (name, synopsis) in COMMANDS {
        text.push_str(&format!("\n    {name:<15}{synopsis}"));
    }
    text
}

/// Parses a subcommand's flags with clap. On `-h`/`--help` prints help to stdout and yields
/// exit 0; on a flag error prints the message to stderr and yields exit 1.
pub(crate) fn parse_args<T: clap::Parser>(
    bin_name: &str,
    args: Vec<String>,
    console: &mut Console<'_>,
) -> Result<T, i32> {
    let mut command = T::command()
        .bin_name(bin_name.to_owned())
        .color(clap::ColorChoice::Never)
        .term_width(100);
    let argv = std::iter::once(bin_name.to_owned()).chain(args);
    let parsed = command
        .try_get_matches_from_mut(argv)
        .and_then(|matches| T::from_arg_matches(&matches));
    parsed.map_err(|e| {
        let text = e.render().to_string();
        match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                console.info(text.trim_end());
                0
            }
            _ => {
                console.error(text.trim_end());
                1
            }
        }
    })
}

#[cfg(test)]
mod tests;
