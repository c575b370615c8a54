//! `consul lock` argument checks and the pure parts of the semaphore recipe; acquisition
//! against a real agent is covered by the e2e tests.

use praetor_client::KvEntry;

use super::join_key;
use super::semaphore::{HolderSet, prune_dead_holders};
use crate::tests::invoke;

#[tokio::test]
async fn limit_must_be_positive() {
    let outcome = invoke(&["lock", "-n", "0", "p", "true"]).await;
    assert_eq!(
        (outcome.code, outcome.err.as_str()),
        (1, "Lock holder limit must be positive\n")
    );
}

#[tokio::test]
async fn prefix_and_child_are_required() {
    let outcome = invoke(&["lock", "p"]).await;
    assert_eq!(
        (outcome.code, outcome.err.as_str()),
        (1, "Key prefix and child command must be specified\n")
    );
}

#[tokio::test]
async fn negative_monitor_retry_is_refused() {
    let outcome = invoke(&["lock", "-monitor-retry=-1", "p", "true"]).await;
    assert_eq!(
        (outcome.code, outcome.err.as_str()),
        (1, "Number for 'monitor-retry' must be >= 0\n")
    );
}

#[tokio::test]
async fn unreachable_agent_is_a_query_error() {
    let outcome = invoke(&["lock", "-http-addr=127.0.0.1:1", "p", "true"]).await;
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .err
            .starts_with("Error querying Consul agent: Get \""),
        "{}",
        outcome.err
    );
}

#[test]
fn keys_are_joined_like_go_path_join() {
    assert_eq!(join_key("service/web", ".lock"), "service/web/.lock");
    assert_eq!(join_key("service/web/", ".lock"), "service/web/.lock");
    assert_eq!(join_key("", ".lock"), ".lock");
    assert_eq!(join_key("a", ""), "a/");
}

#[test]
fn holder_set_has_consuls_json_shape() {
    let mut set = HolderSet {
        limit: 2,
        ..HolderSet::default()
    };
    set.holders.insert("s1".into(), true);
    assert_eq!(
        serde_json::to_string(&set).unwrap(),
        r#"{"Limit":2,"Holders":{"s1":true}}"#
    );
}

#[test]
fn holders_without_a_live_contender_are_pruned() {
    let mut set = HolderSet {
        limit: 3,
        ..HolderSet::default()
    };
    for holder in ["alive", "dead", "me"] {
        set.holders.insert(holder.into(), true);
    }
    let pairs = vec![
        KvEntry {
            key: "p/alive".into(),
            session: Some("alive".into()),
            ..KvEntry::default()
        },
        // A contender entry whose session was invalidated without deleting it.
        KvEntry {
            key: "p/dead".into(),
            ..KvEntry::default()
        },
    ];
    let mut kept = set.clone();
    prune_dead_holders(&mut kept, &pairs, Some("me"));
    assert_eq!(kept.holders.keys().collect::<Vec<_>>(), ["alive", "me"]);
    prune_dead_holders(&mut set, &pairs, None);
    assert_eq!(set.holders.keys().collect::<Vec<_>>(), ["alive"]);
}
