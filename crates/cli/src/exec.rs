//! `consul exec` (spec/cli.md §6), Consul's `command/exec`: remote execution through KV
//! and the `_rexec` event.
//!
//! A `delete`-behaviour TTL session (renewed while the command runs) holds the job spec at
//! `<prefix>/<session>/job`; the `_rexec` event (filtered by `-node`, `-service`, `-tag`)
//! tells the agents to run it. Agents with remote exec enabled write `…/<node>/ack`,
//! `…/<node>/out/<n>` chunks and `…/<node>/exit`; this command follows the prefix with
//! blocking reads and prints what arrives until `-wait` passes without news (twice that
//! while acknowledged nodes are still running), then the summary, then destroys the
//! session (taking its keys) and the rest of the prefix.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::{ArgAction, Parser};
use praetor_client::{Client, EventFire, KvEntry, KvPut, QueryOptions};
use praetor_types::duration::parse_go_duration;
use regex::Regex;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// The event agents act on.
const REXEC_EVENT: &str = "_rexec";

/// Executes a command on Consul nodes, selected by node name, service and tag regexps,
/// and streams their output
#[derive(Debug, Parser)]
#[command(name = "exec", disable_version_flag = true)]
struct ExecArgs {
    /// Regular expression to filter on node names
    #[arg(long, default_value = "", value_name = "REGEXP")]
    node: String,
    /// Regular expression to filter on service instances
    #[arg(long, default_value = "", value_name = "REGEXP")]
    service: String,
    /// Regular expression to filter on service tags; requires -service
    #[arg(long, default_value = "", value_name = "REGEXP")]
    tag: String,
    /// Prefix in the KV store to use for request data
    #[arg(long, default_value = "_rexec", value_name = "PREFIX")]
    prefix: String,
    /// Use a shell to run the command
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "true",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    shell: bool,
    /// Period to wait with no responses before terminating execution
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = go_duration)]
    wait: Duration,
    /// Period to wait for replication before firing the event
    #[arg(long = "wait-repl", default_value = "200ms", value_name = "DURATION", value_parser = go_duration)]
    wait_repl: Duration,
    /// Enables verbose output
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    verbose: bool,
    /// The command to run, or `-` to read a script from stdin
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

fn go_duration(s: &str) -> Result<Duration, String> {
    parse_go_duration(s).map_err(|e| e.to_string())
}

/// The job spec agents read (Consul's `rExecSpec`; `Wait` in nanoseconds).
fn job_spec(command: &str, args: &[String], script: &[u8], wait: Duration) -> serde_json::Value {
    serde_json::json!({
        "Command": if command.is_empty() { serde_json::Value::Null } else { command.into() },
        "Args": if args.is_empty() { serde_json::Value::Null } else { args.into() },
        "Script": if script.is_empty() {
            serde_json::Value::Null
        } else {
            base64::engine::general_purpose::STANDARD.encode(script).into()
        },
        "Wait": u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX),
    })
}

/// What one node reported, read from a key under `<prefix>/<session>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    Ack(String),
    Heartbeat(String),
    Output(String, Vec<u8>),
    Exit(String, i32),
    /// A key this command does not understand, or an exit code that does not parse.
    Problem(String),
}

/// The report a key under `dir` (`<prefix>/<session>/`) makes, if any (`job` makes none).
fn classify(dir: &str, entry: &KvEntry) -> Option<Report> {
    let key = entry.key.strip_prefix(dir).unwrap_or(&entry.key);
    if key == "job" {
        return None;
    }
    if let Some(node) = key.strip_suffix("/ack") {
        return Some(Report::Ack(node.to_owned()));
    }
    if let Some(node) = key.strip_suffix("/exit") {
        let text = String::from_utf8_lossy(&entry.value);
        return Some(match text.trim().parse::<i32>() {
            Ok(code) => Report::Exit(node.to_owned(), code),
            Err(e) => Report::Problem(format!("Failed to parse exit code '{text}': {e}")),
        });
    }
    if let Some(idx) = key.rfind("/out/") {
        let node = key[..idx].to_owned();
        return Some(if entry.value.is_empty() {
            Report::Heartbeat(node)
        } else {
            Report::Output(node, entry.value.clone())
        });
    }
    Some(Report::Problem(format!("Unknown key '{key}', ignoring.")))
}

/// Acks before output before exit codes, so one read that saw all three prints them in
/// the order they happened.
fn order(report: &Report) -> u8 {
    match report {
        Report::Ack(_) => 0,
        Report::Heartbeat(_) | Report::Output(..) | Report::Problem(_) => 1,
        Report::Exit(..) => 2,
    }
}

/// Each line of `text` as `<arrow> <node>: <line>`, trailing whitespace trimmed (Consul's
/// `TargetedUI`: `==>` for info, four spaces for output).
fn prefix_lines(arrow: bool, node: &str, text: &str) -> String {
    let arrow = if arrow { "==>" } else { "   " };
    let mut out = String::new();
    for line in text.split('\n') {
        out.push_str(&format!("{arrow} {node}: {line}\n"));
    }
    out.trim_end().to_owned()
}

/// Follows `dir` with blocking list reads, sending each new key's report once.
async fn stream_results(client: Client, dir: String, tx: mpsc::Sender<Report>) {
    let mut seen = BTreeSet::new();
    let mut index = 0;
    loop {
        let opts = QueryOptions {
            min_index: index,
            ..QueryOptions::default()
        };
        let (entries, meta) = match client.kv_list(&dir, &opts).await {
            Ok(v) => v,
            Err(e) => {
                let _ = tx
                    .send(Report::Problem(format!("Failed to read results: {e}")))
                    .await;
                return;
            }
        };
        index = meta.index;
        let mut fresh: Vec<Report> = entries
            .iter()
            .filter(|e| seen.insert(e.key.clone()))
            .filter_map(|e| classify(&dir, e))
            .collect();
        fresh.sort_by_key(order);
        for report in fresh {
            if tx.send(report).await.is_err() {
                return;
            }
        }
    }
}

/// Renews the session at half its TTL until aborted.
async fn renew(client: Client, session: String) {
    loop {
        tokio::time::sleep(Duration::from_millis(7500)).await;
        if !matches!(client.rexec_session_renew(&session).await, Ok(true)) {
            return;
        }
    }
}

/// Runs `consul exec`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ExecArgs = match crate::parse_args("consul exec", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    // The command: `-` reads a script; with -shell=false the words are an argv.
    let mut command = args.command.join(" ");
    let mut argv = Vec::new();
    let mut script = Vec::new();
    if command == "-" {
        if !args.shell {
            console.error("Cannot configure -shell=false when reading from stdin");
            return 1;
        }
        command.clear();
        if let Err(e) = console.input.read_to_end(&mut script) {
            console.error(&format!("Failed to read stdin: {e}"));
            return 1;
        }
    } else if !args.shell {
        command.clear();
        argv = args.command.clone();
    }
    if command.is_empty() && script.is_empty() && argv.is_empty() {
        console.error("Must specify a command to execute");
        return 1;
    }
    for (what, re) in [
        ("node", &args.node),
        ("service", &args.service),
        ("tag", &args.tag),
    ] {
        if !re.is_empty()
            && let Err(e) = Regex::new(re)
        {
            console.error(&format!("Failed to compile {what} filter regexp: {e}"));
            return 1;
        }
    }
    if !args.tag.is_empty() && args.service.is_empty() {
        console.error("Cannot provide tag filter without service filter.");
        return 1;
    }
    let Some(client) = args.http.connect_to_agent(env, console).await else {
        return 1;
    };
    let session = match client.rexec_session_create().await {
        Ok(id) => id,
        Err(e) => {
            console.error(&format!("Failed to create session: {}", describe(&e)));
            return 1;
        }
    };
    if args.verbose {
        console.info(&format!("Created remote execution session: {session}"));
    }
    let renewer = tokio::spawn(renew(client.clone(), session.clone()));
    let prefix = args.prefix.trim_end_matches('/').to_owned();
    // Ctrl-C or SIGTERM stops waiting but still cleans up below, as Consul's deferred
    // session destroy does: the job's keys never outlive the command.
    let interrupted = async {
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    };
    let code = tokio::select! {
        code = execute(
            &client,
            &args,
            &session,
            &prefix,
            job_spec(&command, &argv, &script, args.wait_repl),
            console,
        ) => code,
        () = interrupted => 1,
    };
    renewer.abort();
    // Destroying the session first means no agent can write after the cleanup.
    if let Err(e) = client.rexec_session_destroy(&session).await {
        console.error(&format!(
            "Failed to destroy session '{session}': {}",
            describe(&e)
        ));
    }
    if let Err(e) = client
        .kv_delete(&format!("{prefix}/{session}"), true, None)
        .await
    {
        console.error(&format!("Failed to cleanup: {}", describe(&e)));
    }
    console.flush();
    code
}

/// Uploads the spec, fires the event and follows the results; the exit status.
async fn execute(
    client: &Client,
    args: &ExecArgs,
    session: &str,
    prefix: &str,
    spec: serde_json::Value,
    console: &mut Console<'_>,
) -> i32 {
    let put = KvPut {
        acquire: Some(session.to_owned()),
        ..KvPut::new(format!("{prefix}/{session}/job"), spec.to_string())
    };
    match client.kv_put(&put).await {
        Ok(true) => {}
        Ok(false) => {
            console.error("Failed to upload payload: lock not acquired");
            return 1;
        }
        Err(e) => {
            console.error(&format!("Failed to upload payload: {}", describe(&e)));
            return 1;
        }
    }
    if args.verbose {
        console.info("Uploaded remote execution spec");
    }
    // Give the spec a moment to reach the servers agents read from (stale reads).
    tokio::time::sleep(args.wait_repl).await;
    let payload = serde_json::json!({"Prefix": prefix, "Session": session}).to_string();
    let fire = EventFire {
        name: REXEC_EVENT.to_owned(),
        payload: payload.into_bytes(),
        node_filter: args.node.clone(),
        service_filter: args.service.clone(),
        tag_filter: args.tag.clone(),
    };
    let event = match client.event_fire(&fire).await {
        Ok(ev) => ev,
        Err(e) => {
            console.error(&format!("Failed to fire event: {}", describe(&e)));
            return 1;
        }
    };
    if args.verbose {
        console.info(&format!("Fired remote execution event: {}", event.id));
    }
    console.flush();
    wait_for_job(client, args, &format!("{prefix}/{session}/"), console).await
}

/// Prints reports until `-wait` passes without one; 0 when every acknowledged node
/// finished with exit code 0.
async fn wait_for_job(
    client: &Client,
    args: &ExecArgs,
    dir: &str,
    console: &mut Console<'_>,
) -> i32 {
    let start = Instant::now();
    let (tx, mut rx) = mpsc::channel(128);
    let streamer = tokio::spawn(stream_results(client.clone(), dir.to_owned(), tx));
    let (mut acks, mut exits, mut bad) = (0usize, 0usize, 0usize);
    loop {
        let wait = if acks > exits {
            args.wait * 2
        } else {
            args.wait
        };
        let report = match tokio::time::timeout(wait, rx.recv()).await {
            Ok(Some(report)) => report,
            Ok(None) => {
                streamer.abort();
                return 1;
            }
            Err(_) => break,
        };
        match report {
            Report::Ack(node) => {
                acks += 1;
                if args.verbose {
                    console.info(&prefix_lines(true, &node, "acknowledged"));
                }
            }
            Report::Heartbeat(node) => {
                if args.verbose {
                    console.info(&prefix_lines(true, &node, "heartbeat received"));
                }
            }
            Report::Output(node, bytes) => {
                console.info(&prefix_lines(
                    false,
                    &node,
                    &String::from_utf8_lossy(&bytes),
                ));
            }
            Report::Exit(node, code) => {
                exits += 1;
                console.info(&prefix_lines(
                    true,
                    &node,
                    &format!("finished with exit code {code}"),
                ));
                if code != 0 {
                    bad += 1;
                }
            }
            Report::Problem(text) => console.error(&text),
        }
        console.flush();
    }
    streamer.abort();
    console.info(&format!(
        "{exits} / {acks} node(s) completed / acknowledged"
    ));
    if args.verbose {
        console.info(&format!(
            "Completed in {:.2} seconds",
            start.elapsed().as_secs_f64()
        ));
    }
    if exits < acks {
        bad += 1;
    }
    i32::from(bad > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &[u8]) -> KvEntry {
        KvEntry {
            key: key.to_owned(),
            value: value.to_vec(),
            ..KvEntry::default()
        }
    }

    #[test]
    fn keys_under_the_session_become_reports() {
        let dir = "_rexec/s1/";
        let c = |k: &str, v: &[u8]| classify(dir, &entry(&format!("{dir}{k}"), v));
        assert_eq!(c("job", b"{}"), None);
        assert_eq!(c("n1/ack", b""), Some(Report::Ack("n1".into())));
        assert_eq!(c("n1/exit", b"3"), Some(Report::Exit("n1".into(), 3)));
        assert_eq!(c("n1/out/00000", b""), Some(Report::Heartbeat("n1".into())));
        assert_eq!(
            c("n1/out/00001", b"hi\n"),
            Some(Report::Output("n1".into(), b"hi\n".to_vec()))
        );
        assert!(matches!(c("n1/exit", b"x"), Some(Report::Problem(_))));
        assert!(matches!(c("odd", b""), Some(Report::Problem(_))));
    }

    #[test]
    fn output_lines_are_prefixed_like_consuls_targeted_ui() {
        // As Consul's: the newline ending a chunk leaves a bare `    n1:` line.
        assert_eq!(
            prefix_lines(false, "n1", "a\nb\n"),
            "    n1: a\n    n1: b\n    n1:"
        );
        assert_eq!(
            prefix_lines(true, "n1", "finished with exit code 0"),
            "==> n1: finished with exit code 0"
        );
    }

    #[test]
    fn the_spec_carries_the_command_and_wait_in_nanoseconds() {
        let spec = job_spec("uptime", &[], b"", Duration::from_millis(200));
        assert_eq!(
            spec,
            serde_json::json!({"Command": "uptime", "Args": null, "Script": null, "Wait": 200_000_000u64})
        );
        let spec = job_spec("", &["ls".into()], b"echo", Duration::ZERO);
        assert_eq!(spec["Args"], serde_json::json!(["ls"]));
        assert_eq!(spec["Script"], "ZWNobw==");
    }
}

#[cfg(test)]
mod flag_tests {
    use crate::tests::{invoke, invoke_with};

    #[tokio::test]
    async fn bad_invocations_are_refused_before_any_request() {
        let o = invoke(&["exec"]).await;
        assert_eq!(
            (o.code, o.err.trim()),
            (1, "Must specify a command to execute")
        );
        let o = invoke(&["exec", "-tag", "v1", "uptime"]).await;
        assert_eq!(
            (o.code, o.err.trim()),
            (1, "Cannot provide tag filter without service filter.")
        );
        let o = invoke_with(&["exec", "-shell=false", "-"], b"echo hi", &[]).await;
        assert_eq!(
            (o.code, o.err.trim()),
            (1, "Cannot configure -shell=false when reading from stdin")
        );
    }
}
