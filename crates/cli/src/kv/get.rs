//! `consul kv get [-recurse] [-keys [-separator=/]] [-detailed] [-base64] [KEY_OR_PREFIX]`.

use clap::{ArgAction, Parser};

use super::{describe, key_argument, render};
use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::HttpFlags;

/// Retrieves the value at KEY, or lists keys and values under a prefix
#[derive(Debug, Parser)]
#[command(name = "get", disable_version_flag = true)]
struct GetArgs {
    /// Print the value base64-encoded
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    base64: bool,
    /// Show the entry's metadata too
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    detailed: bool,
    /// List key names only, rolled up at -separator
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    keys: bool,
    /// Treat KEY as a prefix and print every entry under it
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    recurse: bool,
    /// Roll-up separator for -keys; empty lists every key
    #[arg(long, default_value = "/", value_name = "SEP")]
    separator: String,
    /// The key, or a prefix with -recurse or -keys
    #[arg(value_name = "KEY_OR_PREFIX", allow_hyphen_values = true)]
    args: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: GetArgs = match crate::parse_args("consul kv get", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let key = match key_argument(&args.args, console) {
        Ok(key) => key,
        Err(code) => return code,
    };
    if key.is_empty() && !(args.recurse || args.keys) {
        console.error("Error! Missing KEY argument");
        return 1;
    }
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let options = args.http.query_options();

    if args.keys {
        let separator = Some(args.separator.as_str()).filter(|s| !s.is_empty());
        return match client.kv_keys(&key, separator, &options).await {
            Ok((keys, _)) => {
                for key in keys {
                    console.info(&key);
                }
                0
            }
            Err(e) => query_failed(console, &e),
        };
    }

    if args.recurse {
        return match client.kv_list(&key, &options).await {
            Ok((entries, _)) => {
                for (i, entry) in entries.iter().enumerate() {
                    if args.detailed {
                        console.info_bytes(&render::detailed(entry, args.base64));
                        if i + 1 < entries.len() {
                            console.info("");
                        }
                    } else {
                        console.info_bytes(&render::recurse_line(entry, args.base64));
                    }
                }
                0
            }
            Err(e) => query_failed(console, &e),
        };
    }

    match client.kv_get(&key, &options).await {
        Ok((Some(entry), _)) => {
            if args.detailed {
                console.info_bytes(&render::detailed(&entry, args.base64));
            } else {
                console.info_bytes(&render::value_bytes(&entry.value, args.base64));
            }
            0
        }
        Ok((None, _)) => {
            console.error(&format!("Error! No key exists at: {key}"));
            1
        }
        Err(e) => query_failed(console, &e),
    }
}

fn query_failed(console: &mut Console<'_>, err: &praetor_client::ClientError) -> i32 {
    console.error(&format!("Error querying Consul agent: {}", describe(err)));
    1
}
