//! `praetor watch` against `praetor agent -dev`: printing once without a handler, and a
//! handler run again on every change with the data on stdin and `CONSUL_INDEX` set; and
//! the watches of the agent's own configuration (script and HTTP handlers, reload).

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

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

/// One request an HTTP watch handler received: the head (request line and headers,
/// lower-cased) and the body.
struct Hook {
    head: String,
    body: String,
}

/// An HTTP endpoint on loopback that answers 200 to every request and passes it on.
async fn hook_endpoint() -> (String, mpsc::UnboundedReceiver<Hook>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_len, body_len) = loop {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (end + 4, len);
                };
                while buf.len() < head_len + body_len {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tx.send(Hook {
                    head: String::from_utf8_lossy(&buf[..head_len]).to_ascii_lowercase(),
                    body: String::from_utf8_lossy(&buf[head_len..head_len + body_len]).into_owned(),
                });
            });
        }
    });
    (format!("http://{addr}/hook"), rx)
}

/// The next request the endpoint received, within 30 s.
async fn next_hook(hooks: &mut mpsc::UnboundedReceiver<Hook>, agent: &AgentProcess) -> Hook {
    match tokio::time::timeout(Duration::from_secs(30), hooks.recv()).await {
        Ok(Some(hook)) => hook,
        _ => panic!(
            "the HTTP handler was not called; agent log:\n{}",
            agent.output()
        ),
    }
}

#[tokio::test]
async fn configured_watches_run_script_and_http_handlers_and_restart_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let (hook_url, mut hooks) = hook_endpoint().await;
    let config = dir.path().join("watches.json");
    let script = format!(
        "cat >> {calls}; echo index=$CONSUL_INDEX >> {calls}",
        calls = calls.display()
    );
    let watches = serde_json::json!({"watches": [
        {"type": "key", "key": "e2e/cfg", "args": ["/bin/sh", "-c", script]},
        {"type": "keyprefix", "prefix": "e2e/hook/", "handler_type": "http",
         "http_handler_config": {"path": hook_url, "method": "PUT",
                                 "header": {"X-Test": ["yes"]}}},
    ]});
    std::fs::write(&config, watches.to_string()).unwrap();
    let agent = AgentProcess::start(&["-dev", "-config-file", config.to_str().unwrap()]);
    let api = agent.http.clone();
    let c = http();

    // Both handlers run at once with the current (empty) data.
    let first = wait_for_file(&calls, "the script handler never ran", |t| {
        t.lines().any(|l| l.starts_with("index="))
    })
    .await;
    assert_eq!(first.lines().next(), Some("null"), "{first}");
    let hook = next_hook(&mut hooks, &agent).await;
    assert!(
        hook.head.starts_with("put /hook http/1.1\r\n"),
        "{}",
        hook.head
    );
    assert!(hook.head.contains("\r\nx-test: yes\r\n"), "{}", hook.head);
    assert!(
        hook.head.contains("\r\ncontent-type: application/json\r\n"),
        "{}",
        hook.head
    );
    assert_eq!(hook.body, "null");

    // A change reaches each with the data and the index.
    c.put(format!("{api}/v1/kv/e2e/cfg"))
        .body("v1")
        .send()
        .await
        .unwrap();
    let text = wait_for_file(
        &calls,
        "the script handler did not run on the change",
        |t| t.lines().filter(|l| l.starts_with("index=")).count() >= 2,
    )
    .await;
    let lines: Vec<&str> = text.lines().collect();
    let pair: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(pair["Value"], "djE=");
    assert_eq!(lines[3], format!("index={}", pair["ModifyIndex"]));

    let resp = c
        .put(format!("{api}/v1/kv/e2e/hook/a"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let hook = next_hook(&mut hooks, &agent).await;
    let pairs: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(pairs[0]["Key"], "e2e/hook/a");
    let index = pairs[0]["ModifyIndex"].as_u64().unwrap();
    assert!(
        hook.head
            .contains(&format!("\r\nx-consul-index: {index}\r\n")),
        "{}",
        hook.head
    );

    // Reload with one new watch instead: the old ones stop, the new one starts.
    let calls2 = dir.path().join("calls2");
    let watches = serde_json::json!({"watches": [
        {"type": "key", "key": "e2e/other", "handler": format!("cat >> {}", calls2.display())},
    ]});
    std::fs::write(&config, watches.to_string()).unwrap();
    let resp = c
        .put(format!("{api}/v1/agent/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    wait_for_file(&calls2, "the reloaded watch never ran", |t| {
        t.starts_with("null")
    })
    .await;
    c.put(format!("{api}/v1/kv/e2e/cfg"))
        .body("v2")
        .send()
        .await
        .unwrap();
    c.put(format!("{api}/v1/kv/e2e/hook/b"))
        .body("y")
        .send()
        .await
        .unwrap();
    c.put(format!("{api}/v1/kv/e2e/other"))
        .body("z")
        .send()
        .await
        .unwrap();
    wait_for_file(&calls2, "the reloaded watch did not see the change", |t| {
        t.contains("\"e2e/other\"")
    })
    .await;
    let text = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("index=")).count(),
        2,
        "{text}"
    );
    assert!(
        hooks.try_recv().is_err(),
        "the removed HTTP watch still ran"
    );

    // A bad watch fails the reload and keeps the running one.
    std::fs::write(
        &config,
        r#"{"watches": [{"type": "key", "args": ["/bin/true"]}]}"#,
    )
    .unwrap();
    let resp = c
        .put(format!("{api}/v1/agent/reload"))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 500, "{body}\n{}", agent.output());
    assert!(
        body.contains("Must specify a single key to watch"),
        "{body}"
    );
}

#[test]
fn an_agent_with_a_bad_watch_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("watches.json");
    std::fs::write(
        &config,
        r#"{"watches": [{"type": "frob", "args": ["/bin/true"]}]}"#,
    )
    .unwrap();
    let out = std::process::Command::new(crate::agent::bin())
        .args(["agent", "-dev", "-config-file", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Failed to parse watch ("), "{err}");
    assert!(err.contains("): Unsupported watch type: frob"), "{err}");
}
