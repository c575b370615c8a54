//! Remote execution on this agent (Consul's `agent/remote_exec.go`), started by the
//! `_rexec` user event when `disable_remote_exec = false`.
//!
//! The event's JSON payload names a KV prefix and a session; the job spec is at
//! `<prefix>/<session>/job`. The agent acknowledges with `<prefix>/<session>/<node>/ack`,
//! runs the command (a shell command, an argv, or a script spilled to a file), uploads
//! its combined stdout and stderr as `…/<node>/out/<%05x>` chunks (at most 4 KiB, at
//! least every 500 ms while there is output; an empty chunk is a heartbeat after the
//! spec's `Wait` of silence), and finally writes the exit code to `…/<node>/exit`. Every
//! key is written with a lock on the session, so once `consul exec` destroys it no late
//! write lands.

use std::sync::Arc;
use std::time::Duration;

use praetor_types::{Consistency, KvOp, KvQuery, KvRequest, KvResult, QueryOptions, UserEvent};
use serde::Deserialize;
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;
use tracing::{debug, error, info};

use crate::{Backend, BackendError};

/// The most output uploaded in one key (Consul's `remoteExecOutputSize`).
pub const OUTPUT_CHUNK_SIZE: usize = 4 * 1024;
/// How long output may wait before a short chunk is uploaded.
pub const OUTPUT_DEADLINE: Duration = Duration::from_millis(500);
/// The heartbeat interval when the spec gives none.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// The `_rexec` event payload (Consul's `remoteExecEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RemoteExecEvent {
    /// The KV prefix (`_rexec` by default).
    #[serde(rename = "Prefix", alias = "prefix")]
    pub prefix: String,
    /// The session that holds the job's keys.
    #[serde(rename = "Session", alias = "session")]
    pub session: String,
}

/// The job at `<prefix>/<session>/job` (Consul's `remoteExecSpec`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct RemoteExecSpec {
    /// A command line for the shell.
    #[serde(rename = "Command", alias = "command")]
    pub command: String,
    /// An argv run without a shell (takes precedence over `command`).
    #[serde(rename = "Args", alias = "args", deserialize_with = "null_default")]
    pub args: Vec<String>,
    /// A script to spill to a file and run (takes precedence over `command`).
    #[serde(
        rename = "Script",
        alias = "script",
        deserialize_with = "base64_or_null"
    )]
    pub script: Vec<u8>,
    /// The heartbeat interval, in nanoseconds (Go's `time.Duration`).
    #[serde(rename = "Wait", alias = "wait")]
    pub wait: u64,
}

fn null_default<'de, D: serde::Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn base64_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    use base64::Engine as _;
    match Option::<String>::deserialize(d)? {
        None => Ok(Vec::new()),
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom),
    }
}

/// Where this node's keys of one job live.
struct Job {
    backend: Arc<dyn Backend>,
    event: RemoteExecEvent,
    node: String,
}

impl Job {
    fn key(&self, suffix: &str) -> String {
        format!(
            "{}/{}/{}/{}",
            self.event.prefix.trim_end_matches('/'),
            self.event.session,
            self.node,
            suffix
        )
    }

    /// Writes one key under the session's lock; a refused lock is an error.
    async fn write(&self, suffix: &str, value: Vec<u8>) -> Result<(), BackendError> {
        let mut req = KvRequest::new(KvOp::Lock, self.key(suffix));
        req.value = value;
        req.session = Some(self.event.session.clone());
        if self.backend.kv_write(req).await? {
            Ok(())
        } else {
            Err(BackendError::Internal("write failed".into()))
        }
    }

    /// Reads the spec: stale first, then once more consistently if it was not there.
    async fn spec(&self) -> Option<RemoteExecSpec> {
        let key = format!(
            "{}/{}/job",
            self.event.prefix.trim_end_matches('/'),
            self.event.session
        );
        for consistency in [Consistency::Stale, Consistency::Default] {
            let opts = QueryOptions {
                consistency,
                ..QueryOptions::default()
            };
            let found = self
                .backend
                .kv_read(KvQuery::Get { key: key.clone() }, opts)
                .await;
            match found {
                Ok((_, KvResult::Entries(entries))) if !entries.is_empty() => {
                    return match serde_json::from_slice(&entries[0].value) {
                        Ok(spec) => Some(spec),
                        Err(e) => {
                            error!(error = %e, "failed to decode remote exec spec");
                            None
                        }
                    };
                }
                Ok(_) => debug!("remote exec job spec not found"),
                Err(e) => {
                    error!(error = %e, "failed to get remote exec job");
                    return None;
                }
            }
        }
        debug!("remote exec aborted, job spec missing");
        None
    }
}

/// Runs the job the `_rexec` event `event` announces, as node `node`.
pub async fn handle(backend: Arc<dyn Backend>, node: String, event: UserEvent) {
    debug!(id = %event.id, "received remote exec event");
    let parsed: RemoteExecEvent = match serde_json::from_slice(&event.payload) {
        Ok(p) => p,
        Err(e) => {
            error!(error = %e, "failed to decode remote exec event");
            return;
        }
    };
    let job = Job {
        backend,
        event: parsed,
        node,
    };
    let Some(spec) = job.spec().await else {
        return;
    };
    if let Err(e) = job.write("ack", Vec::new()).await {
        error!(error = %e, "failed to ack remote exec job");
        return;
    }
    let code = run(&job, &spec).await;
    if let Err(e) = job.write("exit", code.to_string().into_bytes()).await {
        error!(error = %e, "failed to write exit code for remote exec job");
    }
}

/// Runs the command, uploading its output; the exit code (255 when it could not run or
/// its output could not be uploaded, -1 when a signal ended it).
async fn run(job: &Job, spec: &RemoteExecSpec) -> i32 {
    let script_file = if spec.script.is_empty() {
        None
    } else {
        match spill(&spec.script) {
            Ok(f) => Some(f),
            Err(e) => {
                let _ = job
                    .write(
                        "out/00000",
                        format!("Failed to create script file: {e}\n").into(),
                    )
                    .await;
                return 255;
            }
        }
    };
    let mut cmd = if !spec.args.is_empty() {
        let mut c = tokio::process::Command::new(&spec.args[0]);
        c.args(&spec.args[1..]);
        c
    } else {
        let script = match &script_file {
            Some(f) => f.path().display().to_string(),
            None => spec.command.clone(),
        };
        info!(script = %script, "remote exec script");
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".to_owned());
        let mut c = tokio::process::Command::new(shell);
        c.arg("-c").arg(script);
        c
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            debug!(error = %e, "failed to start remote exec");
            let _ = job
                .write(
                    "out/00000",
                    format!("Failed to run remote exec: {e}\n").into(),
                )
                .await;
            return 255;
        }
    };
    let (tx, rx) = mpsc::channel(16);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pipe(out, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pipe(err, tx.clone()));
    }
    drop(tx);
    let wait = match spec.wait {
        0 => DEFAULT_WAIT,
        ns => Duration::from_nanos(ns),
    };
    if upload(job, rx, wait).await.is_err() {
        let _ = child.kill().await;
        return 255;
    }
    match child.wait().await {
        Ok(status) => status.code().unwrap_or(-1),
        Err(_) => 1,
    }
}

/// Writes `script` to a private executable temporary file.
fn spill(script: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let mut f = tempfile::Builder::new().prefix("rexec").tempfile()?;
    f.write_all(script)?;
    f.flush()?;
    std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o750))?;
    Ok(f)
}

/// Forwards what `from` produces to `to` until it ends.
async fn pipe(mut from: impl tokio::io::AsyncRead + Unpin, to: mpsc::Sender<Vec<u8>>) {
    let mut buf = vec![0u8; OUTPUT_CHUNK_SIZE];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.send(buf[..n].to_vec()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Uploads output as it comes until both pipes close: full chunks at once, a partial one
/// after [`OUTPUT_DEADLINE`], and an empty heartbeat after `wait` without output.
async fn upload(
    job: &Job,
    mut rx: mpsc::Receiver<Vec<u8>>,
    wait: Duration,
) -> Result<(), BackendError> {
    let mut num: u32 = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut flush_at: Option<tokio::time::Instant> = None;
    let mut heartbeat_at = tokio::time::Instant::now() + wait;
    loop {
        let deadline = flush_at.unwrap_or(heartbeat_at);
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(bytes) => {
                    pending.extend_from_slice(&bytes);
                    flush_at.get_or_insert_with(|| tokio::time::Instant::now() + OUTPUT_DEADLINE);
                    while pending.len() >= OUTPUT_CHUNK_SIZE {
                        let rest = pending.split_off(OUTPUT_CHUNK_SIZE);
                        write_output(job, &mut num, std::mem::replace(&mut pending, rest)).await?;
                    }
                    if pending.is_empty() {
                        flush_at = None;
                    }
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                write_output(job, &mut num, std::mem::take(&mut pending)).await?;
                flush_at = None;
            }
        }
        if flush_at.is_none() {
            heartbeat_at = tokio::time::Instant::now() + wait;
        }
    }
    if !pending.is_empty() {
        write_output(job, &mut num, pending).await?;
    }
    Ok(())
}

async fn write_output(job: &Job, num: &mut u32, output: Vec<u8>) -> Result<(), BackendError> {
    let suffix = format!("out/{:05x}", *num);
    *num += 1;
    job.write(&suffix, output).await.inspect_err(|e| {
        error!(error = %e, "failed to write output for remote exec job");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_decodes_consuls_json() {
        let spec: RemoteExecSpec = serde_json::from_str(
            r#"{"Command":"uptime","Args":null,"Script":null,"Wait":200000000}"#,
        )
        .expect("decode");
        assert_eq!(spec.command, "uptime");
        assert!(spec.args.is_empty() && spec.script.is_empty());
        assert_eq!(spec.wait, 200_000_000);
        let spec: RemoteExecSpec =
            serde_json::from_str(r#"{"Script":"ZWNobyBoaQ==","Args":["a","b"]}"#).expect("decode");
        assert_eq!(spec.script, b"echo hi");
        assert_eq!(spec.args, ["a", "b"]);
    }

    #[test]
    fn event_payload_decodes() {
        let ev: RemoteExecEvent =
            serde_json::from_str(r#"{"Prefix":"_rexec","Session":"abc"}"#).expect("decode");
        assert_eq!(ev.prefix, "_rexec");
        assert_eq!(ev.session, "abc");
    }
}
