//! `consul members [-detailed] [-status=<re>] [-wan] [-segment=<s>] [-filter=<expr>]`
//! (spec/cli.md §3), Consul's `command/members`.

use std::cmp::Ordering;

use clap::{ArgAction, Parser};
use praetor_client::{ALL_SEGMENTS, MembersQuery};
use praetor_types::member::Member;

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};
use crate::table::columnize;

/// Exit status when no member matches `-status`.
const EXIT_NO_MATCH: i32 = 2;

/// Outputs the members of a running Consul agent
#[derive(Debug, Parser)]
#[command(name = "members", disable_version_flag = true)]
struct MembersArgs {
    /// Provides detailed information about nodes
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    detailed: bool,
    /// If provided, output is filtered to only nodes matching the regular expression for
    /// status
    #[arg(long, value_name = "REGEXP", default_value = ".*")]
    status: String,
    /// If this agent is a server, output the list of servers in the WAN pool
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    wan: bool,
    /// (Enterprise-only) List members in the given segment; `_all` for every segment
    #[arg(long, value_name = "SEGMENT", default_value = ALL_SEGMENTS)]
    segment: String,
    /// Filter expression to select members with
    #[arg(long, value_name = "EXPRESSION")]
    filter: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// `GET /v1/agent/members?segment=_all`, filtered by `-status`, sorted and tabulated.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: MembersArgs = match crate::parse_args("consul members", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let status = match regex::Regex::new(&args.status) {
        Ok(re) => re,
        Err(e) => {
            console.error(&format!("Failed to compile status regexp: {e}"));
            return 1;
        }
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let query = MembersQuery {
        wan: args.wan,
        segment: Some(args.segment.clone()),
        filter: args.filter.clone(),
    };
    let members = match client.agent_members(&query).await {
        Ok(members) => members,
        Err(e) => {
            console.error(&format!("Error retrieving members: {}", describe(&e)));
            return 1;
        }
    };
    let mut members: Vec<Member> = members
        .into_iter()
        .map(with_placeholders)
        .filter(|m| status.is_match(m.status.as_str()))
        .collect();
    if members.is_empty() {
        return EXIT_NO_MATCH;
    }
    members.sort_by(order);
    let table = if args.detailed {
        detailed(&members)
    } else {
        standard(&members)
    };
    console.info(table.trim_end_matches('\n'));
    0
}

/// Fills in the partition (`ap=default`) and segment (`<all>` for servers, `<default>` for
/// clients) the CLI shows, as Consul's does before printing.
fn with_placeholders(mut m: Member) -> Member {
    let server = is_server(&m);
    let segment = m.tags.entry("segment".to_owned()).or_default();
    if segment.is_empty() {
        *segment = if server { "<all>" } else { "<default>" }.to_owned();
    }
    let ap = m.tags.entry("ap".to_owned()).or_default();
    if ap.is_empty() {
        *ap = "default".to_owned();
    }
    m
}

fn is_server(m: &Member) -> bool {
    tag(m, "role") == "consul"
}

fn tag<'a>(m: &'a Member, key: &str) -> &'a str {
    m.tags.get(key).map_or("", String::as_str)
}

/// Servers first, then by partition (default first), segment and name.
fn order(a: &Member, b: &Member) -> Ordering {
    let partition = |m: &Member| (tag(m, "ap") != "default", tag(m, "ap").to_owned());
    is_server(b)
        .cmp(&is_server(a))
        .then_with(|| partition(a).cmp(&partition(b)))
        .then_with(|| tag(a, "segment").cmp(tag(b, "segment")))
        .then_with(|| a.name.cmp(&b.name))
}

/// `addr:port`, bracketing IPv6 as Go's `net.JoinHostPort`.
fn address(m: &Member) -> String {
    std::net::SocketAddr::new(m.addr, m.port).to_string()
}

fn standard(members: &[Member]) -> String {
    let mut rows = vec![cells(&[
        "Node",
        "Address",
        "Status",
        "Type",
        "Build",
        "Protocol",
        "DC",
        "Partition",
        "Segment",
    ])];
    for m in members {
        let kind = match tag(m, "role") {
            "consul" => "server",
            "node" => "client",
            _ => "unknown",
        };
        let build = match tag(m, "build") {
            "" => "< 0.3",
            b => b.split_once(':').map_or(b, |(version, _)| version),
        };
        rows.push(vec![
            m.name.clone(),
            address(m),
            m.status.to_string(),
            kind.to_owned(),
            build.to_owned(),
            tag(m, "vsn").to_owned(),
            tag(m, "dc").to_owned(),
            tag(m, "ap").to_owned(),
            tag(m, "segment").to_owned(),
        ]);
    }
    columnize(&rows)
}

fn detailed(members: &[Member]) -> String {
    let mut rows = vec![cells(&["Node", "Address", "Status", "Tags"])];
    for m in members {
        let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(vec![
            m.name.clone(),
            address(m),
            m.status.to_string(),
            tags.join(","),
        ]);
    }
    columnize(&rows)
}

fn cells(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
