//! The agent process: flags in every Go form, signals and exit codes, restart, `consul` name.

use std::time::Duration;

use crate::agent::{AgentProcess, bin, run_as};
use crate::http;

#[test]
fn sigint_on_a_dev_server_exits_1_without_leaving() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("praetor.pid");
    let agent = AgentProcess::start(&["-dev", "-pid-file", pid_file.to_str().unwrap()]);
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid.trim(), agent.pid().to_string());
    let banner = agent.output();
    assert!(banner.contains("==> Starting Consul agent..."), "{banner}");
    assert!(banner.contains("Server: true (Bootstrap: "), "{banner}");
    agent.signal("INT");
    let output = agent.output.clone();
    assert_eq!(agent.wait(Duration::from_secs(30)), Some(1));
    let output = output.lock().unwrap().clone();
    assert!(
        output.contains("Graceful shutdown disabled. Exiting"),
        "{output}"
    );
    assert!(!pid_file.exists(), "pid file left behind");
}

#[tokio::test]
async fn data_dir_flag_forms_all_work_and_data_survives_restart() {
    let c = http();
    for form in [
        "-data-dir={}",
        "-data-dir {}",
        "--data-dir {}",
        "--data-dir={}",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        let flag = form.replace("{}", path);
        let mut args: Vec<&str> = flag.split(' ').collect();
        args.extend([
            "-server",
            "-bootstrap",
            "-bind",
            "127.0.0.1",
            "-client",
            "127.0.0.1",
        ]);
        let agent = AgentProcess::start(&args);
        assert!(
            dir.path().join("node-id").exists(),
            "{form}: no node-id in data dir"
        );
        wait_for_write(&c, &agent, "k", form).await;
        agent.signal("TERM");
        agent.wait(Duration::from_secs(30));

        let agent = AgentProcess::start(&args);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let resp = c
                .get(format!("{}/v1/kv/k?raw", agent.http))
                .send()
                .await
                .unwrap();
            if resp.status() == 200 {
                assert_eq!(resp.text().await.unwrap(), form);
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{form}: value lost after restart"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Writes `key` = `value` once the server has a leader.
async fn wait_for_write(c: &reqwest::Client, agent: &AgentProcess, key: &str, value: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resp = c
            .put(format!("{}/v1/kv/{key}", agent.http))
            .body(value.to_owned())
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no leader:\n{}",
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn installed_as_consul_it_works_unchanged() {
    let agent = AgentProcess::dev();
    let dir = tempfile::tempdir().unwrap();
    let consul = dir.path().join("consul");
    std::os::unix::fs::symlink(bin(), &consul).unwrap();
    let (code, out, _) = run_as(&consul, &agent.http, &["version"], None);
    assert_eq!(code, 0);
    assert!(out.starts_with("Consul v"), "{out}");
    let (code, out, err) = run_as(&consul, &agent.http, &["kv", "put", "a", "b"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Success! Data written to: a\n");
    let (_, out, _) = run_as(&consul, &agent.http, &["kv", "get", "a"], None);
    assert_eq!(out, "b\n");
}

#[test]
fn missing_data_dir_is_a_startup_error() {
    let out = std::process::Command::new(bin())
        .args(["agent", "-server", "-bind", "127.0.0.1", "-http-port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("==> "), "{stderr}");
    assert!(stderr.contains("data_dir"), "{stderr}");
}

#[tokio::test]
async fn sighup_with_a_bad_config_file_keeps_the_agent_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.json");
    std::fs::write(&file, r#"{"node_name": "n1"}"#).unwrap();
    let agent = AgentProcess::start(&["-dev", "-config-file", file.to_str().unwrap()]);
    std::fs::write(&file, r#"{"node_name": "n1", "no_such_key": true}"#).unwrap();
    agent.signal("HUP");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !agent.output().contains("Failed to reload configs: ") {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload error:\n{}",
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(agent.output().contains("no_such_key"), "{}", agent.output());
    let resp = http()
        .get(format!("{}/v1/status/leader", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
