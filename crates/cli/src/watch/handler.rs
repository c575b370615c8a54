//! A watch with a handler: runs until SIGINT/SIGTERM (exit 0) or a handler failure (exit
//! 1), invoking the handler with the current data at once and then on every change, as
//! Consul's `api/watch` plan does.

use std::process::Stdio;

use praetor_client::watch::{Data, Plan, PlanError, WatchKind};
use praetor_client::{Client, QueryOptions};
use tokio::io::AsyncWriteExt as _;
use tokio::signal::unix::{SignalKind, signal};

use crate::console::{Console, Env};
use crate::http_flags::describe;
use crate::subprocess;

/// A watch plan and its handler command.
pub(crate) struct Watcher {
    pub(crate) client: Client,
    pub(crate) kind: WatchKind,
    pub(crate) options: QueryOptions,
    pub(crate) handler: Vec<String>,
    pub(crate) shell: bool,
}

impl Watcher {
    /// Watches until a shutdown signal (exit 0) or a failed handler (exit 1).
    pub(crate) async fn run(self, console: &mut Console<'_>, env: Env<'_>) -> i32 {
        let (mut interrupt, mut terminate) = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                console.error(&format!("Error installing signal handlers: {e}"));
                return 1;
            }
        };
        tokio::select! {
            biased;
            _ = interrupt.recv() => 0,
            _ = terminate.recv() => 0,
            code = self.watch(console, env) => code,
        }
    }

    /// The plan's loop: the handler runs on every changed result; errors back off.
    async fn watch(&self, console: &mut Console<'_>, env: Env<'_>) -> i32 {
        let mut plan = Plan::new(self.kind.clone(), self.options);
        loop {
            match plan.next(&self.client).await {
                Ok((index, data)) => {
                    if let Err(message) = self.invoke(index, &data, env).await {
                        console.error(&message);
                        return 1;
                    }
                }
                Err(PlanError { error, retry }) => {
                    console.error(&format!(
                        "Watch errored: type={} error={} retry={}s",
                        self.kind.name(),
                        describe(&error),
                        retry.as_secs()
                    ));
                    console.flush();
                    tokio::time::sleep(retry).await;
                }
            }
        }
    }

    /// Runs the handler once with `data` on stdin and `CONSUL_INDEX=<index>`.
    async fn invoke(&self, index: u64, data: &Data, env: Env<'_>) -> Result<(), String> {
        let Some(mut command) = subprocess::command(&self.handler, self.shell, env) else {
            return Err("Error executing handler: need an executable to run".to_owned());
        };
        command
            .env("CONSUL_INDEX", index.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("Error starting handler: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // Go's json.Encoder: compact JSON and a newline. A handler that does not read
            // its input closes the pipe early; that is not an error.
            let mut input = data.compact.clone().into_bytes();
            input.push(b'\n');
            let _ignored = stdin.write_all(&input).await;
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("Error executing handler: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "Error executing handler: {}",
                subprocess::describe_status(status)
            ))
        }
    }
}
