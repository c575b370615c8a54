//! `consul watch` parameter checks, the print-once mode against a [`FakeAgent`], and the
//! event watch against a hand-rolled HTTP server.

use praetor_client::testing::FakeAgent;
use praetor_client::{Client, ClientConfig, QueryOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::plan::{Params, WatchKind, event_id_to_index};
use crate::tests::invoke;

#[test]
fn parameters_are_checked_like_consuls_watch_parse() {
    let none = Params::default();
    assert_eq!(
        WatchKind::parse("key", &none).unwrap_err(),
        "Must specify a single key to watch"
    );
    assert_eq!(
        WatchKind::parse("keyprefix", &none).unwrap_err(),
        "Must specify a single prefix to watch"
    );
    assert_eq!(
        WatchKind::parse("service", &none).unwrap_err(),
        "Must specify a single service to watch"
    );
    assert_eq!(
        WatchKind::parse("frob", &none).unwrap_err(),
        "Unsupported watch type: frob"
    );
    let both = Params {
        service: Some("web".into()),
        state: Some("critical".into()),
        ..Params::default()
    };
    assert_eq!(
        WatchKind::parse("checks", &both).unwrap_err(),
        "Cannot specify service and state"
    );
    let stray = Params {
        key: Some("k".into()),
        prefix: Some("p".into()),
        ..Params::default()
    };
    assert_eq!(
        WatchKind::parse("services", &stray).unwrap_err(),
        "Invalid parameters: [key prefix]"
    );
    assert_eq!(
        WatchKind::parse("checks", &Params::default()).unwrap(),
        WatchKind::Checks {
            service: None,
            state: None,
            filter: None
        }
    );
}

#[tokio::test]
async fn missing_type_is_an_error_with_help() {
    let outcome = invoke(&["watch"]).await;
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.err.starts_with("Watch type must be specified\n\n"),
        "{}",
        outcome.err
    );
}

#[tokio::test]
async fn bad_parameters_exit_1_before_contacting_the_agent() {
    let outcome = invoke(&["watch", "-type=key", "-http-addr=127.0.0.1:1"]).await;
    assert_eq!(
        (outcome.code, outcome.err.as_str()),
        (1, "Must specify a single key to watch\n")
    );
}

#[tokio::test]
async fn unreachable_agent_is_a_query_error() {
    // Port 1 on loopback refuses connections.
    let outcome = invoke(&["watch", "-type=nodes", "-http-addr=127.0.0.1:1"]).await;
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .err
            .starts_with("Error querying Consul agent: Get \""),
        "{}",
        outcome.err
    );
}

#[tokio::test]
async fn without_handler_key_watch_prints_the_pair_once() {
    let agent = FakeAgent::start().await.unwrap();
    agent.insert("web/config", b"hello", 7);
    let addr = format!("-http-addr={}", agent.http_addr());
    let outcome = invoke(&["watch", &addr, "-type=key", "-key=web/config"]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let printed: serde_json::Value = serde_json::from_str(&outcome.out).unwrap();
    assert_eq!(printed["Key"], "web/config");
    assert_eq!(printed["Value"], "aGVsbG8=");
    assert_eq!(printed["Flags"], 7);
    assert_eq!(printed["Session"], "");
    // Consul's Go field order and 4-space indentation.
    assert!(
        outcome
            .out
            .starts_with("{\n    \"Key\": \"web/config\",\n    \"CreateIndex\": "),
        "{}",
        outcome.out
    );

    let missing = invoke(&["watch", &addr, "-type=key", "-key=nope"]).await;
    assert_eq!((missing.code, missing.out.as_str()), (0, "null\n"));

    let prefix = invoke(&["watch", &addr, "-type=keyprefix", "-prefix=web/"]).await;
    assert_eq!(prefix.code, 0, "{}", prefix.err);
    let printed: serde_json::Value = serde_json::from_str(&prefix.out).unwrap();
    assert_eq!(printed[0]["Key"], "web/config");
}

#[test]
fn event_ids_map_to_indexes_like_consuls_api() {
    // lower = 0x0000000100020003, upper = 0x0004000000000005
    assert_eq!(
        event_id_to_index("00000001-0002-0003-0004-000000000005"),
        Some(0x0000_0001_0002_0003 ^ 0x0004_0000_0000_0005)
    );
    assert_eq!(event_id_to_index("not-a-uuid"), None);
    assert_eq!(
        event_id_to_index("zzzzzzzz-0002-0003-0004-000000000005"),
        None
    );
}

/// Serves `GET /v1/event/list` once per connection with `body` and `index`, recording each
/// request line.
async fn fake_event_agent(
    body: &'static str,
    index: u64,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&request);
            let _ = tx.send(text.lines().next().unwrap_or_default().to_owned());
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Consul-Index: {index}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await.unwrap();
        }
    });
    (format!("http://{addr}"), rx)
}

const EVENTS: &str = r#"[{"ID":"00000001-0002-0003-0004-000000000005","Name":"deploy","Payload":"djE=","NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":2},{"ID":"00000001-0002-0003-0004-000000000006","Name":"deploy","Payload":null,"NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":3}]"#;

#[tokio::test]
async fn event_watch_queries_by_name_and_hands_over_only_new_events() {
    let (addr, mut requests) = fake_event_agent(EVENTS, 42).await;
    let client = Client::new(ClientConfig {
        address: addr,
        ..ClientConfig::default()
    })
    .unwrap();
    let kind = WatchKind::Event {
        name: Some("deploy".into()),
    };
    let (index, data) = kind
        .fetch(&client, &QueryOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(index, 42);
    let all: serde_json::Value = serde_json::from_str(&data.compact).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["Payload"], "djE=");
    let line = requests.recv().await.unwrap();
    assert!(
        line.starts_with("GET /v1/event/list?name=deploy "),
        "{line}"
    );

    // After the first event was seen, only the second is new.
    let first = event_id_to_index("00000001-0002-0003-0004-000000000005");
    let (_, data) = kind
        .fetch(&client, &QueryOptions::default(), first)
        .await
        .unwrap();
    let new: serde_json::Value = serde_json::from_str(&data.compact).unwrap();
    assert_eq!(new.as_array().unwrap().len(), 1);
    assert_eq!(new[0]["LTime"], 3);
}
