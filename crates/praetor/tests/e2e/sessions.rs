//! The Patroni-style leader election against `praetor agent -dev`: sessions with TTLs,
//! locks in KV, lock-delay, and a transaction that rolls back.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::agent::AgentProcess;
use crate::{http, index_of};

async fn put_json(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let resp = c.put(url).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn put(c: &reqwest::Client, url: String) -> (u16, String) {
    let resp = c.put(url).body("node1").send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.text().await.unwrap().trim().to_owned(),
    )
}

#[tokio::test]
async fn patroni_style_election_with_ttl_lock_delay_and_txn_rollback() {
    let agent = AgentProcess::dev();
    let (api, c) = (agent.http.clone(), http());

    // The agent registers itself (with serfHealth) soon after start.
    crate::agent::wait_for_serf_health(&api).await;

    // Patroni's exact shape: lower-case keys, fractional durations, no checks.
    let (status, body) = put_json(
        &c,
        format!("{api}/v1/session/create"),
        json!({"name":"patroni-node1","checks":[],"lockdelay":"0.001s","behavior":"delete","ttl":"10.0s"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let patroni = body["ID"].as_str().unwrap().to_owned();
    let info: Value = c
        .get(format!("{api}/v1/session/info/{patroni}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info[0]["LockDelay"], 1_000_000);
    assert_eq!(info[0]["Behavior"], "delete");
    assert_eq!(info[0]["TTL"], "10.0s");

    // A second contender with the defaults (bound to serfHealth, 15 s lock-delay).
    let (status, body) = put_json(
        &c,
        format!("{api}/v1/session/create"),
        json!({"Name":"other"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let other = body["ID"].as_str().unwrap().to_owned();

    let leader = format!("{api}/v1/kv/service/pg/leader");
    assert_eq!(
        put(&c, format!("{leader}?acquire={patroni}")).await,
        (200, "true".into())
    );
    assert_eq!(
        put(&c, format!("{leader}?acquire={other}")).await,
        (200, "false".into())
    );
    let (status, text) = put(
        &c,
        format!("{leader}?acquire=00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(status, 500);
    assert!(text.starts_with("invalid session"), "{text}");
    let entry: Value = c.get(&leader).send().await.unwrap().json().await.unwrap();
    assert_eq!(entry[0]["Session"], patroni.as_str());
    assert_eq!(entry[0]["LockIndex"], 1);

    // Renew answers the session; an unknown one is a 404.
    let (status, renewed) =
        put_json(&c, format!("{api}/v1/session/renew/{patroni}"), json!(null)).await;
    assert_eq!(status, 200);
    assert_eq!(renewed[0]["ID"], patroni.as_str());
    let (status, text) = put(&c, format!("{api}/v1/session/renew/nope")).await;
    assert_eq!(
        (status, text.as_str()),
        (404, "Session id 'nope' not found")
    );

    // Stop renewing: after 2 × TTL the session lapses and (behavior delete) the key goes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let resp = c.get(&leader).send().await.unwrap();
        if resp.status() == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "the lock never lapsed");
        let index = index_of(&resp);
        let _ = c
            .get(format!("{leader}?index={index}&wait=9.87s"))
            .send()
            .await
            .unwrap();
    }
    let gone: Value = c
        .get(format!("{api}/v1/session/info/{patroni}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gone, json!([]));

    // Lock-delay: once `other` is destroyed, nobody may take its key for 15 s.
    let key = format!("{api}/v1/kv/service/pg/other");
    assert_eq!(
        put(&c, format!("{key}?acquire={other}")).await,
        (200, "true".into())
    );
    assert_eq!(
        put(&c, format!("{api}/v1/session/destroy/{other}")).await,
        (200, "true".into())
    );
    let (_, body) = put_json(
        &c,
        format!("{api}/v1/session/create"),
        json!({"Name":"third"}),
    )
    .await;
    let third = body["ID"].as_str().unwrap().to_owned();
    assert_eq!(
        put(&c, format!("{key}?acquire={third}")).await,
        (200, "false".into())
    );
    // An explicit release arms no lock-delay.
    assert_eq!(
        put(&c, format!("{leader}?acquire={third}")).await,
        (200, "true".into())
    );
    assert_eq!(
        put(&c, format!("{leader}?release={third}")).await,
        (200, "true".into())
    );
    assert_eq!(
        put(&c, format!("{leader}?acquire={third}")).await,
        (200, "true".into())
    );

    // A transaction with a failing check-index changes nothing and answers 409.
    let (status, body) = put_json(
        &c,
        format!("{api}/v1/txn"),
        json!([
            {"KV": {"Verb": "set", "Key": "txn/a", "Value": "YQ=="}},
            {"KV": {"Verb": "check-index", "Key": "service/pg/leader", "Index": 1}}
        ]),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Results"], Value::Null);
    assert_eq!(body["Errors"][0]["OpIndex"], 1);
    assert_eq!(
        c.get(format!("{api}/v1/kv/txn/a"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, body) = put_json(
        &c,
        format!("{api}/v1/txn"),
        json!([
            {"KV": {"Verb": "set", "Key": "txn/a", "Value": "YQ=="}},
            {"KV": {"Verb": "get", "Key": "txn/a"}}
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Errors"], Value::Null);
    assert_eq!(body["Results"][0]["KV"]["Value"], Value::Null);
    assert_eq!(body["Results"][1]["KV"]["Value"], "YQ==");
}
