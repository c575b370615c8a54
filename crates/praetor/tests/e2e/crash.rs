//! Durability: a server killed with SIGKILL under write load keeps every acknowledged write.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::agent::AgentProcess;
use crate::http;

/// Waits until `url` answers 200, retrying while the restarted server elects itself.
async fn get_when_ready(c: &reqwest::Client, url: &str) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = c.get(url).send().await
            && resp.status() == 200
        {
            return resp;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never answered 200"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_write_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let agent = AgentProcess::server(dir.path());
    let c = http();
    // Ready once a leader exists: write until one write is accepted.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while c
        .put(format!("{}/v1/kv/ready", agent.http))
        .body("1")
        .send()
        .await
        .map(|r| r.status())
        .ok()
        != Some(reqwest::StatusCode::OK)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no leader:\n{}",
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..16 {
        let (c, api, acked) = (c.clone(), agent.http.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let (key, value) = (format!("load/{w}/{i}"), format!("value-{w}-{i}"));
                let Ok(resp) = c
                    .put(format!("{api}/v1/kv/{key}"))
                    .body(value.clone())
                    .send()
                    .await
                else {
                    return;
                };
                let ok =
                    resp.status() == 200 && resp.text().await.is_ok_and(|t| t.trim() == "true");
                if !ok {
                    return;
                }
                acked.lock().unwrap().push((key, value));
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 2000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes too slow:\n{}",
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.kill9();
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let agent = AgentProcess::server(dir.path());
    let resp = get_when_ready(&c, &format!("{}/v1/kv/load?recurse", agent.http)).await;
    let entries: Value = resp.json().await.unwrap();
    let stored: std::collections::HashMap<String, String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = e["Value"].as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .unwrap();
            (
                e["Key"].as_str().unwrap().to_owned(),
                String::from_utf8(bytes).unwrap(),
            )
        })
        .collect();
    let lost: Vec<_> = acked
        .iter()
        .filter(|(k, v)| stored.get(k) != Some(v))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        lost.first()
    );
}
