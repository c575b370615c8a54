//! `consul watch` flag checks and the print-once mode against a [`FakeAgent`] (the watch
//! plan itself is tested in praetor-client).

use praetor_client::testing::FakeAgent;

use crate::tests::invoke;

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
