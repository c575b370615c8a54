//! `consul kv delete [-recurse] [-cas -modify-index=N] KEY_OR_PREFIX`.

use clap::{ArgAction, Parser};

use super::{describe, key_argument};
use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::HttpFlags;

/// Removes KEY, or every key under a prefix with -recurse
#[derive(Debug, Parser)]
#[command(name = "delete", disable_version_flag = true)]
struct DeleteArgs {
    /// Check-and-set: delete only if the key's ModifyIndex equals -modify-index
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    cas: bool,
    /// The ModifyIndex -cas expects
    #[arg(long = "modify-index", value_name = "N")]
    modify_index: Option<u64>,
    /// Delete every key under the prefix
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    recurse: bool,
    /// The key, or a prefix with -recurse
    #[arg(value_name = "KEY_OR_PREFIX", allow_hyphen_values = true)]
    args: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: DeleteArgs = match crate::parse_args("consul kv delete", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let key = match key_argument(&args.args, console) {
        Ok(key) => key,
        Err(code) => return code,
    };
    if key.is_empty() && !args.recurse {
        console.error("Error! Missing KEY argument");
        return 1;
    }
    if args.recurse && args.cas {
        console.error("Cannot specify both -cas and -recurse!");
        return 1;
    }
    let cas = match (args.cas, args.modify_index) {
        (true, None) | (true, Some(0)) => {
            console.error("Must specify -modify-index with -cas!");
            return 1;
        }
        (false, Some(index)) if index != 0 => {
            console.error("Cannot specify -modify-index without -cas!");
            return 1;
        }
        (true, Some(index)) => Some(index),
        (false, _) => None,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let result = client.kv_delete(&key, args.recurse, cas).await;
    match (result, args.recurse, cas.is_some()) {
        (Ok(_), true, _) => {
            console.info(&format!("Success! Deleted keys with prefix: {key}"));
            0
        }
        (Ok(true), false, _) => {
            console.info(&format!("Success! Deleted key: {key}"));
            0
        }
        (Ok(false), false, _) => {
            console.error(&format!("Error! Did not delete key {key}: CAS failed"));
            1
        }
        (Err(e), true, _) => {
            console.error(&format!(
                "Error! Did not delete prefix {key}: {}",
                describe(&e)
            ));
            1
        }
        (Err(e), false, true) => {
            console.error(&format!(
                "Error! Did not delete key {key}: {}",
                describe(&e)
            ));
            1
        }
        (Err(e), false, false) => {
            console.error(&format!("Error deleting key {key}: {}", describe(&e)));
            1
        }
    }
}
