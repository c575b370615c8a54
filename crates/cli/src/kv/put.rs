//! `consul kv put [-flags=N] [-cas -modify-index=N] [-acquire|-release -session=ID]
//! [-base64] KEY [DATA]`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{ArgAction, Parser};
use praetor_client::KvPut;

use super::{describe, read_data};
use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::HttpFlags;

/// Writes DATA to KEY. DATA may be `@file`, `-` for stdin, or literal; omitted is empty
#[derive(Debug, Parser)]
#[command(name = "put", disable_version_flag = true)]
struct PutArgs {
    /// Acquire the key's lock for -session
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    acquire: bool,
    /// DATA is base64-encoded; decode it before writing
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    base64: bool,
    /// Check-and-set: write only if the key's ModifyIndex equals -modify-index
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    cas: bool,
    /// Unsigned integer flags stored with the key
    #[arg(long, default_value_t = 0, value_name = "N")]
    flags: u64,
    /// The ModifyIndex -cas expects (0: only if the key does not exist)
    #[arg(long = "modify-index", value_name = "N")]
    modify_index: Option<u64>,
    /// Release the key's lock held by -session
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    release: bool,
    /// Session ID for -acquire and -release
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The key, then the data to write
    #[arg(value_name = "KEY [DATA]", allow_hyphen_values = true)]
    args: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// What the user asked for, after validating flags and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Set,
    Cas,
    Acquire,
    Release,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: PutArgs = match crate::parse_args("consul kv put", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let (key, data) = match args.args.as_slice() {
        [] => {
            console.error("Error! Missing KEY argument");
            return 1;
        }
        [key] => (key.clone(), String::new()),
        [key, data] => (key.clone(), data.clone()),
        more => {
            console.error(&format!(
                "Error! Too many arguments (expected 1 or 2, got {})",
                more.len()
            ));
            return 1;
        }
    };
    if key.starts_with('/') {
        console.error(&format!(
            "Error! Invalid key. Key must not begin with a '/': {key}"
        ));
        return 1;
    }
    let mut value = match read_data(&data, console.input) {
        Ok(value) => value,
        Err(e) => {
            console.error(&format!("Error! {e}"));
            return 1;
        }
    };
    if args.base64 {
        value = match STANDARD.decode(&value) {
            Ok(decoded) => decoded,
            Err(e) => {
                console.error(&format!("Error! Cannot base 64 decode data: {e}"));
                return 1;
            }
        };
    }
    let session = args.session.clone().filter(|s| !s.is_empty());
    if (args.acquire || args.release) && session.is_none() {
        console.error("Error! Missing -session (required with -acquire and -release)");
        return 1;
    }
    if args.cas && args.modify_index.is_none() {
        console.error("Must specify -modify-index with -cas!");
        return 1;
    }
    // Consul's precedence when several are given: cas, then acquire, then release.
    let mode = match (args.cas, args.acquire, args.release) {
        (true, _, _) => Mode::Cas,
        (false, true, _) => Mode::Acquire,
        (false, false, true) => Mode::Release,
        (false, false, false) => Mode::Set,
    };
    let put = KvPut {
        key: key.clone(),
        value,
        flags: args.flags,
        cas: if mode == Mode::Cas {
            args.modify_index
        } else {
            None
        },
        acquire: if mode == Mode::Acquire {
            session.clone()
        } else {
            None
        },
        release: if mode == Mode::Release { session } else { None },
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.kv_put(&put).await {
        Ok(true) => {
            console.info(&success_message(&mode, &key));
            0
        }
        Ok(false) => {
            console.error(&format!(
                "Error! Did not write to {key}: {}",
                failure_reason(&mode)
            ));
            1
        }
        Err(e) => {
            let text = match mode {
                Mode::Cas => format!("Error! Did not write to {key}: {}", describe(&e)),
                _ => format!("Error! Failed writing data: {}", describe(&e)),
            };
            console.error(&text);
            1
        }
    }
}

fn success_message(mode: &Mode, key: &str) -> String {
    match mode {
        Mode::Set | Mode::Cas => format!("Success! Data written to: {key}"),
        Mode::Acquire => format!("Success! Lock acquired on: {key}"),
        Mode::Release => format!("Success! Lock released on: {key}"),
    }
}

fn failure_reason(mode: &Mode) -> &'static str {
    match mode {
        Mode::Set | Mode::Cas => "CAS failed",
        Mode::Acquire => "lock acquisition failed",
        Mode::Release => "lock release failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_consul() {
        assert_eq!(
            success_message(&Mode::Set, "web/key1"),
            "Success! Data written to: web/key1"
        );
        assert_eq!(
            success_message(&Mode::Acquire, "l"),
            "Success! Lock acquired on: l"
        );
        assert_eq!(
            success_message(&Mode::Release, "l"),
            "Success! Lock released on: l"
        );
        assert_eq!(failure_reason(&Mode::Cas), "CAS failed");
        assert_eq!(failure_reason(&Mode::Acquire), "lock acquisition failed");
        assert_eq!(failure_reason(&Mode::Release), "lock release failed");
    }
}
