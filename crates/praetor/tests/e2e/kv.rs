//! The tutorials' KV transcript, replayed with HTTP and the CLI against `praetor agent -dev`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{AgentProcess, cli, cli_with_stdin};
use crate::{http, index_of};

#[tokio::test]
async fn tutorial_kv_transcript_gives_consuls_shapes() {
    let agent = AgentProcess::dev();
    let (api, c) = (agent.http.clone(), http());
    let kv = |path: &str| format!("{api}/v1/kv/{path}");

    // Empty store: a missing key is a 404 with an empty body and an index header.
    let resp = c.get(kv("redis/config/minconns")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(index_of(&resp) >= 1);
    assert_eq!(resp.text().await.unwrap(), "");

    for (key, value, flags) in [
        ("redis/config/minconns", "1", None),
        ("redis/config/maxconns", "25", Some(42)),
        ("redis/config/users/admin", "abcd1234", None),
    ] {
        let mut url = kv(key);
        if let Some(flags) = flags {
            url.push_str(&format!("?flags={flags}"));
        }
        let resp = c.put(url).body(value).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        // -dev pretty-prints, so even a bare `true` ends with a newline.
        assert_eq!(resp.text().await.unwrap(), "true\n");
    }

    // -dev pretty-prints every JSON answer.
    let resp = c.get(kv("redis/config/maxconns")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("[\n    {\n        \"LockIndex\": 0,"),
        "{text}"
    );
    assert!(text.ends_with("]\n"), "{text:?}");
    let entries: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(entries[0]["Key"], "redis/config/maxconns");
    assert_eq!(entries[0]["Flags"], 42);
    assert_eq!(entries[0]["Value"], "MjU=");
    assert_eq!(entries[0]["CreateIndex"], entries[0]["ModifyIndex"]);
    assert!(entries[0].get("Session").is_none());

    let resp = c.get(kv("redis?recurse")).send().await.unwrap();
    let entries: Value = resp.json().await.unwrap();
    let keys: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "redis/config/maxconns",
            "redis/config/minconns",
            "redis/config/users/admin"
        ]
    );

    let resp = c.delete(kv("redis?recurse")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "true\n");
    let resp = c.get(kv("redis?recurse")).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // Update, then CAS twice with the same index: the first wins, the second loses.
    c.put(kv("foo")).body("bar").send().await.unwrap();
    let entries: Value = c.get(kv("foo")).send().await.unwrap().json().await.unwrap();
    let modify_index = entries[0]["ModifyIndex"].as_u64().unwrap();
    let first = c
        .put(kv(&format!("foo?cas={modify_index}")))
        .body("bar2")
        .send()
        .await
        .unwrap();
    assert_eq!(first.text().await.unwrap(), "true\n");
    let second = c
        .put(kv(&format!("foo?cas={modify_index}")))
        .body("bar3")
        .send()
        .await
        .unwrap();
    assert_eq!(second.text().await.unwrap(), "false\n");
    let raw = c
        .get(kv("foo?raw"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw, "bar2");

    // Blocking: a low index answers at once, a high one waits for the write.
    let resp = c.get(kv("foo")).send().await.unwrap();
    let index = index_of(&resp);
    let resp = c
        .get(kv(&format!("foo?index={}&wait=5s", index - 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(index_of(&resp), index);
    let blocked = tokio::spawn({
        let (c, url) = (c.clone(), kv(&format!("foo?index={index}&wait=60s")));
        async move { c.get(url).send().await.unwrap() }
    });
    // The write below may land before the GET registers; either way the GET must
    // answer with the new index long before its 60 s wait.
    c.put(kv("foo")).body("woken").send().await.unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(index_of(&resp) > index);
    let entries: Value = resp.json().await.unwrap();
    assert_eq!(entries[0]["Value"], "d29rZW4=");
}

#[tokio::test]
async fn blocking_query_times_out_with_the_same_index() {
    let agent = AgentProcess::dev();
    let c = http();
    c.put(format!("{}/v1/kv/k", agent.http))
        .body("v")
        .send()
        .await
        .unwrap();
    let resp = c
        .get(format!("{}/v1/kv/k", agent.http))
        .send()
        .await
        .unwrap();
    let index = index_of(&resp);
    let resp = c
        .get(format!("{}/v1/kv/k?index={index}&wait=200ms", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(index_of(&resp), index);
}

#[tokio::test]
async fn status_and_self_describe_a_single_server() {
    let agent = AgentProcess::dev();
    let c = http();
    let leader: Value = c
        .get(format!("{}/v1/status/leader", agent.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        leader.as_str().is_some_and(|l| l.starts_with("127.0.0.1:")),
        "{leader}"
    );
    let peers: Value = c
        .get(format!("{}/v1/status/peers", agent.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(peers, json!([leader]));
    let me: Value = c
        .get(format!("{}/v1/agent/self", agent.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["Config"]["Datacenter"], "dc1");
    assert_eq!(me["Config"]["Server"], true);
    let version = me["Config"]["Version"].as_str().unwrap();
    assert!(
        version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{version}"
    );
    let root = c.get(format!("{}/", agent.http)).send().await.unwrap();
    assert_eq!(root.status(), 200);
}

#[tokio::test]
async fn cli_kv_round_trip() {
    let agent = AgentProcess::dev();
    let api = agent.http.as_str();

    let (code, out, err) = cli(api, &["kv", "put", "-flags=42", "web/key1", "hello"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Success! Data written to: web/key1\n"),
        "{err}"
    );
    let (code, out, _) = cli(api, &["kv", "get", "web/key1"]);
    assert_eq!((code, out.as_str()), (0, "hello\n"));

    let (code, out, _) = cli_with_stdin(api, &["kv", "put", "web/key2", "-"], Some(b"from stdin"));
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = cli(api, &["kv", "get", "-recurse", "web"]);
    assert_eq!(out, "web/key1:hello\nweb/key2:from stdin\n");

    let (code, out, _) = cli(api, &["kv", "get", "-detailed", "web/key1"]);
    assert_eq!(code, 0);
    assert!(out.contains("Flags") && out.contains("42"), "{out}");

    // CAS with a stale index fails and says so.
    let (code, _, err) = cli(
        api,
        &["kv", "put", "-cas", "-modify-index=1", "web/key1", "x"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("CAS failed"), "{err}");

    let (code, exported, _) = cli(api, &["kv", "export", "web"]);
    assert_eq!(code, 0);
    let (code, _, _) = cli(api, &["kv", "delete", "-recurse", "web"]);
    assert_eq!(code, 0);
    let (code, _, err) = cli(api, &["kv", "get", "web/key1"]);
    assert_eq!(code, 1);
    assert!(err.contains("No key exists at: web/key1"), "{err}");
    let (code, _, err) = cli_with_stdin(api, &["kv", "import", "-"], Some(exported.as_bytes()));
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = cli(api, &["kv", "get", "web/key2"]);
    assert_eq!(out, "from stdin\n");
}
