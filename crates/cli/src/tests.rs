//! `run()` end to end with captured streams: dispatch, usage and exit codes.

use std::collections::HashMap;

use crate::console::Console;
use crate::{argv, run_with};

/// What one invocation printed and returned.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) code: i32,
    pub(crate) out: String,
    pub(crate) err: String,
}

/// Runs `consul <args>` (normalised like the binary does) with `stdin` and an environment
/// holding only `env`.
pub(crate) async fn invoke_with(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Outcome {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let argv = std::iter::once("consul")
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut input = stdin;
    let mut console = Console {
        out: &mut out,
        err: &mut err,
        input: &mut input,
    };
    let code = run_with(argv::normalize(argv), &mut console, &lookup).await;
    Outcome {
        code,
        out: String::from_utf8(out).expect("utf-8 stdout"),
        err: String::from_utf8(err).expect("utf-8 stderr"),
    }
}

pub(crate) async fn invoke(args: &[&str]) -> Outcome {
    invoke_with(args, b"", &[]).await
}

#[tokio::test]
async fn no_arguments_prints_usage_to_stderr_and_exits_127() {
    let outcome = invoke(&[]).await;
    assert_eq!(outcome.code, 127);
    assert!(outcome.out.is_empty());
    assert!(
        outcome
            .err
            .starts_with("Usage: consul [--version] [--help] <command> [<args>]\n")
    );
}

#[tokio::test]
async fn unknown_subcommand_exits_127_with_usage() {
    let outcome = invoke(&["frobnicate"]).await;
    assert_eq!(outcome.code, 127);
    assert!(outcome.err.contains("Available commands are:"));
}

#[tokio::test]
async fn help_prints_usage_to_stdout() {
    for flag in ["-h", "--help", "-help"] {
        let outcome = invoke(&[flag]).await;
        assert_eq!(outcome.code, 0, "{flag}");
        assert!(
            outcome
                .out
                .contains("    agent          Runs a Consul agent\n"),
            "{flag}"
        );
        assert!(
            outcome
                .out
                .contains("    kv             Interact with the key-value store\n")
        );
    }
}

#[test]
fn usage_lists_commands_alphabetically_in_a_15_wide_column() {
    let usage = crate::usage();
    let lines: Vec<&str> = usage.lines().skip(3).collect();
    let names: Vec<&str> = lines.iter().map(|l| l[4..19].trim_end()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(names.contains(&"agent") && names.contains(&"version"));
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("    ") && l.as_bytes()[19] != b' ')
    );
}

#[tokio::test]
async fn version_flag_and_command_agree() {
    let by_flag = invoke(&["-v"]).await;
    let by_command = invoke(&["version"]).await;
    assert_eq!(by_flag.code, 0);
    assert_eq!(by_flag.out, by_command.out);
    assert!(by_command.out.starts_with(&format!(
        "Consul v{}\n",
        praetor_types::CONSUL_COMPAT_VERSION
    )));
    assert!(
        by_command
            .out
            .contains(&format!("Praetor v{}", praetor_types::PRAETOR_VERSION))
    );
}

#[tokio::test]
async fn version_json_format_parses() {
    let outcome = invoke(&["version", "-format=json"]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let value: serde_json::Value = serde_json::from_str(&outcome.out).unwrap();
    assert_eq!(value["Version"], praetor_types::CONSUL_COMPAT_VERSION);
    assert_eq!(value["RPC"]["Max"], 3);
    let bad = invoke(&["version", "-format", "yaml"]).await;
    assert_eq!(bad.code, 1);
    assert!(bad.err.contains("Invalid format: yaml"));
}

#[tokio::test]
async fn bad_flag_is_an_error_with_exit_1() {
    let outcome = invoke(&["version", "-bogus"]).await;
    assert_eq!(outcome.code, 1);
    assert!(outcome.err.contains("--bogus"), "{}", outcome.err);
}

#[tokio::test]
async fn subcommand_help_exits_0() {
    let outcome = invoke(&["kv", "get", "-help"]).await;
    assert_eq!(outcome.code, 0);
    assert!(outcome.out.contains("--recurse"), "{}", outcome.out);
    assert!(outcome.out.contains("--http-addr"), "{}", outcome.out);
}

#[tokio::test]
async fn unsupported_listed_command_says_so() {
    let outcome = invoke(&["rtt"]).await;
    assert_eq!(outcome.code, 1);
    assert!(outcome.err.contains("not supported"), "{}", outcome.err);
}

/// Runs `consul <command…> -http-addr=<agent> <args…>` against `agent`.
pub(crate) async fn invoke_on(
    agent: &praetor_client::testing::FakeAgent,
    command: &[&str],
    args: &[&str],
) -> Outcome {
    let addr = format!("-http-addr={}", agent.http_addr());
    let mut argv: Vec<&str> = command.to_vec();
    argv.push(&addr);
    argv.extend_from_slice(args);
    invoke(&argv).await
}

mod agent_commands;
mod cluster_commands;
