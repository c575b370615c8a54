//! Script checks: run a program, map its exit code, keep its combined output.

use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::HealthStatus;
use crate::output::{MAX_OUTPUT_SIZE, OutputBuffer};
use crate::runner::CheckResult;
use praetor_types::duration::format_go_duration as go_duration;

/// A validated script check.
#[derive(Debug)]
pub(crate) struct ScriptProbe {
    args: Vec<String>,
    timeout: Duration,
}

impl ScriptProbe {
    /// `args` must not be empty.
    pub(crate) fn new(args: Vec<String>, timeout: Duration) -> Option<Self> {
        (!args.is_empty()).then_some(ScriptProbe { args, timeout })
    }

    pub(crate) async fn run(&self) -> CheckResult {
        let (program, rest) = self
            .args
            .split_first()
            .expect("ScriptProbe::new rejects empty args");
        let mut command = Command::new(program);
        command
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                tracing::warn!(%error, program, "check script could not start");
                return CheckResult::critical(format!("failed to start {program}: {error}"));
            }
        };
        let buffer = Mutex::new(OutputBuffer::new(MAX_OUTPUT_SIZE));
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let run = async {
            let (_, _, status) = tokio::join!(
                copy_into(stdout, &buffer),
                copy_into(stderr, &buffer),
                child.wait()
            );
            status
        };
        // On timeout `run` is dropped with the child, which kill_on_drop kills.
        let status = tokio::time::timeout(self.timeout, run).await;
        let output = buffer
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_output();
        match status {
            Err(_elapsed) => {
                tracing::warn!(timeout = %go_duration(self.timeout), "check timed out");
                CheckResult::critical(format!(
                    "Timed out ({}) running check",
                    go_duration(self.timeout)
                ))
            }
            Ok(Err(error)) => CheckResult::critical(format!("failed to wait for check: {error}")),
            Ok(Ok(status)) => CheckResult {
                status: status_of(status),
                output,
            },
        }
    }
}

/// Exit 0 is passing, 1 warning, any other code or a signal critical.
fn status_of(exit: ExitStatus) -> HealthStatus {
    match exit.code() {
        Some(0) => HealthStatus::Passing,
        Some(1) => HealthStatus::Warning,
        _ => HealthStatus::Critical,
    }
}

/// Appends everything read from `pipe` to `buffer` until end of file or a read error.
async fn copy_into<R: AsyncRead + Unpin>(pipe: Option<R>, buffer: &Mutex<OutputBuffer>) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = [0u8; 4096];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .write(&chunk[..n]),
        }
    }
}
