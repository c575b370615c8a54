#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use praetor_gossip::testing::FakeMembership;
use praetor_types::{NodeService, QueryOptions, UserEvent};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::local_agent::tests::{start, test_config};

fn service(id: &str, name: &str, tags: &[&str]) -> NodeService {
    NodeService {
        id: id.into(),
        service: name.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..NodeService::default()
    }
}

fn event(name: &str) -> UserEvent {
    UserEvent {
        name: name.into(),
        ..UserEvent::default()
    }
}

#[test]
fn filters_select_by_node_service_and_tag() {
    let services = [
        service("web-1", "web", &["v1", "primary"]),
        service("db", "db", &[]),
    ];
    let with = |nf: &str, sf: &str, tf: &str| UserEvent {
        node_filter: nf.into(),
        service_filter: sf.into(),
        tag_filter: tf.into(),
        ..event("deploy")
    };
    let ok = |ev: &UserEvent| should_process(ev, "node-a", &services);
    assert!(ok(&with("", "", "")));
    assert!(ok(&with("^node-", "", "")));
    assert!(!ok(&with("^node-b$", "", "")));
    assert!(ok(&with("", "^web$", "")));
    assert!(ok(&with("", "web-1", "")), "the service ID matches too");
    assert!(!ok(&with("", "^cache$", "")));
    assert!(ok(&with("", "web", "^prim")));
    assert!(
        !ok(&with("", "db", "v1")),
        "the tag must be on a matching service"
    );
    assert!(!ok(&with("(", "", "")), "a broken filter selects nothing");
}

#[test]
fn validation_uses_consuls_texts() {
    let err = |ev: UserEvent| validate(&ev).unwrap_err().to_string();
    assert_eq!(err(event("")), "User event missing name");
    let tag_only = UserEvent {
        tag_filter: "v1".into(),
        ..event("x")
    };
    assert_eq!(
        err(tag_only),
        "Cannot provide tag filter without service filter"
    );
    let bad = UserEvent {
        node_filter: "(".into(),
        ..event("x")
    };
    assert!(err(bad).starts_with("Invalid node filter: "));
    assert!(validate(&event("ok")).is_ok());
}

#[test]
fn list_index_is_never_zero() {
    assert_eq!(list_index(&[]), 1);
    let ev = UserEvent {
        id: "00000000-0000-0002-0000-000000000003".into(),
        ..event("x")
    };
    assert_eq!(list_index(&[ev]), 2 ^ 3);
}

fn fake_pool() -> Arc<FakeMembership> {
    Arc::new(FakeMembership::new(
        "n1",
        "127.0.0.1:8301".parse().unwrap(),
        BTreeMap::new(),
    ))
}

/// Events over a fake pool (which delivers fired events back to this member) with the
/// receiving task running as node `n1`.
fn running(
    remote_exec: Option<Arc<dyn Backend>>,
) -> (UserEvents, crate::LocalAgent, CancellationToken) {
    let pool = fake_pool();
    let (events, task) = UserEvents::new(pool, UserEventsConfig::default());
    let (local, stop) = start(test_config(None));
    tokio::spawn(task.run("n1".into(), local.clone(), remote_exec, stop.clone()));
    (events, local, stop)
}

async fn wait_for_events(events: &UserEvents, n: usize) -> Vec<UserEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = events.recorded(None);
        if got.len() >= n {
            return got;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {got:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn fired_events_are_recorded_in_order_with_their_ids() {
    let (events, _local, stop) = running(None);
    let first = events
        .fire(UserEvent {
            payload: b"v1".to_vec(),
            ..event("deploy")
        })
        .await
        .unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.id.len(), 36);
    let second = events.fire(event("restart")).await.unwrap();
    let got = wait_for_events(&events, 2).await;
    assert_eq!(got[0].id, first.id);
    assert_eq!(got[0].payload, b"v1");
    assert_eq!(got[1].id, second.id);
    let (index, named) = events.list(Some("deploy"), QueryOptions::default()).await;
    assert_eq!(named.len(), 1);
    assert_eq!(index, first.index().unwrap().max(1));
    stop.cancel();
}

#[tokio::test]
async fn filtered_out_and_remote_exec_events_are_not_recorded() {
    let (events, local, stop) = running(None);
    local
        .register_service(&json!({"Name": "web", "Tags": ["v1"]}), false)
        .unwrap();
    for ev in [
        UserEvent {
            node_filter: "^other$".into(),
            ..event("skipped-node")
        },
        UserEvent {
            service_filter: "^db$".into(),
            ..event("skipped-service")
        },
        event(REMOTE_EXEC_EVENT),
        UserEvent {
            service_filter: "^web$".into(),
            tag_filter: "^v1$".into(),
            ..event("kept")
        },
    ] {
        events.fire(ev).await.unwrap();
    }
    let got = wait_for_events(&events, 1).await;
    // The last fired event arriving means the earlier ones were handled (in order).
    assert_eq!(
        got.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["kept"]
    );
    stop.cancel();
}

#[tokio::test]
async fn oversized_events_are_refused() {
    let (events, _local, stop) = running(None);
    let err = events
        .fire(UserEvent {
            payload: vec![b'x'; 500],
            ..event("big")
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user event exceeds configured limit of 512 bytes before encoding"
    );
    stop.cancel();
}

#[tokio::test]
async fn the_buffer_keeps_the_last_256() {
    let (events, _task) = UserEvents::new(fake_pool(), UserEventsConfig::default());
    for i in 0..300 {
        events.ingest(UserEvent {
            id: format!("00000000-0000-0000-0000-{i:012}"),
            ..event("e")
        });
    }
    let got = events.recorded(None);
    assert_eq!(got.len(), EVENT_BUFFER_SIZE);
    assert!(got[0].id.ends_with("000000000044"));
}

#[tokio::test]
async fn a_blocked_list_wakes_on_a_new_event_and_times_out_otherwise() {
    let (events, _task) = UserEvents::new(fake_pool(), UserEventsConfig::default());
    events.ingest(UserEvent {
        id: "00000000-0000-0000-0000-000000000001".into(),
        ..event("a")
    });
    let (index, _) = events.list(None, QueryOptions::default()).await;
    let opts = QueryOptions {
        min_index: index,
        max_wait: Some(Duration::from_millis(50)),
        ..QueryOptions::default()
    };
    // Nothing new: the wait runs out and the same index comes back.
    assert_eq!(events.list(None, opts).await.0, index);

    let blocked = {
        let events = events.clone();
        tokio::spawn(async move {
            events
                .list(
                    None,
                    QueryOptions {
                        max_wait: Some(Duration::from_secs(30)),
                        ..opts
                    },
                )
                .await
        })
    };
    tokio::task::yield_now().await;
    events.ingest(UserEvent {
        id: "00000000-0000-0000-0000-000000000002".into(),
        ..event("b")
    });
    let (new_index, listed) = tokio::time::timeout(Duration::from_secs(10), blocked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new_index, 2);
    assert_eq!(listed.len(), 2);
}
