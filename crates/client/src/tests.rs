//! Request/response behaviour against [`FakeAgent`] on loopback.

use std::time::Duration;

use crate::testing::FakeAgent;
use crate::{Client, ClientConfig, ClientError, Consistency, KvPut, QueryOptions};

async fn setup() -> (FakeAgent, Client) {
    let agent = FakeAgent::start().await.unwrap();
    let client = Client::new(ClientConfig {
        address: agent.addr().to_string(),
        ..Default::default()
    })
    .unwrap();
    (agent, client)
}

#[tokio::test]
async fn put_then_get_round_trips_value_and_flags() {
    let (_agent, client) = setup().await;
    let put = KvPut {
        flags: 42,
        ..KvPut::new("web/key1", "test")
    };
    assert!(client.kv_put(&put).await.unwrap());
    let (entry, meta) = client
        .kv_get("web/key1", &QueryOptions::default())
        .await
        .unwrap();
    let entry = entry.unwrap();
    assert_eq!(entry.value, b"test");
    assert_eq!(entry.flags, 42);
    assert_eq!(meta.index, entry.modify_index);
    assert!(meta.known_leader);
}

#[tokio::test]
async fn missing_key_is_none_with_an_index() {
    let (agent, client) = setup().await;
    agent.insert("other", b"x", 0);
    let (entry, meta) = client
        .kv_get("nope", &QueryOptions::default())
        .await
        .unwrap();
    assert!(entry.is_none());
    assert_eq!(meta.index, 1);
}

#[tokio::test]
async fn keys_with_awkward_characters_reach_the_agent_intact() {
    let (agent, client) = setup().await;
    for key in ["a b", "q?x=1", "hash#frag", "pct%41", "ç/ü", "dir/"] {
        assert!(client.kv_put(&KvPut::new(key, "v")).await.unwrap(), "{key}");
        assert!(
            agent.state().kv.contains_key(key),
            "{key} not stored verbatim"
        );
        let (entry, _) = client.kv_get(key, &QueryOptions::default()).await.unwrap();
        assert_eq!(entry.unwrap().key, key);
    }
}

#[tokio::test]
async fn list_and_keys_follow_prefix_and_separator() {
    let (agent, client) = setup().await;
    for key in [
        "web/bar",
        "web/foo",
        "web/subdir/a",
        "web/subdir/b",
        "webby",
    ] {
        agent.insert(key, b"1", 0);
    }
    let (entries, _) = client
        .kv_list("web/", &QueryOptions::default())
        .await
        .unwrap();
    let keys: Vec<_> = entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["web/bar", "web/foo", "web/subdir/a", "web/subdir/b"]);

    let (keys, _) = client
        .kv_keys("web/", Some("/"), &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(keys, ["web/bar", "web/foo", "web/subdir/"]);
    let (keys, _) = client
        .kv_keys("web/", None, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(keys.len(), 4);

    let (none, _) = client
        .kv_list("missing/", &QueryOptions::default())
        .await
        .unwrap();
    assert!(none.is_empty());
    let (none, _) = client
        .kv_keys("missing/", Some("/"), &QueryOptions::default())
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn cas_put_fails_on_stale_index() {
    let (_agent, client) = setup().await;
    assert!(
        client
            .kv_put(&KvPut {
                cas: Some(0),
                ..KvPut::new("k", "1")
            })
            .await
            .unwrap()
    );
    assert!(
        !client
            .kv_put(&KvPut {
                cas: Some(0),
                ..KvPut::new("k", "2")
            })
            .await
            .unwrap()
    );
    let (entry, _) = client.kv_get("k", &QueryOptions::default()).await.unwrap();
    let index = entry.unwrap().modify_index;
    assert!(
        !client
            .kv_put(&KvPut {
                cas: Some(index + 5),
                ..KvPut::new("k", "3")
            })
            .await
            .unwrap()
    );
    assert!(
        client
            .kv_put(&KvPut {
                cas: Some(index),
                ..KvPut::new("k", "4")
            })
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn acquire_and_release_report_outcome() {
    let (agent, client) = setup().await;
    let acquire = |s: &str| KvPut {
        acquire: Some(s.into()),
        ..KvPut::new("lock", "me")
    };
    assert!(client.kv_put(&acquire("s1")).await.unwrap());
    assert!(!client.kv_put(&acquire("s2")).await.unwrap());
    assert_eq!(agent.state().kv["lock"].session.as_deref(), Some("s1"));
    let release = |s: &str| KvPut {
        release: Some(s.into()),
        ..KvPut::new("lock", "")
    };
    assert!(!client.kv_put(&release("s2")).await.unwrap());
    assert!(client.kv_put(&release("s1")).await.unwrap());
    assert_eq!(agent.state().kv["lock"].session, None);
}

#[tokio::test]
async fn delete_single_recursive_and_cas() {
    let (agent, client) = setup().await;
    for key in ["a/1", "a/2", "b"] {
        agent.insert(key, b"x", 0);
    }
    assert!(client.kv_delete("missing", false, None).await.unwrap());
    let index = agent.state().kv["b"].modify_index;
    assert!(!client.kv_delete("b", false, Some(index + 1)).await.unwrap());
    assert!(client.kv_delete("b", false, Some(index)).await.unwrap());
    assert!(client.kv_delete("a/", true, None).await.unwrap());
    assert!(agent.state().kv.is_empty());
}

#[tokio::test]
async fn leading_slash_write_is_refused_before_sending() {
    let (agent, client) = setup().await;
    let err = client.kv_put(&KvPut::new("/foo", "x")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid key. Key must not begin with a '/': /foo"
    );
    assert!(agent.state().kv.is_empty());
}

#[tokio::test]
async fn non_2xx_is_api_error_with_plain_text_body() {
    let (agent, client) = setup().await;
    agent.state().fail_next = Some((500, "No cluster leader".into()));
    let err = client.kv_put(&KvPut::new("k", "v")).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Api { status: 500, ref body } if body == "No cluster leader")
    );
    assert_eq!(
        err.to_string(),
        "Unexpected response code: 500 (No cluster leader)"
    );
}

#[tokio::test]
async fn token_and_datacenter_are_sent() {
    let agent = FakeAgent::start().await.unwrap();
    let client = Client::new(ClientConfig {
        address: agent.http_addr(),
        token: Some("secret".into()),
        datacenter: Some("dc2".into()),
        ..Default::default()
    })
    .unwrap();
    client.kv_get("k", &QueryOptions::default()).await.unwrap();
    assert_eq!(agent.state().last_token.as_deref(), Some("secret"));
    assert_eq!(agent.state().last_dc.as_deref(), Some("dc2"));
    client.agent_self().await.unwrap();
    assert_eq!(agent.state().last_token.as_deref(), Some("secret"));
}

#[tokio::test]
async fn token_file_is_read_when_no_token_given() {
    let agent = FakeAgent::start().await.unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "from-file\n").unwrap();
    let client = Client::new(ClientConfig {
        address: agent.http_addr(),
        token_file: Some(file.path().to_owned()),
        ..Default::default()
    })
    .unwrap();
    client.kv_get("k", &QueryOptions::default()).await.unwrap();
    assert_eq!(agent.state().last_token.as_deref(), Some("from-file"));
}

#[tokio::test]
async fn stale_read_reports_stale_consistency() {
    let (agent, client) = setup().await;
    agent.insert("k", b"v", 0);
    let options = QueryOptions {
        consistency: Consistency::Stale,
        ..Default::default()
    };
    let (_, meta) = client.kv_get("k", &options).await.unwrap();
    assert_eq!(meta.consistency, Consistency::Stale);
}

#[tokio::test]
async fn blocking_options_are_accepted() {
    let (agent, client) = setup().await;
    agent.insert("k", b"v", 0);
    let options = QueryOptions {
        min_index: 1,
        max_wait: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let (entry, _) = client.kv_get("k", &options).await.unwrap();
    assert!(entry.is_some());
}

#[tokio::test]
async fn status_and_agent_self_decode() {
    let (_agent, client) = setup().await;
    assert_eq!(client.status_leader().await.unwrap(), "127.0.0.1:8300");
    assert_eq!(client.status_peers().await.unwrap(), ["127.0.0.1:8300"]);
    let me = client.agent_self().await.unwrap();
    assert_eq!(me["Config"]["NodeName"], "fake");
}

#[tokio::test]
async fn unreachable_agent_is_a_transport_error_naming_the_url() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(ClientConfig {
        address: addr.to_string(),
        ..Default::default()
    })
    .unwrap();
    let err = client
        .kv_get("k", &QueryOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport { method: "Get", .. }));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("Get \"http://{addr}/v1/kv/k\": ")),
        "{text}"
    );
}

mod catalog_agent;
mod cluster;
