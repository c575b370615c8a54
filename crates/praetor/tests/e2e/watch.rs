//! `praetor watch` against `praetor agent -dev`: printing once without a handler, and a
//! handler run again on every change with the data on stdin and `CONSUL_INDEX` set.

use std::time::Duration;

use serde_json::Value;

use crate::agent::{AgentProcess, cli};
use crate::lock::{CliProcess, wait_for_file};
use crate::{http, index_of};

#[tokio::test]
async fn watch_without_handler_prints_once_and_exits() {
    let agent = AgentProcess::dev();
    let api = agent.http.clone();
    let resp = http()
        .put(format!("{api}/v1/kv/e2e/watched"))
        .body("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (code, out, err) = cli(&api, &["watch", "-type=key", "-key=e2e/watched"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("{\n    \"Key\": \"e2e/watched\",\n"),
        "{out}"
    );
    let pair: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pair["Value"], "djE=");

    let (code, out, err) = cli(&api, &["watch", "-type=key", "-key=e2e/missing"]);
    assert_eq!((code, out.as_str()), (0, "null\n"), "{err}");

    let (code, out, err) = cli(&api, &["watch", "-type=keyprefix", "-prefix=e2e/"]);
    assert_eq!(code, 0, "{err}");
    let pairs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pairs[0]["Key"], "e2e/watched");

    let (code, out, err) = cli(&api, &["watch", "-type=nodes"]);
    assert_eq!(code, 0, "{err}");
    let nodes: Value = serde_json::from_str(&out).unwrap();
    assert!(nodes.as_array().is_some_and(|n| !n.is_empty()), "{out}");

    let (code, out, err) = cli(&api, &["watch", "-type=services"]);
    assert_eq!(code, 0, "{err}");
    let services: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(services["consul"], serde_json::json!([]), "{out}");

    let (code, out, err) = cli(&api, &["watch", "-type=service", "-service=consul"]);
    assert_eq!(code, 0, "{err}");
    let entries: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entries[0]["Service"]["Service"], "consul", "{out}");

    let (code, out, err) = cli(&api, &["watch", "-type=checks", "-state=any"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        serde_json::from_str::<Value>(&out).unwrap().is_array(),
        "{out}"
    );

    let (code, _, err) = cli(&api, &["watch", "-type=checks", "-service=a", "-state=any"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "Cannot specify service and state\n")
    );
}

#[tokio::test]
async fn key_watch_runs_its_handler_again_on_change() {
    let agent = AgentProcess::dev();
    let api = agent.http.clone();
    let c = http();
    let key = format!("{api}/v1/kv/e2e/handled");
    c.put(&key).body("v1").send().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    // Each call appends its stdin (one JSON line) and then its CONSUL_INDEX.
    let handler = format!(
        "cat >> {calls}; echo index=$CONSUL_INDEX >> {calls}",
        calls = calls.display()
    );
    let watch = CliProcess::start(
        &api,
        &["watch", "-type=key", "-key=e2e/handled", &handler],
        &[],
    );
    let first = wait_for_file(&calls, "the handler never ran", |t| {
        t.lines().filter(|l| l.starts_with("index=")).count() >= 1
    })
    .await;
    let resp = c.get(&key).send().await.unwrap();
    let v1_index = index_of(&resp);
    let lines: Vec<&str> = first.lines().collect();
    let data: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(data["Value"], "djE=");
    assert_eq!(lines[1], format!("index={v1_index}"));

    c.put(&key).body("v2").send().await.unwrap();
    let resp = c.get(&key).send().await.unwrap();
    let v2_index = index_of(&resp);
    let both = wait_for_file(&calls, "the handler did not run on the change", |t| {
        t.lines().filter(|l| l.starts_with("index=")).count() >= 2
    })
    .await;
    let lines: Vec<&str> = both.lines().collect();
    let data: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(data["Value"], "djI=");
    assert_eq!(data["ModifyIndex"], v2_index);
    assert_eq!(lines[3], format!("index={v2_index}"));

    // SIGTERM ends the watch with status 0; the handler ran exactly twice.
    watch.signal("TERM");
    let (code, _, err) = watch.finish(Duration::from_secs(30)).await;
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
}
