//! `praetor lock` against `praetor agent -dev`: a mutex and a semaphore shared by several
//! lock processes, and a child terminated when its lock is lost.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::agent::{AgentProcess, bin, wait_for_serf_health};
use crate::{get_json, http};

/// A `praetor` CLI process, killed on drop.
pub struct CliProcess {
    child: Option<Child>,
}

impl CliProcess {
    /// Starts `praetor <args>` against `api` with `env` added, output captured.
    pub fn start(api: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let child = Command::new(bin())
            .args(args)
            .env("CONSUL_HTTP_ADDR", api)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn praetor cli");
        Self { child: Some(child) }
    }

    /// Waits (polling, up to `timeout`) for the exit: (code, stdout, stderr).
    pub async fn finish(mut self, timeout: Duration) -> (i32, String, String) {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("a running process");
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "praetor cli did not exit");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let child = self.child.take().expect("a running process");
        let out = child.wait_with_output().expect("cli output");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(
                self.child
                    .as_ref()
                    .expect("a running process")
                    .id()
                    .to_string(),
            )
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

impl Drop for CliProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `path` until `done` holds for its contents.
pub async fn wait_for_file(path: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}; file so far:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The most `start`s without their `end` at any point of the log.
fn max_concurrent(log: &str) -> usize {
    let (mut current, mut max) = (0usize, 0usize);
    for line in log.lines() {
        if line.starts_with("start ") {
            current += 1;
            max = max.max(current);
        } else if line.starts_with("end ") {
            current -= 1;
        }
    }
    max
}

fn contenders(api: &str, limit: &str, prefix: &str, log: &Path, pause: &str) -> Vec<CliProcess> {
    let script = format!(
        "echo start $LOCK_ID $CONSUL_LOCK_HELD >> {log}; sleep {pause}; echo end $LOCK_ID >> {log}",
        log = log.display()
    );
    ["a", "b", "c"]
        .iter()
        .map(|id| {
            CliProcess::start(
                api,
                &["lock", "-n", limit, prefix, &script],
                &[("LOCK_ID", id)],
            )
        })
        .collect()
}

#[tokio::test]
async fn three_lock_processes_never_overlap() {
    let agent = AgentProcess::dev();
    wait_for_serf_health(&agent.http).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");

    let text = finish_all(contenders(&agent.http, "1", "e2e/mutex", &log, "0.3"), &log).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    for pair in lines.chunks(2) {
        let id = pair[0]
            .strip_prefix("start ")
            .and_then(|rest| rest.strip_suffix(" true"))
            .unwrap_or_else(|| panic!("child without CONSUL_LOCK_HELD=true:\n{text}"));
        assert_eq!(pair[1], format!("end {id}"), "interleaved:\n{text}");
    }
    // Each lock cleaned up after itself: no lock key and no session left.
    assert_no_keys_under(&agent.http, "e2e/mutex").await;
    let sessions = get_json(format!("{}/v1/session/list", agent.http)).await;
    assert_eq!(sessions, serde_json::json!([]));
}

#[tokio::test]
async fn semaphore_of_two_lets_two_run_together_but_never_three() {
    let agent = AgentProcess::dev();
    wait_for_serf_health(&agent.http).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");

    let text = finish_all(contenders(&agent.http, "2", "e2e/sem", &log, "1"), &log).await;
    assert_eq!(text.lines().count(), 6, "{text}");
    assert_eq!(max_concurrent(&text), 2, "{text}");
    assert_no_keys_under(&agent.http, "e2e/sem").await;
}

/// Waits for every contender to exit 0; the log they shared.
async fn finish_all(procs: Vec<CliProcess>, log: &Path) -> String {
    for p in procs {
        let (code, out, err) = p.finish(Duration::from_secs(60)).await;
        assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    }
    std::fs::read_to_string(log).unwrap()
}

/// No key is left under `prefix` (a recursive GET answers 404).
async fn assert_no_keys_under(api: &str, prefix: &str) {
    let resp = http()
        .get(format!("{api}/v1/kv/{prefix}?recurse"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "{}", resp.text().await.unwrap());
}

/// The ID of the session named `name`.
async fn session_named(api: &str, name: &str) -> Value {
    let sessions: Value = get_json(format!("{api}/v1/session/list")).await;
    sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == name)
        .unwrap_or_else(|| panic!("no session {name:?} in {sessions}"))
        .clone()
}

/// A child that notes `held` in `log` and, on SIGTERM, `terminated`, then exits 0.
fn trapping_child(log: &Path) -> String {
    format!(
        "trap 'echo terminated >> {log}; exit 0' TERM; echo held >> {log}; while true; do sleep 0.1; done",
        log = log.display()
    )
}

/// Destroys session `id` under a running `praetor lock`, waits for its child to note the
/// SIGTERM in `log`, and returns the lock process's stdout once it exited 0 saying the
/// lock was lost.
async fn destroy_session_and_await_child(
    api: &str,
    id: &str,
    log: &Path,
    proc: CliProcess,
) -> String {
    let resp = http()
        .put(format!("{api}/v1/session/destroy/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_for_file(log, "the child was never signalled", |t| {
        t.contains("terminated")
    })
    .await;
    let (code, out, err) = proc.finish(Duration::from_secs(30)).await;
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("Lock lost, killing child"), "{out}");
    out
}

#[tokio::test]
async fn semaphore_child_is_terminated_when_its_session_is_destroyed() {
    let agent = AgentProcess::dev();
    wait_for_serf_health(&agent.http).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let script = trapping_child(&log);
    let proc = CliProcess::start(
        &agent.http,
        &[
            "lock",
            "-n=2",
            "-verbose",
            "-name=e2e-sem",
            "e2e/semlost",
            &script,
        ],
        &[],
    );
    wait_for_file(&log, "the child never started", |t| t.contains("held")).await;
    let session = session_named(&agent.http, "e2e-sem").await;
    assert_eq!(session["Behavior"], "delete");
    let id = session["ID"].as_str().unwrap();
    let holders: Value = get_json(format!("{}/v1/kv/e2e/semlost/.lock?raw", agent.http)).await;
    assert_eq!(holders["Limit"], 2);
    assert_eq!(holders["Holders"][id], true);

    destroy_session_and_await_child(&agent.http, id, &log, proc).await;
}

#[tokio::test]
async fn child_is_terminated_when_the_session_is_destroyed() {
    let agent = AgentProcess::dev();
    wait_for_serf_health(&agent.http).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let script = trapping_child(&log);
    let proc = CliProcess::start(
        &agent.http,
        &["lock", "-verbose", "-name=e2e-lost", "e2e/lost", &script],
        &[],
    );
    wait_for_file(&log, "the child never started", |t| t.contains("held")).await;

    let session = session_named(&agent.http, "e2e-lost").await;
    assert_eq!(session["TTL"], "15s");
    let key: Value = get_json(format!("{}/v1/kv/e2e/lost/.lock", agent.http)).await;
    assert_eq!(key[0]["Session"], session["ID"]);
    assert_eq!(key[0]["Flags"], 0x2ddc_cbc0_58a5_0c18_u64);

    let id = session["ID"].as_str().unwrap();
    let out = destroy_session_and_await_child(&agent.http, id, &log, proc).await;
    assert!(out.contains("Child terminated"), "{out}");
}

#[tokio::test]
async fn acquisition_times_out_while_another_process_holds_the_lock() {
    let agent = AgentProcess::dev();
    wait_for_serf_health(&agent.http).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let script = format!(
        "echo held >> {}; while true; do sleep 0.1; done",
        log.display()
    );
    let holder = CliProcess::start(&agent.http, &["lock", "e2e/busy", &script], &[]);
    wait_for_file(&log, "the holder never started", |t| t.contains("held")).await;

    let waiter = CliProcess::start(
        &agent.http,
        &["lock", "-timeout=500ms", "e2e/busy", "true"],
        &[],
    );
    let (code, _, err) = waiter.finish(Duration::from_secs(30)).await;
    assert_eq!(
        (code, err.as_str()),
        (1, "Shutdown triggered or timeout during lock acquisition\n")
    );

    // The child's failure is reported; its status only with -child-exit-code (as 2).
    let (code, _, err) = CliProcess::start(&agent.http, &["lock", "e2e/code", "exit 3"], &[])
        .finish(Duration::from_secs(30))
        .await;
    assert_eq!(
        (code, err.as_str()),
        (0, "Error running handler: exit status 3\n")
    );
    let (code, _, err) = CliProcess::start(
        &agent.http,
        &["lock", "-child-exit-code", "e2e/code", "exit 3"],
        &[],
    )
    .finish(Duration::from_secs(30))
    .await;
    assert_eq!(code, 2, "{err}");

    // SIGTERM on the holder stops its child and releases the lock.
    holder.signal("TERM");
    let (code, out, err) = holder.finish(Duration::from_secs(30)).await;
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let resp = http()
        .get(format!("{}/v1/kv/e2e/busy/.lock", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
