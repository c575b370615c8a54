//! `consul kv export [PREFIX]` and `consul kv import [-prefix=P] [DATA]`: a KV tree as JSON.

use clap::Parser;
use praetor_client::KvPut;

use super::{describe, key_argument, read_data, render};
use crate::console::{Console, Env};
use crate::http_flags::HttpFlags;

/// Exports the tree under PREFIX as JSON
#[derive(Debug, Parser)]
#[command(name = "export", disable_version_flag = true)]
struct ExportArgs {
    /// Prefix of the keys to export
    #[arg(value_name = "PREFIX", allow_hyphen_values = true)]
    args: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

/// Imports JSON produced by `kv export`. DATA may be `@file`, `-` for stdin, or literal
#[derive(Debug, Parser)]
#[command(name = "import", disable_version_flag = true)]
struct ImportArgs {
    /// Key prefix prepended to every imported key
    #[arg(long, default_value = "", value_name = "PREFIX")]
    prefix: String,
    /// JSON as printed by kv export
    #[arg(value_name = "DATA", allow_hyphen_values = true)]
    args: Vec<String>,
    #[command(flatten)]
    http: HttpFlags,
}

pub(super) async fn export(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ExportArgs = match crate::parse_args("consul kv export", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let prefix = match key_argument(&args.args, console) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.kv_list(&prefix, &args.http.query_options()).await {
        Ok((entries, _)) => {
            console.info(&render::export_json(&entries));
            0
        }
        Err(e) => {
            console.error(&format!("Error querying Consul agent: {}", describe(&e)));
            1
        }
    }
}

pub(super) async fn import(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ImportArgs = match crate::parse_args("consul kv import", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let data = match args.args.as_slice() {
        [] => {
            console.error("Error! Missing DATA argument");
            return 1;
        }
        [data] => data.clone(),
        more => {
            console.error(&format!(
                "Error! Too many arguments (expected 1, got {})",
                more.len()
            ));
            return 1;
        }
    };
    let data = match read_data(&data, console.input) {
        Ok(data) => data,
        Err(e) => {
            console.error(&format!("Error! {e}"));
            return 1;
        }
    };
    let entries = match render::parse_import(&data) {
        Ok(entries) => entries,
        Err(e) => {
            console.error(&e.to_string());
            return 1;
        }
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    for entry in entries {
        let key = prefixed_key(&args.prefix, &entry.key);
        let put = KvPut {
            key: key.clone(),
            value: entry.value,
            flags: entry.flags,
            ..KvPut::default()
        };
        if let Err(e) = client.kv_put(&put).await {
            console.error(&format!(
                "Error! Failed writing data for key {key}: {}",
                describe(&e)
            ));
            return 1;
        }
        console.info(&format!("Imported: {key}"));
    }
    0
}

/// `-prefix` joined to an imported key with exactly one `/` between them. Unlike Consul's
/// `filepath.Join`, a trailing `/` on the key survives, so "folder" keys round-trip.
fn prefixed_key(prefix: &str, key: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let key = key.trim_start_matches('/');
    match (prefix.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}/{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_key_joins_with_one_slash() {
        assert_eq!(prefixed_key("", "a/b"), "a/b");
        assert_eq!(prefixed_key("", "dir/"), "dir/");
        assert_eq!(prefixed_key("backup", "a/b"), "backup/a/b");
        assert_eq!(prefixed_key("backup/", "/a"), "backup/a");
        assert_eq!(prefixed_key("backup", "dir/"), "backup/dir/");
    }
}
