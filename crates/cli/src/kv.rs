//! `consul kv get|put|delete|export|import` (spec/cli.md §5), Consul's `command/kv`.

mod delete;
mod get;
mod put;
mod render;
mod transfer;

use std::io::Read;

use crate::console::{Console, Env};
use crate::http_flags::describe;

/// `consul kv` help: its subcommands.
const KV_USAGE: &str = "Usage: consul kv <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's key-value
  store. Here are some simple examples, and more detailed examples are
  available in the subcommands or the documentation.

  Create or update the key named \"redis/config/connections\" with the value \"5\":

      $ consul kv put redis/config/connections 5

  Read this value back:

      $ consul kv get redis/config/connections

  Or get detailed key information:

      $ consul kv get -detailed redis/config/connections

  Finally, delete the key:

      $ consul kv delete redis/config/connections

  For more examples, ask for subcommand help or view the documentation.

Subcommands:
    delete    Removes data from the KV store
    export    Exports a tree from the KV store as JSON
    get       Retrieves or lists data from the KV store
    import    Imports a tree stored as JSON to the KV store
    put       Sets or updates data in the KV store";

/// Dispatches `consul kv <subcommand> …`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let mut args = args.into_iter();
    let Some(sub) = args.next() else {
        console.error(KV_USAGE);
        return 1;
    };
    let rest: Vec<String> = args.collect();
    match sub.as_str() {
        "get" => get::run(rest, console, env).await,
        "put" => put::run(rest, console, env).await,
        "delete" => delete::run(rest, console, env).await,
        "export" => transfer::export(rest, console, env).await,
        "import" => transfer::import(rest, console, env).await,
        "-h" | "--help" | "-help" => {
            console.info(KV_USAGE);
            0
        }
        _ => {
            console.error(KV_USAGE);
            1
        }
    }
}

/// The single optional KEY_OR_PREFIX argument of `get`, `delete` and `export`, without a
/// leading `/`; more than one is an error (exit code 1).
fn key_argument(args: &[String], console: &mut Console<'_>) -> Result<String, i32> {
    if args.len() > 1 {
        console.error(&format!(
            "Too many arguments (expected 1, got {})",
            args.len()
        ));
        return Err(1);
    }
    Ok(strip_leading_slash(args.first().map_or("", String::as_str)).to_owned())
}

/// Drops one leading `/`: keys never start with one, and users type `/foo` anyway
/// (what Consul's `kv get`, `delete` and `export` do).
fn strip_leading_slash(key: &str) -> &str {
    key.strip_prefix('/').unwrap_or(key)
}

/// Why a DATA argument could not be read.
#[derive(Debug, thiserror::Error)]
enum DataError {
    #[error("Failed to read file: {0}")]
    File(#[source] std::io::Error),
    #[error("Failed to read stdin: {0}")]
    Stdin(#[source] std::io::Error),
}

/// Resolves a DATA argument: `@path` is the file's contents, `-` is stdin, anything else
/// (including `-1`) is literal.
fn read_data(data: &str, input: &mut (dyn Read + Send)) -> Result<Vec<u8>, DataError> {
    if let Some(path) = data.strip_prefix('@') {
        return std::fs::read(path).map_err(DataError::File);
    }
    if data == "-" {
        // A blocking read is fine here: the CLI does nothing else while it waits.
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(DataError::Stdin)?;
        return Ok(bytes);
    }
    Ok(data.as_bytes().to_vec())
}

#[cfg(test)]
mod tests;
