//! The watches of the agent's configuration (`watches = [...]`, spec/agent-config.md §4.6):
//! each runs a [`Plan`] against this agent's own HTTP API and hands every changed result to
//! its handler — a program (`args`), a shell command (`handler`) or an HTTP endpoint — with
//! the data as JSON (stdin or request body) and the index (`CONSUL_INDEX` or
//! `X-Consul-Index`). A failing handler is logged and the watch goes on. A reload replaces
//! them all, as Consul's `reloadWatches` does.

use std::process::Stdio;
use std::sync::Mutex;

use praetor_client::watch::{Data, Definition, Handler, Plan, PlanError};
use praetor_client::{Client, ClientConfig, QueryOptions};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

/// The longest handler output kept for the log.
const MAX_LOGGED_OUTPUT: usize = 4096;

/// Reads every entry of a `watches` list; the first bad one is the error.
pub fn parse(entries: &[Value]) -> Result<Vec<Definition>, String> {
    entries
        .iter()
        .map(|entry| {
            Definition::from_config(entry).map_err(|e| {
                format!(
                    "Failed to parse watch ({}): {e}",
                    serde_json::to_string(entry).unwrap_or_default()
                )
            })
        })
        .collect()
}

/// The running configured watches.
pub struct ConfigWatches {
    /// This agent's HTTP API (`http://127.0.0.1:8500`), or `None` when it has none.
    http_addr: Option<String>,
    runtime: tokio::runtime::Handle,
    /// Cancelled when the agent stops; parent of each generation.
    stop: CancellationToken,
    /// The current generation's token.
    running: Mutex<CancellationToken>,
}

impl ConfigWatches {
    /// Watches that will query `http_addr`, stopping with `stop`. Call from a runtime.
    pub fn new(http_addr: Option<String>, stop: CancellationToken) -> Self {
        Self {
            http_addr,
            runtime: tokio::runtime::Handle::current(),
            running: Mutex::new(stop.child_token()),
            stop,
        }
    }

    /// Stops the running watches and starts `entries` instead. A bad entry, or watches
    /// without an HTTP API to query, is an error and leaves the running ones alone.
    pub fn apply(&self, entries: &[Value]) -> Result<(), String> {
        let definitions = parse(entries)?;
        let addr = match (&self.http_addr, definitions.is_empty()) {
            (_, true) => None,
            (Some(addr), false) => Some(addr.clone()),
            (None, false) => return Err("watch plans require an HTTP or HTTPS endpoint".into()),
        };
        // Every client is built before anything is replaced: an error changes nothing.
        let watches = match addr {
            Some(addr) => definitions
                .into_iter()
                .map(|definition| {
                    Client::new(ClientConfig {
                        address: addr.clone(),
                        token: definition.token.clone(),
                        datacenter: definition.datacenter.clone(),
                        ..ClientConfig::default()
                    })
                    .map(|client| (client, definition))
                    .map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let generation = self.stop.child_token();
        let previous = std::mem::replace(
            &mut *self.running.lock().expect("watches lock poisoned"),
            generation.clone(),
        );
        previous.cancel();
        for (client, definition) in watches {
            let stop = generation.clone();
            self.runtime.spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = run(client, definition) => {}
                }
            });
        }
        Ok(())
    }
}

/// One watch, forever.
async fn run(client: Client, definition: Definition) {
    let kind = definition.kind.name();
    let options = QueryOptions {
        consistency: definition.consistency(),
        ..QueryOptions::default()
    };
    let mut plan = Plan::new(definition.kind.clone(), options);
    info!(target: "praetor_agent::watch", watch_type = kind, "watch started");
    loop {
        match plan.next(&client).await {
            Ok((index, data)) => {
                if let Err(e) = invoke(&definition.handler, index, &data).await {
                    error!(target: "praetor_agent::watch", watch_type = kind, index, error = %e, "Failed to run watch handler");
                }
            }
            Err(PlanError { error, retry }) => {
                error!(target: "praetor_agent::watch", "Watch errored: type={kind} error={error} retry={}s", retry.as_secs());
                tokio::time::sleep(retry).await;
            }
        }
    }
}

/// Runs `handler` once for the result at `index`.
async fn invoke(handler: &Handler, index: u64, data: &Data) -> Result<(), String> {
    let mut command = match handler {
        Handler::Http(http) => return http.invoke(index, data).await,
        Handler::Args(args) => {
            let mut command = tokio::process::Command::new(&args[0]);
            command.args(&args[1..]);
            command
        }
        Handler::Shell(line) => {
            let mut command = tokio::process::Command::new("/bin/sh");
            command.arg("-c").arg(line);
            command
        }
    };
    command
        .env("CONSUL_INDEX", index.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        // Go's json.Encoder: compact JSON and a newline. A handler that does not read its
        // input closes the pipe early; that is not an error.
        let mut input = data.compact.clone().into_bytes();
        input.push(b'\n');
        let _ignored = stdin.write_all(&input).await;
    }
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
    let mut text = output.stdout;
    text.extend_from_slice(&output.stderr);
    text.truncate(MAX_LOGGED_OUTPUT);
    if !text.is_empty() {
        debug!(target: "praetor_agent::watch", output = %String::from_utf8_lossy(&text), "watch handler output");
    }
    if output.status.success() {
        Ok(())
    } else {
        Err(output.status.to_string())
    }
}
