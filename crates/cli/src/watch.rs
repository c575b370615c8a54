//! `consul watch -type=<t> [options] [handler...]` (spec/cli.md §6), Consul's
//! `command/watch` over the `api/watch` plan: blocking queries on one view (key,
//! keyprefix, services, nodes, service, checks, event); without a handler the first result
//! is printed and the command exits, with one the handler runs on every change.

mod handler;

use clap::{ArgAction, Parser};
use praetor_client::watch::{Params, WatchKind, backoff};
use praetor_client::{Client, QueryOptions};

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// `consul watch` flags.
#[derive(Debug, Parser)]
#[command(
    name = "watch",
    about = "Watch for changes in Consul",
    override_usage = "consul watch [options] [child...]"
)]
struct WatchArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Specifies the watch type: key, keyprefix, services, nodes, service, checks or event
    #[arg(long = "type", value_name = "TYPE")]
    watch_type: Option<String>,
    /// Specifies the key to watch (type key)
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// Specifies the key prefix to watch (type keyprefix)
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
    /// Specifies the service to watch (type service; optional for checks)
    #[arg(long, value_name = "SERVICE")]
    service: Option<String>,
    /// Service tag to filter on (type service); may be repeated, all must match
    #[arg(long, value_name = "TAG")]
    tag: Vec<String>,
    /// Only passing entries are returned (type service): true or false
    #[arg(long, value_name = "BOOL", value_parser = parse_bool_flag)]
    passingonly: Option<bool>,
    /// Specifies the check state to watch (type checks)
    #[arg(long, value_name = "STATE")]
    state: Option<String>,
    /// Specifies the event name to watch (type event)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Filter expression for the results (types services, nodes, service, checks)
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// Run the handler through the shell
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        value_parser = parse_bool_flag,
        action = ArgAction::Set
    )]
    shell: bool,
    /// The handler to run on every change (data as JSON on stdin, CONSUL_INDEX set)
    #[arg(
        value_name = "CHILD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    handler: Vec<String>,
}

/// Runs `consul watch`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: WatchArgs = match crate::parse_args("consul watch", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(watch_type) = args.watch_type.clone().filter(|t| !t.is_empty()) else {
        console.error("Watch type must be specified");
        console.error("");
        console.error(&help());
        return 1;
    };
    let kind = match WatchKind::parse(&watch_type, &params(&args)) {
        Ok(kind) => kind,
        Err(message) => {
            console.error(&message);
            return 1;
        }
    };
    let Some(client) = args.http.connect_to_agent(env, console).await else {
        return 1;
    };
    let consistency = args.http.query_options().consistency;
    let options = QueryOptions {
        consistency,
        ..QueryOptions::default()
    };
    if args.handler.is_empty() {
        return print_once(&client, &kind, options, console).await;
    }
    let watcher = handler::Watcher {
        client,
        kind,
        options,
        handler: args.handler,
        shell: args.shell,
    };
    watcher.run(console, env).await
}

/// Without a handler: the current data, pretty-printed once.
async fn print_once(
    client: &Client,
    kind: &WatchKind,
    options: QueryOptions,
    console: &mut Console<'_>,
) -> i32 {
    let mut failures = 0u32;
    loop {
        match kind.fetch(client, &options, None).await {
            Ok((_, data)) => {
                console.info(&data.pretty);
                return 0;
            }
            Err(e) => {
                failures += 1;
                let retry = backoff(failures);
                console.error(&format!(
                    "Watch errored: type={} error={} retry={}s",
                    kind.name(),
                    describe(&e),
                    retry.as_secs()
                ));
                console.flush();
                tokio::time::sleep(retry).await;
            }
        }
    }
}

/// The flags' watch parameters; empty strings count as not given.
fn params(args: &WatchArgs) -> Params {
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Params {
        key: set(&args.key),
        prefix: set(&args.prefix),
        service: set(&args.service),
        tags: args.tag.iter().filter(|t| !t.is_empty()).cloned().collect(),
        passing_only: args.passingonly,
        state: set(&args.state),
        name: set(&args.name),
        filter: set(&args.filter),
    }
}

fn help() -> String {
    use clap::CommandFactory as _;
    WatchArgs::command()
        .bin_name("consul watch")
        .color(clap::ColorChoice::Never)
        .term_width(100)
        .render_help()
        .to_string()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests;
