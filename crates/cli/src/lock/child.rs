//! The child process run while the lock is held.

use std::process::Stdio;

use super::KILL_GRACE_PERIOD;
use crate::console::{Console, Env};
use crate::subprocess;

/// How to run the child.
pub(crate) struct Run<'a> {
    pub(crate) args: &'a [String],
    pub(crate) shell: bool,
    pub(crate) pass_stdin: bool,
    pub(crate) verbose: bool,
    pub(crate) env: Env<'a>,
}

/// A running child.
pub(crate) struct Child {
    process: tokio::process::Child,
    /// Set once the child has been reaped.
    exited: bool,
}

impl Child {
    /// Starts the child with `CONSUL_LOCK_HELD=true`, its output on ours, and stdin only
    /// with `-pass-stdin`.
    pub(crate) fn start(run: &Run<'_>) -> Result<Self, String> {
        let Some(mut command) = subprocess::command(run.args, run.shell, run.env) else {
            return Err("Error executing handler: need an executable to run".to_owned());
        };
        command
            .env("CONSUL_LOCK_HELD", "true")
            .stdin(if run.pass_stdin {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let process = command
            .spawn()
            .map_err(|e| format!("Error starting handler: {e}"))?;
        Ok(Self {
            process,
            exited: false,
        })
    }

    /// Waits for the child to exit: `Err` with Consul's message when it failed.
    pub(crate) async fn wait(&mut self) -> Result<(), String> {
        let status = self.process.wait().await;
        self.exited = true;
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!(
                "Error running handler: {}",
                subprocess::describe_status(status)
            )),
            Err(e) => Err(format!("Error running handler: {e}")),
        }
    }

    /// SIGTERM, then SIGKILL if the child is still running after the grace period.
    pub(crate) async fn kill(&mut self, verbose: bool, console: &mut Console<'_>) {
        if self.exited {
            return;
        }
        let Some(pid) = self.process.id() else {
            if verbose {
                console.info("No child process to kill");
            }
            return;
        };
        if verbose {
            console.info(&format!("Terminating child pid {pid}"));
            console.flush();
        }
        if let Err(e) = subprocess::signal(pid, "TERM").await {
            console.error(&format!("Failed to terminate {pid}: {e}"));
        }
        if tokio::time::timeout(KILL_GRACE_PERIOD, self.process.wait())
            .await
            .is_ok()
        {
            self.exited = true;
            if verbose {
                console.info("Child terminated");
            }
            return;
        }
        if verbose {
            console.info(&format!(
                "Child did not exit after grace period of {}s",
                KILL_GRACE_PERIOD.as_secs()
            ));
            console.info(&format!("Killing child pid {pid}"));
        }
        if let Err(e) = self.process.kill().await {
            console.error(&format!("Failed to kill {pid}: {e}"));
        }
        self.exited = true;
    }
}
