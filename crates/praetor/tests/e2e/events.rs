//! User events and remote exec across two agents in one LAN pool: a server on 127.0.0.1
//! (remote exec disabled, the default) and a client on 127.0.0.2 that enables it.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::agent::{AgentProcess, cli};
use crate::cluster::{FAST_GOSSIP, eventually};
use crate::lock::CliProcess;
use crate::{get_json, http, index_of};

struct Agent {
    name: &'static str,
    process: AgentProcess,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(name: &'static str, ip: &str, server: bool, join: Option<&str>, hcl: &str) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_owned();
        let hcl = format!("{FAST_GOSSIP}\n{hcl}");
        let mut args = vec![
            "-node",
            name,
            "-bind",
            ip,
            "-client",
            "127.0.0.1",
            "-data-dir",
            &data,
            "-hcl",
            &hcl,
        ];
        if server {
            args.extend(["-server", "-bootstrap-expect=1"]);
        }
        let join_arg;
        if let Some(addr) = join {
            join_arg = format!("-join={addr}");
            args.push(&join_arg);
        }
        Agent {
            name,
            process: AgentProcess::start(&args),
            _dir: dir,
        }
    }

    fn http(&self) -> &str {
        &self.process.http
    }

    fn gossip(&self) -> String {
        self.process.log_field("network=lan", "address")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- {} ----\n{}", self.name, self.process.output());
        }
    }
}

async fn list(agent: &Agent, query: &str) -> (u64, Vec<Value>) {
    let resp = http()
        .get(format!("{}/v1/event/list{query}", agent.http()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let index = index_of(&resp);
    let events: Vec<Value> = resp.json().await.unwrap();
    (index, events)
}

async fn fire(agent: &Agent, name: &str, payload: &str) -> Value {
    let resp = http()
        .put(format!("{}/v1/event/fire/{name}", agent.http()))
        .body(payload.to_owned())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    resp.json().await.unwrap()
}

/// Both agents joined, the client able to reach the server (KV writes through it work).
async fn pair() -> (Agent, Agent) {
    let s1 = Agent::start("s1", "127.0.0.1", true, None, "");
    let c1 = Agent::start(
        "c1",
        "127.0.0.2",
        false,
        Some(&s1.gossip()),
        "disable_remote_exec = false",
    );
    eventually(
        Duration::from_secs(30),
        "c1 to reach the server",
        || async {
            let resp = http()
                .put(format!("{}/v1/kv/ready", c1.http()))
                .body("yes")
                .send()
                .await
                .ok()?;
            resp.status().is_success().then_some(())
        },
    )
    .await;
    (s1, c1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_fired_on_one_agent_are_listed_on_the_other_and_wake_blocked_lists() {
    let (s1, c1) = pair().await;
    let long = Duration::from_secs(30);

    // Fired on the server over HTTP, listed on the client.
    let fired = fire(&s1, "deploy", "v1.2").await;
    assert_eq!(fired["Name"], "deploy");
    assert_eq!(fired["Version"], 1);
    let id = fired["ID"].as_str().unwrap().to_owned();
    let (index, events) = eventually(long, "the event on c1", || async {
        let (index, events) = list(&c1, "").await;
        events
            .iter()
            .any(|e| e["ID"] == id.as_str())
            .then_some((index, events))
    })
    .await;
    let ev = events.iter().find(|e| e["ID"] == id.as_str()).unwrap();
    assert_eq!(ev["Payload"], "djEuMg==");
    assert!(ev["LTime"].as_u64().is_some());

    // With nothing new, a list blocked on that index waits out its `?wait` and answers
    // the same index.
    let started = Instant::now();
    let (same, _) = list(&c1, &format!("?index={index}&wait=300ms")).await;
    assert_eq!(same, index);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // A list blocked on that index wakes when an event fired with the CLI arrives.
    let blocked = {
        let url = format!("{}/v1/event/list?index={index}&wait=60s", c1.http());
        tokio::spawn(async move {
            let started = Instant::now();
            let resp = http().get(url).send().await.unwrap();
            let index = index_of(&resp);
            let events: Vec<Value> = resp.json().await.unwrap();
            (started.elapsed(), index, events)
        })
    };
    let http_addr = s1.http().to_owned();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || cli(&http_addr, &["event", "-name", "restart", "now"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let cli_id = out
        .trim()
        .strip_prefix("Event ID: ")
        .unwrap_or_else(|| panic!("unexpected output {out:?}"))
        .to_owned();
    let (elapsed, new_index, events) = tokio::time::timeout(long, blocked)
        .await
        .expect("the blocked list woke")
        .unwrap();
    assert!(elapsed < Duration::from_secs(30));
    assert_ne!(new_index, index);
    assert_eq!(events.last().unwrap()["ID"], cli_id.as_str());
    assert_eq!(events.last().unwrap()["Name"], "restart");

    // `?name=` keeps one name; events are listed oldest first.
    let (_, named) = list(&c1, "?name=deploy").await;
    assert!(named.iter().all(|e| e["Name"] == "deploy"));

    // A node filter naming only c1 leaves s1's list alone.
    let only_c1 = http()
        .put(format!("{}/v1/event/fire/targeted?node=^c1$", s1.http()))
        .send()
        .await
        .unwrap();
    assert!(only_c1.status().is_success());
    eventually(long, "the targeted event on c1", || async {
        let (_, events) = list(&c1, "?name=targeted").await;
        (!events.is_empty()).then_some(())
    })
    .await;
    // Fired after the targeted one; once s1 has it, s1 has seen the targeted one too.
    let marker = fire(&s1, "marker", "").await;
    eventually(long, "the marker on s1", || async {
        let (_, events) = list(&s1, "").await;
        events.iter().any(|e| e["ID"] == marker["ID"]).then_some(())
    })
    .await;
    let (_, on_s1) = list(&s1, "?name=targeted").await;
    assert!(on_s1.is_empty(), "{on_s1:?}");

    // Missing name, as the CLI checks it.
    let (code, _, err) = cli(s1.http(), &["event"]);
    assert_eq!(code, 1);
    assert!(err.contains("Event name must be specified"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_only_where_remote_exec_is_enabled() {
    let (s1, c1) = pair().await;
    let http_addr = s1.http().to_owned();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        cli(
            &http_addr,
            &["exec", "-wait", "10s", "echo", "hello-from", "$0"],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("    c1: hello-from"), "{out}");
    assert!(out.contains("==> c1: finished with exit code 0"), "{out}");
    assert!(!out.contains("s1:"), "s1 has remote exec disabled:\n{out}");
    assert!(
        out.trim_end()
            .ends_with("1 / 1 node(s) completed / acknowledged"),
        "{out}"
    );

    // A failing command: exit 1, its code reported.
    let http_addr = c1.http().to_owned();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        cli(
            &http_addr,
            &["exec", "-node", "c1", "-wait", "10s", "exit 3"],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("==> c1: finished with exit code 3"),
        "stdout:\n{out}\nstderr:\n{err}"
    );

    // Interrupted while the job runs: exit 1 after cleaning up as well.
    let exec = CliProcess::start(c1.http(), &["exec", "-node", "c1", "sleep 20"], &[]);
    let rexec = format!("{}/v1/kv/_rexec?recurse", s1.http());
    eventually(
        Duration::from_secs(30),
        "c1 acknowledging the job",
        || async {
            let keys: Vec<Value> = http().get(&rexec).send().await.ok()?.json().await.ok()?;
            keys.iter()
                .any(|k| k["Key"].as_str().is_some_and(|k| k.ends_with("/c1/ack")))
                .then_some(())
        },
    )
    .await;
    exec.signal("INT");
    let (code, out, err) = exec.finish(Duration::from_secs(10)).await;
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");

    // The sessions and their keys are gone afterwards.
    let resp = http()
        .get(format!("{}/v1/kv/_rexec?recurse", s1.http()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::NOT_FOUND);
    let sessions = get_json(format!("{}/v1/session/list", s1.http())).await;
    assert_eq!(sessions, serde_json::json!([]));
    drop(c1);
}
