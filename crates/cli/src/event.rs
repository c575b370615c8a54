//! `consul event` (spec/cli.md §6), Consul's `command/event`.

use clap::Parser;
use praetor_client::EventFire;
use regex::Regex;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Dispatches a custom user event across a datacenter. An event must provide a name, and
/// may provide a payload and regexps over node names, service names and tags to select the
/// agents that handle it
#[derive(Debug, Parser)]
#[command(name = "event", disable_version_flag = true)]
struct EventArgs {
    /// Name of the event
    #[arg(long, default_value = "", value_name = "NAME")]
    name: String,
    /// Regular expression to filter on node names
    #[arg(long, default_value = "", value_name = "REGEXP")]
    node: String,
    /// Regular expression to filter on service instances
    #[arg(long, default_value = "", value_name = "REGEXP")]
    service: String,
    /// Regular expression to filter on service tags; requires -service
    #[arg(long, default_value = "", value_name = "REGEXP")]
    tag: String,
    /// The payload
    #[arg(value_name = "PAYLOAD", allow_hyphen_values = true)]
    payload: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// Checks the filters as Consul's CLI does before anything is sent.
fn validate(args: &EventArgs) -> Result<(), String> {
    if args.name.is_empty() {
        return Err("Event name must be specified".into());
    }
    for (what, re) in [
        ("node", &args.node),
        ("service", &args.service),
        ("tag", &args.tag),
    ] {
        if !re.is_empty()
            && let Err(e) = Regex::new(re)
        {
            return Err(format!("Failed to compile {what} filter regexp: {e}"));
        }
    }
    if !args.tag.is_empty() && args.service.is_empty() {
        return Err("Cannot provide tag filter without service filter.".into());
    }
    if args.payload.len() > 1 {
        return Err("Too many command line arguments.".into());
    }
    Ok(())
}

/// `PUT /v1/event/fire/<name>`; prints `Event ID: <uuid>`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: EventArgs = match crate::parse_args("consul event", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if let Err(e) = validate(&args) {
        console.error(&e);
        return 1;
    }
    let Some(client) = args.http.connect_to_agent(env, console).await else {
        return 1;
    };
    let fire = EventFire {
        name: args.name.clone(),
        payload: args
            .payload
            .first()
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_default(),
        node_filter: args.node.clone(),
        service_filter: args.service.clone(),
        tag_filter: args.tag.clone(),
    };
    match client.event_fire(&fire).await {
        Ok(event) => {
            console.info(&format!("Event ID: {}", event.id));
            0
        }
        Err(e) => {
            console.error(&format!("Error firing event: {}", describe(&e)));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::invoke;

    #[tokio::test]
    async fn bad_flags_are_refused_before_any_request() {
        let o = invoke(&["event"]).await;
        assert_eq!((o.code, o.err.trim()), (1, "Event name must be specified"));
        let o = invoke(&["event", "-name", "x", "-tag", "v1"]).await;
        assert_eq!(
            (o.code, o.err.trim()),
            (1, "Cannot provide tag filter without service filter.")
        );
        let o = invoke(&["event", "-name", "x", "-node", "("]).await;
        assert_eq!(o.code, 1);
        assert!(
            o.err.starts_with("Failed to compile node filter regexp"),
            "{}",
            o.err
        );
        let o = invoke(&["event", "-name", "x", "a", "b"]).await;
        assert_eq!(
            (o.code, o.err.trim()),
            (1, "Too many command line arguments.")
        );
    }
}
