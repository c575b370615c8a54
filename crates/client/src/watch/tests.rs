//! Watch parameter checks, event IDs and the agent configuration's watch definitions.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::{Client, ClientConfig, QueryOptions};

use super::{Data, Definition, Handler, HttpHandler, Params, WatchKind, event_id_to_index};

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

#[test]
fn config_definitions_read_script_shell_and_http_handlers() {
    let args = Definition::from_config(&json!({
        "type": "key", "key": "web/cfg", "args": ["/bin/handler", "-v"], "token": "t",
    }))
    .unwrap();
    assert_eq!(
        args.kind,
        WatchKind::Key {
            key: "web/cfg".into()
        }
    );
    assert_eq!(
        args.handler,
        Handler::Args(vec!["/bin/handler".into(), "-v".into()])
    );
    assert_eq!(args.token.as_deref(), Some("t"));

    let shell = Definition::from_config(&json!({
        "type": "service", "service": "web", "tag": "v1", "passingonly": true,
        "handler": "echo hi", "stale": true,
    }))
    .unwrap();
    assert_eq!(shell.handler, Handler::Shell("echo hi".into()));
    assert_eq!(shell.consistency(), praetor_types::Consistency::Stale);
    assert_eq!(
        shell.kind,
        WatchKind::Service {
            service: "web".into(),
            tags: vec!["v1".into()],
            passing_only: true,
            filter: None
        }
    );

    let http = Definition::from_config(&json!({
        "type": "keyprefix", "prefix": "app/", "handler_type": "http",
        "http_handler_config": {
            "path": "http://127.0.0.1:9/hook", "method": "put",
            "header": {"X-Env": ["a", "b"]}, "timeout": "3s",
        },
    }))
    .unwrap();
    assert_eq!(
        http.handler,
        Handler::Http(HttpHandler {
            url: "http://127.0.0.1:9/hook".into(),
            method: "PUT".into(),
            headers: vec![("X-Env".into(), vec!["a".into(), "b".into()])],
            timeout: Duration::from_secs(3),
            tls_skip_verify: false,
        })
    );
}

#[test]
fn bad_config_definitions_say_what_is_wrong() {
    let err = |v: serde_json::Value| Definition::from_config(&v).unwrap_err();
    assert_eq!(
        err(json!({"key": "k", "args": ["x"]})),
        "Watch type must be specified"
    );
    assert_eq!(
        err(json!({"type": "key", "args": ["x"]})),
        "Must specify a single key to watch"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k"})),
        "Must define a watch handler"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "args": ["x"], "handler": "y"})),
        "Only one of 'handler' or 'args' may be set"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "handler_type": "pager", "args": ["x"]})),
        "Handler type 'pager' not recognized"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "args": ["x"], "frob": 1, "color": 2})),
        "Invalid parameters: [color frob]"
    );
    assert_eq!(
        err(json!({"type": "nodes", "key": "k", "args": ["x"]})),
        "Invalid parameters: [key]"
    );
    assert_eq!(
        err(json!({"type": "key", "key": 5, "args": ["x"]})),
        "Expecting key to be a string"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "handler_type": "http"})),
        "Must define 'http_handler_config' for an http handler"
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "handler_type": "http",
                   "http_handler_config": {"path": "ftp://x"}})),
        "http_handler_config.path must be an http or https URL: \"ftp://x\""
    );
    assert_eq!(
        err(json!({"type": "key", "key": "k", "handler_type": "http",
                   "http_handler_config": {"path": "http://x", "timeout": "soon"}})),
        "http_handler_config.timeout: time: invalid duration \"soon\""
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

#[test]
fn data_escapes_html_characters_as_go_does() {
    let data = Data::of(&json!({"Key": "a<b>&c\u{2028}"}));
    assert_eq!(data.compact, r#"{"Key":"a\u003cb\u003e\u0026c\u2028"}"#);
    assert_eq!(
        data.pretty,
        "{\n    \"Key\": \"a\\u003cb\\u003e\\u0026c\\u2028\"\n}"
    );
    let plain = Data::of(&json!(["x"]));
    assert_eq!(plain.compact, r#"["x"]"#);
}
